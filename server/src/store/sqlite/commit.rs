//! The SQLite commit stage: a thread of its own with its own rusqlite connection. It takes the
//! sends queued on [`Commits`](crate::store::commit::Commits) in batches (all that queued while
//! the last commit ran, up to [`MAX_BATCH`]), commits each batch in one synchronous
//! transaction, puts the new messages on the committed stream in that order, then answers
//! each sender — an edit's or a delete's once the search indexer has it (`indexer.rs`). One
//! hand-off in and one out per send; one fsync per batch; no search indexing on this thread.
//!
//! Why a thread of its own: one hand-off per batch, not per statement (ARCHITECTURE.md, "One
//! SQLite driver"). SQLite still sees one writer at a time: this stage and the writer thread
//! (`mod.rs`) both take the write lock up front (`BEGIN IMMEDIATE`) and wait their turn (busy
//! timeout).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::mpsc;

use super::indexer::Indexing;
use super::sql::{message_from_row, open_writer, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS};
use super::{files, reactions};
use crate::metrics::CommitMetrics;
use crate::store::commit::{CommittedTx, Queued};
use crate::store::rows::{mentions_column, new_id};
use crate::store::types::{
    AppendOutcome, AppendRefusal, Appended, NewEntry, NewMessage, StoreError,
};
use natter_protocol::{Change, Message};

/// Most messages in one transaction.
const MAX_BATCH: usize = 1_024;

/// Opens the connection (the schema must exist: migrations ran) and starts the thread, which
/// ends when every `Commits` of `queue` is dropped.
pub fn start(
    path: &Path,
    busy_timeout: Duration,
    queue: mpsc::Receiver<Queued>,
    committed: CommittedTx,
    metrics: CommitMetrics,
    indexing: Indexing,
) -> Result<(), StoreError> {
    let conn = open(path, busy_timeout)?;
    let path = path.to_owned();
    let stage = Stage {
        path,
        busy_timeout,
        committed,
        metrics,
        indexing,
    };
    std::thread::Builder::new()
        .name("natter-commit".into())
        .spawn(move || stage.run(conn, queue))
        .map_err(|e| StoreError::Thread(format!("cannot start the commit thread: {e}")))?;
    Ok(())
}

fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    // The same settings as the writer thread's connection.
    Ok(open_writer(path, busy_timeout)?)
}

/// What the stage's thread holds besides its connection and queue.
struct Stage {
    path: PathBuf,
    busy_timeout: Duration,
    committed: CommittedTx,
    metrics: CommitMetrics,
    indexing: Indexing,
}

impl Stage {
    fn run(self, mut conn: Connection, mut queue: mpsc::Receiver<Queued>) {
        let mut batch: Vec<Queued> = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = queue.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                let Ok(next) = queue.try_recv() else { break };
                batch.push(next);
            }
            let began = Instant::now();
            match append(&mut conn, batch.iter().map(|(message, _)| message)) {
                Ok((outcomes, statement)) => {
                    let created = outcomes.iter().flatten().filter(|a| a.created).count();
                    self.metrics
                        .committed(batch.len(), created, began.elapsed(), statement);
                    self.hand_out(&mut batch, outcomes, created);
                }
                Err(e) => {
                    self.metrics.failed();
                    // After SQLITE_FULL or an I/O error the connection's state is not trusted (a
                    // transaction can be left stuck open that way): start from a fresh one.
                    tracing::error!(error = %e, batch = batch.len(), "commit failed; nothing of the batch was written; reopening the connection");
                    for (_, reply) in batch.drain(..) {
                        let _ = reply.send(Err(StoreError::Commit(e.to_string())));
                    }
                    match open(&self.path, self.busy_timeout) {
                        Ok(fresh) => conn = fresh,
                        Err(e) => {
                            tracing::error!(error = %e, "commit stage: reopen failed; keeping the old connection")
                        }
                    }
                }
            }
        }
        self.indexing.stop();
    }

    /// After the COMMIT: the new messages onto the stream, in commit order, then the answers;
    /// deletes go to the indexer, which answers them once their text is out of the index.
    fn hand_out(&self, batch: &mut Vec<Queued>, outcomes: Vec<AppendOutcome>, created: usize) {
        // Before any answer: a sender never hears "sent" before the stream has its message.
        if let Some(stream) = self.committed.current() {
            for appended in outcomes.iter().flatten().filter(|a| a.created) {
                // Waits while the subscriber is behind; gone (shutdown) is fine.
                if stream.blocking_send(appended.message.clone()).is_err() {
                    break;
                }
            }
        }
        let mut waiting = Vec::new();
        for ((_, reply), outcome) in batch.drain(..).zip(outcomes) {
            if erases_text(&outcome) {
                waiting.push((reply, outcome));
            } else {
                // The sender may have gone; the message is committed either way.
                let _ = reply.send(Ok(outcome));
            }
        }
        self.indexing.committed(created, waiting);
    }
}

