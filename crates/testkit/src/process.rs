//! The relay binary as a child process, so a test can `kill -9` it, measure its memory and file
//! descriptors, and see a panic (exit status, or "panicked" in its log) instead of dying with it;
//! the bench starts it (and its peers, with [`spawn_listening`]) the same way.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::procfs;

/// How long the relay may take to print its address.
const START_WAIT: Duration = Duration::from_secs(30);
/// Log lines kept for a failure report.
const LOG_KEEP: usize = 200;
/// What the relay (and each bench peer) prints as its first stdout line once it listens,
/// after its name and before the address.
const LISTENING: &str = " listening on ";

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {binary}: {source}")]
    Spawn {
        binary: PathBuf,
        source: std::io::Error,
    },
    #[error("the relay did not print its address within {0:?}")]
    NoAddress(Duration),
    #[error("the relay printed {0:?} instead of its address")]
    BadAddress(String),
    #[error("waiting for the relay: {0}")]
    Wait(std::io::Error),
    #[error("the relay did not exit within {0:?}")]
    NoExit(Duration),
    #[error("cannot create a data dir: {0}")]
    DataDir(std::io::Error),
}

/// A running natter-relay process. Dropping it kills the process.
pub struct RelayProcess {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    /// The last lines it wrote to stderr.
    log: Arc<Mutex<VecDeque<String>>>,
    panics: Arc<AtomicUsize>,
    /// A data dir deleted once the relay is gone (see [`RelayProcess::start_in_temp_dir`]).
    _data: Option<tempfile::TempDir>,
}

/// Flags that put every per-user and per-address limit out of a load's way (benchmarks; logins
/// and connects already are, by [`RelaySpec::new`]).
pub const UNLIMITED: [&str; 20] = [
    "--send-burst",
    "1000000",
    "--send-per-second",
    "1000000",
    "--room-changes-per-minute",
    "1000000",
    "--read-burst",
    "1000000",
    "--reads-per-second",
    "1000000",
    "--reads-in-flight",
    "1000000",
    "--sockets-per-user",
    "1000000",
    "--sockets-per-address",
    "1000000",
    "--connections-per-address",
    "1000000",
    "--sessions-per-user",
    "1000000",
];

/// How to start the relay.
#[derive(Debug, Clone)]
pub struct RelaySpec {
    /// The natter-relay binary (`env!("CARGO_BIN_EXE_natter-relay")` in the server's tests).
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    /// Where to listen; port 0 for a fresh one.
    pub bind: SocketAddr,
    /// Further flags, e.g. `["--send-per-second", "100"]`.
    pub args: Vec<String>,
    /// Start it with its soft open-files limit raised to the hard one (10k-connection tests).
    pub raise_nofile: bool,
}

impl RelaySpec {
    /// A relay on a fresh loopback port with open registration, generous login and connect
    /// limits (tests open many sockets from one address) and warn-level logs.
    pub fn new(binary: impl Into<PathBuf>, data_dir: &Path) -> Self {
        Self {
            binary: binary.into(),
            data_dir: data_dir.to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            args: [
                // Tests not about registration register freely (docs/self-hosting.md).
                "--registration",
                "open",
                "--login-per-minute",
                "100000",
                "--connects-per-minute",
                "100000",
                "--connects-per-minute-per-address",
                "100000",
            ]
            .map(String::from)
            .to_vec(),
            raise_nofile: false,
        }
    }

    /// Adds flags.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
}

impl std::fmt::Debug for RelayProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayProcess")
            .field("pid", &self.pid)
            .field("addr", &self.addr)
            .finish()
    }
}

