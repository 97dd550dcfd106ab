//! What the store's commit stage reports: messages committed, batch sizes, the time of each
//! batch's transaction and of its COMMIT statement alone. The stage holds a handle from its
//! birth (`store::Commits`), so the store needs nothing else from the relay.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use super::histogram::{Histogram, Snapshot};

/// Batch sizes: powers of two up to the stage's most (1,024).
const BATCH_BOUNDS: &[u64] = &[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Durations, in nanoseconds: 100 µs to 2.5 s.
const SECONDS_BOUNDS: &[u64] = &[
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
];
const NANOS: f64 = 1e-9;

/// The commit stage's counts; cheap to clone.
#[derive(Clone)]
pub struct CommitMetrics(Arc<Stats>);

struct Stats {
    messages: AtomicU64,
    failed: AtomicU64,
    batch: Histogram,
    transaction: Histogram,
    statement: Histogram,
}

impl Default for CommitMetrics {
    fn default() -> Self {
        Self(Arc::new(Stats {
            messages: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            batch: Histogram::new(BATCH_BOUNDS, 1.0),
            transaction: Histogram::new(SECONDS_BOUNDS, NANOS),
            statement: Histogram::new(SECONDS_BOUNDS, NANOS),
        }))
    }
}

impl std::fmt::Debug for CommitMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitMetrics").finish_non_exhaustive()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl CommitMetrics {
    /// One batch committed: `sends` in it, `created` of them new messages (the rest repeats
    /// or refusals), its transaction took `transaction` from `BEGIN` to `COMMIT` returning,
    /// of which the `COMMIT` statement alone (where the fsync happens) took `statement`.
    pub fn committed(
        &self,
        sends: usize,
        created: usize,
        transaction: Duration,
        statement: Duration,
    ) {
        let s = &self.0;
        s.messages.fetch_add(created as u64, Relaxed);
        s.batch.observe(sends as u64);
        s.transaction.observe(nanos(transaction));
        s.statement.observe(nanos(statement));
    }

    /// One batch's transaction failed: nothing of it was written.
    pub fn failed(&self) {
        self.0.failed.fetch_add(1, Relaxed);
    }

    pub(super) fn messages(&self) -> u64 {
        self.0.messages.load(Relaxed)
    }

    pub(super) fn failures(&self) -> u64 {
        self.0.failed.load(Relaxed)
    }

    pub(super) fn batch(&self) -> Snapshot {
        self.0.batch.snapshot()
    }

    pub(super) fn transaction(&self) -> Snapshot {
        self.0.transaction.snapshot()
    }

    pub(super) fn statement(&self) -> Snapshot {
        self.0.statement.snapshot()
    }
}
