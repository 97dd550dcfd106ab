//! R1: four senders in two rooms while the relay is `kill -9`ed at random 1–5 s intervals and
//! restarted on the same data dir (short: 5 kills, long: 20). The sessions reconnect, catch up
//! and drain their outboxes; afterwards every acked client_id is in the database and in every
//! session's view exactly once, per-room seqs are contiguous and in the same order everywhere,
//! and `PRAGMA integrity_check` is ok. On a cluster (issue 17; built with `postgres,redis`):
//! two nodes on PostgreSQL and Redis, the sessions spread over both, a node drawn from the seed
//! killed each time while the other carries on.

use std::time::{Duration, Instant};

use crate::gen::Rng;

use crate::chat::Chat;
use crate::harness::{long, seed};

/// How often each session queues a message.
const TICK: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_kill_9_loop_loses_nothing_doubles_nothing() {
    let _serial = crate::harness::serial().await;
    let kills = if long() { 20 } else { 5 };
    let dir = tempfile::tempdir().expect("a data dir");
    let chat = Chat::start(dir.path(), &["ann", "ben", "cat", "dan"], false).await;
    kill_loop("R1", chat, kills).await;
}

#[cfg(all(feature = "postgres", feature = "redis"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_cluster_kill_9_loop_loses_nothing_doubles_nothing() {
    let _serial = crate::harness::serial().await;
    let kills = if long() { 20 } else { 4 };
    let chat = Chat::start_cluster(&["ann", "ben", "cat", "dan"], false).await;
    kill_loop("R1 cluster", chat, kills).await;
}

/// `kills` rounds of sending for 1–5 s, then `kill -9` and restart of a node; then the checks.
async fn kill_loop(name: &str, mut chat: Chat, kills: usize) {
    let mut rng = Rng::new(seed(name));
    let started = Instant::now();
    for kill in 1..=kills {
        let interval = Duration::from_millis(1_000 + rng.below(4_001) as u64);
        let until = Instant::now() + interval;
        while Instant::now() < until {
            chat.send_round().await;
            tokio::time::sleep(TICK).await;
        }
        // (One node: no draw, so a seed replays the single-node loop as before.)
        let node = match chat.nodes.len() {
            1 => 0,
            n => rng.below(n),
        };
        chat.kill9_and_restart(node).await;
        eprintln!("{name}: kill {kill}/{kills} of node {node} after {interval:?}");
    }
    // A little traffic after the last restart, then let everything settle.
    for _ in 0..5 {
        chat.send_round().await;
        tokio::time::sleep(TICK).await;
    }
    let settled = chat.settle().await;
    let checked = chat.check().await;
    eprintln!(
        "{name}: {kills} kills in {:?}; {checked} messages acked, each exactly once in the \
         database and in all {} views; settled {settled:?} after the last send; lost 0",
        started.elapsed(),
        chat.views.len()
    );
    // Stops everything; on one node, also PRAGMA integrity_check.
    chat.finish().await;
}
