//! The search indexer: a thread of its own with its own connection (`search_db.rs`), which
//! follows `messages` by rowid and keeps the trigram index in the search file up to date: new
//! messages' text in, and for each edit or delete entry its target's old text out (and an
//! edited target's new text in). It never writes the main file, so it never waits for, nor
//! holds up, the commit stage, whose one thread bounds durable sends/s (docs/benchmarks.md):
//! on that thread the index cost some 18 µs of its ~77 µs per send.
//!
//! When: the commit stage tells it of each batch ([`Indexing::committed`]); it indexes once
//! [`CHUNK`] new messages wait or [`LAG`] after the first of them (in large transactions: FTS5
//! costs less per text that way), and at once for a delete, whose sender is answered only then
//! ([`Indexing::committed`]'s `waiting`), once the pages that held the text were checkpointed
//! out of both files' WALs: an acked delete's text is in no file. An edit is indexed with the
//! rest (a search leaves its message out of the index's answers until then, `search.rs`). A
//! search finds new messages from their commit on all the same: it scans the rows above the
//! index's mark.
//!
//! After a crash or on the first start after migration 0012 the index is behind: the thread
//! starts by catching up from its mark. The relay's stop does not wait for it: what it had not
//! indexed is indexed at the next start, and scanned until then.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use natter_protocol::Change;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::commit::Reply;
use crate::store::types::{AppendOutcome, Appended};

/// Messages taken into the index per transaction, at most.
const CHUNK: i64 = 5_000;
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
                pending.new = 0;
                pending.since = None;
                return Work {
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
        for done in work.flushes {
            let _ = done.send(());
        }
        if work.stop {
            return;
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
    // Edits and deletes in the chunk, of messages indexed before it: the old text out, the
    // current text (an edit's, unless deleted since) in. Targets inside the chunk are taken
    // in below as they are now.
    const TARGETS: &str = "SELECT t.rowid FROM chat.messages e JOIN chat.messages t \
         ON t.room_num = e.room_num AND t.seq = e.target_seq \
         WHERE e.rowid > ?1 AND e.rowid <= ?2 AND e.change_kind IN ('edit', 'delete') \
         AND t.rowid <= ?1";
    tx.prepare_cached(&format!(
        "DELETE FROM message_search WHERE rowid IN ({TARGETS})"
    ))?
    .execute([upto, to])?;
    tx.prepare_cached(&format!(
        "INSERT INTO message_search (rowid, body) SELECT rowid, body FROM chat.messages \
         WHERE rowid IN ({TARGETS}) AND deleted = 0"
    ))?
    .execute([upto, to])?;
    tx.prepare_cached(
        "INSERT INTO message_search (rowid, body) SELECT rowid, body FROM chat.messages \
         WHERE rowid > ?1 AND rowid <= ?2 AND change_kind IS NULL AND deleted = 0",
    )?
    .execute([upto, to])?;
    tx.prepare_cached(
        "UPDATE indexed SET upto = ?1, upto_id = (SELECT id FROM chat.messages WHERE rowid = ?1)",
    )?
    .execute([to])?;
    tx.commit()?;
    Ok(to < last)
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
