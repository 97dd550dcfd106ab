//! R1: four senders in two rooms while the relay is `kill -9`ed at random 1–5 s intervals and
//! restarted on the same data dir (short: 5 kills, long: 20). The sessions reconnect, catch up
//! and drain their outboxes; afterwards every acked client_id is in the database and in every
//! session's view exactly once, per-room seqs are contiguous and in the same order everywhere,
//! and `PRAGMA integrity_check` is ok.

use std::time::{Duration, Instant};

use crate::gen::Rng;

use crate::chat::Chat;
use crate::harness::{integrity_ok, long, seed};

/// How often each session queues a message.
const TICK: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_kill_9_loop_loses_nothing_doubles_nothing() {
    let _serial = crate::harness::serial().await;
    let kills = if long() { 20 } else { 5 };
    let mut rng = Rng::new(seed("R1"));
    let dir = tempfile::tempdir().expect("a data dir");
    let mut chat = Chat::start(dir.path(), &["ann", "ben", "cat", "dan"], false).await;
    let started = Instant::now();
    for kill in 1..=kills {
        let interval = Duration::from_millis(1_000 + rng.below(4_001) as u64);
        let until = Instant::now() + interval;
        while Instant::now() < until {
            chat.send_round().await;
            tokio::time::sleep(TICK).await;
        }
        chat.kill9_and_restart().await;
        eprintln!("R1: kill {kill}/{kills} after {interval:?}");
    }
    // A little traffic after the last restart, then let everything settle.
    for _ in 0..5 {
        chat.send_round().await;
        tokio::time::sleep(TICK).await;
    }
    let settled = chat.settle().await;
    let checked = chat.check().await;
    eprintln!(
        "R1: {kills} kills in {:?}; {checked} messages acked, each exactly once in the database \
         and in all {} views; settled {settled:?} after the last send; lost 0",
        started.elapsed(),
        chat.views.len()
    );
    let data = chat.spec.data_dir.clone();
    chat.finish().await;
    integrity_ok(&data).await;
}
