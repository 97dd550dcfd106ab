//! The sign-on reader: a thread of its own with its own SQLite connection, answering what every
//! Socket.IO connect asks (token → session and user → rooms) in one hand-off.
//!
//! Why not the sqlx readers: each sqlx statement is a pool checkout and a round trip to a
//! worker thread. A reconnect storm of 10,000 sockets made 20,000 of them, on the same two
//! cores as the storm itself. Here a sign-on costs one hand-off and two cached statements.

use std::path::Path;
use std::time::Duration;

use natter_protocol::User;
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::{SignOn, StoreError};

/// Sign-ons waiting for the thread; senders wait (asynchronously) beyond that.
const QUEUE: usize = 256;

type Job = (String, oneshot::Sender<Result<Option<SignOn>, StoreError>>);

/// Handle to the reader thread; the thread ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Reader {
    tx: mpsc::Sender<Job>,
}

impl Reader {
    /// Opens a read-only connection (the schema must exist: migrations ran) and starts the thread.
    pub fn start(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(busy_timeout)?;
        conn.pragma_update(None, "query_only", "ON")?;
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("natter-sign-on".into())
            .spawn(move || run(&conn, rx))
            .map_err(|e| StoreError::Thread(format!("cannot start the reader thread: {e}")))?;
        Ok(Self { tx })
    }

    /// The session, user and room ids behind a token hash.
    pub async fn sign_on(&self, token_hash: &str) -> Result<Option<SignOn>, StoreError> {
        let (done, wait) = oneshot::channel();
        let stopped = || StoreError::Thread("the sign-on reader stopped".into());
        self.tx
            .send((token_hash.to_owned(), done))
            .await
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?
    }
}

fn run(conn: &Connection, mut rx: mpsc::Receiver<Job>) {
    while let Some((token_hash, reply)) = rx.blocking_recv() {
        // The connect may have been given up meanwhile; the answer is dropped then.
        let _ = reply.send(sign_on(conn, &token_hash).map_err(StoreError::from));
    }
}

fn sign_on(conn: &Connection, token_hash: &str) -> rusqlite::Result<Option<SignOn>> {
    let found = conn
        .prepare_cached(
            "SELECT s.id, u.id, u.username FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
        )?
        .query_row([token_hash], |row| {
            let user = User {
                id: row.get(1)?,
                username: row.get(2)?,
            };
            Ok((row.get(0)?, user))
        })
        .optional()?;
    let Some((session_id, user)) = found else {
        return Ok(None);
    };
    let room_ids = conn
        .prepare_cached("SELECT room_id FROM members WHERE user_id = ?1 ORDER BY room_id")?
        .query_map([&user.id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Some(SignOn {
        session_id,
        user,
        room_ids,
    }))
}
