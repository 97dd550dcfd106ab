//! Two relay nodes sharing one store and one Redis (issue 17), each a [`RelayProcess`] on a
//! free loopback port, and the shipped nginx site (`packaging/relay/nginx-natter.conf`) in
//! front of them: what the cluster tests, the reliability loops on a cluster and the JS
//! interop launcher (`natter-cluster`) all start. The servers are the test's own
//! ([`Postgres`], [`Redis`], [`Nginx`]); everything stops when the handles are dropped.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::nginx::Nginx;
use crate::postgres::Postgres;
use crate::process::ProcessError;
use crate::redis::Redis;
use crate::{daemon, Api, RelayProcess, RelaySpec, ServerError};

/// The shipped nginx site; its node addresses and listen port are replaced by [`nginx_for`].
const NGINX_SITE: &str = include_str!("../../../packaging/relay/nginx-natter.conf");

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    Server(#[from] ServerError),
    #[error("node {node}: {source}")]
    Node { node: usize, source: ProcessError },
    #[error(
        "node {node} exited at its start (a relay built without `--features postgres,redis` \
         refuses --database-url and --redis-url); its log: {log}"
    )]
    Exited { node: usize, log: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Where the nodes keep what they share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// A PostgreSQL server of the cluster's own (`--database-url`), as in production.
    Postgres,
    /// One SQLite data directory (for a relay built without the `postgres` feature).
    SqliteDir,
}

/// A running cluster. Fields are public so a test can take a node out (to kill it) or stop
/// Redis; the spec of a node restarts it on the same port.
pub struct Cluster {
    pub redis: Redis,
    pub postgres: Option<Postgres>,
    /// `(spec, process)` per node; `spec.bind` is the node's address, for restarts.
    pub nodes: Vec<(RelaySpec, RelayProcess)>,
    /// The nodes' data directory (uploads; the database too with [`Shared::SqliteDir`]).
    pub dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts Redis, the shared store and `count` nodes of `binary` with `--redis-url`, no
    /// presence grace and `extra` flags; returns once every node answers `/healthz`.
    pub async fn start(
        binary: impl Into<PathBuf>,
        shared: Shared,
        count: usize,
        extra: &[&str],
    ) -> Result<Self, ClusterError> {
        let redis = blocking(Redis::start_new).await?;
        let (postgres, store_args) = match shared {
            Shared::Postgres => {
                let (pg, url) = blocking(|| {
                    let pg = Postgres::start_new()?;
                    let url = pg.database()?;
                    Ok::<_, ServerError>((pg, url))
                })
                .await?;
                (Some(pg), vec!["--database-url".to_owned(), url])
            }
            Shared::SqliteDir => (None, Vec::new()),
        };
        let dir = tempfile::tempdir()?;
        let spec = RelaySpec::new(binary, dir.path())
            .args(["--redis-url", &redis.url(), "--presence-grace-ms", "0"])
            .args(store_args)
            .args(extra.iter().copied());
        let mut nodes = Vec::new();
        for node in 0..count {
            let mut relay = RelayProcess::start(&spec)
                .await
                .map_err(|source| ClusterError::Node { node, source })?;
            Api::new(relay.url()).wait_healthy().await;
            if relay.exited().is_some() {
                let log = relay.log_tail().join("\n");
                return Err(ClusterError::Exited { node, log });
            }
            // Restarts come back on the same port.
            let spec = RelaySpec {
                bind: relay.addr(),
                ..spec.clone()
            };
            nodes.push((spec, relay));
        }
        Ok(Self {
            redis,
            postgres,
            nodes,
            dir,
        })
    }

    /// The nodes' addresses, in order.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|(spec, _)| spec.bind).collect()
    }
}

/// The shipped nginx site in front of the two nodes at `a` and `b`, listening on a free
/// loopback port.
pub fn nginx_for(a: SocketAddr, b: SocketAddr) -> Result<Nginx, ClusterError> {
    let port = daemon::free_port()?;
    let site = NGINX_SITE
        .replace("127.0.0.1:8081", &a.to_string())
        .replace("127.0.0.1:8082", &b.to_string())
        .replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
    Ok(Nginx::start(&site, ([127, 0, 0, 1], port).into())?)
}

/// Runs a blocking start (a server's, which waits for it to answer) off the async runtime.
async fn blocking<T: Send + 'static, E: Send + 'static>(
    start: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E> {
    tokio::task::spawn_blocking(start)
        .await
        .expect("a server's start runs to its end")
}
