//! The micro-measure behind the relay's choice of SQLite driver (ARCHITECTURE.md, "One SQLite
//! driver"): the same batched appends through rusqlite on a thread of its own, as the commit
//! stage does, and through sqlx, whose every statement is a round trip to its worker thread.
//! Rounds alternate between the two; the medians are printed.
//!
//! `cargo run --release -p natter-relay --example sqlite_drivers [messages] [batch] [rounds]`

use std::time::{Duration, Instant};

use natter_relay::store::{SqliteStore, Store};
use sqlx::{Connection as _, SqliteConnection};

/// The relay's append statement (store/sqlite/commit.rs).
const INSERT: &str =
    "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, sent_at) \
     SELECT ?1, r.num, r.last_seq + 1, u.num, ?4, ?5, ?6, ?7 FROM rooms r, users u \
     WHERE r.id = ?2 AND u.id = ?3 AND EXISTS \
       (SELECT 1 FROM members m WHERE m.room_id = ?2 AND m.user_id = ?3) \
     ON CONFLICT (sender_num, client_id) DO NOTHING RETURNING seq";

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (messages, batch, rounds) = (arg(1, 4_096), arg(2, 64), arg(3, 5));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("measure.db");
    let store = SqliteStore::open(&path).await?;
    let user = store.create_user("measure", "h").await?;
    drop(store);
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let tag = format!("r{round}");
        let (path2, user2, tag2) = (path.clone(), user.clone(), tag.clone());
        let rusqlite_time = std::thread::spawn(move || {
            rusqlite_appends(&path2, &user2, &format!("{tag2}-a"), messages, batch)
        })
        .join()
        .map_err(|_| "rusqlite thread panicked")??;
        times[0].push(rusqlite_time);
        times[1].push(sqlx_appends(&path, &user, &format!("{tag}-b"), messages, batch).await?);
    }
    for (name, mut t) in ["rusqlite (own thread)", "sqlx"].into_iter().zip(times) {
        t.sort();
        let median = t[t.len() / 2];
        let per_s = messages as f64 / median.as_secs_f64();
        println!(
            "{name:>22}: median {median:>9.1?} for {messages} messages in batches of {batch} \
             = {per_s:>8.0}/s  (all: {t:.1?})"
        );
    }
    Ok(())
}

fn rusqlite_appends(
    path: &std::path::Path,
    user: &natter_protocol::User,
    tag: &str,
    messages: usize,
    batch: usize,
) -> Result<Duration, rusqlite::Error> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let start = Instant::now();
    for b in 0..messages.div_ceil(batch) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for i in 0..batch {
            let client_id = format!("{tag}-{b}-{i}");
            let id = uuid::Uuid::now_v7().simple().to_string();
            let _seq: i64 = tx.prepare_cached(INSERT)?.query_row(
                rusqlite::params![
                    id,
                    "general",
                    user.id,
                    user.username,
                    client_id,
                    "body",
                    "t"
                ],
                |row| row.get(0),
            )?;
        }
        tx.commit()?;
    }
    Ok(start.elapsed())
}

async fn sqlx_appends(
    path: &std::path::Path,
    user: &natter_protocol::User,
    tag: &str,
    messages: usize,
    batch: usize,
) -> Result<Duration, sqlx::Error> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let start = Instant::now();
    for b in 0..messages.div_ceil(batch) {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        for i in 0..batch {
            let client_id = format!("{tag}-{b}-{i}");
            let id = uuid::Uuid::now_v7().simple().to_string();
            let _seq: i64 = sqlx::query_scalar(INSERT)
                .bind(id)
                .bind("general")
                .bind(&user.id)
                .bind(&user.username)
                .bind(client_id)
                .bind("body")
                .bind("t")
                .fetch_one(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(start.elapsed())
}
