//! Durable sends per second through a store's commit stage, on SQLite or on PostgreSQL (a
//! server of its own from natter-testkit, fsync on): C concurrent senders, each sending its next
//! message as soon as the last is acked, into R rooms, for S seconds. One short reading, not a
//! benchmark: the bench (`cargo xtask bench`) measures through real sockets.
//!
//! `cargo run -p natter-relay --features postgres --example durable_sends -- postgres|sqlite [C] [S] [R]`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_relay::store::{NewEntry, NewMessage, PgStore, SqliteStore, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "postgres".into());
    let clients: usize = args.next().map_or(Ok(64), |a| a.parse())?;
    let seconds: u64 = args.next().map_or(Ok(5), |a| a.parse())?;
    let rooms: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let mut server = None;
    let store: Arc<dyn Store> = match backend.as_str() {
        "postgres" => {
            let pg = natter_testkit::postgres::Postgres::start_new()?;
            let url = pg.database()?;
            server = Some(pg);
            Arc::new(PgStore::open(&url).await?)
        }
        "sqlite" => Arc::new(SqliteStore::open(&dir.path().join("natter.db")).await?),
        other => return Err(format!("unknown backend {other}: postgres or sqlite").into()),
    };
    let mut users = Vec::with_capacity(clients);
    for n in 0..clients {
        users.push(store.create_user(&format!("sender{n}"), "h").await?);
    }
    let creator = users[0].clone();
    let mut room_ids = Vec::with_capacity(rooms);
    for n in 0..rooms {
        room_ids.push(
            store
                .create_group(&format!("room {n}"), &creator, &users[1..], u32::MAX)
                .await?,
        );
    }
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(clients);
    for (n, user) in users.into_iter().enumerate() {
        let (commits, sent, stop) = (store.commits(), sent.clone(), stop.clone());
        let room_id = room_ids[n % rooms].clone();
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let message = NewMessage {
                    room_id: room_id.clone(),
                    sender: user.clone(),
                    client_id: format!("{n}-{i}"),
                    body: format!("message {i} of sender {n}"),
                    sent_at: "2026-01-01T00:00:00.000Z".into(),
                    entry: NewEntry::Message {
                        reply_to: None,
                        attachments: Vec::new(),
                    },
                    mentions: Vec::new(),
                };
                i += 1;
                if let Ok(Ok(_)) = commits.append(message).await {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let began = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let count = sent.load(Ordering::Relaxed);
    let elapsed = began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }
    println!(
        "{backend}: {count} durable sends in {elapsed:.1} s = {:.0}/s ({clients} senders, {rooms} room(s))",
        count as f64 / elapsed
    );
    drop(store);
    drop(server);
    Ok(())
}
