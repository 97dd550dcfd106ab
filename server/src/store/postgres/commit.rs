//! The PostgreSQL commit stage: a task that takes the sends queued on
//! [`Commits`](crate::store::commit::Commits) in batches (all that queued while the last
//! commit ran, up to [`MAX_BATCH`]), commits each batch in one transaction
//! (`synchronous_commit` on: the COMMIT returns once the WAL is flushed), puts the new
//! messages on the committed stream in that order, then answers each sender.
//!
//! Seqs across nodes: each node has a stage like this one on the same database. A batch first
//! locks the rows of its rooms (`SELECT … FOR NO KEY UPDATE`, in id order, so two batches
//! never wait on each other for rooms; `NO KEY` so that rows naming a room, such as a new
//! member's, can still be inserted meanwhile) and takes each room's next seqs from `rooms.last_seq`, written
//! back before the COMMIT: a room's appends are serialized across nodes and its seqs are
//! gap-free, in commit order. (`INSERT … SELECT last_seq + 1` without the lock races under
//! READ COMMITTED: two nodes read the same `last_seq`.) A seq is taken only by an insert that
//! happened: a repeated (sender, client_id), even one committing on another node at that
//! moment (the insert waits for it, then does nothing), answers the original and burns none.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use natter_protocol::model::Seq;
use natter_protocol::Message;
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::mpsc;

use super::sql::{message_from_row, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS};
use super::{plain, reactions};
use crate::metrics::CommitMetrics;
use crate::store::commit::{CommittedTx, Queued};
use crate::store::rows::{mentions_column, new_id};
use crate::store::types::{
    AppendOutcome, AppendRefusal, Appended, NewEntry, NewMessage, StoreError,
};

/// Most messages in one transaction.
const MAX_BATCH: usize = 1_024;
/// Times a batch is tried when PostgreSQL ends it for a deadlock (two nodes each inserting a
/// (sender, client_id) the other has in flight): nothing of it was written, so it is simply
/// run again; only then do its senders get an error.
const TRIES: usize = 3;

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
    while let Some(first) = queue.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            let Ok(next) = queue.try_recv() else { break };
            batch.push(next);
        }
        let began = Instant::now();
        let messages: Vec<&NewMessage> = batch.iter().map(|(message, _)| message).collect();
        match append_trying(&pool, &messages).await {
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

/// [`append`], run again when PostgreSQL chose it as a deadlock's victim.
async fn append_trying(
    pool: &PgPool,
    messages: &[&NewMessage],
) -> Result<(Vec<AppendOutcome>, Duration), sqlx::Error> {
    let mut tries = 1;
    loop {
        match append(pool, messages).await {
            Err(e) if tries < TRIES && is_retryable(&e) => {
                tracing::warn!(error = %e, tries, "commit: batch rolled back; trying again");
                tries += 1;
            }
            other => return other,
        }
    }
}

/// A deadlock or a serialization failure: the transaction was rolled back whole.
fn is_retryable(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}

/// A locked room: its number and the last seq taken so far in this batch.
pub(super) struct Room {
    pub(super) num: i64,
    pub(super) last_seq: Seq,
    pub(super) changed: bool,
}

/// The batch's outcomes, and how long its COMMIT statement took (the WAL flush is in it).
async fn append(
    pool: &PgPool,
    messages: &[&NewMessage],
) -> Result<(Vec<AppendOutcome>, Duration), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut ids: Vec<&str> = messages.iter().map(|m| m.room_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rooms: HashMap<String, Room> = sqlx::query(
        "SELECT id, num, last_seq FROM rooms WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| -> Result<(String, Room), sqlx::Error> {
        let room = Room {
            num: row.try_get(1)?,
            last_seq: row.try_get(2)?,
            changed: false,
        };
        Ok((row.try_get(0)?, room))
    })
    .collect::<Result<_, sqlx::Error>>()?;
    // Runs of plain messages go in one statement each (`plain.rs`); replies and changes one
    // by one, in batch order between them.
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
    for room in rooms.values().filter(|r| r.changed) {
        sqlx::query("UPDATE rooms SET last_seq = $1 WHERE num = $2")
            .bind(room.last_seq)
            .bind(room.num)
            .execute(&mut *tx)
            .await?;
    }
    let committing = Instant::now();
    tx.commit().await?;
    Ok((outcomes, committing.elapsed()))
}

