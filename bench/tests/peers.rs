//! The Node socket.io and bare socketioxide peers, started as processes the way
//! `natter-bench compare` starts them, driven by every scenario at tiny sizes. The Node peer
//! spells the event names and payloads itself (it cannot use natter-protocol), so this is what
//! catches drift: a renamed event or a changed field fails here. Correctness only, no timings.
//!
//! Needs `npm ci` in bench/peers/node first (`cargo xtask test` runs it).

mod common;

use natter_bench::peers::{default_node_dir, Programs, Server, System};

use common::{bounded, check_every_scenario, Result};

fn programs() -> Programs {
    Programs {
        relay: "natter-relay".into(),
        sioxide: env!("CARGO_BIN_EXE_natter-peer-socketioxide").into(),
        node_dir: default_node_dir(),
        node: "node".into(),
    }
}

async fn check(system: System) -> Result {
    bounded(async {
        let server = Server::start(system, &programs()).await?;
        let pids = server.pids();
        let outcome = check_every_scenario(server.target(), &pids).await;
        server.stop().await;
        outcome
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_peer_keeps_every_promise_the_bench_checks() -> Result {
    check(System::Node).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socketioxide_peer_keeps_every_promise_the_bench_checks() -> Result {
    check(System::Socketioxide).await
}
