//! Issue 17's number: with 100,000 accounts registered (all in `general`), how big and how
//! slow `rooms:list` and a `sync` page are at the relay.
//!
//! `cargo run -p natter-relay --example big_room -- [accounts] [runs]` (defaults 100000, 30):
//! a relay in this process on a loopback port (SQLite in a temporary directory), the accounts
//! written straight into its database (`tests/relay/seed.rs`, no argon2), one real user
//! connected over Socket.IO, in `general`, a group of 20 and a direct room; then `runs` of
//! each request, one at a time (the per-user read rate lifted). Prints each answer's
//! bytes (its JSON) and the median and p90 milliseconds from the request's frame sent to its
//! ack read, over loopback.

#[path = "../tests/relay/seed.rs"]
mod seed;

use std::time::{Duration, Instant};

use natter_protocol::requests::{CreateRoom, ListMembers, ListRooms, OpenDm, Sync};
use natter_protocol::{Request, GENERAL_ROOM_ID};
use natter_testkit::{Client, TestRelay};
use serde_json::Value;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let accounts: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);

    // Every request measured is a read: their per-user rate is not what is measured here.
    let relay = TestRelay::start_with(|c| c.reads_per_second = 100_000).await;
    let (_, alice) = relay.join("alice").await;
    let db = relay.data_dir().join(natter_relay::DB_FILE);
    let started = Instant::now();
    seed::seed_accounts(&db, "user", 0, accounts).expect("seed the accounts");
    println!(
        "seeded {accounts} accounts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Besides general, a group of 20 (names inline) and a direct room, as a user would have.
    let group = CreateRoom {
        name: "team".to_owned(),
        members: (0..19.min(accounts))
            .map(|i| format!("user{i:06}"))
            .collect(),
    };
    alice.request(&group).await.expect("room:create");
    if accounts > 0 {
        let dm = OpenDm {
            username: "user000000".to_owned(),
        };
        alice.request(&dm).await.expect("dm:open");
    }

    measure(&alice, &ListRooms {}, runs).await;
    measure(&alice, &Sync::default(), runs).await;
    let page = ListMembers {
        room_id: GENERAL_ROOM_ID.to_owned(),
        after: Some("user050000".to_owned()),
        limit: Some(200),
    };
    measure(&alice, &page, runs).await;
    relay.stop().await;
}

/// `runs` of `req`, one after another (after one warm-up): bytes, median and p90 ms.
async fn measure<R: Request>(client: &Client, req: &R, runs: usize) {
    let payload = serde_json::to_value(req).expect("a request serializes");
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for run in 0..=runs {
        let started = Instant::now();
        let ack: Value = client
            .raw_request(R::NAME, Some(payload.clone()), Duration::from_secs(30))
            .await
            .expect("an ack")
            .unwrap_or_else(|e| panic!("{}: {e}", R::NAME));
        let took = started.elapsed();
        bytes = serde_json::to_vec(&ack).expect("JSON").len();
        if run > 0 {
            times.push(took);
        }
    }
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!(
        "{:<13} {:>6} bytes  median {:>6.2} ms  p90 {:>6.2} ms  ({runs} runs)",
        R::NAME,
        bytes,
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10]),
    );
}
