//! PostgreSQL backend (the `postgres` feature): several relay nodes share one database. Async
//! through sqlx's pool, which replaces a broken connection at its next checkout (a restarted
//! server is reconnected to without a restart of the relay):
//! - the commit stage (`commit.rs`) appends messages in batches, one commit per batch,
//!   taking each room's next seqs under a lock on the room's row, so seqs stay gap-free and
//!   in commit order whichever node commits; a batch's plain messages in one call of a
//!   function of the schema (`plain.rs`), one alone in `single.rs`, replies, messages with
//!   files and changes in `entry.rs` (their files through `files.rs`);
//! - every other method (`store.rs`) runs its statements on a pooled connection, over the
//!   functions of `accounts.rs`, `admin.rs`, `rooms.rs`, `consent.rs`, `peers.rs`,
//!   `messages.rs` and `files.rs`.
//!
//! Here: opening (connect, migrations from `server/migrations_pg/`, `migrate.rs`) and the
//! driver's errors as the store's.

mod accounts;
mod admin;
mod commit;
mod consent;
mod entry;
mod files;
mod members;
mod messages;
mod migrate;
mod peers;
mod plain;
mod reactions;
mod rooms;
mod search;
mod single;
mod sql;
mod store;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::store::commit::{Commits, CommittedTx};
use crate::store::types::{SessionPolicy, StoreError};

/// Connections per node: the commit stage keeps one, the rest serve reads and other writes.
const POOL_SIZE: u32 = 8;
/// How long a caller waits for a connection before its call fails (the server is down, or
/// every connection is busy).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct PgStore {
    pool: PgPool,
    commits: Commits,
    committed: CommittedTx,
    sessions: SessionPolicy,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and runs pending
    /// migrations; refuses a database that a newer relay migrated.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?
            // An ack means durable: whatever the server's default, each commit waits for its
            // WAL flush.
            .options([("synchronous_commit", "on")])
            .application_name("natter-relay");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection is checked before each use: after a server restart the dead ones
            // are dropped and new ones made, instead of failing the call.
            .test_before_acquire(true)
            .connect_with(options)
            .await?;
        migrate::run(&pool).await?;
        let (commits, queue) = Commits::channel();
        let committed = CommittedTx::default();
        let metrics = commits.metrics().clone();
        commit::start(pool.clone(), queue, committed.clone(), metrics);
        Ok(Self {
            pool,
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
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

/// A UNIQUE or PRIMARY KEY constraint refused the write.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
