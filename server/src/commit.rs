//! Group commit: sends from every connection queue here and go to the store in batches. Under
//! light load a batch is one message and nothing waits. Under heavy load several batches are
//! in flight: the store queues them while a commit runs and commits them together, so it never
//! waits for this task between commits. Outcomes are taken in the order the batches were
//! queued, which is commit order, and new messages leave on the `committed` stream in that
//! order, so the room sees them in seq order (separate handler tasks would race each other).

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use natter_protocol::Message;

use crate::store::{AppendOutcome, NewMessage, PendingAppend, Store, StoreError};

/// Most messages in one batch.
const MAX_BATCH: usize = 512;
/// Batches queued in the store and not yet answered; beyond that, sends wait here.
const MAX_IN_FLIGHT: usize = 8;
/// Sends waiting for the committer before callers wait for room in the queue.
const QUEUE: usize = 4_096;

type Job = (NewMessage, Reply);

#[derive(Clone, Debug)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the commit task; it ends when every `Committer` clone is dropped. The receiver
    /// yields every newly committed message, after its commit, in commit order.
    pub fn start(store: Arc<dyn Store>) -> (Self, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (committed_tx, committed) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx, committed_tx));
        (Self { tx }, committed)
    }

    /// Appends one message; returns once it is committed (or refused).
    pub async fn append(&self, message: NewMessage) -> Result<AppendOutcome> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((message, done))
            .await
            .map_err(|_| Error::Internal("committer stopped".into()))?;
        wait.await
            .map_err(|_| Error::Internal("committer dropped a send".into()))?
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>, committed: mpsc::Sender<Message>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        tokio::select! {
            // Answers first: they free room for the next batch and the senders wait on them.
            biased;
            outcome = oldest(&mut in_flight), if !in_flight.is_empty() => {
                if let Some((replies, _)) = in_flight.pop_front() {
                    answer(replies, outcome, &committed).await;
                }
            }
            n = rx.recv_many(&mut jobs, MAX_BATCH), if open && in_flight.len() < MAX_IN_FLIGHT => {
                if n == 0 {
                    open = false;
                    continue;
                }
                let (batch, replies): (Vec<_>, Vec<_>) = jobs.drain(..).unzip();
                // Queued in the store now, behind the batches already in flight.
                in_flight.push_back((replies, store.append_messages(batch)));
            }
        }
    }
}

type Reply = oneshot::Sender<Result<AppendOutcome>>;
/// A batch queued in the store: who waits for it, and its outcome.
type InFlight = (Vec<Reply>, PendingAppend);
type BatchOutcome = std::result::Result<Vec<AppendOutcome>, StoreError>;

/// The oldest batch's outcome (it stays in the queue); pending forever when there is none.
async fn oldest(in_flight: &mut VecDeque<InFlight>) -> BatchOutcome {
    match in_flight.front_mut() {
        Some((_, pending)) => pending.await,
        None => std::future::pending().await,
    }
}

async fn answer(replies: Vec<Reply>, outcome: BatchOutcome, committed: &mpsc::Sender<Message>) {
    match outcome {
        Ok(outcomes) => {
            for appended in outcomes.iter().flatten().filter(|a| a.created) {
                // Nobody listening (a store-only test) is fine: the messages are committed.
                let _ = committed.send(appended.message.clone()).await;
            }
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // The sender may have gone; the message is committed either way.
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, batch = replies.len(), "batch commit failed; nothing of it was written");
            for reply in replies {
                let _ = reply.send(Err(Error::Internal("batch commit failed".into())));
            }
        }
    }
}
