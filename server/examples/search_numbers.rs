//! Issue 20's relay numbers, at the store (no sockets): what the search index costs the commit
//! stage, and search latency over a large room.
//!
//! `cargo run -p natter-relay --example search_numbers -- sends <messages> <rounds>`: the same
//! store with and without the index trigger on insert, alternating, `rounds` times each; 50
//! concurrent senders, each in a room of its own (like the bench's durable scenario), push
//! `messages` in all through the commit stage (`synchronous=FULL`). Prints messages/s per run.
//!
//! `cargo run -p natter-relay --example search_numbers -- appends <messages> <rounds>`: the
//! commit stage's SQL alone (its plain-message INSERT, transactions of 512, WAL,
//! `synchronous=FULL`, on one connection, no Rust runtime around it), with and without the
//! trigger, alternating: what the index costs a message in SQLite (built with -O3 in every
//! profile), free of the debug build's overhead.
//!
//! `cargo run -p natter-relay --example search_numbers -- search <messages>`: one room of
//! `messages` messages (a direct bulk insert), indexed by the indexer's own function, then
//! `Store::search` p50/p90/p95 per query, 30 runs each, a page of 20.

use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_protocol::User;
use natter_relay::store::{NewEntry, NewMessage, SearchQuery, SqliteStore, Store};
use rand::{Rng, SeedableRng};

const SENDERS: usize = 50;
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
        Some("sends") => sends(number(1, 20_000), number(2, 3)).await,
        Some("search") => search(number(1, 1_000_000)).await,
        Some("appends") => appends(number(1, 51_200), number(2, 3)).await,
        _ => Err(
            "usage: search_numbers sends <messages> <rounds> | appends <messages> <rounds> | \
             search <messages>"
                .into(),
        ),
    }
}

fn body(rng: &mut impl Rng, words: usize) -> String {
    (0..words)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

async fn sends(messages: usize, rounds: usize) -> Result<(), Error> {
    let mut results: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for (i, indexed) in [true, false].into_iter().enumerate() {
            let rate = send_run(messages, indexed, round as u64).await?;
            println!("round {round}: indexed={indexed}: {rate:.0} messages/s");
            results[i].push(rate);
        }
    }
    for (i, name) in ["with the index", "without"].into_iter().enumerate() {
        let mut runs = results[i].clone();
        runs.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.0} messages/s (runs {runs:.0?})",
            runs[runs.len() / 2]
        );
    }
    Ok(())
}

async fn send_run(messages: usize, indexed: bool, seed: u64) -> Result<f64, Error> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("natter.db");
    if indexed {
        // Migrated, then the old design's trigger added with the store closed.
        drop(SqliteStore::open(&path).await?);
        tokio::time::sleep(Duration::from_millis(300)).await;
        rusqlite::Connection::open(&path)?.execute_batch(
            "CREATE TRIGGER messages_search_insert AFTER INSERT ON messages \
             WHEN NEW.change_kind IS NULL \
             BEGIN INSERT INTO message_search (rowid, body) VALUES (NEW.rowid, NEW.body); END",
        )?;
    }
    let store = Arc::new(SqliteStore::open(&path).await?);
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let user = store.create_user(&format!("sender{s}"), "h").await?;
        let room = store.create_group("room", &user, &[], u32::MAX).await?;
        senders.push((user, room));
    }
    let per_sender = messages / SENDERS;
    let began = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(s, (user, room))| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed * 1000 + s as u64);
                for i in 0..per_sender {
                    let outcome = store
                        .commits()
                        .append(message(&user, &room, i, body(&mut rng, 8)))
                        .await;
                    assert!(matches!(outcome, Ok(Ok(_))), "{outcome:?}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await?;
    }
    Ok((per_sender * SENDERS) as f64 / began.elapsed().as_secs_f64())
}

