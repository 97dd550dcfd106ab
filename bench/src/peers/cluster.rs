//! The two-node systems (issue 17): two Natter relay nodes on a PostgreSQL and a Redis of their
//! own (testkit's [`Cluster`], as the relay's cluster tests start it), and two Node socket.io
//! nodes with @socket.io/redis-adapter on a Redis of their own (the peer's `--redis-url` mode).
//! Every server is this run's, on free loopback ports with temporary data.

use std::fmt;

use natter_testkit::cluster::{Cluster, Shared};
use natter_testkit::process::{spawn_listening, UNLIMITED};
use natter_testkit::redis::Redis;
use tokio::process::Child;

use super::{Error, Programs};
use crate::relay::Target;

/// How many nodes each two-node system runs.
pub const NODES: usize = 2;

/// A running two-node system; its servers stop when it is stopped (or dropped).
pub enum Nodes {
    Natter(Cluster),
    Node { children: Vec<Child>, _redis: Redis },
}

impl fmt::Debug for Nodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nodes")
            .field("pids", &self.pids())
            .finish_non_exhaustive()
    }
}

impl Nodes {
    /// Two relay nodes of `programs.relay` (built with `--features postgres,redis`), their
    /// rate limits out of the way, on PostgreSQL (`synchronous_commit` on, fsync on) and Redis.
    /// Each has its share of the machine's CPUs in worker threads, as scaling.md tells a
    /// self-hoster to run nodes that share a machine (a Node node is one thread anyway).
    pub async fn natter(programs: &Programs) -> Result<(Self, Target), Error> {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = (cpus / NODES).max(1).to_string();
        let mut flags = UNLIMITED.to_vec();
        flags.extend(["--worker-threads", &workers]);
        let cluster = Cluster::start(&programs.relay, Shared::Postgres, NODES, &flags)
            .await
            .map_err(|e| Error::Cluster(e.to_string()))?;
        let target = target(&cluster.addrs())?;
        Ok((Self::Natter(cluster), target))
    }

    /// Two Node peers sharing one Redis (their state and their adapter's pub/sub).
    pub async fn node(programs: &Programs) -> Result<(Self, Target), Error> {
        let redis = tokio::task::spawn_blocking(Redis::start_new)
            .await
            .map_err(|e| Error::Cluster(e.to_string()))?
            .map_err(|e| Error::Cluster(e.to_string()))?;
        let mut children = Vec::new();
        let mut addrs = Vec::new();
        for _ in 0..NODES {
            let mut cmd = super::node_command(programs)?;
            cmd.args(["--redis-url", &redis.url()]);
            let (child, addr) = spawn_listening(cmd).await?;
            children.push(child);
            addrs.push(addr);
        }
        let target = target(&addrs)?;
        Ok((
            Self::Node {
                children,
                _redis: redis,
            },
            target,
        ))
    }

    /// The nodes' process ids (not Redis's nor PostgreSQL's).
    pub fn pids(&self) -> Vec<u32> {
        match self {
            Self::Natter(cluster) => cluster.nodes.iter().map(|(_, p)| p.pid()).collect(),
            Self::Node { children, .. } => children.iter().filter_map(Child::id).collect(),
        }
    }

    /// Kills the nodes and waits for them; Redis and PostgreSQL stop as the handles go.
    pub async fn stop(self) {
        match self {
            Self::Natter(mut cluster) => {
                for (_, relay) in cluster.nodes.drain(..) {
                    let _ = relay.kill9().await;
                }
            }
            Self::Node { children, .. } => {
                for mut child in children {
                    let _ = child.kill().await;
                }
            }
        }
    }
}

fn target(addrs: &[std::net::SocketAddr]) -> Result<Target, Error> {
    Target::nodes_at(addrs).ok_or_else(|| Error::Cluster("no node started".into()))
}
