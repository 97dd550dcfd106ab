//! The rusqlite readers: threads of their own, each with its own read-only connection, for what
//! is asked most: the sign-on every Socket.IO connect makes (token → session, user and room
//! ids), and message pages (history, catch-up). One hand-off per question.
//!
//! Why not the sqlx readers: each sqlx statement is a pool checkout and a round trip to a
//! worker thread. A reconnect storm of 10,000 sockets made 20,000 of them, on the same two
//! cores as the storm itself.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use natter_protocol::model::Seq;
use natter_protocol::{Message, User};
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::reactions;
use super::sql::{message_from_row, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS};
use crate::store::types::{SignOn, StoreError};

/// Reader threads (each one SQLite connection with its own page cache).
const THREADS: usize = 2;
/// Questions waiting for one thread; askers wait (asynchronously) beyond that.
const QUEUE: usize = 256;

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// Handle to the reader threads; they end when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Reader {
    threads: Arc<[mpsc::Sender<Job>]>,
    next: Arc<AtomicUsize>,
}

impl Reader {
    /// Opens read-only connections (the schema must exist: migrations ran) and starts the
    /// threads.
    pub fn start(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let mut threads = Vec::with_capacity(THREADS);
        for n in 0..THREADS {
            let conn = Connection::open(path)?;
            conn.busy_timeout(busy_timeout)?;
            conn.pragma_update(None, "query_only", "ON")?;
            let (tx, rx) = mpsc::channel(QUEUE);
            std::thread::Builder::new()
                .name(format!("natter-read-{n}"))
                .spawn(move || run(&conn, rx))
                .map_err(|e| StoreError::Thread(format!("cannot start a reader thread: {e}")))?;
            threads.push(tx);
        }
        Ok(Self {
            threads: threads.into(),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Runs `read` on one of the threads (in turn) and returns its answer.
    async fn ask<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (done, wait) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The asker may have given up meanwhile; the answer is dropped then.
            let _ = done.send(read(conn));
        });
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.threads.len();
        let stopped = || StoreError::Thread("a reader thread stopped".into());
        self.threads[n].send(job).await.map_err(|_| stopped())?;
        Ok(wait.await.map_err(|_| stopped())??)
    }

    /// The session, user and room ids behind a token hash, and when the session was last used.
    pub async fn sign_on(&self, token_hash: &str) -> Result<Option<(SignOn, String)>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.ask(move |conn| sign_on(conn, &token_hash)).await
    }

    /// Up to `limit` messages with seq < `before`, oldest first.
    pub async fn history(
        &self,
        room_id: &str,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let room_id = room_id.to_owned();
        let messages = self
            .ask(move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
                     WHERE r.id = ?1 AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3"
                ))?
                .query_map(rusqlite::params![room_id, before, limit], message_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .and_then(|mut page| {
                    page.reverse();
                    reactions::attach(conn, &mut page)?;
                    Ok(page)
                })
            })
            .await?;
        Ok(messages)
    }

    /// Up to `limit` messages with seq > `after`, oldest first.
    pub async fn messages_after(
        &self,
        room_id: &str,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let room_id = room_id.to_owned();
        self.ask(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
                 WHERE r.id = ?1 AND m.seq > ?2 ORDER BY m.seq ASC LIMIT ?3"
            ))?
            .query_map(rusqlite::params![room_id, after, limit], message_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .and_then(|mut page| {
                reactions::attach(conn, &mut page)?;
                Ok(page)
            })
        })
        .await
    }
}

fn run(conn: &Connection, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.blocking_recv() {
        job(conn);
    }
}

fn sign_on(conn: &Connection, token_hash: &str) -> rusqlite::Result<Option<(SignOn, String)>> {
    let found = conn
        .prepare_cached(
            "SELECT s.id, u.id, u.username, COALESCE(s.last_used_at, s.created_at) \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
        )?
        .query_row([token_hash], |row| {
            let user = User {
                id: row.get(1)?,
                username: row.get(2)?,
            };
            Ok((row.get(0)?, user, row.get::<_, String>(3)?))
        })
        .optional()?;
    let Some((session_id, user, last_used)) = found else {
        return Ok(None);
    };
    let room_ids = conn
        .prepare_cached("SELECT room_id FROM members WHERE user_id = ?1 ORDER BY room_id")?
        .query_map([&user.id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let signed_on = SignOn {
        session_id,
        user,
        room_ids,
    };
    Ok(Some((signed_on, last_used)))
}
