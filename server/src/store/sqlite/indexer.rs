//! The search index's writer: follows `messages` by rowid and adds new messages' text to the
//! trigram index (migration 0010) in chunks, in transactions of its own. The commit stage runs
//! it between batches (`commit.rs`): once [`IDLE_LAG`] messages wait when no send is queued,
//! once [`MAX_LAG`] wait otherwise. As a trigger inside each commit the index cost a message
//! about 8 times what it costs here (docs/benchmarks.md, "Search"), and the commit stage is
//! what durable sends/s measure. On the commit stage's own thread it never waits for the
//! write lock against it (a thread of its own starved the stage's busy waits in a bulk test).
//!
//! `search_indexed.upto` is how far it got; searches scan the rows above it (`search.rs`), so
//! a message is found from its commit on. Edits and deletes of indexed messages change the
//! index in their own transaction (the migration's triggers); a message edited or deleted
//! before it was indexed is indexed as it is then.

use rusqlite::{Connection, TransactionBehavior};

/// Messages indexed in one transaction: a few ms of work, so a send that queues meanwhile
/// waits little.
const CHUNK: i64 = 1_000;
/// Messages left unindexed while sends keep coming: what a search scans at most besides the
/// index.
pub(super) const MAX_LAG: i64 = 10_000;
/// Messages it waits for when no send is queued: indexing each send as it came cost a client
/// with one send in flight a transaction per send (a catch-up test of the client timed out).
pub(super) const IDLE_LAG: i64 = 500;

/// Indexes everything committed so far (tests: `SqliteStore::index_for_search_now`).
#[cfg(any(test, feature = "test-support"))]
pub(super) fn catch_up(conn: &mut Connection) -> rusqlite::Result<()> {
    while index_chunk(conn, 1)? {}
    Ok(())
}

/// Indexes the next chunk if at least `min_lag` messages wait; whether more may wait.
///
/// Without an fsync of its own (`synchronous=OFF` for its transaction, FULL again after): the
/// index is derived, and WAL keeps the transaction whole, so a power loss can only take back
/// a chunk (index rows and mark together), which is indexed again. With one, every send of a
/// client with one in flight paid a second fsync.
pub(super) fn index_chunk(conn: &mut Connection, min_lag: i64) -> rusqlite::Result<bool> {
    // Most calls find too little to do: a read, no transaction to begin and end.
    let (upto, last) = marks(conn)?;
    if last - upto < min_lag.max(1) {
        return Ok(false);
    }
    conn.pragma_update(None, "synchronous", "OFF")?;
    let indexed = index_chunk_in(conn, min_lag);
    conn.pragma_update(None, "synchronous", "FULL")?;
    indexed
}

fn index_chunk_in(conn: &mut Connection, min_lag: i64) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (upto, last) = marks(&tx)?;
    if last - upto < min_lag.max(1) {
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

/// How far the index goes, and the newest message's rowid.
fn marks(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.prepare_cached(
        "SELECT upto, (SELECT COALESCE(MAX(rowid), 0) FROM messages) FROM search_indexed",
    )?
    .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
}
