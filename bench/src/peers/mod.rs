//! The systems compared side by side, each started and stopped by the bench as a process of
//! its own (so its memory and CPU can be read apart): the Natter relay (durable SQLite store),
//! a Node.js socket.io 4.8 server and a bare socketioxide server, both in memory, speaking the
//! same events with the same handshake (`POST /api/register` for a token, Socket.IO
//! `auth: {token}`). The peers hand out tokens without hashing a password. Two-node systems
//! ([`cluster`]) set Natter's cluster beside Node's.

pub mod cluster;
pub mod sioxide;

use std::path::{Path, PathBuf};

use natter_testkit::process::{spawn_listening, ProcessError, RelayProcess};
use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};

use crate::relay::{self, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// The Natter relay: SQLite, commit before ack.
    Natter,
    /// Node.js + socket.io 4.8, in memory (bench/peers/node).
    Node,
    /// socketioxide + axum with no application logic, in memory.
    Socketioxide,
    /// Two Natter relay nodes on one PostgreSQL and one Redis.
    NatterCluster,
    /// Two Node socket.io nodes with @socket.io/redis-adapter, their state in one Redis.
    NodeCluster,
}

impl System {
    /// The single-node systems: `compare` without `--system` or `--cluster`.
    pub const ALL: [Self; 3] = [Self::Natter, Self::Node, Self::Socketioxide];
    /// `compare --cluster`: the two-node systems, and the single relay for its SQLite beside
    /// their PostgreSQL.
    pub const CLUSTER: [Self; 3] = [Self::NatterCluster, Self::NodeCluster, Self::Natter];

    pub fn label(self) -> &'static str {
        match self {
            Self::Natter => "Natter relay",
            Self::Node => "Node socket.io",
            Self::Socketioxide => "bare socketioxide",
            Self::NatterCluster => "Natter 2 nodes + PostgreSQL + Redis",
            Self::NodeCluster => "Node socket.io 2 nodes + Redis adapter",
        }
    }
}

/// Where each system's program lives.
#[derive(Debug, Clone)]
pub struct Programs {
    pub relay: PathBuf,
    pub sioxide: PathBuf,
    /// The directory of the Node peer (server.js, node_modules from `npm ci`).
    pub node_dir: PathBuf,
    /// The `node` executable.
    pub node: PathBuf,
}

impl Programs {
    /// The binaries next to `exe` (the bench's own), the Node peer in this source tree.
    pub fn beside(exe: &Path) -> Self {
        Self {
            relay: exe.with_file_name("natter-relay"),
            sioxide: exe.with_file_name("natter-peer-socketioxide"),
            node_dir: default_node_dir(),
            node: PathBuf::from("node"),
        }
    }
}

/// bench/peers/node in the source tree this bench was built from.
pub fn default_node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("peers")
        .join("node")
}

#[derive(Debug)]
enum Process {
    Relay(RelayProcess),
    Other(Child),
    Nodes(cluster::Nodes),
}

/// One system under test, running.
#[derive(Debug)]
pub struct Server {
    pub system: System,
    process: Process,
    target: Target,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Relay(#[from] relay::Error),
    #[error(transparent)]
    Spawn(#[from] ProcessError),
    #[error(
        "the Node peer has no node_modules in {0}: run `npm ci` there (cargo xtask test does)"
    )]
    NoNodeModules(PathBuf),
    #[error("two nodes: {0}")]
    Cluster(String),
}

impl Server {
    /// Starts `system` on an ephemeral loopback port (the relay with a fresh data directory on
    /// disk and its rate limits raised out of the way).
    pub async fn start(system: System, programs: &Programs) -> Result<Self, Error> {
        let (process, target) = match system {
            System::Natter => {
                let relay = relay::start(&programs.relay).await?;
                let target = Target::from(relay.addr());
                (Process::Relay(relay), target)
            }
            System::Socketioxide => {
                let mut cmd = Command::new(&programs.sioxide);
                cmd.args(["--bind", "127.0.0.1:0"]);
                let (child, addr) = spawn_listening(cmd).await?;
                (Process::Other(child), Target::from(addr))
            }
            System::Node => {
                let (child, addr) = spawn_listening(node_command(programs)?).await?;
                (Process::Other(child), Target::from(addr))
            }
            System::NatterCluster => {
                let (nodes, target) = cluster::Nodes::natter(programs).await?;
                (Process::Nodes(nodes), target)
            }
            System::NodeCluster => {
                let (nodes, target) = cluster::Nodes::node(programs).await?;
                (Process::Nodes(nodes), target)
            }
        };
        Ok(Self {
            system,
            process,
            target,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The server's process ids (one per node), while it runs.
    pub fn pids(&self) -> Vec<u32> {
        match &self.process {
            Process::Relay(relay) => vec![relay.pid()],
            Process::Other(child) => child.id().into_iter().collect(),
            Process::Nodes(nodes) => nodes.pids(),
        }
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(self) {
        match self.process {
            Process::Relay(relay) => {
                let _ = relay.kill9().await;
            }
            Process::Other(mut child) => {
                let _ = child.kill().await;
            }
            Process::Nodes(nodes) => nodes.stop().await,
        }
    }
}

/// The command that starts one Node peer on a free loopback port.
fn node_command(programs: &Programs) -> Result<Command, Error> {
    let modules = programs.node_dir.join("node_modules");
    if !modules.join("socket.io").is_dir() || !modules.join("redis").is_dir() {
        return Err(Error::NoNodeModules(programs.node_dir.clone()));
    }
    let mut cmd = Command::new(&programs.node);
    cmd.arg(programs.node_dir.join("server.js"))
        .args(["--bind", "127.0.0.1:0"])
        .current_dir(&programs.node_dir);
    Ok(cmd)
}
