//! The relay under test: an address to reach it, a child process started from the release
//! binary, and account registration over HTTP.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use natter_protocol::http::{AuthResponse, Credentials, REGISTER_PATH};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::eio;

/// How long a child relay may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Registrations in flight at once: each costs an argon2id hash (tens of ms) on the relay.
const REGISTER_CONCURRENCY: usize = 4;
/// Socket connects in flight at once.
const CONNECT_CONCURRENCY: usize = 32;
/// What the relay (and each peer) prints once it listens, followed by the address.
const LISTENING: &str = " listening on ";
const PASSWORD: &str = "natter-bench-password";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the relay did not print its address: {0}")]
    NoAddress(String),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("register {username}: HTTP {status}: {body}")]
    Register {
        username: String,
        status: u16,
        body: String,
    },
    #[error(transparent)]
    Socket(#[from] eio::Error),
}

/// Where the relay listens: `host:port`.
#[derive(Debug, Clone)]
pub struct Target {
    addr: String,
}

impl Target {
    /// Accepts `host:port`, `http://host:port` or `ws://host:port` (a trailing `/` is ignored).
    pub fn new(url: &str) -> Self {
        let addr = url
            .trim_start_matches("http://")
            .trim_start_matches("ws://")
            .trim_end_matches('/');
        Self {
            addr: addr.to_owned(),
        }
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Registers `username` and returns the account with its token.
    pub async fn register(
        &self,
        http: &reqwest::Client,
        username: &str,
    ) -> Result<AuthResponse, Error> {
        let response = http
            .post(format!("http://{}{REGISTER_PATH}", self.addr))
            .json(&Credentials {
                username: username.to_owned(),
                password: PASSWORD.to_owned(),
            })
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Register {
                username: username.to_owned(),
                status: status.as_u16(),
                body: response.text().await.unwrap_or_default(),
            });
        }
        Ok(response.json().await?)
    }

    /// Registers every name (a few at a time), in order.
    pub async fn register_users(&self, names: &[String]) -> Result<Vec<AuthResponse>, Error> {
        let http = reqwest::Client::new();
        futures_util::stream::iter(names)
            .map(|name| self.register(&http, name))
            .buffered(REGISTER_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Registers every name (a few at a time), then connects one socket for each, in order.
    /// Registering first keeps the sockets' idle time short: nobody reads them until the
    /// caller does, and a server drops a socket that leaves its pings unanswered for long
    /// (the relay's argon2 makes hundreds of registrations take many seconds).
    pub async fn connect_users(
        &self,
        names: &[String],
    ) -> Result<Vec<(AuthResponse, eio::Client)>, Error> {
        let accounts = self.register_users(names).await?;
        futures_util::stream::iter(accounts)
            .map(|account| async move {
                let client = eio::Client::connect(&self.addr, &account.token).await?;
                Ok::<_, Error>((account, client))
            })
            .buffered(CONNECT_CONCURRENCY)
            .try_collect()
            .await
    }
}

/// A relay started from its binary; killed on drop.
#[derive(Debug)]
pub struct ChildRelay {
    child: Child,
    target: Target,
    // A data directory of its own, deleted when the relay is gone (none when the caller owns it).
    _data: Option<tempfile::TempDir>,
}

impl ChildRelay {
    /// Starts `bin` on an ephemeral loopback port, with a fresh data directory and limits raised
    /// out of the way.
    pub async fn start(bin: &Path) -> Result<Self, Error> {
        // On the real disk (not a tmpfs), so commits pay a real fsync.
        let data = tempfile::Builder::new()
            .prefix("natter-bench-")
            .tempdir()
            .map_err(|source| Error::Spawn {
                path: bin.to_owned(),
                source,
            })?;
        let mut relay = Self::start_at(bin, "127.0.0.1:0", data.path()).await?;
        relay._data = Some(data);
        Ok(relay)
    }

    /// Starts `bin` listening on `bind` (`host:port`; port 0 for an ephemeral one) with its
    /// database in `data_dir`, which the caller keeps: starting again with the same address and
    /// directory is a relay restart. Limits are raised out of the way.
    pub async fn start_at(bin: &Path, bind: &str, data_dir: &Path) -> Result<Self, Error> {
        let mut cmd = Command::new(bin);
        cmd.args(["--bind", bind, "--data-dir"])
            .arg(data_dir)
            .args(["--login-per-minute", "100000"])
            .args(["--send-burst", "1000000", "--send-per-second", "1000000"])
            .args(["--room-changes-per-minute", "1000000"])
            .args(["--log", "warn"]);
        let (child, target) = spawn_listening(cmd, bin).await?;
        Ok(Self {
            child,
            target,
            _data: None,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the relay and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Starts `cmd` (`what` names it in errors) and waits for its first stdout line,
/// "NAME listening on HOST:PORT", as the relay and the bench's peers print it. Its stdout is
/// drained afterwards; stderr is inherited; the child is killed when dropped.
pub async fn spawn_listening(mut cmd: Command, what: &Path) -> Result<(Child, Target), Error> {
    let spawn_err = |source| Error::Spawn {
        path: what.to_owned(),
        source,
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_err)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::NoAddress("no stdout".into()))?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(START_TIMEOUT, lines.next_line())
        .await
        .map_err(|_| Error::NoAddress("timed out".into()))?
        .map_err(spawn_err)?
        .ok_or_else(|| Error::NoAddress("it exited".into()))?;
    let addr = line
        .split_once(LISTENING)
        .map(|(_, addr)| addr)
        .ok_or_else(|| Error::NoAddress(line.clone()))?;
    let target = Target::new(addr.trim());
    // Keep reading stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, target))
}

/// A prefix for this run's usernames, unique enough that runs against one relay never clash.
pub fn run_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "b{:08x}",
        (nanos as u64 ^ u64::from(std::process::id())) as u32
    )
}
