//! The benchmark's scenarios, tiny, against a relay started in-process: every send acked `ok`,
//! counts that add up, every broadcast exactly once and in seq order. No timing thresholds here;
//! numbers belong in docs/benchmarks.md.

mod common;

use natter_bench::relay::Target;
use natter_bench::scenarios::floor;
use natter_bench::scenarios::mix::ChangeMix;
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
async fn every_scenario_adds_up_against_the_relay() -> Result {
    bounded(async {
        let relay = start_relay().await?;
        // In-process: the "server" process is this test's own (the counts are what is checked).
        // The same checks run against each peer server in tests/peers.rs.
        common::check_every_scenario(&relay.target, &[std::process::id()]).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_sends_and_fan_out_add_up_with_a_fifth_of_them_changes() -> Result {
    bounded(async {
        let relay = start_relay().await?;
        let mix = ChangeMix { percent: 20 };
        common::check_durable_and_fanout(&relay.target, &[std::process::id()], mix).await
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
