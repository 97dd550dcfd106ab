//! SQLite backend, in WAL mode with `synchronous=FULL` so a commit survives power loss:
//! - `commit.rs`: the commit stage, a thread with its own rusqlite connection, for messages;
//! - `reader.rs`: rusqlite reader threads for sign-on and message pages;
//! - here, through sqlx: the migrations, one writer connection for accounts, sessions, rooms,
//!   members and read positions (SQLite allows one writer at a time; it and the commit stage
//!   both take the write lock up front), and a small pool of readers for users and rooms.

mod commit;
mod consent;
mod peers;
mod reactions;
mod reader;
mod sql;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use natter_protocol::model::Seq;
use natter_protocol::{Message, Room, RoomKind, User};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, Row, Sqlite, SqliteConnection};
use tokio::sync::mpsc;

use crate::store::api::Store;
use crate::store::commit::{Commits, CommittedTx};
use crate::store::types::{
    Credentials, Departure, NewSession, Seen, SessionPolicy, SignOn, StoreError,
};
use crate::time::{now_rfc3339, rfc3339_ago};
use reader::Reader;
use sql::{new_id, WAL_AUTOCHECKPOINT_PAGES};

/// Write transactions take the write lock at once: a deferred one that reads first could not
/// upgrade after the commit stage's commit (SQLITE_BUSY_SNAPSHOT is not retried).
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const READERS: u32 = 4;
/// A session's last use is written at most this often (or a quarter of its idle time, if
/// shorter): a write per connect would cost a reconnect storm thousands of them.
const SESSION_TOUCH_EVERY: Duration = Duration::from_secs(60 * 60);
pub struct SqliteStore {
    /// A pool of exactly one connection: every write waits its turn here.
    writer: SqlitePool,
    readers: SqlitePool,
    commits: Commits,
    committed: CommittedTx,
    reader: Reader,
    sessions: SessionPolicy,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) `path` and runs pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        // Migrating through the pool (not a bare connection) keeps `open` a `Send` future.
        sqlx::migrate!("./migrations").run(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .test_before_acquire(false)
            .connect_with(options.create_if_missing(false))
            .await?;
        // After the migrations: the threads expect the schema.
        let (commits, queue) = Commits::channel();
        let committed = CommittedTx::default();
        let metrics = commits.metrics().clone();
        commit::start(path, BUSY_TIMEOUT, queue, committed.clone(), metrics)?;
        let reader = Reader::start(path, BUSY_TIMEOUT)?;
        Ok(Self {
            writer,
            readers,
            commits,
            committed,
            reader,
            sessions: SessionPolicy::default(),
        })
    }

    /// The same store with `policy` for sessions instead of the default.
    pub fn with_sessions(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    /// For tests: runs `PRAGMA integrity_check`; true when the database is sound.
    #[cfg(any(test, feature = "test-support"))]
    pub async fn integrity_ok(&self) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let row = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&mut *conn)
            .await?;
        Ok(row.try_get::<String, _>(0)? == "ok")
    }

    async fn room_row(&self, room_id: &str, user_id: &str) -> Result<Option<Room>, StoreError> {
        let row = sqlx::query(
            "SELECT r.id, r.name, r.kind, r.last_seq, m.read_seq, \
             (SELECT COALESCE(MAX(o.read_seq), 0) FROM members o \
              WHERE o.room_id = r.id AND o.user_id <> m.user_id) AS others_read_seq FROM rooms r \
             JOIN members m ON m.room_id = r.id WHERE r.id = ? AND m.user_id = ?",
        )
        .bind(room_id)
        .bind(user_id)
        .fetch_optional(&self.readers)
        .await?;
        match row {
            Some(row) => Ok(Some(self.room_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    async fn room_from_row(&self, row: &SqliteRow) -> Result<Room, StoreError> {
        let id: String = row.try_get("id")?;
        let kind: String = row.try_get("kind")?;
        let kind = RoomKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("room {id} has kind {kind:?}")))?;
        let members = sqlx::query_scalar(
            "SELECT u.username FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.room_id = ? ORDER BY u.username_key",
        )
        .bind(&id)
        .fetch_all(&self.readers)
        .await?;
        Ok(Room {
            name: row.try_get("name")?,
            kind,
            members,
            last_seq: row.try_get("last_seq")?,
            read_seq: row.try_get("read_seq")?,
            others_read_seq: row.try_get("others_read_seq")?,
            id,
        })
    }
}

fn user_from_row(row: &SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
    })
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Database(Box::new(e))
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Adds a member unless they already are one (false) or would then be in more than
/// `max_rooms` rooms (`TooManyRooms`). Counted on the one writer connection, so no other
/// membership write comes between the count and the insert.
async fn insert_member(
    conn: &mut SqliteConnection,
    room_id: &str,
    user_id: &str,
    max_rooms: u32,
) -> Result<bool, StoreError> {
    let already = sqlx::query("SELECT 1 FROM members WHERE room_id = ? AND user_id = ?")
        .bind(room_id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    if already.is_some() {
        return Ok(false);
    }
    let rooms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE user_id = ?")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?;
    if rooms >= i64::from(max_rooms) {
        return Err(StoreError::TooManyRooms(user_id.to_owned()));
    }
    let done = sqlx::query(
        "INSERT INTO members (room_id, user_id, read_seq, joined_at) VALUES (?, ?, 0, ?) \
         ON CONFLICT (room_id, user_id) DO NOTHING",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(now_rfc3339())
    .execute(&mut *conn)
    .await?;
    // Back in the room: how they once left no longer matters.
    sqlx::query("DELETE FROM departures WHERE room_id = ? AND user_id = ?")
        .bind(room_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a membership transaction that a write refused: rolled back on purpose, so the
/// connection goes back to the pool; the refusal is the answer.
async fn refused<T>(tx: sqlx::Transaction<'_, Sqlite>, error: StoreError) -> Result<T, StoreError> {
    tx.rollback().await?;
    Err(error)
}

/// The writer connection for one transaction. Dropped before [`keep`](Self::keep) (an error
/// path), it is closed instead of going back to the pool: on SQLITE_FULL, SQLITE_IOERR and the
/// like SQLite may roll a transaction back by itself while sqlx 0.8 still counts it open, so the
/// connection's next `begin` would issue a SAVEPOINT that opens a transaction no COMMIT ever
/// closes — every later "commit" would be acked and never written (reliability test R3).
struct TxConn {
    conn: PoolConnection<Sqlite>,
    kept: bool,
}

impl TxConn {
    async fn acquire(pool: &SqlitePool) -> Result<Self, sqlx::Error> {
        Ok(Self {
            conn: pool.acquire().await?,
            kept: false,
        })
    }

    /// The transaction ended as intended (committed, or rolled back on purpose).
    fn keep(&mut self) {
        self.kept = true;
    }
}

impl std::ops::Deref for TxConn {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for TxConn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

impl Drop for TxConn {
    fn drop(&mut self) {
        if !self.kept {
            self.conn.close_on_drop();
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError> {
        let user = User {
            id: new_id(),
            username: username.to_owned(),
        };
        let mut conn = TxConn::acquire(&self.writer).await?;
        let mut tx = conn.begin_with(BEGIN_WRITE).await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, username_key, password_hash, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&user.id)
        .bind(username)
        .bind(username.to_lowercase())
        .bind(password_hash)
        .bind(now_rfc3339())
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict),
            other => other?,
        };
        insert_member(
            &mut tx,
            natter_protocol::GENERAL_ROOM_ID,
            &user.id,
            u32::MAX,
        )
        .await?;
        tx.commit().await?;
        conn.keep();
        Ok(user)
    }

    async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        let row =
            sqlx::query("SELECT id, username, password_hash FROM users WHERE username_key = ?")
                .bind(username.to_lowercase())
                .fetch_optional(&self.readers)
                .await?;
        row.map(|row| {
            Ok(Credentials {
                user: user_from_row(&row)?,
                password_hash: row.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    async fn users_by_name(&self, usernames: &[String]) -> Result<Vec<User>, StoreError> {
        let mut users = Vec::with_capacity(usernames.len());
        for name in usernames {
            let row = sqlx::query("SELECT id, username FROM users WHERE username_key = ?")
                .bind(name.to_lowercase())
                .fetch_optional(&self.readers)
                .await?;
            if let Some(row) = row {
                users.push(user_from_row(&row)?);
            }
        }
        Ok(users)
    }

    async fn last_seen(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let seen: Option<Option<String>> =
            sqlx::query_scalar("SELECT last_seen FROM users WHERE id = ?")
                .bind(user_id)
                .fetch_optional(&self.readers)
                .await?;
        Ok(seen.flatten())
    }

    async fn seen(&self, user_ids: &[String]) -> Result<Vec<Seen>, StoreError> {
        self.seen_users(user_ids).await
    }

    async fn peers_of(&self, user_id: &str, limit: u32) -> Result<Vec<Seen>, StoreError> {
        self.peers(user_id, limit).await
    }

    async fn set_last_seen(&self, user_id: &str, at: &str) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        sqlx::query("UPDATE users SET last_seen = ? WHERE id = ?")
            .bind(at)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
    ) -> Result<NewSession, StoreError> {
        let id = new_id();
        let now = now_rfc3339();
        let mut conn = TxConn::acquire(&self.writer).await?;
        let mut tx = conn.begin_with(BEGIN_WRITE).await?;
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_used_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(token_hash)
        .bind(user_id)
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        // Keep the `per_user` used last (the new one first); end the rest.
        let ended: Vec<String> = sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = ?1 AND id NOT IN ( \
                 SELECT id FROM sessions WHERE user_id = ?1 \
                 ORDER BY id = ?2 DESC, COALESCE(last_used_at, created_at) DESC, created_at DESC \
                 LIMIT ?3) \
             RETURNING id",
        )
        .bind(user_id)
        .bind(&id)
        .bind(i64::from(self.sessions.per_user))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        conn.keep();
        Ok(NewSession { id, ended })
    }

    async fn sign_on(&self, token_hash: &str) -> Result<Option<SignOn>, StoreError> {
        let Some((signed_on, last_used)) = self.reader.sign_on(token_hash).await? else {
            return Ok(None);
        };
        let idle = self.sessions.idle;
        if last_used < rfc3339_ago(idle) {
            // Expired: gone for good, so the token is refused from now on without a look-up.
            sqlx::query("DELETE FROM sessions WHERE id = ?")
                .bind(&signed_on.session_id)
                .execute(&self.writer)
                .await?;
            return Ok(None);
        }
        if last_used < rfc3339_ago(SESSION_TOUCH_EVERY.min(idle / 4)) {
            sqlx::query("UPDATE sessions SET last_used_at = ? WHERE id = ?")
                .bind(now_rfc3339())
                .bind(&signed_on.session_id)
                .execute(&self.writer)
                .await?;
        }
        Ok(Some(signed_on))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let id = sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = ? RETURNING id")
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(id)
    }

    async fn rooms_of(&self, user_id: &str) -> Result<Vec<Room>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, r.name, r.kind, r.last_seq, m.read_seq, \
             (SELECT COALESCE(MAX(o.read_seq), 0) FROM members o \
              WHERE o.room_id = r.id AND o.user_id <> m.user_id) AS others_read_seq FROM rooms r \
             JOIN members m ON m.room_id = r.id WHERE m.user_id = ? ORDER BY r.id",
        )
        .bind(user_id)
        .fetch_all(&self.readers)
        .await?;
        let mut rooms = Vec::with_capacity(rows.len());
        for row in &rows {
            rooms.push(self.room_from_row(row).await?);
        }
        Ok(rooms)
    }

    async fn room_ids_of(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT room_id FROM members WHERE user_id = ? ORDER BY room_id")
                .bind(user_id)
                .fetch_all(&self.readers)
                .await?,
        )
    }

    async fn room_for(&self, room_id: &str, user_id: &str) -> Result<Option<Room>, StoreError> {
        self.room_row(room_id, user_id).await
    }

    async fn is_member(&self, room_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM members WHERE room_id = ? AND user_id = ?")
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(&self.readers)
            .await?;
        Ok(row.is_some())
    }

    async fn member_ids(&self, room_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT user_id FROM members WHERE room_id = ?")
                .bind(room_id)
                .fetch_all(&self.readers)
                .await?,
        )
    }

    async fn create_group(
        &self,
        name: &str,
        creator: &User,
        members: &[User],
        max_rooms: u32,
    ) -> Result<String, StoreError> {
        let id = new_id();
        let mut conn = TxConn::acquire(&self.writer).await?;
        let mut tx = conn.begin_with(BEGIN_WRITE).await?;
        sqlx::query(
            "INSERT INTO rooms (id, name, kind, last_seq, created_at, creator_id) \
             VALUES (?, ?, 'group', 0, ?, ?)",
        )
        .bind(&id)
        .bind(name)
        .bind(now_rfc3339())
        .bind(&creator.id)
        .execute(&mut *tx)
        .await?;
        for user in std::iter::once(creator).chain(members) {
            match insert_member(&mut tx, &id, &user.id, max_rooms).await {
                Err(e @ StoreError::TooManyRooms(_)) => {
                    let answer = refused(tx, e).await;
                    conn.keep();
                    return answer;
                }
                other => other?,
            };
        }
        tx.commit().await?;
        conn.keep();
        Ok(id)
    }

    async fn open_direct(
        &self,
        a: &User,
        b: &User,
        max_rooms: u32,
    ) -> Result<(String, bool), StoreError> {
        let (first, second) = if a.id <= b.id { (a, b) } else { (b, a) };
        let key = format!("{}:{}", first.id, second.id);
        let mut conn = TxConn::acquire(&self.writer).await?;
        let mut tx = conn.begin_with(BEGIN_WRITE).await?;
        let existing: Option<String> = sqlx::query_scalar("SELECT id FROM rooms WHERE dm_key = ?")
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(id) = existing {
            tx.rollback().await?;
            conn.keep();
            return Ok((id, false));
        }
        let id = new_id();
        let name = format!("{}, {}", first.username, second.username);
        sqlx::query(
            "INSERT INTO rooms (id, name, kind, dm_key, last_seq, created_at) \
             VALUES (?, ?, 'direct', ?, 0, ?)",
        )
        .bind(&id)
        .bind(name)
        .bind(&key)
        .bind(now_rfc3339())
        .execute(&mut *tx)
        .await?;
        for user in [first, second] {
            match insert_member(&mut tx, &id, &user.id, max_rooms).await {
                Err(e @ StoreError::TooManyRooms(_)) => {
                    let answer = refused(tx, e).await;
                    conn.keep();
                    return answer;
                }
                other => other?,
            };
        }
        tx.commit().await?;
        conn.keep();
        Ok((id, true))
    }

    async fn add_member(
        &self,
        room_id: &str,
        user_id: &str,
        max_rooms: u32,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        insert_member(&mut conn, room_id, user_id, max_rooms).await
    }

    async fn remove_member(
        &self,
        room_id: &str,
        user_id: &str,
        how: Departure,
    ) -> Result<bool, StoreError> {
        self.remove_and_remember(room_id, user_id, how).await
    }

    async fn departure(
        &self,
        room_id: &str,
        user_id: &str,
    ) -> Result<Option<Departure>, StoreError> {
        self.departed(room_id, user_id).await
    }

    async fn room_creator(&self, room_id: &str) -> Result<Option<String>, StoreError> {
        self.creator(room_id).await
    }

    async fn block(&self, blocker_id: &str, blocked_id: &str) -> Result<bool, StoreError> {
        self.insert_block(blocker_id, blocked_id).await
    }

    async fn unblock(&self, blocker_id: &str, blocked_id: &str) -> Result<(), StoreError> {
        self.delete_block(blocker_id, blocked_id).await
    }

    async fn blocked_by(&self, blocker_id: &str) -> Result<Vec<String>, StoreError> {
        self.block_list(blocker_id).await
    }

    async fn has_blocked(&self, blocker_id: &str, blocked_id: &str) -> Result<bool, StoreError> {
        self.is_blocked(blocker_id, blocked_id).await
    }

    fn commits(&self) -> Commits {
        self.commits.clone()
    }

    fn committed(&self) -> mpsc::Receiver<Message> {
        self.committed.subscribe()
    }

    async fn history(
        &self,
        room_id: &str,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.reader
            .history(room_id, before.unwrap_or(Seq::MAX), limit)
            .await
    }

    async fn messages_after(
        &self,
        room_id: &str,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.reader.messages_after(room_id, after, limit).await
    }

    async fn mark_read(
        &self,
        room_id: &str,
        user_id: &str,
        seq: Seq,
    ) -> Result<Option<Seq>, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let moved = sqlx::query_scalar(
            "UPDATE members SET read_seq = MIN(?, (SELECT last_seq FROM rooms WHERE id = ?)) \
             WHERE room_id = ? AND user_id = ? \
             AND read_seq < MIN(?, (SELECT last_seq FROM rooms WHERE id = ?)) \
             RETURNING read_seq",
        )
        .bind(seq)
        .bind(room_id)
        .bind(room_id)
        .bind(user_id)
        .bind(seq)
        .bind(room_id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(moved)
    }
}
