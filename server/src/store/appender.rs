//! The message appender: a thread of its own with its own SQLite connection, committing
//! `message:send`s in synchronous transactions.
//!
//! Why not the sqlx writer: every sqlx statement is a round trip to its worker thread, about
//! 100 µs per message on two busy cores, which capped durable sends near 6,000/s. Here a batch
//! costs one hand-off. SQLite still sees one writer at a time: the appender and the sqlx writer
//! both take the write lock up front (`BEGIN IMMEDIATE`) and wait their turn (busy timeout).
//!
//! Batches queue while a commit runs, and the next transaction takes all of them: the thread
//! never waits for the committer between commits, and one fsync covers every batch waiting.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use natter_protocol::Message;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::sql::{new_id, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS, WAL_AUTOCHECKPOINT_PAGES};
use super::{AppendOutcome, AppendRefusal, Appended, NewMessage, StoreError};

/// Messages past which the thread stops merging queued batches into one transaction.
const MAX_MERGED: usize = 1_024;

type Reply = oneshot::Sender<Result<Vec<AppendOutcome>, StoreError>>;
type Job = (Vec<NewMessage>, Reply);

/// Handle to the appender thread; the thread ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Appender {
    /// Unbounded so that queuing is synchronous (commit order = call order); the committer
    /// bounds how many batches are in flight.
    tx: mpsc::UnboundedSender<Job>,
}

impl Appender {
    /// Opens the connection (the schema must exist: migrations ran) and starts the thread.
    pub fn start(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let conn = open(path, busy_timeout)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("natter-appender".into())
            .spawn(move || run(conn, path, busy_timeout, rx))
            .map_err(|e| StoreError::Thread(format!("cannot start the appender thread: {e}")))?;
        Ok(Self { tx })
    }

    /// Queues `batch` now, behind every batch queued before it; the future resolves once it is
    /// committed (all of it) or failed (none of it).
    pub fn append(
        &self,
        batch: Vec<NewMessage>,
    ) -> impl Future<Output = Result<Vec<AppendOutcome>, StoreError>> + Send + 'static {
        let (done, wait) = oneshot::channel();
        let queued = self.tx.send((batch, done)).is_ok();
        async move {
            let stopped = || StoreError::Thread("the appender thread stopped".into());
            if !queued {
                return Err(stopped());
            }
            wait.await.map_err(|_| stopped())?
        }
    }
}

fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(busy_timeout)?;
    // The same settings as the sqlx connections: WAL, a commit survives power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    Ok(conn)
}

fn run(
    mut conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut merged = first.0.len();
        let mut jobs = vec![first];
        while merged < MAX_MERGED {
            let Ok(job) = rx.try_recv() else { break };
            merged += job.0.len();
            jobs.push(job);
        }
        match append(&mut conn, jobs.iter().flat_map(|(batch, _)| batch)) {
            Ok(outcomes) => {
                let mut outcomes = outcomes.into_iter();
                for (batch, reply) in jobs {
                    // The committer may have gone (shutdown); the messages are committed.
                    let _ = reply.send(Ok(outcomes.by_ref().take(batch.len()).collect()));
                }
            }
            Err(e) => {
                // After SQLITE_FULL or an I/O error the connection's state is not trusted (the
                // sqlx writer had a transaction stuck open that way): start from a fresh one.
                tracing::error!(error = %e, batches = jobs.len(), "appender: commit failed; reopening the connection");
                for (_, reply) in jobs {
                    let _ = reply.send(Err(StoreError::Commit(e.to_string())));
                }
                match open(&path, busy_timeout) {
                    Ok(fresh) => conn = fresh,
                    Err(e) => {
                        tracing::error!(error = %e, "appender: reopen failed; keeping the old connection")
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
        .query_row(rusqlite::params![m.sender.id, m.client_id], |row| {
            Ok(Message {
                id: row.get(0)?,
                room_id: row.get(1)?,
                seq: row.get(2)?,
                sender: row.get(3)?,
                body: row.get(4)?,
                client_id: row.get(5)?,
                sent_at: row.get(6)?,
            })
        })
        .optional()?;
    Ok(match existing {
        Some(message) => Ok(Appended {
            message,
            created: false,
        }),
        None => Err(AppendRefusal::NotMember),
    })
}
