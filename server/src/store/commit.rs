//! The commit stage's two ends, the same for every backend. Senders queue a message on
//! [`Commits`] and wait for its outcome; committed messages leave on the stream from
//! [`CommittedTx::subscribe`]. Between them the backend's stage takes what is queued in
//! batches, commits each batch in one transaction, puts its new messages on the stream (after
//! the COMMIT, in commit order) and then answers each sender. One stage, one order: the
//! stream's order is the order of the commits, so each room sees its messages in seq order.

use std::sync::{Arc, Mutex};

use natter_protocol::Message;
use tokio::sync::{mpsc, oneshot};

use super::types::{AppendOutcome, NewMessage, StoreError};
use crate::metrics::CommitMetrics;

/// Sends queued for the stage before senders wait (asynchronously) for room.
const QUEUE: usize = 4_096;
/// Committed messages waiting for their subscriber before the stage waits for it: a
/// broadcaster that falls behind slows commits down rather than growing memory.
const COMMITTED_QUEUE: usize = 4_096;

/// Where one send's outcome goes.
pub type Reply = oneshot::Sender<Result<AppendOutcome, StoreError>>;
/// One queued send, as the backend's stage receives it.
pub type Queued = (NewMessage, Reply);

/// The entrance of the commit stage; cheap to clone. The stage ends when every clone is gone.
#[derive(Clone, Debug)]
pub struct Commits {
    tx: mpsc::Sender<Queued>,
    /// What the stage reports of its commits (shown by `--metrics-bind`).
    metrics: CommitMetrics,
}

impl Commits {
    /// A new entrance and the receiving end the backend's stage drains.
    pub fn channel() -> (Self, mpsc::Receiver<Queued>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let metrics = CommitMetrics::default();
        (Self { tx, metrics }, rx)
    }

    /// Where the stage records its commits: the same for every clone.
    pub fn metrics(&self) -> &CommitMetrics {
        &self.metrics
    }

    /// Queues one message behind every message queued before it; returns once it is committed
    /// (or refused, or its batch failed and none of it was written).
    pub async fn append(&self, message: NewMessage) -> Result<AppendOutcome, StoreError> {
        let (reply, outcome) = oneshot::channel();
        let stopped = || StoreError::Thread("the commit stage stopped".into());
        self.tx
            .send((message, reply))
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

/// The stream's sending side, held by the stage: one subscriber at a time, none at first (a
/// store used without a broadcaster, as in the conformance suite, keeps nothing).
#[derive(Clone, Debug, Default)]
pub struct CommittedTx {
    slot: Arc<Mutex<Option<mpsc::Sender<Message>>>>,
}

impl CommittedTx {
    /// Every message created from now on, after its commit, in commit order. Replaces an
    /// earlier subscriber.
    pub fn subscribe(&self) -> mpsc::Receiver<Message> {
        let (tx, rx) = mpsc::channel(COMMITTED_QUEUE);
        *self.lock() = Some(tx);
        rx
    }

    /// The subscriber now, if any; the stage takes it once per batch.
    pub fn current(&self) -> Option<mpsc::Sender<Message>> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<mpsc::Sender<Message>>> {
        // An `Option` stays consistent even if a holder panicked.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}
