//! The benchmark's scenarios, tiny, against a relay started in-process: every send acked `ok`,
//! counts that add up, every broadcast exactly once and in seq order. No timing thresholds here;
//! numbers belong in docs/benchmarks.md.

mod common;

use std::time::Duration;

use natter_bench::relay::Target;
use natter_bench::scenarios::floor;
use natter_bench::scenarios::latency::{self, LatencyOptions};
use natter_bench::scenarios::throughput::{self, ThroughputOptions};
use natter_testkit::sio::{self, Client};
use natter_testkit::TestRelay;

use common::{bounded, Result};

/// A relay on an ephemeral loopback port with a fresh database; stopped on drop.
struct Relay {
    target: Target,
    _relay: TestRelay,
}

async fn start_relay() -> Result<Relay> {
    let relay = TestRelay::start_with(|config| {
        config.login_per_minute = 100_000;
        config.send_burst = 1_000_000;
        config.send_per_second = 1_000_000;
    })
    .await;
    Ok(Relay {
        target: Target::from(relay.addr()),
        _relay: relay,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_sends_are_acked_and_broadcast_once_in_order() -> Result {
    bounded(async {
        let relay = start_relay().await?;
        let opts = LatencyOptions {
            messages: 20,
            warmup: 5,
        };
        let report = latency::run(&relay.target, opts).await?;
        // The fence message is sent (and checked) but not timed.
        assert_eq!(report.sent, 26);
        assert_eq!(report.received, 26);
        assert_eq!(report.ack.count, 20);
        assert_eq!(report.broadcast.count, 20);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_counts_add_up_with_a_room_each() -> Result {
    bounded(async {
        let relay = start_relay().await?;
        let opts = ThroughputOptions {
            clients: 3,
            seconds: Duration::from_secs(1),
            warmup: Duration::from_millis(200),
            shared_room: false,
        };
        let report = throughput::run(&relay.target, opts).await?;
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert!(report.sent > 0);
        assert_eq!(report.acked_ok, report.sent);
        assert!(report.acked_in_window <= report.acked_ok);
        assert!(report.acked_in_window > 0);
        // Each client sees its own broadcasts, every one, once.
        assert_eq!(report.broadcasts_received, report.acked_ok);
        assert_eq!(report.broadcasts_missed, 0);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_in_a_shared_room_reaches_every_client() -> Result {
    bounded(async {
        let relay = start_relay().await?;
        let opts = ThroughputOptions {
            clients: 3,
            seconds: Duration::from_secs(1),
            warmup: Duration::from_millis(200),
            shared_room: true,
        };
        let report = throughput::run(&relay.target, opts).await?;
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert_eq!(report.acked_ok, report.sent);
        // Every client sees every send (a slow reader may miss live events; none is slow here).
        assert_eq!(report.broadcasts_missed, 0);
        assert_eq!(report.broadcasts_received, report.acked_ok * 3);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_refused_at_connect() -> Result {
    bounded(async {
        let relay = start_relay().await?;
        match Client::connect(relay.target.addr(), "not-a-token").await {
            Err(sio::Error::Refused(message)) => assert_eq!(message, "unauthorized"),
            other => panic!("expected a refused connect, got {other:?}"),
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_and_crowd_scenarios_add_up_against_the_relay() -> Result {
    bounded(async {
        let relay = start_relay().await?;
        // In-process: the "server" process is this test's own (the counts are what is checked).
        common::check_every_scenario(&relay.target, Some(std::process::id())).await
    })
    .await
}

#[tokio::test]
async fn the_tcp_floor_measures_every_round() -> Result {
    bounded(async {
        let summary = floor::tcp_echo(50, 5).await?;
        assert_eq!(summary.count, 50);
        Ok(())
    })
    .await
}
