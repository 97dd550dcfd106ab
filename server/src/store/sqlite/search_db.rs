//! The search index's own database file (`natter-search.db` beside `natter.db`): where it is,
//! its schema, and the two ways to it — the indexer's connection, which writes it and reads
//! `messages` through the main file attached as `chat`, and the readers', which attach it as
//! `search`. A file of its own so that indexing never takes the main file's write lock, which
//! the commit stage holds for every batch (migration 0012).
//!
//! Everything in it is derived from `messages`: it may be deleted while the relay is stopped
//! (the indexer rebuilds it on start), and it is rebuilt when its schema version is not this
//! relay's or when it does not match the main file (a backup of one restored without the other).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use super::sql::WAL_AUTOCHECKPOINT_PAGES;
use crate::store::types::StoreError;

/// `PRAGMA user_version` of the file this relay writes; another is dropped and rebuilt.
/// (2: a text's versions keyed apart, `VERSION_BITS`.)
const SCHEMA_VERSION: i64 = 2;

/// An index row's rowid is its message's rowid shifted left by this, plus the text's version
/// (how many edits it has had, at most [`VERSION_MASK`]): the index stays in message order,
/// and an edit's new text goes in beside the old instead of erasing it first, which with
/// `secure-delete` cost ~0.9 ms of CPU an edit (docs/benchmarks.md).
pub(super) const VERSION_BITS: u32 = 20;
/// The version part of an index rowid.
pub(super) const VERSION_MASK: i64 = (1 << VERSION_BITS) - 1;

/// The trigram index of every message's text, and how far it goes.
///
/// Trigrams find any substring of 3 or more characters, ignoring case, in any script; shorter
/// terms are checked on the rows (`search.rs`), which also leave out any version but the
/// message's current one. The index keeps its own copy of each text it holds (FTS5 content), so
/// a delete reaches it by rowid alone, after the text left `messages`. `secure-delete`: an
/// erased text's trigrams are erased from the index's pages, not only marked deleted (issue
/// 19). `stale` lists the versions an edit replaced: erased when the indexer has nothing else
/// to do, and at once with the rest when the message is deleted. `indexed.upto` is the last
/// `messages` rowid taken in, new messages and changes alike; `upto_id` that row's id, to tell
/// a main file restored from a backup.
const SCHEMA: &str = "
CREATE TABLE indexed (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    upto    INTEGER NOT NULL,
    upto_id TEXT
);
INSERT INTO indexed (id, upto) VALUES (1, 0);
CREATE VIRTUAL TABLE message_search USING fts5 (body, tokenize = 'trigram');
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
CREATE TABLE stale (rowid INTEGER PRIMARY KEY);
";

/// The search file beside the main one: `natter.db` → `natter-search.db`.
pub(super) fn path_for(main: &Path) -> PathBuf {
    let stem = main
        .file_stem()
        .map_or_else(|| "natter".into(), |s| s.to_string_lossy().into_owned());
    let name = match main.extension() {
        Some(ext) => format!("{stem}-search.{}", ext.to_string_lossy()),
        None => format!("{stem}-search"),
    };
    main.with_file_name(name)
}

/// The indexer's connection: the search file (created, or rebuilt, as needed) with the main
/// file attached as `chat`, only ever read.
pub(super) fn open_indexer(main: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let path = path_for(main);
    if !path.exists() {
        create_like(&path, main).map_err(|e| StoreError::Database(Box::new(e)))?;
    }
    let conn = Connection::open(&path)?;
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // No fsync per transaction: the index is derived, and after a power loss WAL leaves it as
    // of an earlier transaction (index and mark together), from which it goes on.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    // Freed pages are zeroed: an erased text leaves the file (also the main one's, attached).
    conn.pragma_update(None, "secure_delete", "ON")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != SCHEMA_VERSION {
        rebuild(&conn)?;
    }
    attach(&conn, main, "chat")?;
    if !matches_main(&conn)? {
        tracing::warn!(path = %path.display(), "search index: it does not match the messages (a restored backup?); rebuilding it");
        conn.execute_batch(
            "DELETE FROM message_search; DELETE FROM stale; \
             UPDATE indexed SET upto = 0, upto_id = NULL;",
        )?;
    }
    Ok(conn)
}

/// Makes the search file with the main file's permissions (0600 from `config.rs`; SQLite gives
/// the `-wal` and `-shm` files the same): it holds every message's text too.
fn create_like(path: &Path, main: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mode = std::fs::metadata(main)?.permissions().mode() & 0o777;
        options.mode(mode);
    }
    options.open(path).map(drop)
}

/// Drops whatever the file holds and creates this relay's schema, empty.
fn rebuild(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "BEGIN; DROP TABLE IF EXISTS message_search; DROP TABLE IF EXISTS indexed; \
         DROP TABLE IF EXISTS stale; {SCHEMA} \
         PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    ))
}

/// Whether the row the mark names is still the one indexed (no mark yet matches anything).
fn matches_main(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT upto = 0 OR upto_id IS (SELECT id FROM chat.messages WHERE rowid = upto) \
         FROM indexed",
        [],
        |row| row.get(0),
    )
}

/// A reader's connection gets the search file as `search` (it must exist: the indexer's
/// connection is opened first).
pub(super) fn attach_to_reader(conn: &Connection, main: &Path) -> Result<(), StoreError> {
    attach(conn, &path_for(main), "search")
}

fn attach(conn: &Connection, path: &Path, name: &str) -> Result<(), StoreError> {
    let path = path.to_str().ok_or_else(|| {
        StoreError::Database(format!("not a UTF-8 path: {}", path.display()).into())
    })?;
    conn.execute(&format!("ATTACH DATABASE ?1 AS {name}"), [path])?;
    Ok(())
}
