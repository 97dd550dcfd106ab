//! The relays a run kills and starts again on the same port and data directory: the release
//! binary as a child process when measuring (so this process's CPU time is the client's alone),
//! or a relay in this process for the self-check under `cargo test`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use natter_testkit::process::{RelayProcess, RelaySpec, UNLIMITED};
use natter_testkit::TestRelay;

use crate::Result;

pub enum Relays {
    Child {
        bin: PathBuf,
        running: Option<RelayProcess>,
    },
    InProcess {
        running: Option<TestRelay>,
    },
}

impl Relays {
    pub fn child(bin: PathBuf) -> Self {
        Self::Child { bin, running: None }
    }

    pub fn in_process() -> Self {
        Self::InProcess { running: None }
    }

    /// Starts a relay on `bind` (port 0: a fresh one) over `data_dir`; returns where it listens.
    pub async fn start(&mut self, bind: SocketAddr, data_dir: &Path) -> Result<SocketAddr> {
        self.kill().await;
        match self {
            Self::Child { bin, running } => {
                let mut spec = RelaySpec::new(bin.as_path(), data_dir).args(UNLIMITED);
                spec.bind = bind;
                let relay = RelayProcess::start(&spec).await?;
                let addr = relay.addr();
                *running = Some(relay);
                Ok(addr)
            }
            Self::InProcess { running } => {
                let relay = TestRelay::at_with(data_dir, bind, |config| {
                    config.send_burst = 1_000_000;
                    config.send_per_second = 1_000_000;
                })
                .await;
                let addr = relay.addr();
                *running = Some(relay);
                Ok(addr)
            }
        }
    }

    /// Stops the running relay: the child is killed (a crash, not a shutdown).
    pub async fn kill(&mut self) {
        match self {
            Self::Child { running, .. } => {
                if let Some(relay) = running.take() {
                    let _ = relay.kill9().await;
                }
            }
            Self::InProcess { running } => {
                if let Some(relay) = running.take() {
                    relay.stop().await;
                }
            }
        }
    }
}