fn is_plain(m: &NewMessage) -> bool {
    matches!(m.entry, NewEntry::Message { reply_to: None })
}

async fn append_one(
    conn: &mut PgConnection,
    room: Option<&mut Room>,
    m: &NewMessage,
) -> Result<AppendOutcome, sqlx::Error> {
    match &m.entry {
        NewEntry::Message { reply_to: None } => append_message(conn, room, m).await,
        _ => append_entry(conn, room, m).await,
    }
}

/// A plain message on its own (a run of several goes through `plain.rs`): one statement checks
/// membership and inserts at the room's next seq.
pub(super) async fn append_message(
    conn: &mut PgConnection,
    room: Option<&mut Room>,
    m: &NewMessage,
) -> Result<AppendOutcome, sqlx::Error> {
    if let Some(room) = room {
        let id = new_id();
        let seq = room.last_seq + 1;
        let inserted: Option<Seq> = sqlx::query_scalar(
            "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, \
               sent_at, mentions) \
             SELECT $1, $2, $3, u.num, $4, $5, $6, $7, $8 FROM users u \
             WHERE u.id = $9 AND EXISTS \
               (SELECT 1 FROM members m WHERE m.room_id = $10 AND m.user_id = $9) \
             ON CONFLICT (sender_num, client_id) DO NOTHING \
             RETURNING seq",
        )
        .bind(&id)
        .bind(room.num)
        .bind(seq)
        .bind(&m.sender.username)
        .bind(&m.client_id)
        .bind(&m.body)
        .bind(&m.sent_at)
        .bind(mentions_column(&m.mentions))
        .bind(&m.sender.id)
        .bind(&m.room_id)
        .fetch_optional(&mut *conn)
        .await?;
        if inserted.is_some() {
            room.last_seq = seq;
            room.changed = true;
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
            }));
        }
    }
    Ok(match original(conn, m).await? {
        Some(message) => Ok(Appended {
            message,
            created: false,
        }),
        None => Err(AppendRefusal::NotMember),
    })
}

/// A repeated client_id: the original entry, whichever room it went to.
pub(super) async fn original(
    conn: &mut PgConnection,
    m: &NewMessage,
) -> Result<Option<Message>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
         WHERE m.sender_num = (SELECT num FROM users WHERE id = $1) AND m.client_id = $2"
    ))
    .bind(&m.sender.id)
    .bind(&m.client_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(message_from_row).transpose()
}

/// The message an entry names, in the entry's room.
struct Target {
    room_num: i64,
    seq: Seq,
    by_sender: bool,
    deleted: bool,
}

