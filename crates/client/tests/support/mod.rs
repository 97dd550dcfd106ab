//! Test harness: a real relay in-process on 127.0.0.1 (a fresh port, or the same port and data dir
//! again for restarts), and HTTP registration. Every wait is bounded by [`WAIT`].

#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use natter_protocol::http::{AuthResponse, Credentials, HEALTH_PATH, REGISTER_PATH};
use natter_relay::Config;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(10);
pub const PASSWORD: &str = "correct horse battery";

/// A relay running in this process until [`stop`](Self::stop) (or drop).
pub struct Relay {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), natter_relay::StartError>>>,
}

impl Relay {
    /// Starts a relay on `addr` (port 0 for a fresh one) with its database in `data_dir`.
    pub async fn start(data_dir: &Path, addr: SocketAddr) -> Self {
        Self::start_with(data_dir, addr, |_| {}).await
    }

    /// [`start`](Self::start) with the relay's config adjusted by `tweak` (e.g. send rates).
    pub async fn start_with(
        data_dir: &Path,
        addr: SocketAddr,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::with_data_dir(data_dir);
        config.login_per_minute = 1_000;
        tweak(&mut config);
        // tokio's bind sets SO_REUSEADDR on unix, so a restart can take the same port at once.
        let listener = TcpListener::bind(addr).await.expect("bind the relay port");
        let addr = listener.local_addr().expect("the bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            natter_relay::run(listener, config, shutdown).await
        });
        let relay = Self {
            addr,
            data_dir: data_dir.to_owned(),
            stop: Some(stop),
            task: Some(task),
        };
        relay.wait_healthy().await;
        relay
    }

    /// A relay on a fresh port.
    pub async fn fresh(data_dir: &Path) -> Self {
        Self::start(data_dir, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn wait_healthy(&self) {
        let url = format!("{}{HEALTH_PATH}", self.url());
        let healthy = async {
            loop {
                match reqwest::get(&url).await {
                    Ok(r) if r.status().is_success() => return,
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        };
        tokio::time::timeout(WAIT, healthy)
            .await
            .expect("the relay answers /healthz");
    }

    /// Registers `username` and returns its token.
    pub async fn register(&self, username: &str) -> String {
        let body = Credentials {
            username: username.to_owned(),
            password: PASSWORD.to_owned(),
        };
        let response = tokio::time::timeout(
            WAIT,
            reqwest::Client::new()
                .post(format!("{}{REGISTER_PATH}", self.url()))
                .json(&body)
                .send(),
        )
        .await
        .expect("register answers in time")
        .expect("register answers");
        assert_eq!(response.status().as_u16(), 201, "register {username}");
        let auth: AuthResponse = response.json().await.expect("a register body");
        auth.token
    }

    /// Stops the relay and waits (bounded) until `run` returned Ok.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("the relay stops within 15 s")
                .expect("the relay task did not panic")
                .expect("run() returns Ok");
        }
    }
}

/// Awaits `fut` for at most [`WAIT`]; the test fails with `what` otherwise.
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

pub mod app;
