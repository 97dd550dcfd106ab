//! The search indexer: a thread of its own with its own connection (`search_db.rs`), which
//! follows `messages` by rowid and keeps the trigram index in the search file up to date: new
//! messages' text in; for an edit, its target's new text in beside the old, the old marked
//! stale (an erase with `secure-delete` costs some 30 inserts' CPU: done when the relay is
//! quiet, [`QUIET`]); for a delete, every version of its target's text out. It never writes
//! the main file, so it never waits for, nor holds up, the commit stage, whose one thread
//! bounds durable sends/s (docs/benchmarks.md): on that thread the index cost some 18 µs of
//! its ~77 µs per send.
//!
//! When: the commit stage tells it of each batch ([`Indexing::committed`]); it indexes once
//! [`CHUNK`] new messages wait or [`LAG`] after the first of them (in large transactions: FTS5
//! costs less per text that way), and at once for a delete, whose sender is answered only then
//! ([`Indexing::committed`]'s `waiting`), once the pages that held the text were checkpointed
//! out of both files' WALs: an acked delete's text is in no file. An edit is indexed with the
//! rest (a search leaves its message out of the index's answers until then and reads its row,
//! `search.rs`). A search finds new messages from their commit on all the same: it scans the
//! rows above the index's mark.
//!
//! After a crash or on the first start after migration 0012 the index is behind: the thread
//! starts by catching up from its mark. The relay's stop does not wait for it: what it had not
//! indexed is indexed at the next start, and scanned until then.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use natter_protocol::Change;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::search_db::{VERSION_BITS, VERSION_MASK};
use crate::store::commit::Reply;
use crate::store::types::{AppendOutcome, Appended};

/// Messages taken into the index per transaction, at most.
const CHUNK: i64 = 5_000;
/// Below this many new messages a round (~1,250/s at [`LAG`]) the relay counts as quiet:
/// replaced texts are erased then.
const QUIET: usize = 250;
/// Replaced texts erased per transaction.
const STALE_BATCH: i64 = 64;
/// How long new messages wait for the indexer at most (while fewer than [`CHUNK`] wait): the
/// bound on the rows a search scans besides the index at a steady rate.
pub const LAG: Duration = Duration::from_millis(200);

/// What the commit stage hands the indexer; cheap to clone.
#[derive(Clone, Debug, Default)]
pub(super) struct Indexing {
    shared: Arc<(Mutex<Pending>, Condvar)>,
}

#[derive(Debug, Default)]
struct Pending {
    /// Messages committed since the indexer last looked, and since when the first waits.
    new: usize,
    since: Option<Instant>,
    /// Deletes, answered once their text is out of the index.
    waiting: Vec<(Reply, AppendOutcome)>,
    /// Tests: answered once everything committed before is indexed.
    flushes: Vec<oneshot::Sender<()>>,
    /// The commit stage ended: index what is left and stop.
    stopped: bool,
    /// Tests: replaced texts are kept.
    #[cfg(any(test, feature = "test-support"))]
    keep_replaced: bool,
}

impl Indexing {
    /// After a batch's COMMIT: `new` messages were created; `waiting` are its deletes with their
    /// outcomes, to answer once indexed.
    pub(super) fn committed(&self, new: usize, waiting: Vec<(Reply, AppendOutcome)>) {
        if new == 0 && waiting.is_empty() {
            return;
        }
        let mut pending = self.lock();
        pending.new += new;
        pending.since.get_or_insert_with(Instant::now);
        let now = !waiting.is_empty() || pending.new >= CHUNK as usize;
        pending.waiting.extend(waiting);
        drop(pending);
        // Otherwise the indexer wakes by itself at `LAG`: no wake-up per batch.
        if now {
            self.shared.1.notify_one();
        }
    }

    /// The commit stage ended.
    pub(super) fn stop(&self) {
        self.lock().stopped = true;
        self.shared.1.notify_one();
    }

    /// Tests: answers once everything committed so far is indexed.
    #[cfg(any(test, feature = "test-support"))]
    pub(super) fn flush(&self) -> oneshot::Receiver<()> {
        let (done, wait) = oneshot::channel();
        self.lock().flushes.push(done);
        self.shared.1.notify_one();
        wait
    }

    /// Tests: see `SqliteStore::keep_replaced_texts`.
    #[cfg(any(test, feature = "test-support"))]
    pub(super) fn keep_replaced(&self, keep: bool) {
        self.lock().keep_replaced = keep;
    }

    /// Whether replaced texts may be erased (always, but in tests that keep them).
    fn may_erase(&self) -> bool {
        #[cfg(any(test, feature = "test-support"))]
        if self.lock().keep_replaced {
            return false;
        }
        true
    }