/// A reply or a change: checked against its target, inserted, then applied to the target (an
/// edit's text, a delete's erasure, a reaction's table row) in the same transaction.
async fn append_entry(
    conn: &mut PgConnection,
    room: Option<&mut Room>,
    m: &NewMessage,
) -> Result<AppendOutcome, sqlx::Error> {
    // A repeat answers the original, whatever became of its target since.
    if let Some(message) = original(&mut *conn, m).await? {
        return Ok(Ok(Appended {
            message,
            created: false,
        }));
    }
    let member: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM members WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(&m.room_id)
    .bind(&m.sender.id)
    .fetch_one(&mut *conn)
    .await?;
    let (Some(room), true) = (room, member) else {
        return Ok(Err(AppendRefusal::NotMember));
    };
    let (target_id, kind, reply) = match &m.entry {
        NewEntry::Message { reply_to } => (reply_to.as_deref(), None, true),
        NewEntry::Edit { target } => (Some(target.as_str()), Some("edit"), false),
        NewEntry::Delete { target } => (Some(target.as_str()), Some("delete"), false),
        NewEntry::Reaction { target, .. } => (Some(target.as_str()), Some("reaction"), false),
    };
    let target = match target_id {
        Some(id) => sqlx::query(
            "SELECT m.seq, m.sender_num = (SELECT num FROM users WHERE id = $3), m.deleted \
             FROM messages m WHERE m.id = $1 AND m.room_num = $2 AND m.change_kind IS NULL",
        )
        .bind(id)
        .bind(room.num)
        .bind(&m.sender.id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| {
            Ok::<_, sqlx::Error>(Target {
                room_num: room.num,
                seq: row.try_get(0)?,
                by_sender: row.try_get::<Option<bool>, _>(1)?.unwrap_or(false),
                deleted: row.try_get(2)?,
            })
        })
        .transpose()?,
        None => None,
    };
    let Some(target) = target else {
        return Ok(Err(AppendRefusal::NoSuchMessage));
    };
    // A reply may answer a deleted message (it shows as deleted); a change may not touch one.
    if !reply && target.deleted {
        return Ok(Err(AppendRefusal::NoSuchMessage));
    }
    if matches!(m.entry, NewEntry::Edit { .. } | NewEntry::Delete { .. }) && !target.by_sender {
        return Ok(Err(AppendRefusal::NotSender));
    }
    let (emoji, on) = match &m.entry {
        NewEntry::Reaction { emoji, on, .. } => (Some(emoji.as_str()), Some(*on)),
        _ => (None, None),
    };
    let seq = room.last_seq + 1;
    let sender_num: Option<i64> = sqlx::query_scalar(
        "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, sent_at, \
           change_kind, target_seq, reply_seq, emoji, reaction_on, mentions) \
         SELECT $1, $2, $3, u.num, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
         FROM users u WHERE u.id = $14 \
         ON CONFLICT (sender_num, client_id) DO NOTHING \
         RETURNING sender_num",
    )
    .bind(new_id())
    .bind(room.num)
    .bind(seq)
    .bind(&m.sender.username)
    .bind(&m.client_id)
    .bind(&m.body)
    .bind(&m.sent_at)
    .bind(kind)
    .bind((!reply).then_some(target.seq))
    .bind(reply.then_some(target.seq))
    .bind(emoji)
    .bind(on)
    .bind(mentions_column(&m.mentions))
    .bind(&m.sender.id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(sender_num) = sender_num else {
        // The same (sender, client_id) committed on another node meanwhile.
        return Ok(match original(conn, m).await? {
            Some(message) => Ok(Appended {
                message,
                created: false,
            }),
            None => Err(AppendRefusal::NotMember),
        });
    };
    room.last_seq = seq;
    room.changed = true;
    apply(&mut *conn, m, &target, seq, sender_num).await?;
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} WHERE m.room_num = $1 AND m.seq = $2"
    ))
    .bind(target.room_num)
    .bind(seq)
    .fetch_one(conn)
    .await?;
    Ok(Ok(Appended {
        message: message_from_row(&row)?,
        created: true,
    }))
}

/// What a change does to its target, now that its entry is in.
async fn apply(
    conn: &mut PgConnection,
    m: &NewMessage,
    target: &Target,
    seq: Seq,
    sender_num: i64,
) -> Result<(), sqlx::Error> {
    match &m.entry {
        NewEntry::Message { .. } => {}
        NewEntry::Edit { .. } => {
            sqlx::query(
                "UPDATE messages SET body = $1, edited_at = $2, mentions = $3 \
                 WHERE room_num = $4 AND seq = $5",
            )
            .bind(&m.body)
            .bind(&m.sent_at)
            .bind(mentions_column(&m.mentions))
            .bind(target.room_num)
            .bind(target.seq)
            .execute(conn)
            .await?;
        }
        NewEntry::Delete { .. } => {
            // The text leaves the rows: the message's and every edit's (the old row versions
            // stay in the table's files until VACUUM reclaims them; docs/scaling.md).
            sqlx::query(
                "UPDATE messages SET body = '', deleted = TRUE, mentions = NULL \
                 WHERE room_num = $1 AND seq = $2",
            )
            .bind(target.room_num)
            .bind(target.seq)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE messages SET body = '', mentions = NULL \
                 WHERE room_num = $1 AND target_seq = $2 AND change_kind = 'edit'",
            )
            .bind(target.room_num)
            .bind(target.seq)
            .execute(&mut *conn)
            .await?;
            reactions::clear(conn, target.room_num, target.seq).await?;
        }
        NewEntry::Reaction { emoji, on, .. } => {
            reactions::put(
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
            )
            .await?
        }
    }
    Ok(())
}