/// A new delete: its target's text must be out of the search file, WAL included, before the
/// delete is acked. (An edit is acked at once: searches leave an edited message out of the
/// index's answer until the indexer has its new text, `search.rs`; making each edit wait for,
/// and wake, the indexer cost a run with a fifth of its sends changes ~750 µs of CPU a send.)
fn erases_text(outcome: &AppendOutcome) -> bool {
    matches!(outcome, Ok(appended) if appended.created
    && matches!(appended.message.change.as_deref(), Some(Change::Delete { .. })))
}

/// The batch's outcomes, and how long its COMMIT statement took (the fsync is in it).
fn append<'a>(
    conn: &mut Connection,
    messages: impl Iterator<Item = &'a NewMessage>,
) -> rusqlite::Result<(Vec<AppendOutcome>, Duration)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcomes = messages
        .map(|m| append_one(&tx, m))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let committing = Instant::now();
    tx.commit()?;
    Ok((outcomes, committing.elapsed()))
}

fn append_one(conn: &Connection, m: &NewMessage) -> rusqlite::Result<AppendOutcome> {
    match &m.entry {
        NewEntry::Message {
            reply_to: None,
            attachments,
        } if attachments.is_empty() => append_message(conn, m),
        _ => append_entry(conn, m),
    }
}

/// A plain message, the hot path: one statement checks membership, takes the seq and inserts.
fn append_message(conn: &Connection, m: &NewMessage) -> rusqlite::Result<AppendOutcome> {
    let id = new_id();
    let seq: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, sent_at, \
               mentions) \
             SELECT ?1, r.num, r.last_seq + 1, u.num, ?4, ?5, ?6, ?7, ?8 FROM rooms r, users u \
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
                m.sent_at,
                mentions_column(&m.mentions)
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
            mentions: m.mentions.clone(),
            ..Message::default()
        };
        return Ok(Ok(Appended {
            message,
            created: true,
            freed_files: Vec::new(),
        }));
    }
    Ok(match original(conn, m)? {
        Some(message) => Ok(Appended {
            message,
            created: false,
            freed_files: Vec::new(),
        }),
        None => Err(AppendRefusal::NotMember),
    })
}

/// A repeated client_id: the original entry, whichever room it went to, with its files.
fn original(conn: &Connection, m: &NewMessage) -> rusqlite::Result<Option<Message>> {
    let mut found = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
             WHERE m.sender_num = (SELECT num FROM users WHERE id = ?1) AND m.client_id = ?2"
        ))?
        .query_row(
            rusqlite::params![m.sender.id, m.client_id],
            message_from_row,
        )
        .optional()?;
    if let Some(message) = &mut found {
        files::attach(conn, std::slice::from_mut(message))?;
    }
    Ok(found)
}

/// The message an entry names, in the entry's room.
struct Target {
    room_num: i64,
    seq: i64,
    by_sender: bool,
    deleted: bool,
}

/// Whether the user is an admin of the relay now (not disabled, not deleted).
fn is_admin(conn: &Connection, user_id: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT role = 'admin' AND disabled_at IS NULL AND deleted_at IS NULL \
             FROM users WHERE id = ?1",
        )?
        .query_row([user_id], |row| row.get(0))
        .optional()?
        .unwrap_or(false))
}

