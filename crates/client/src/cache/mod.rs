//! The local store of one profile: a SQLite database (rooms, messages, cursors, read state,
//! outbox and the files its sends carry, drafts, the saved sign-in, the search index) in WAL
//! mode, plus the token file and the files' folder beside it. Opened through a pool.

mod drafts;
mod erase;
mod messages;
mod outbox;
mod rooms;
mod search;
mod sign_in;
mod uploads;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use drafts::Draft;
pub use messages::SeqRange;
pub use outbox::{OutboxFile, OutboxItem, OutboxState};
pub use sign_in::SignIn;
pub use uploads::UploadJob;

/// The database file inside a profile directory.
pub const DB_FILE: &str = "cache.db";
/// The token file inside a profile directory (mode 0600 on unix).
pub const TOKEN_FILE: &str = "token";
/// The folder of the account's files inside a profile directory (`crate::files`: outbox
/// copies, fetched files and thumbnails); forgotten with the account's data.
pub const FILES_DIR: &str = "files";

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// One connection writes (the session's worker) while another answers the UI; more would each
/// keep a page cache and a worker thread in an app that is idle most of the time.
const CONNECTIONS: u32 = 2;
/// Each connection's page cache, in KiB (SQLite's default is 2 MiB). The UI reads a page of
/// recent messages at a time; the OS file cache holds the rest.
const PAGE_CACHE_KIB: u32 = 512;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cache migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt cache row: {0}")]
    Corrupt(String),
    #[error("no outbox item {0}")]
    UnknownOutboxItem(String),
    #[error("outbox item {client_id} is {state}, not pending")]
    NotPending { client_id: String, state: String },
    #[error("`{0}` is transient: the outbox keeps the item pending")]
    NotPermanent(natter_protocol::ErrorCode),
}

/// A cheap, cloneable handle on one profile's cache.
#[derive(Debug, Clone)]
pub struct Cache {
    pool: SqlitePool,
    dir: PathBuf,
}

impl Cache {
    /// Opens (creating if missing) the cache in `dir` and runs pending migrations.
    pub async fn open(dir: &Path) -> Result<Self, CacheError> {
        std::fs::create_dir_all(dir).map_err(|source| CacheError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(dir.join(DB_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // Freed cells and pages are zeroed: a deleted message's text leaves the file.
            .pragma("secure_delete", "ON")
            .pragma("cache_size", format!("-{PAGE_CACHE_KIB}"));
        let pool = SqlitePoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect_with(options)
            .await?;
        // Migrating through the pool (not a bare connection) keeps `open` a `Send` future.
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            dir: dir.to_owned(),
        })
    }

    /// The profile directory this cache lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Closes the pool, waiting for every connection to finish (tests reopen the same files).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
