//! `natter-bench client`, tiny, against relays started in-process (restarted on the same port and
//! data directory): every missed message reaches the client session once, in order, and lands in
//! its cache. No timing thresholds here; numbers belong in docs/benchmarks.md.

use std::path::Path;
use std::time::Duration;

use natter_bench::relay::Target;
use natter_bench::scenarios::client::{self, ClientOptions, RelayHost};
use natter_bench::scenarios::Error;
use natter_testkit::TestRelay;

/// Bounds the test: a hang is a failure, not a stuck CI run.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// Relays in this process (testkit's), restarted on the same port and data dir.
#[derive(Default)]
struct InProcess {
    running: Option<TestRelay>,
}

impl RelayHost for InProcess {
    async fn start(&mut self, bind: &str, data_dir: &Path) -> Result<Target, Error> {
        self.kill().await;
        let bind = bind
            .parse()
            .map_err(|_| Error::Setup(format!("not an address and port: {bind}")))?;
        let relay = TestRelay::at_with(data_dir, bind, |config| {
            config.login_per_minute = 100_000;
            config.send_burst = 1_000_000;
            config.send_per_second = 1_000_000;
        })
        .await;
        let target = Target::from(relay.addr());
        self.running = Some(relay);
        Ok(target)
    }

    async fn kill(&mut self) {
        if let Some(relay) = self.running.take() {
            relay.stop().await;
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
