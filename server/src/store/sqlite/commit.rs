//! The SQLite commit stage: a thread of its own with its own rusqlite connection. It takes the
//! sends queued on [`Commits`](crate::store::commit::Commits) in batches (all that queued while
//! the last commit ran, up to [`MAX_BATCH`]), commits each batch in one synchronous
//! transaction, puts the new messages on the committed stream in that order, then answers
//! each sender. One hand-off in and one out per send; one fsync per batch.
//!
//! Why a thread of its own: one hand-off per batch, not per statement (ARCHITECTURE.md, "One
//! SQLite driver"). SQLite still sees one writer at a time: this stage and the writer thread
//! (`mod.rs`) both take the write lock up front (`BEGIN IMMEDIATE`) and wait their turn (busy
//! timeout).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::mpsc;

use super::sql::{message_from_row, new_id, open_writer, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS};
use crate::store::commit::{CommittedTx, Queued};
use crate::store::types::{AppendOutcome, AppendRefusal, Appended, NewMessage, StoreError};
use natter_protocol::Message;

/// Most messages in one transaction.
const MAX_BATCH: usize = 1_024;

/// Opens the connection (the schema must exist: migrations ran) and starts the thread, which
/// ends when every `Commits` of `queue` is dropped.
pub fn start(
    path: &Path,
    busy_timeout: Duration,
    queue: mpsc::Receiver<Queued>,
    committed: CommittedTx,
) -> Result<(), StoreError> {
    let conn = open(path, busy_timeout)?;
    let path = path.to_owned();
    std::thread::Builder::new()
        .name("natter-commit".into())
        .spawn(move || run(conn, path, busy_timeout, queue, committed))
        .map_err(|e| StoreError::Thread(format!("cannot start the commit thread: {e}")))?;
    Ok(())
}

fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    // The same settings as the writer thread's connection.
    Ok(open_writer(path, busy_timeout)?)
}

fn run(
    mut conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
    mut queue: mpsc::Receiver<Queued>,
    committed: CommittedTx,
) {
    let mut batch: Vec<Queued> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            let Ok(next) = queue.try_recv() else { break };
            batch.push(next);
        }
        match append(&mut conn, batch.iter().map(|(message, _)| message)) {
            Ok(outcomes) => {
                // After the COMMIT and before any answer, in commit order: a sender never hears
                // "sent" before the stream has its message.
                if let Some(stream) = committed.current() {
                    for appended in outcomes.iter().flatten().filter(|a| a.created) {
                        // Waits while the subscriber is behind; gone (shutdown) is fine.
                        if stream.blocking_send(appended.message.clone()).is_err() {
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
                // After SQLITE_FULL or an I/O error the connection's state is not trusted (a
                // transaction can be left stuck open that way): start from a fresh one.
                tracing::error!(error = %e, batch = batch.len(), "commit failed; nothing of the batch was written; reopening the connection");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError::Commit(e.to_string())));
                }
                match open(&path, busy_timeout) {
                    Ok(fresh) => conn = fresh,
                    Err(e) => {
                        tracing::error!(error = %e, "commit stage: reopen failed; keeping the old connection")
                    }
                }
            }
        }
    }
}

fn append<'a>(
    conn: &mut Connection,
    messages: impl Iterator<Item = &'a NewMessage>,
) -> rusqlite::Result<Vec<AppendOutcome>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcomes = messages
        .map(|m| append_one(&tx, m))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;
    Ok(outcomes)
}

fn append_one(conn: &Connection, m: &NewMessage) -> rusqlite::Result<AppendOutcome> {
    let id = new_id();
    let seq: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, sent_at) \
             SELECT ?1, r.num, r.last_seq + 1, u.num, ?4, ?5, ?6, ?7 FROM rooms r, users u \
             WHERE r.id = ?2 AND u.id = ?3 AND EXISTS \
               (SELECT 1 FROM members m WHERE m.room_id = ?2 AND m.user_id = ?3) \
             ON CONFLICT (sender_num, client_id) DO NOTHING \
             RETURNING seq",
        )?
        .query_row(
            rusqlite::params![
                id,
                m.room_id,
                m.sender.id,
                m.sender.username,
                m.client_id,
                m.body,
                m.sent_at
            ],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(seq) = seq {
        let message = Message {
            id,
            room_id: m.room_id.clone(),
            seq,
            sender: m.sender.username.clone(),
            body: m.body.clone(),
            client_id: m.client_id.clone(),
            sent_at: m.sent_at.clone(),
        };
        return Ok(Ok(Appended {
            message,
            created: true,
        }));
    }
    // A repeated client_id: the original message, whichever room it went to.
    let existing = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
             WHERE m.sender_num = (SELECT num FROM users WHERE id = ?1) AND m.client_id = ?2"
        ))?
        .query_row(
            rusqlite::params![m.sender.id, m.client_id],
            message_from_row,
        )
        .optional()?;
    Ok(match existing {
        Some(message) => Ok(Appended {
            message,
            created: false,
        }),
        None => Err(AppendRefusal::NotMember),
    })
}