async fn appends(messages: usize, rounds: usize) -> Result<(), Error> {
    let mut results: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for (i, indexed) in [true, false].into_iter().enumerate() {
            let micros = append_run(messages, indexed, round as u64).await?;
            println!("round {round}: indexed={indexed}: {micros:.2} µs a message");
            results[i].push(micros);
        }
    }
    for (i, name) in ["with the index", "without"].into_iter().enumerate() {
        let mut runs = results[i].clone();
        runs.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.2} µs a message (runs {runs:.2?})",
            runs[runs.len() / 2]
        );
    }
    Ok(())
}

async fn append_run(messages: usize, indexed: bool, seed: u64) -> Result<f64, Error> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("natter.db");
    let mut senders = Vec::new();
    {
        let store = SqliteStore::open(&path).await?;
        for s in 0..SENDERS {
            let user = store.create_user(&format!("sender{s}"), "h").await?;
            let room = store.create_group("room", &user, &[], u32::MAX).await?;
            senders.push((user, room));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut conn = rusqlite::Connection::open(&path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    if indexed {
        // The design this replaced: the index written by a trigger inside each commit.
        conn.execute_batch(
            "CREATE TRIGGER messages_search_insert AFTER INSERT ON messages \
             WHEN NEW.change_kind IS NULL \
             BEGIN INSERT INTO message_search (rowid, body) VALUES (NEW.rowid, NEW.body); END",
        )?;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let bodies: Vec<String> = (0..messages).map(|_| body(&mut rng, 8)).collect();
    let began = Instant::now();
    for (b, batch) in bodies.chunks(512).enumerate() {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (i, text) in batch.iter().enumerate() {
            let (user, room) = &senders[i % SENDERS];
            let seq: i64 = tx
                .prepare_cached(
                    "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, \
                       sent_at, mentions) \
                     SELECT ?1, r.num, r.last_seq + 1, u.num, ?4, ?5, ?6, ?7, ?8 FROM rooms r, users u \
                     WHERE r.id = ?2 AND u.id = ?3 AND EXISTS \
                       (SELECT 1 FROM members m WHERE m.room_id = ?2 AND m.user_id = ?3) \
                     ON CONFLICT (sender_num, client_id) DO NOTHING \
                     RETURNING seq",
                )?
                .query_row(
                    rusqlite::params![
                        uuid::Uuid::now_v7().simple().to_string(),
                        room,
                        user.id,
                        user.username,
                        format!("c{b}-{i}"),
                        text,
                        "2026-12-06T19:00:00.000Z",
                        Option::<String>::None
                    ],
                    |row| row.get(0),
                )?;
            assert!(seq > 0);
        }
        tx.commit()?;
    }
    let appended = began.elapsed().as_secs_f64() * 1e6 / messages as f64;
    if !indexed {
        // What indexing the same messages afterwards costs, in chunks of 10,000.
        let began = Instant::now();
        let last: i64 = conn.query_row("SELECT MAX(rowid) FROM messages", [], |r| r.get(0))?;
        let mut from = 0;
        while from < last {
            conn.execute(
                "INSERT INTO message_search (rowid, body) SELECT rowid, body FROM messages \
                 WHERE rowid > ?1 AND rowid <= ?2 AND change_kind IS NULL",
                [from, from + 10_000],
            )?;
            from += 10_000;
        }
        println!(
            "  indexed afterwards in chunks: {:.2} µs a message",
            began.elapsed().as_secs_f64() * 1e6 / messages as f64
        );
    }
    Ok(appended)
}

fn message(user: &User, room: &str, i: usize, body: String) -> NewMessage {
    NewMessage {
        room_id: room.to_owned(),
        sender: user.clone(),
        client_id: format!("c{i}"),
        body,
        sent_at: "2026-12-06T19:00:00.000Z".into(),
        entry: NewEntry::Message {
            reply_to: None,
            attachments: Vec::new(),
        },
        mentions: Vec::new(),
    }
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