/// A reply, a message with files or a change: checked against its target and its files,
/// inserted, then applied to the target (an edit's text, a delete's erasure and its files, a
/// reaction's table row) in the same transaction.
fn append_entry(conn: &Connection, m: &NewMessage) -> rusqlite::Result<AppendOutcome> {
    // A repeat answers the original, whatever became of its target since.
    if let Some(message) = original(conn, m)? {
        return Ok(Ok(Appended {
            message,
            created: false,
            freed_files: Vec::new(),
        }));
    }
    let member: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM members WHERE room_id = ?1 AND user_id = ?2)",
        )?
        .query_row(rusqlite::params![m.room_id, m.sender.id], |row| row.get(0))?;
    if !member {
        return Ok(Err(AppendRefusal::NotMember));
    }
    let (target_id, kind, reply) = match &m.entry {
        NewEntry::Message { reply_to, .. } => (reply_to.as_deref(), None, true),
        NewEntry::Edit { target } => (Some(target.as_str()), Some("edit"), false),
        NewEntry::Delete { target } => (Some(target.as_str()), Some("delete"), false),
        NewEntry::Reaction { target, .. } => (Some(target.as_str()), Some("reaction"), false),
    };
    let target = match target_id {
        Some(id) => conn
            .prepare_cached(
                "SELECT m.room_num, m.seq, m.sender_num = (SELECT num FROM users WHERE id = ?3), \
                 m.deleted FROM messages m JOIN rooms r ON r.num = m.room_num \
                 WHERE m.id = ?1 AND r.id = ?2 AND m.change_kind IS NULL",
            )?
            .query_row(rusqlite::params![id, m.room_id, m.sender.id], |row| {
                Ok(Target {
                    room_num: row.get(0)?,
                    seq: row.get(1)?,
                    by_sender: row.get(2)?,
                    deleted: row.get(3)?,
                })
            })
            .optional()?,
        None => None,
    };
    // Only a message that answers nothing (it has files) goes without a target.
    if target.is_none() && target_id.is_some() {
        return Ok(Err(AppendRefusal::NoSuchMessage));
    }
    if let Some(target) = &target {
        // A reply may answer a deleted message (it shows as deleted); a change may not touch one.
        if !reply && target.deleted {
            return Ok(Err(AppendRefusal::NoSuchMessage));
        }
        // Only the sender edits; the sender or a relay admin (moderating a room they are in)
        // deletes.
        let allowed = match m.entry {
            NewEntry::Edit { .. } => target.by_sender,
            NewEntry::Delete { .. } => target.by_sender || is_admin(conn, &m.sender.id)?,
            _ => true,
        };
        if !allowed {
            return Ok(Err(AppendRefusal::NotSender));
        }
    }
    let attachments = match &m.entry {
        NewEntry::Message { attachments, .. } => attachments.as_slice(),
        _ => &[],
    };
    if files::attachable(conn, attachments, &m.sender.id)?.is_none() {
        return Ok(Err(AppendRefusal::NoSuchFile));
    }
    let (emoji, on) = match &m.entry {
        NewEntry::Reaction { emoji, on, .. } => (Some(emoji.as_str()), Some(*on)),
        _ => (None, None),
    };
    let inserted: Option<(i64, i64, i64)> = conn
        .prepare_cached(
            "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, sent_at, \
               change_kind, target_seq, reply_seq, emoji, reaction_on, mentions) \
             SELECT ?1, r.num, r.last_seq + 1, u.num, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 \
             FROM rooms r, users u WHERE r.id = ?2 AND u.id = ?3 \
             ON CONFLICT (sender_num, client_id) DO NOTHING \
             RETURNING seq, sender_num, room_num",
        )?
        .query_row(
            rusqlite::params![
                new_id(),
                m.room_id,
                m.sender.id,
                m.sender.username,
                m.client_id,
                m.body,
                m.sent_at,
                kind,
                target.as_ref().filter(|_| !reply).map(|t| t.seq),
                target.as_ref().filter(|_| reply).map(|t| t.seq),
                emoji,
                on,
                mentions_column(&m.mentions)
            ],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((seq, sender_num, room_num)) = inserted else {
        return Ok(Err(AppendRefusal::NotMember));
    };
    files::link(conn, room_num, seq, attachments)?;
    let freed_files = match &target {
        Some(target) => apply(conn, m, target, seq, sender_num)?,
        None => Vec::new(),
    };
    let mut message = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} WHERE m.room_num = ?1 AND m.seq = ?2"
        ))?
        .query_row(rusqlite::params![room_num, seq], message_from_row)?;
    if !attachments.is_empty() {
        files::attach(conn, std::slice::from_mut(&mut message))?;
    }
    Ok(Ok(Appended {
        message,
        created: true,
        freed_files,
    }))
}

/// What a change does to its target, now that its entry is in; a delete answers the content
/// hashes its files freed.
fn apply(
    conn: &Connection,
    m: &NewMessage,
    target: &Target,
    seq: i64,
    sender_num: i64,
) -> rusqlite::Result<Vec<String>> {
    let mut freed = Vec::new();
    match &m.entry {
        NewEntry::Message { .. } => {}
        NewEntry::Edit { .. } => {
            conn.prepare_cached(
                "UPDATE messages SET body = ?1, edited_at = ?2, mentions = ?3 \
                 WHERE room_num = ?4 AND seq = ?5",
            )?
            .execute(rusqlite::params![
                m.body,
                m.sent_at,
                mentions_column(&m.mentions),
                target.room_num,
                target.seq
            ])?;
        }
        NewEntry::Delete { .. } => {
            // The text leaves storage: the message's and every edit's.
            conn.prepare_cached(
                "UPDATE messages SET body = '', deleted = 1, mentions = NULL \
                 WHERE room_num = ?1 AND seq = ?2",
            )?
            .execute(rusqlite::params![target.room_num, target.seq])?;
            conn.prepare_cached(
                "UPDATE messages SET body = '', mentions = NULL \
                 WHERE room_num = ?1 AND target_seq = ?2 AND change_kind = 'edit'",
            )?
            .execute(rusqlite::params![target.room_num, target.seq])?;
            reactions::clear(conn, target.room_num, target.seq)?;
            freed = files::release(conn, target.room_num, target.seq)?;
        }
        NewEntry::Reaction { emoji, on, .. } => reactions::put(
            conn,
            &reactions::Put {
                room_num: target.room_num,
                message_seq: target.seq,
                user_num: sender_num,
                username: &m.sender.username,
                emoji,
                on: *on,
                seq,
            },
        )?,
    }
    Ok(freed)
}
