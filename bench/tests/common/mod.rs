//! What the smoke tests share: a bound on every test, and every scenario run tiny against one
//! server with its counts checked.

use std::future::Future;
use std::time::Duration;

use natter_bench::relay::Target;
use natter_bench::scenarios::crowd::{self, CrowdOptions};
use natter_bench::scenarios::fanout::{self, FanoutOptions};
use natter_bench::scenarios::latency::{self, LatencyOptions};
use natter_bench::scenarios::mix::ChangeMix;
use natter_bench::scenarios::throughput::{self, ThroughputOptions};
use natter_testkit::sio::{self, Client};

/// Bounds every test: a hang is a failure, not a stuck CI run.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

pub type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

pub async fn bounded<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(TEST_TIMEOUT, f).await?
}

/// Runs each scenario tiny against `target` (whose processes are `pids`) and checks that every
/// send was acked and every delivery arrived once.
pub async fn check_every_scenario(target: &Target, pids: &[u32]) -> Result {
    match Client::connect(target.addr(), "not-a-token").await {
        Err(sio::Error::Refused(message)) => assert_eq!(message, "unauthorized"),
        other => panic!("expected a refused connect, got {other:?}"),
    }

    let opts = LatencyOptions {
        messages: 20,
        warmup: 5,
    };
    let report = latency::run(target, opts).await?;
    // The fence message is sent (and checked) but not timed.
    assert_eq!(
        (report.sent, report.received),
        (26, 26),
        "every send acked and broadcast once"
    );
    assert_eq!((report.ack.count, report.broadcast.count), (20, 20));
    // On several nodes the same sends also reach a receiver on another node.
    let cross = report.cross_node.map(|s| s.count);
    let expected = (target.node_count() > 1).then_some(20);
    assert_eq!(
        cross, expected,
        "a cross-node receiver exactly on several nodes"
    );

    check_durable_and_fanout(target, pids, ChangeMix::default()).await?;

    let opts = CrowdOptions {
        connections: 30,
        sockets_per_user: 4,
        settle: Duration::from_millis(100),
        jitter: Duration::from_millis(50),
        deadline: Duration::from_secs(20),
    };
    let (density, storm) = crowd::run(target, pids, opts).await?;
    assert_eq!((density.connections, density.users), (30, 8));
    assert_eq!(density.probe_received, 30, "every socket is in general");
    assert_eq!(storm.reconnected, 30);
    assert_eq!(storm.probe_received, 30, "every socket is back in general");
    assert_eq!(storm.lost, 0);
    assert_eq!(storm.rejoin.count, 30);
    assert!(storm.to_99_percent_ms.is_some() && storm.to_all_ms.is_some());
    Ok(())
}

/// The durable sends and fan-out, tiny, with `mix` of the sends changes (reactions and edits
/// take seqs and are broadcast like messages, so the same counts add up).
pub async fn check_durable_and_fanout(target: &Target, pids: &[u32], mix: ChangeMix) -> Result {
    for shared_room in [false, true] {
        let opts = ThroughputOptions {
            clients: 3,
            seconds: Duration::from_millis(500),
            warmup: Duration::from_millis(100),
            shared_room,
            mix,
        };
        let report = throughput::run(target, opts).await?;
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert!(report.acked_in_window > 0 && report.acked_in_window <= report.acked_ok);
        assert_eq!(report.acked_ok, report.sent);
        assert_eq!(report.broadcasts_missed, 0);
        let copies = if shared_room { 3 } else { 1 };
        assert_eq!(report.broadcasts_received, report.acked_ok * copies);
    }

    let opts = FanoutOptions {
        rooms: 2,
        members: 4,
        sockets_per_user: 2,
        step_seconds: 0.5,
        start_rate: 200.0,
        max_steps: 2,
        p99_limit: Duration::from_secs(10),
        mix,
    };
    let report = fanout::run(target, pids, opts).await?;
    assert_eq!(report.users, 4);
    assert!(!report.steps.is_empty());
    for step in &report.steps {
        assert_eq!(step.errors, 0, "{step:?}");
        assert!(step.sends > 0, "{step:?}");
        assert_eq!(step.acked_ok, step.sends, "{step:?}");
        assert_eq!(step.expected_deliveries, step.acked_ok * 4, "{step:?}");
        assert_eq!(step.delivered, step.expected_deliveries, "{step:?}");
        assert_eq!(step.latency.count, step.delivered, "{step:?}");
    }

    Ok(())
}
