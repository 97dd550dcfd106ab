//! Group commit: sends from every connection queue here and are appended in batches, one
//! transaction (one fsync) per batch. Under light load a batch is one message and nothing waits;
//! under heavy load the queue fills while a commit runs, and the next commit takes it all.
//! New messages leave on the `committed` stream in commit order, so the room sees them in seq
//! order (separate handler tasks would race each other).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use natter_protocol::Message;

use crate::store::{AppendOutcome, NewMessage, Store};

/// Most messages committed in one transaction.
const MAX_BATCH: usize = 512;
/// Sends waiting for the committer before callers wait for room in the queue.
const QUEUE: usize = 4_096;

type Job = (NewMessage, oneshot::Sender<Result<AppendOutcome>>);

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
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (batch, replies): (Vec<_>, Vec<_>) = jobs.drain(..).unzip();
        match store.append_messages(&batch).await {
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
                tracing::error!(error = %e, batch = batch.len(), "batch commit failed; nothing of it was written");
                for reply in replies {
                    let _ = reply.send(Err(Error::Internal("batch commit failed".into())));
                }
            }
        }
    }
}
