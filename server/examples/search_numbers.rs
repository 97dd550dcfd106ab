//! Issue 20's relay numbers, at the store (no sockets): search latency over a large room.
//!
//! `cargo run -p natter-relay --example search_numbers -- search <messages>`: one room of
//! `messages` messages (a direct bulk insert), indexed by the indexer's own function, then
//! `Store::search` p50/p90/p95 per query, 30 runs each, a page of 20. (Its `sends` and `appends`
//! modes measured where the index was written in earlier designs, in the main database file;
//! they went with those designs: docs/benchmarks.md "Search" keeps their figures.)

use std::time::{Duration, Instant};

use natter_relay::store::{SearchQuery, SqliteStore, Store};
use rand::{Rng, SeedableRng};

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

type Error = Box<dyn std::error::Error>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("search") => search(number(1, 1_000_000)).await,
        _ => Err("usage: search_numbers search <messages>".into()),
    }
}

fn body(rng: &mut impl Rng, words: usize) -> String {
    (0..words)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

async fn search(messages: usize) -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("natter.db");
    let store = SqliteStore::open(&path).await?;
    let alice = store.create_user("alice", "h").await?;
    let room = store.create_group("big", &alice, &[], u32::MAX).await?;
    let began = Instant::now();
    {
        let mut conn = rusqlite::Connection::open(&path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let tx = conn.transaction()?;
        let (room_num, user_num): (i64, i64) = tx.query_row(
            "SELECT r.num, u.num FROM rooms r, users u WHERE r.id = ?1 AND u.id = ?2",
            [&room, &alice.id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let mut insert = tx.prepare(
            "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, sent_at) \
             VALUES (?1, ?2, ?3, ?4, 'alice', ?1, ?5, '2026-12-06T19:00:00.000Z')",
        )?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(20);
        for seq in 1..=messages {
            let words = rng.gen_range(3..15);
            let mut text = body(&mut rng, words);
            if seq % 100_000 == 0 {
                text.push_str(" xylophone");
            }
            insert.execute(rusqlite::params![
                format!("m{seq}"),
                room_num,
                seq as i64,
                user_num,
                text
            ])?;
        }
        drop(insert);
        tx.commit()?;
    }
    println!(
        "{messages} messages inserted in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    let began = Instant::now();
    store.index_for_search_now().await?;
    println!(
        "and indexed (the indexer's chunks) in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    let queries = [
        "xylophone",
        "deploy",
        "lunch meeting",
        "東京",
        "会議 ランチ",
        "🎉",
        "relea",
        "ship today",
        "zebra",
    ];
    for query in queries {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..30 {
            let q = SearchQuery {
                terms: natter_protocol::search::terms(query),
                room_id: None,
                before: None,
                limit: 20,
            };
            let t = Instant::now();
            let page = store.search(&alice.id, &q).await?;
            times.push(t.elapsed());
            found = page.messages.len();
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
    Ok(())
}