impl RelayProcess {
    /// Starts the relay and waits until it printed its address.
    pub async fn start(spec: &RelaySpec) -> Result<Self, ProcessError> {
        let mut cmd = if spec.raise_nofile {
            let hard = procfs::nofile_hard().unwrap_or(1 << 20);
            let mut c = Command::new("prlimit");
            c.arg(format!("--nofile={hard}:{hard}"))
                .arg("--")
                .arg(&spec.binary);
            c
        } else {
            Command::new(&spec.binary)
        };
        cmd.arg("--bind")
            .arg(spec.bind.to_string())
            .arg("--data-dir")
            .arg(&spec.data_dir);
        if !spec.args.iter().any(|a| a == "--log") {
            cmd.args(["--log", "warn"]);
        }
        cmd.args(&spec.args)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|source| ProcessError::Spawn {
            binary: spec.binary.clone(),
            source,
        })?;
        let pid = child.id().unwrap_or(0);
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let panics = Arc::new(AtomicUsize::new(0));
        if let Some(stderr) = child.stderr.take() {
            let (log, panics) = (log.clone(), panics.clone());
            // Ends when the process closes stderr (exit or kill).
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.contains("panicked") {
                        panics.fetch_add(1, Ordering::SeqCst);
                    }
                    if let Ok(mut log) = log.lock() {
                        if log.len() == LOG_KEEP {
                            log.pop_front();
                        }
                        log.push_back(line);
                    }
                }
            });
        }
        let addr = listening_address(&mut child).await?;
        Ok(Self {
            child,
            pid,
            addr,
            log,
            panics,
            _data: None,
        })
    }

    /// [`start`](Self::start) over a fresh data dir in the system's temporary directory (on
    /// the real disk, so commits pay a real fsync), deleted once the relay is gone; `spec`'s
    /// own `data_dir` is replaced.
    pub async fn start_in_temp_dir(spec: &RelaySpec) -> Result<Self, ProcessError> {
        let data = tempfile::Builder::new()
            .prefix("natter-relay-")
            .tempdir()
            .map_err(ProcessError::DataDir)?;
        let spec = RelaySpec {
            data_dir: data.path().to_owned(),
            ..spec.clone()
        };
        let mut relay = Self::start(&spec).await?;
        relay._data = Some(data);
        Ok(relay)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Resident memory in KiB, `None` once the process is gone.
    pub fn rss_kib(&self) -> Option<u64> {
        procfs::rss_kib(self.pid)
    }

    /// Open sockets, `None` once the process is gone.
    pub fn socket_count(&self) -> Option<usize> {
        procfs::socket_count(self.pid)
    }

    /// The TCP ports it listens on, ascending; `None` once the process is gone.
    pub fn listening_ports(&self) -> Option<Vec<u16>> {
        procfs::listening_ports(self.pid)
    }

    /// Lines of its log that reported a panic so far.
    pub fn panics(&self) -> usize {
        self.panics.load(Ordering::SeqCst)
    }

    /// The last lines it logged (at most 200), for a failure message.
    pub fn log_tail(&self) -> Vec<String> {
        self.log
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// `Some(status)` if it has exited (it should not have, mid-test).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL, and waits until it is gone: no shutdown code runs.
    pub async fn kill9(mut self) -> Result<(), ProcessError> {
        self.child.kill().await.map_err(ProcessError::Wait)
    }

    /// SIGTERM, then waits (bounded) for the exit status.
    pub async fn terminate(mut self) -> Result<ExitStatus, ProcessError> {
        let wait = Duration::from_secs(20);
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .map_err(ProcessError::Wait)?;
        if !sent.success() {
            return Err(ProcessError::Wait(std::io::Error::other(
                "kill -TERM failed",
            )));
        }
        tokio::time::timeout(wait, self.child.wait())
            .await
            .map_err(|_| ProcessError::NoExit(wait))?
            .map_err(ProcessError::Wait)
    }
}

/// Starts `cmd` and waits for its address: the first stdout line, "NAME listening on
/// HOST:PORT", as the relay and the bench's peers print it. Its stdout is drained afterwards;
/// stderr is inherited; the child is killed when dropped.
pub async fn spawn_listening(mut cmd: Command) -> Result<(Child, SocketAddr), ProcessError> {
    let binary = PathBuf::from(cmd.as_std().get_program());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ProcessError::Spawn { binary, source })?;
    let addr = listening_address(&mut child).await?;
    Ok((child, addr))
}

/// The address `child` prints first on stdout; stdout is drained from then on, so the child
/// never blocks on a full pipe.
async fn listening_address(child: &mut Child) -> Result<SocketAddr, ProcessError> {
    let stdout = child.stdout.take();
    let first = async {
        let mut lines = BufReader::new(stdout?).lines();
        let line = lines.next_line().await.ok().flatten();
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        line
    };
    let line = tokio::time::timeout(START_WAIT, first)
        .await
        .map_err(|_| ProcessError::NoAddress(START_WAIT))?
        .ok_or(ProcessError::NoAddress(START_WAIT))?;
    line.split_once(LISTENING)
        .and_then(|(_, a)| a.trim().parse().ok())
        .ok_or(ProcessError::BadAddress(line))
}
