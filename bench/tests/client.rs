//! `natter-bench client`, tiny, against relays started in-process (restarted on the same port and
//! data directory): every missed message reaches the client session once, in order, and lands in
//! its cache. No timing thresholds here; numbers belong in docs/benchmarks.md.

use std::path::Path;
use std::time::Duration;

use natter_bench::relay::Target;
use natter_bench::scenarios::client::{self, ClientOptions, RelayHost};
use natter_bench::scenarios::Error;
use natter_relay::Config;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bounds the test: a hang is a failure, not a stuck CI run.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a stopped relay may take to close its connections and return.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// Relays served by `natter_relay::run` on this test's runtime.
#[derive(Default)]
struct InProcess {
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl RelayHost for InProcess {
    async fn start(&mut self, bind: &str, data_dir: &Path) -> Result<Target, Error> {
        self.kill().await;
        let mut config = Config::with_data_dir(data_dir);
        config.login_per_minute = 100_000;
        config.send_burst = 1_000_000;
        config.send_per_second = 1_000_000;
        // tokio's bind sets SO_REUSEADDR, so a restart takes the same port at once.
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|e| Error::Setup(format!("bind {bind}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Setup(e.to_string()))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = natter_relay::run(listener, config, shutdown).await {
                eprintln!("the in-process relay failed: {e}");
            }
        });
        self.running = Some((stop, task));
        Ok(Target::new(&addr.to_string()))
    }

    async fn kill(&mut self) {
        if let Some((stop, mut task)) = self.running.take() {
            let _ = stop.send(());
            if tokio::time::timeout(STOP_TIMEOUT, &mut task).await.is_err() {
                task.abort();
                let _ = task.await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_messages_arrive_once_in_order_after_a_relay_restart() -> Result {
    let mut relays = InProcess::default();
    let opts = ClientOptions {
        messages: 20,
        runs: 1,
        idle: Duration::from_secs(1),
    };
    let report = tokio::time::timeout(TEST_TIMEOUT, client::run(&mut relays, opts)).await??;
    assert_eq!(report.runs.len(), 1);
    let run = &report.runs[0];
    assert_eq!(run.received, 20);
    assert_eq!(run.cached, 20);
    let idle = report.idle.as_ref().ok_or("an idle measurement")?;
    assert_eq!(idle.events, 0, "nothing happens while idle");
    assert!(idle.connected_at_end);
    Ok(())
}
