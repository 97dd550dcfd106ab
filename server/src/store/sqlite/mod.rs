//! SQLite backend, in WAL mode with `synchronous=FULL` so a commit survives power loss, all
//! through rusqlite, each connection on a thread of its own (`threads.rs`):
//! - the commit stage (`commit.rs`) appends messages, in batches;
//! - the search indexer (`indexer.rs`) follows them into the search index, which is in a file
//!   of its own (`search_db.rs`) so that it never takes this file's write lock;
//! - one writer thread for every other write (`accounts.rs`, `admin.rs`, `rooms.rs`,
//!   `consent.rs`).
//!   SQLite allows one writer at a time: it and the commit stage both take the write lock up
//!   front (`BEGIN IMMEDIATE`) and wait their turn (busy timeout);
//! - reader threads, on read-only connections (the search file attached), for every read
//!   (`peers.rs`, `messages.rs` and `search.rs` only read).
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
mod search_db;
mod sql;
mod threads;

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::store::commit::{Commits, CommittedTx};
use crate::store::types::{SessionPolicy, StoreError};
use indexer::Indexing;
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
    /// Tests wait on it for the index to catch up.
    #[cfg_attr(
        not(any(test, feature = "test-support")),
        expect(dead_code, reason = "only tests ask the indexer")
    )]
    indexing: Indexing,
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
        // After the migrations: the other connections expect the schema. The indexer's first:
        // it makes the search file the readers attach.
        let index = search_db::open_indexer(path, BUSY_TIMEOUT)?;
        let (commits, queue) = Commits::channel();
        let committed = CommittedTx::default();
        let metrics = commits.metrics().clone();
        let indexing = Indexing::default();
        commit::start(
            path,
            BUSY_TIMEOUT,
            queue,
            committed.clone(),
            metrics,
            indexing.clone(),
        )?;
        indexer::start(index, indexing.clone())
            .map_err(|e| StoreError::Thread(format!("cannot start the search indexer: {e}")))?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = sql::open_reader(path, BUSY_TIMEOUT)?;
                search_db::attach_to_reader(&conn, path)?;
                Ok(conn)
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Self {
            writer,
            readers: Threads::start("natter-read", readers)?,
            commits,
            committed,
            indexing,
            sessions: SessionPolicy::default(),
        })
    }

    /// The same store with `policy` for sessions instead of the default.
    pub fn with_sessions(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    /// For tests: runs `PRAGMA integrity_check` on both files; true when they are sound. One
    /// line is not counted: SQLite 3.46.0 reports the search index "malformed" once a
    /// `secure-delete` empties one of its segments, though it answers right (`search_db.rs`;
    /// what the index holds is checked by the search tests, against the rows).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn integrity_ok(&self) -> Result<bool, StoreError> {
        const SEARCH_INDEX_FLAW: &str =
            "malformed inverted index for FTS5 table search.message_search";
        self.read(|conn| {
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

    /// For tests: returns once the indexer has taken in every message committed so far (so a
    /// test can tell the index from the scan of the rows above it).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn index_for_search_now(&self) -> Result<(), StoreError> {
        self.indexing
            .flush()
            .await
            .map_err(|_| StoreError::Thread("the search indexer stopped".into()))
    }

    /// For tests: while `keep`, the indexer keeps the texts edits replaced instead of erasing
    /// them (so a test can check that searches skip them).
    #[cfg(any(test, feature = "test-support"))]
    pub fn keep_replaced_texts(&self, keep: bool) {
        self.indexing.keep_replaced(keep);
    }

    /// The search index's file beside the database at `path` (tests look into it).
    pub fn search_path(path: &Path) -> std::path::PathBuf {
        search_db::path_for(path)
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
