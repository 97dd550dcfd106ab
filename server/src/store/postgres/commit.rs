//! The PostgreSQL commit stage: a task that takes the sends queued on
//! [`Commits`](crate::store::commit::Commits) in batches (all that queued while the last
//! commit ran, up to [`MAX_BATCH`]), commits each batch (`synchronous_commit` on: the commit
//! returns once the WAL is flushed), puts the new messages on the committed stream in that
//! order, then answers each sender. A batch of plain messages only is one call of
//! `append_plain` committed by itself when every message of it goes in (`plain.rs`); any other
//! batch is a transaction.
//!
//! Seqs across nodes: each node has a stage like this one on the same database. A batch first
//! locks the rows of its rooms (`SELECT … FOR NO KEY UPDATE`, in id order, so two batches
//! never wait on each other for rooms; `NO KEY` so that rows naming a room, such as a new
//! member's, can still be inserted meanwhile), then reads each room's last seq from its
//! messages (`room_last_seqs`, migration 0006) and numbers on from there: a room's appends are
//! serialized across nodes and its seqs are gap-free, in commit order. (`INSERT … SELECT
//! max(seq) + 1` without the lock races under READ COMMITTED: two nodes read the same seq.)
//! A seq is taken only by an insert that happened: a repeated (sender, client_id), even one
//! committing on another node at that moment (the insert waits for it, then does nothing),
//! answers the original and burns none. `append_plain` does the same in one call.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use natter_protocol::model::Seq;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row};
use tokio::sync::mpsc;

use super::single::{self, Room};
use super::{entry, plain};
use crate::metrics::CommitMetrics;
use crate::store::commit::{CommittedTx, Queued};
use crate::store::types::{AppendOutcome, NewEntry, NewMessage, StoreError};

/// Most messages in one transaction.
const MAX_BATCH: usize = 1_024;
/// Times a batch is tried when PostgreSQL ends it for a deadlock (two nodes each inserting a
/// (sender, client_id) the other has in flight): nothing of it was written, so it is simply
/// run again; only then do its senders get an error.
const TRIES: usize = 3;
/// A kept connection unused this long is checked before a batch (the server may have
/// restarted meanwhile); under load none is, which saves a round trip a batch.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Starts the stage's task, which ends when every `Commits` of `queue` is dropped.
pub(super) fn start(
    pool: PgPool,
    queue: mpsc::Receiver<Queued>,
    committed: CommittedTx,
    metrics: CommitMetrics,
) {
    tokio::spawn(run(pool, queue, committed, metrics));
}

async fn run(
    pool: PgPool,
    mut queue: mpsc::Receiver<Queued>,
    committed: CommittedTx,
    metrics: CommitMetrics,
) {
    let mut batch: Vec<Queued> = Vec::with_capacity(MAX_BATCH);
    let mut kept = Kept::default();
    while let Some(first) = queue.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            let Ok(next) = queue.try_recv() else { break };
            batch.push(next);
        }
        let began = Instant::now();
        let messages: Vec<&NewMessage> = batch.iter().map(|(message, _)| message).collect();
        match append_trying(&pool, &mut kept, &messages).await {
            Ok((outcomes, statement)) => {
                let created = outcomes.iter().flatten().filter(|a| a.created).count();
                metrics.committed(batch.len(), created, began.elapsed(), statement);
                // After the COMMIT and before any answer, in commit order: a sender never hears
                // "sent" before the stream has its message.
                if let Some(stream) = committed.current() {
                    for appended in outcomes.iter().flatten().filter(|a| a.created) {
                        // Waits while the subscriber is behind; gone (shutdown) is fine.
                        if stream.send(appended.message.clone()).await.is_err() {
                            break;
                        }
                    }
                }
                for ((_, reply), outcome) in batch.drain(..).zip(outcomes) {
                    // The sender may have gone; the message is committed either way.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                metrics.failed();
                // Rolled back (or never reached the server): no sender hears "sent". A COMMIT
                // cut off by a lost connection may have committed; a retry with the same
                // client_id then answers the original.
                tracing::error!(error = %e, batch = batch.len(), "commit failed; nothing of the batch is acknowledged");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError::Commit(e.to_string())));
                }
            }
        }
    }
}

/// The stage's connection, kept from batch to batch (a pool's checkout checks the connection
/// with a round trip of its own).
#[derive(Default)]
struct Kept {
    conn: Option<PoolConnection<Postgres>>,
    used: Option<Instant>,
}