    /// Asks for a round within [`LAG`] even if nothing is committed meanwhile.
    fn again(&self) {
        self.lock().since.get_or_insert_with(Instant::now);
    }

    /// Nothing waits for the indexer.
    fn idle(&self) -> bool {
        let pending = self.lock();
        pending.new == 0
            && pending.waiting.is_empty()
            && pending.flushes.is_empty()
            && !pending.stopped
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // `Pending` stays consistent even if a holder panicked.
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until there is work: what to answer after it, and whether to stop after it.
    fn next(&self) -> Work {
        let mut pending = self.lock();
        loop {
            let due = pending.since.is_some_and(|t| t.elapsed() >= LAG);
            if pending.stopped
                || due
                || pending.new >= CHUNK as usize
                || !pending.waiting.is_empty()
                || !pending.flushes.is_empty()
            {
                let new = std::mem::take(&mut pending.new);
                pending.since = None;
                return Work {
                    new,
                    waiting: std::mem::take(&mut pending.waiting),
                    flushes: std::mem::take(&mut pending.flushes),
                    stop: pending.stopped,
                };
            }
            let wait = pending
                .since
                .map_or(LAG, |t| LAG.saturating_sub(t.elapsed()));
            pending = self
                .shared
                .1
                .wait_timeout(pending, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

struct Work {
    /// Messages committed since the round before.
    new: usize,
    waiting: Vec<(Reply, AppendOutcome)>,
    flushes: Vec<oneshot::Sender<()>>,
    stop: bool,
}

/// Starts the thread on `conn` (from `search_db::open_indexer`); it catches up first.
pub(super) fn start(conn: Connection, indexing: Indexing) -> std::io::Result<()> {
    // The first round: whatever was committed while no indexer ran.
    let now = Instant::now();
    indexing.lock().since = Some(now.checked_sub(LAG).unwrap_or(now));
    std::thread::Builder::new()
        .name("natter-index".into())
        .spawn(move || run(conn, &indexing))
        .map(drop)
}

fn run(mut conn: Connection, indexing: &Indexing) {
    loop {
        let work = indexing.next();
        if let Err(e) = catch_up(&mut conn) {
            // Searches scan what is not indexed; the next round tries again.
            tracing::error!(error = %e, "search index: indexing failed");
        }
        if work.waiting.iter().any(|(_, outcome)| is_delete(outcome)) {
            erase_old_pages(&conn);
        }
        for (reply, outcome) in work.waiting {
            // Committed either way; the sender may have gone.
            let _ = reply.send(Ok(outcome));
        }
        if !work.flushes.is_empty() && indexing.may_erase() {
            erase_replaced(&mut conn, || true);
        }
        for done in work.flushes {
            let _ = done.send(());
        }
        if work.stop {
            return;
        }
        // Texts edits replaced: erased while the relay is quiet, not on the busy path (each
        // costs a `secure-delete`); a batch a round at a modest rate, all while nothing waits.
        if work.new >= QUIET {
            // Busy: look again in a round's time, when it may be quiet.
            indexing.again();
        } else if indexing.may_erase() {
            let mut batches = 0;
            erase_replaced(&mut conn, || {
                batches += 1;
                batches == 1 || indexing.idle()
            });
        }
    }
}

/// Erases stale versions a batch at a time while `go_on` says so and some are left.
fn erase_replaced(conn: &mut Connection, mut go_on: impl FnMut() -> bool) {
    while go_on() {
        match erase_stale(conn, STALE_BATCH) {
            Ok(n) if n < STALE_BATCH as usize => return,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "search index: erasing replaced texts failed");
                return;
            }
        }
    }
}

fn is_delete(outcome: &AppendOutcome) -> bool {
    matches!(outcome, Ok(Appended { message, .. })
        if matches!(message.change.as_deref(), Some(Change::Delete { .. })))
}

/// Indexes everything committed so far, a chunk per transaction.
fn catch_up(conn: &mut Connection) -> rusqlite::Result<()> {
    while index_chunk(conn)? {}
    Ok(())
}

/// A message's text version as the index keys it: how many edits it has had (`search_db.rs`).
/// `m` is the message's alias in the statement; saturates at the mask.
pub(super) fn version_of(m: &str) -> String {
    format!(
        "CASE WHEN {m}.edited_at IS NULL THEN 0 ELSE MIN({VERSION_MASK}, \
         (SELECT COUNT(*) FROM messages e WHERE e.room_num = {m}.room_num \
         AND e.target_seq = {m}.seq AND e.change_kind = 'edit')) END"
    )
}

/// Takes the next rows above the mark (at most [`CHUNK`]) into the index, in one transaction
/// that writes only the search file; whether more wait.
fn index_chunk(conn: &mut Connection) -> rusqlite::Result<bool> {
    // Deferred: reading `chat` takes a snapshot, not its write lock.
    let tx = conn.transaction()?;
    let (upto, last): (i64, i64) = tx
        .prepare_cached(
            "SELECT upto, (SELECT COALESCE(MAX(rowid), 0) FROM chat.messages) FROM indexed",
        )?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if last <= upto {
        return Ok(false);
    }
    let to = last.min(upto + CHUNK);
    // Edits and deletes in the chunk, of messages indexed before it (targets inside the chunk
    // are taken in below as they are now): a deleted message's versions all out; an edited
    // one's current text in beside the versions before it, which become stale.
    let changed: Vec<(i64, bool)> = tx
        .prepare_cached(
            "SELECT DISTINCT t.rowid, t.deleted FROM chat.messages e JOIN chat.messages t \
             ON t.room_num = e.room_num AND t.seq = e.target_seq \
             WHERE e.rowid > ?1 AND e.rowid <= ?2 AND e.change_kind IN ('edit', 'delete') \
             AND t.rowid <= ?1",
        )?
        .query_map([upto, to], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (target, deleted) in changed {
        let (low, high) = (
            target << VERSION_BITS,
            (target << VERSION_BITS) | VERSION_MASK,
        );
        if deleted {
            tx.prepare_cached("DELETE FROM message_search WHERE rowid BETWEEN ?1 AND ?2")?
                .execute([low, high])?;
            tx.prepare_cached("DELETE FROM stale WHERE rowid BETWEEN ?1 AND ?2")?
                .execute([low, high])?;
        } else {
            new_version(&tx, target, low, high)?;
        }
    }
    tx.prepare_cached(&format!(
        "INSERT INTO message_search (rowid, body) \
         SELECT (m.rowid << {VERSION_BITS}) | {}, m.body FROM chat.messages m \
         WHERE m.rowid > ?1 AND m.rowid <= ?2 AND m.change_kind IS NULL AND m.deleted = 0",
        version_of("m")
    ))?
    .execute([upto, to])?;
    tx.prepare_cached(
        "UPDATE indexed SET upto = ?1, upto_id = (SELECT id FROM chat.messages WHERE rowid = ?1)",
    )?
    .execute([to])?;
    tx.commit()?;
    Ok(to < last)
}

/// Takes message `target`'s current text in as its current version (index rowids `low` to
/// `high` are its versions), the versions before it marked stale; nothing if it is in already.
fn new_version(
    tx: &rusqlite::Transaction<'_>,
    target: i64,
    low: i64,
    high: i64,
) -> rusqlite::Result<()> {
    let version: i64 = tx
        .prepare_cached(&format!(
            "SELECT {} FROM chat.messages m WHERE m.rowid = ?1",
            version_of("m")
        ))?
        .query_row([target], |row| row.get(0))?;
    let rowid = low | version;
    let have: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM message_search WHERE rowid = ?1)")?
        .query_row([rowid], |row| row.get(0))?;
    if have {
        if version < VERSION_MASK {
            return Ok(());
        }
        // Saturated: the last version's row is taken out and in again.
        tx.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    tx.prepare_cached(
        "INSERT OR IGNORE INTO stale (rowid) \
         SELECT rowid FROM message_search WHERE rowid BETWEEN ?1 AND ?2 AND rowid <> ?3",
    )?
    .execute([low, high, rowid])?;
    tx.prepare_cached(
        "INSERT INTO message_search (rowid, body) SELECT ?1, body FROM chat.messages WHERE rowid = ?2",
    )?
    .execute([rowid, target])?;
    Ok(())
}

/// Erases up to `limit` stale versions (`search_db.rs`) from the index; how many it erased.
fn erase_stale(conn: &mut Connection, limit: i64) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let rowids: Vec<i64> = tx
        .prepare_cached("SELECT rowid FROM stale ORDER BY rowid LIMIT ?1")?
        .query_map([limit], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for rowid in &rowids {
        tx.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
            .execute([rowid])?;
        tx.prepare_cached("DELETE FROM stale WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    tx.commit()?;
    Ok(rowids.len())
}

/// After a delete: both files' WALs still hold pages as they were before it. Copy them into
/// the files and truncate the WALs, so the text is gone from disk when the delete is acked.
/// If a reader holds an old snapshot a WAL stays until the next delete or checkpoint.
fn erase_old_pages(conn: &Connection) {
    for schema in ["main", "chat"] {
        let busy = conn.query_row(
            &format!("PRAGMA {schema}.wal_checkpoint(TRUNCATE)"),
            [],
            |row| row.get::<_, i64>(0),
        );
        match busy {
            Ok(0) => {}
            Ok(_) => tracing::warn!(
                schema,
                "after a delete: the WAL is in use; it is erased at the next one"
            ),
            Err(e) => tracing::error!(error = %e, schema, "after a delete: checkpoint failed"),
        }
    }
}
