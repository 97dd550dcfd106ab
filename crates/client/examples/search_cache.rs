//! Issue 20's desktop number: offline search over a cache of many messages.
//!
//! `cargo run -p natter-client --example search_cache -- <messages>` (default 100,000): one
//! profile's cache with that many messages in 10 rooms (stored as the session stores them,
//! `Cache::insert_messages`, so the index's triggers run), then `Cache::search` p50/p90/p95
//! per query, 30 runs each, a page of 20.

use std::time::Instant;

use natter_client::Cache;
use natter_protocol::{search, Message, Room, RoomKind};
use rand::{Rng, SeedableRng};

const ROOMS: usize = 10;
const WORDS: &[&str] = &[
    "lunch",
    "meeting",
    "deploy",
    "coffee",
    "review",
    "release",
    "weekend",
    "server",
    "design",
    "budget",
    "the",
    "a",
    "is",
    "on",
    "at",
    "we",
    "ship",
    "today",
    "tomorrow",
    "please",
    "thanks",
    "東京",
    "会議",
    "ランチ",
    "🎉",
    "👍",
    "invoice",
    "holiday",
    "bug",
    "fix",
    "test",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let messages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let cache = Cache::open(dir.path()).await?;
    let rooms: Vec<Room> = (0..ROOMS)
        .map(|r| Room {
            id: format!("room-{r}"),
            name: format!("room {r}"),
            kind: RoomKind::Group,
            members: vec!["alice".into()],
            last_seq: 0,
            read_seq: 0,
            member_count: 0,
            others_read_seq: 0,
            unread: None,
        })
        .collect();
    cache.upsert_rooms(&rooms).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20);
    let began = Instant::now();
    let mut batch = Vec::with_capacity(1_000);
    for i in 0..messages {
        let words = rng.gen_range(3..15);
        let mut body: Vec<&str> = (0..words)
            .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
            .collect();
        if i % 10_000 == 0 {
            body.push("xylophone");
        }
        let room = i % ROOMS;
        let seq = (i / ROOMS) as i64 + 1;
        batch.push(Message {
            id: format!("m{i}"),
            room_id: format!("room-{room}"),
            seq,
            sender: "alice".into(),
            body: body.join(" "),
            client_id: format!("c{i}"),
            // One second apart: newest first is by sent_at.
            sent_at: format!(
                "2026-12-{:02}T{:02}:{:02}:{:02}.000Z",
                1 + i / 86_400 % 28,
                i / 3600 % 24,
                i / 60 % 60,
                i % 60
            ),
            ..Message::default()
        });
        if batch.len() == 1_000 {
            cache.insert_messages(&batch).await?;
            batch.clear();
        }
    }
    cache.insert_messages(&batch).await?;
    println!(
        "{messages} messages cached and indexed in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    for query in [
        "xylophone",
        "deploy",
        "lunch meeting",
        "東京",
        "会議 ランチ",
        "🎉",
        "relea",
        "zebra",
        // Under 3 characters and in no message: every row is read (the slowest page).
        "zq",
    ] {
        let terms = search::terms(query);
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..30 {
            let t = Instant::now();
            found = cache.search(&terms, None, 20).await?.len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "{query:>14}: p50 {:>8.2} ms, p90 {:>8.2} ms, p95 {:>8.2} ms ({found} on the page)",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() * 9 / 10].as_secs_f64() * 1e3,
            // The 95th of 100 runs is the 29th of 30 (ranks from 1, rounded up).
            times[(times.len() * 95).div_ceil(100) - 1].as_secs_f64() * 1e3
        );
    }
    cache.close().await;
    Ok(())
}
