//! The server under test as the scenarios see it: its nodes' addresses (one, or several sharing
//! their state), accounts registered over HTTP and sockets connected a few at a time, spread
//! over the nodes (testkit's [`Api`] and [`sio::Client`]); and the relay binary started with its
//! rate limits out of the way (testkit's [`RelayProcess`]).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use natter_protocol::http::AuthResponse;
use natter_testkit::process::{ProcessError, RelayProcess, RelaySpec, UNLIMITED};
use natter_testkit::{sio, Api, HttpFailure};

/// Socket connects in flight at once.
const CONNECT_CONCURRENCY: usize = 32;
const PASSWORD: &str = "natter-bench-password";
/// A registration behind hundreds of others' argon2 hashes on a busy 2-core machine.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("register {username}: {failure}")]
    Register {
        username: String,
        failure: HttpFailure,
    },
    #[error(transparent)]
    Socket(#[from] sio::Error),
}

/// Where the server listens (`host:port` of each node), and its HTTP API (the first node's).
#[derive(Debug, Clone)]
pub struct Target {
    api: Api,
    /// Every node's `host:port`, the first one `api`'s; never empty.
    nodes: Vec<String>,
}

impl Target {
    /// Accepts `host:port`, `http://host:port` or `ws://host:port` (a trailing `/` is ignored).
    pub fn new(url: &str) -> Self {
        let addr = url.trim_start_matches("ws://");
        let api = Api::with_timeout(addr.to_owned(), HTTP_TIMEOUT);
        let nodes = vec![api.addr().to_owned()];
        Self { api, nodes }
    }

    /// Several nodes of one service (accounts registered through the first); `None` if empty.
    pub fn nodes_at(addrs: &[SocketAddr]) -> Option<Self> {
        let mut target = Self::from(*addrs.first()?);
        target.nodes = addrs.iter().map(|a| a.to_string()).collect();
        Some(target)
    }

    /// The first node's address.
    pub fn addr(&self) -> &str {
        self.api.addr()
    }

    /// The address socket `i` connects to: the nodes in turn.
    pub fn node(&self, i: usize) -> &str {
        &self.nodes[i % self.nodes.len()]
    }

    /// How many nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Registers every name (a few at a time), in order.
    pub async fn register_users(&self, names: &[String]) -> Result<Vec<AuthResponse>, Error> {
        self.api
            .register_all(names, PASSWORD)
            .await
            .map_err(|failure| Error::Register {
                username: format!("one of {} users", names.len()),
                failure,
            })
    }

    /// Registers every name (a few at a time), then connects one socket for each, in order,
    /// the `i`th to [`node(i)`](Self::node).
    /// Registering first keeps the sockets' idle time short: nobody reads them until the
    /// caller does, and a server drops a socket that leaves its pings unanswered for long
    /// (the relay's argon2 makes hundreds of registrations take many seconds).
    pub async fn connect_users(
        &self,
        names: &[String],
    ) -> Result<Vec<(AuthResponse, sio::Client)>, Error> {
        let accounts = self.register_users(names).await?;
        futures_util::stream::iter(accounts.into_iter().enumerate())
            .map(|(i, account)| async move {
                let client = sio::Client::connect(self.node(i), &account.token).await?;
                Ok::<_, Error>((account, client))
            })
            .buffered(CONNECT_CONCURRENCY)
            .try_collect()
            .await
    }
}

impl From<SocketAddr> for Target {
    fn from(addr: SocketAddr) -> Self {
        Self::new(&addr.to_string())
    }
}

/// Starts the relay binary `bin` on an ephemeral loopback port over a fresh data dir on disk.
pub async fn start(bin: &Path) -> Result<RelayProcess, Error> {
    let spec = RelaySpec::new(bin, Path::new("")).args(UNLIMITED);
    Ok(RelayProcess::start_in_temp_dir(&spec).await?)
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
