//! SQLite backend, in WAL mode with `synchronous=FULL` so a commit survives power loss, all
//! through rusqlite, each connection on a thread of its own (`threads.rs`):
//! - the commit stage (`commit.rs`) appends messages, in batches, and between them adds new
//!   messages to the search index (`indexer.rs`);
//! - one writer thread for every other write (`accounts.rs`, `admin.rs`, `rooms.rs`,
//!   `consent.rs`).
//!   SQLite allows one writer at a time: it and the commit stage both take the write lock up
//!   front (`BEGIN IMMEDIATE`) and wait their turn (busy timeout);
//! - reader threads, on read-only connections, for every read (`peers.rs`, `messages.rs` and
//!   `search.rs` only read).
//!
//! Here: opening (migrations first, `migrate.rs`) and the two ways to a thread, `read` and
//! `write`; `jobs.rs` makes each `Store` method one job.

mod accounts;
mod admin;
mod commit;
mod consent;
mod files;
mod indexer;
mod jobs;
mod members;
mod messages;
mod migrate;
mod peers;
mod reactions;
mod rooms;
mod search;
mod sql;
mod threads;

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::store::commit::{Commits, CommittedTx};
use crate::store::types::{SessionPolicy, StoreError};
use threads::Threads;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reader threads (each one SQLite connection with its own page cache).
const READERS: usize = 2;

pub struct SqliteStore {
    /// One thread: every write but messages waits its turn here.
    writer: Threads,
    readers: Threads,
    commits: Commits,
    committed: CommittedTx,
    sessions: SessionPolicy,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) `path` and runs pending migrations; refuses a database
    /// whose migrations differ from this relay's or that a newer relay migrated.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = Threads::start("natter-write", vec![sql::open_writer(path, BUSY_TIMEOUT)?])?;
        writer
            .ask(|conn| migrate::run(conn, migrate::MIGRATIONS))
            .await?;
        // After the migrations: the other connections expect the schema.
        let (commits, queue) = Commits::channel();
        let committed = CommittedTx::default();
        let metrics = commits.metrics().clone();
        commit::start(path, BUSY_TIMEOUT, queue, committed.clone(), metrics)?;
        let readers = (0..READERS)
            .map(|_| sql::open_reader(path, BUSY_TIMEOUT))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            writer,
            readers: Threads::start("natter-read", readers)?,
            commits,
            committed,
            sessions: SessionPolicy::default(),
        })
    }

    /// The same store with `policy` for sessions instead of the default.
    pub fn with_sessions(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    /// For tests: runs `PRAGMA integrity_check`; true when the database is sound. One line is
    /// not counted: SQLite 3.46.0 reports the search index "malformed" once a `secure-delete`
    /// empties one of its segments, though it answers right (migration 0010; what the index
    /// holds is checked by the search tests, against the rows).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn integrity_ok(&self) -> Result<bool, StoreError> {
        const SEARCH_INDEX_FLAW: &str =
            "malformed inverted index for FTS5 table main.message_search";
        self.write(|conn| {
            let rows: Vec<String> = conn
                .prepare("PRAGMA integrity_check")?
                .query_map([], |row| row.get::<_, String>(0))?
                .filter(|row| !matches!(row, Ok(line) if line == SEARCH_INDEX_FLAW))
                .collect::<rusqlite::Result<_>>()?;
            let ok = rows.is_empty() || rows == ["ok"];
            if !ok {
                tracing::error!(?rows, "PRAGMA integrity_check");
            }
            Ok::<_, rusqlite::Error>(ok)
        })
        .await
    }

    /// For tests: indexes every message committed so far for search now, as the commit stage
    /// would between batches (so a test can tell the index from the scan of the rows above it).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn index_for_search_now(&self) -> Result<(), StoreError> {
        self.write(indexer::catch_up).await
    }

    /// For tests: creates `path` with the schema of the migrations up to `version` only, as
    /// an older relay left it.
    #[cfg(any(test, feature = "test-support"))]
    pub fn migrate_through(path: &Path, version: i64) -> Result<(), StoreError> {
        let mut conn = sql::open_writer(path, BUSY_TIMEOUT)?;
        let upto = migrate::MIGRATIONS.partition_point(|m| m.version <= version);
        migrate::run(&mut conn, &migrate::MIGRATIONS[..upto])
    }

    /// Runs `job` on a reader thread.
    async fn read<T, E>(
        &self,
        job: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
        StoreError: From<E>,
    {
        self.readers.ask(move |conn| job(conn)).await
    }

    /// Runs `job` on the writer thread.
    async fn write<T, E>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
        StoreError: From<E>,
    {
        self.writer.ask(job).await
    }
}