impl Kept {
    /// The kept connection, checked if it was idle; else a new one from the pool.
    async fn get(&mut self, pool: &PgPool) -> Result<&mut PgConnection, sqlx::Error> {
        let idle = self.used.is_none_or(|t| t.elapsed() >= CHECK_AFTER_IDLE);
        self.used = Some(Instant::now());
        if let Some(conn) = self.conn.as_mut() {
            if idle && conn.ping().await.is_err() {
                self.conn = None;
            }
        }
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => pool.acquire().await?,
        };
        Ok(&mut **self.conn.insert(conn))
    }

    /// After an error that was not the database's answer (a lost connection, say), the next
    /// batch takes a new connection.
    fn failed(&mut self, e: &sqlx::Error) {
        if e.as_database_error().is_none() {
            self.conn = None;
        }
    }
}

/// [`append`], run again when PostgreSQL chose it as a deadlock's victim.
async fn append_trying(
    pool: &PgPool,
    kept: &mut Kept,
    messages: &[&NewMessage],
) -> Result<(Vec<AppendOutcome>, Duration), sqlx::Error> {
    let mut tries = 1;
    loop {
        let result = append(kept.get(pool).await?, messages).await;
        match result {
            Err(e) if tries < TRIES && is_retryable(&e) => {
                tracing::warn!(error = %e, tries, "commit: batch rolled back; trying again");
                tries += 1;
            }
            Err(e) => {
                kept.failed(&e);
                return Err(e);
            }
            ok => return ok,
        }
    }
}

/// A deadlock or a serialization failure: the transaction was rolled back whole.
fn is_retryable(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}

/// The batch's outcomes, and how long its COMMIT statement took (the WAL flush is in it; for
/// a batch of plain messages only, committed by the one call, the call's time).
async fn append(
    conn: &mut PgConnection,
    messages: &[&NewMessage],
) -> Result<(Vec<AppendOutcome>, Duration), sqlx::Error> {
    if messages.iter().all(|m| is_plain(m)) {
        let began = Instant::now();
        if let Some(outcomes) = plain::commit_alone(conn, messages).await? {
            return Ok((outcomes, began.elapsed()));
        }
    }
    let mut tx = conn.begin().await?;
    let mut ids: Vec<&str> = messages.iter().map(|m| m.room_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let locked =
        sqlx::query("SELECT id, num FROM rooms WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // A statement of its own, so that its snapshot is taken once the locks are held: it sees
    // what another node's batch committed into these rooms while this one waited for them.
    let nums: Vec<i64> = locked.iter().map(|(_, num)| *num).collect();
    let last: HashMap<i64, Seq> = sqlx::query("SELECT num, last_seq FROM room_last_seqs($1)")
        .bind(&nums)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let mut rooms: HashMap<String, Room> = locked
        .into_iter()
        .map(|(id, num)| {
            let last_seq = last.get(&num).copied().unwrap_or(0);
            (id, Room { num, last_seq })
        })
        .collect();
    // Runs of plain messages go in one call each (`plain.rs`); replies and changes one by
    // one, in batch order between them.
    let mut outcomes = Vec::with_capacity(messages.len());
    let mut rest = messages;
    while let Some(m) = rest.first() {
        let plain = rest.iter().take_while(|m| is_plain(m)).count();
        if plain > 1 {
            let (run, after) = rest.split_at(plain);
            outcomes.extend(plain::append_run(&mut tx, &mut rooms, run).await?);
            rest = after;
        } else {
            outcomes.push(append_one(&mut tx, rooms.get_mut(&m.room_id), m).await?);
            rest = &rest[1..];
        }
    }
    let committing = Instant::now();
    tx.commit().await?;
    Ok((outcomes, committing.elapsed()))
}

/// No reply, no files: a plain message, which goes in by the one-statement paths.
fn is_plain(m: &NewMessage) -> bool {
    matches!(&m.entry, NewEntry::Message { reply_to: None, attachments } if attachments.is_empty())
}

async fn append_one(
    conn: &mut PgConnection,
    room: Option<&mut Room>,
    m: &NewMessage,
) -> Result<AppendOutcome, sqlx::Error> {
    if is_plain(m) {
        single::append_message(conn, room, m).await
    } else {
        entry::append_entry(conn, room, m).await
    }
}
