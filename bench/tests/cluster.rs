//! The two-node systems (`natter-bench compare --cluster`), started as the bench starts them,
//! driven by every scenario at tiny sizes: Natter's two relay nodes on PostgreSQL and Redis,
//! and Node's two socket.io nodes on Redis. Correctness only (every send acked, every delivery
//! once, on both nodes), no timings.
//!
//! Needs `npm ci` in bench/peers/node, redis-server and PostgreSQL (`cargo xtask test` installs
//! them). Natter's test is ignored in the workspace run, whose relay binary is built without
//! PostgreSQL and Redis; `cargo xtask test` runs it after building one with them
//! (`NATTER_RELAY_BIN`, else target/debug/natter-relay:
//! `cargo build -p natter-relay --features postgres,redis`, then `--include-ignored`).

mod common;

use std::path::PathBuf;

use natter_bench::peers::{default_node_dir, Programs, Server, System};

use common::{bounded, check_every_scenario, Result};

/// The relay binary: `NATTER_RELAY_BIN`, or the workspace's debug build beside this test's
/// directory (target/debug/natter-relay).
fn relay_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("NATTER_RELAY_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    let debug = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps");
    debug.join("natter-relay")
}

async fn check(system: System) -> Result {
    let programs = Programs {
        relay: relay_bin(),
        sioxide: "natter-peer-socketioxide".into(),
        node_dir: default_node_dir(),
        node: "node".into(),
    };
    assert!(
        programs.relay.is_file(),
        "no relay at {}: cargo build -p natter-relay --features postgres,redis",
        programs.relay.display()
    );
    // Each server's start is bounded on its own (PostgreSQL's initdb takes a while).
    let server = Server::start(system, &programs).await?;
    let pids = server.pids();
    assert_eq!(pids.len(), 2, "one process per node");
    assert_eq!(server.target().node_count(), 2);
    let outcome = bounded(check_every_scenario(server.target(), &pids)).await;
    server.stop().await;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a relay built with --features postgres,redis; cargo xtask test runs it"]
async fn natter_on_two_nodes_keeps_every_promise_the_bench_checks() -> Result {
    check(System::NatterCluster).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_on_two_nodes_keeps_every_promise_the_bench_checks() -> Result {
    check(System::NodeCluster).await
}
