//! The relay in this process (`natter_relay::Relay`) on a loopback port, with a data dir of its
//! own or one the test keeps (a restart is the same dir and port again), reached through its
//! HTTP [`Api`]. For the relay as a child process, see [`crate::process`].

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use natter_relay::Config;
use tokio::net::TcpListener;

use crate::api::Api;

/// A relay running in this process; dropping it stops the relay too.
pub struct TestRelay {
    api: Api,
    relay: natter_relay::Relay,
    data_dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl TestRelay {
    /// A relay with the default limits, except logins and connects (tests register and
    /// connect many users from one address), open registration (anyone registers, no invite)
    /// and no presence grace (offline is announced at once), on a fresh port with a temporary
    /// data dir.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`start`](Self::start), with the config adjusted by `tweak` first.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("a temporary data dir");
        let mut relay = Self::at_with(dir.path(), loopback(), tweak).await;
        relay._dir = Some(dir);
        relay
    }

    /// A relay on a fresh port over `data_dir`, which the test keeps.
    pub async fn in_dir(data_dir: &Path) -> Self {
        Self::at(data_dir, loopback()).await
    }

    /// A relay on `addr` (port 0 for a fresh one) over `data_dir`: the same again is a restart.
    pub async fn at(data_dir: &Path, addr: SocketAddr) -> Self {
        Self::at_with(data_dir, addr, |_| {}).await
    }

    /// [`at`](Self::at) with the config adjusted by `tweak` first (e.g. send rates).
    pub async fn at_with(
        data_dir: &Path,
        addr: SocketAddr,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::with_data_dir(data_dir);
        // Tests not about registration register freely; those about it tweak it back.
        config.registration = natter_relay::config::Registration::Open;
        config.login_per_minute = 1_000;
        config.connects_per_minute = 100_000;
        config.connects_per_minute_per_address = 100_000;
        config.presence_grace_ms = 0;
        tweak(&mut config);
        // tokio's bind sets SO_REUSEADDR on unix, so a restart can take the same port at once.
        let listener = TcpListener::bind(addr).await.expect("bind the relay port");
        // A dropped handle (test ended or panicked) stops the relay as well.
        let relay = natter_relay::Relay::spawn(listener, config).expect("spawn the relay");
        let relay = Self {
            api: Api::new(relay.url()),
            relay,
            data_dir: data_dir.to_owned(),
            _dir: None,
        };
        relay.api.wait_healthy().await;
        relay
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.relay.addr()
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        self.relay.url()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Registers `name` and returns its token; the test cannot go on without it.
    pub async fn token(&self, name: &str) -> String {
        self.api.user(name).await.token
    }

    /// Stops the relay and waits (bounded) until `run` has returned, which must be `Ok`.
    pub async fn stop(self) {
        self.relay
            .stop()
            .await
            .expect("the relay stops cleanly, in time");
    }
}

impl Deref for TestRelay {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
