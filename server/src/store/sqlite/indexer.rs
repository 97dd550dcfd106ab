//! The search indexer: a thread with its own connection that follows `messages` by rowid and
//! adds new messages' text to the trigram index (migration 0010) in chunks, off the commit
//! stage. As a trigger inside each commit the index cost a message about 8 times what it costs
//! here (docs/benchmarks.md, "Search"), and the commit stage is what durable sends/s measure.
//!
//! `search_indexed.upto` is how far it got; searches scan the rows above it (`search.rs`), so
//! a message is found from its commit on. Edits and deletes of indexed messages change the
//! index in their own transaction (the migration's triggers); a message edited or deleted
//! before the indexer reached it is indexed as it is then. Its transactions and the commit
//! stage's are serialized by SQLite's write lock, so the two never disagree on a row.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::sql::open_writer;
use crate::store::types::StoreError;

/// Messages indexed in one transaction: big enough that the index's segments stay few, small
/// enough that the commit stage waits for the write lock a few ms at most.
const CHUNK: i64 = 2_000;
/// How often it looks for new messages: the lag a search covers by scanning.
const EVERY: Duration = Duration::from_millis(200);
/// Between two chunks when behind.
const PAUSE: Duration = Duration::from_millis(2);

/// Stops the thread when dropped (with the store).
#[derive(Debug)]
pub(super) struct Indexer {
    _stop: mpsc::Sender<()>,
}

/// Opens a connection and starts the thread (the schema must exist: migrations ran).
pub(super) fn start(path: &Path, busy_timeout: Duration) -> Result<Indexer, StoreError> {
    let mut conn = open_writer(path, busy_timeout)?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("natter-index".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                loop {
                    match index_chunk(&mut conn) {
                        // A pause between chunks lets the commit stage take the write lock.
                        Ok(true) => std::thread::sleep(PAUSE),
                        Ok(false) => break,
                        Err(e) => {
                            tracing::error!(error = %e, "search indexer: indexing failed; retrying");
                            break;
                        }
                    }
                }
            }
        })
        .map_err(|e| StoreError::Thread(format!("cannot start the search indexer: {e}")))?;
    Ok(Indexer { _stop: stop })
}

/// Indexes every message committed so far, a chunk per transaction.
pub(super) fn catch_up(conn: &mut Connection) -> rusqlite::Result<()> {
    while index_chunk(conn)? {}
    Ok(())
}

/// Indexes the next chunk; whether there may be more.
fn index_chunk(conn: &mut Connection) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (upto, last): (i64, i64) = tx.query_row(
        "SELECT upto, (SELECT COALESCE(MAX(rowid), 0) FROM messages) FROM search_indexed",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    if last <= upto {
        return Ok(false);
    }
    let to = last.min(upto + CHUNK);
    tx.prepare_cached(
        "INSERT INTO message_search (rowid, body) SELECT rowid, body FROM messages \
         WHERE rowid > ?1 AND rowid <= ?2 AND change_kind IS NULL AND deleted = 0",
    )?
    .execute([upto, to])?;
    tx.prepare_cached("UPDATE search_indexed SET upto = ?1")?
        .execute([to])?;
    tx.commit()?;
    Ok(to < last)
}
