//! What the benchmark measures. Each scenario checks as it goes that the relay kept its
//! promises (every send acked `ok`, broadcasts exactly once and in `seq` order): a fast wrong
//! answer is a failed run, not a good number.

pub mod floor;
pub mod latency;
pub mod throughput;

use std::time::Duration;

use natter_protocol::model::Seq;
use natter_protocol::requests::{CreateRoom, SendMessage};
use natter_protocol::{AckResult, Event, Request, WireError};

use crate::eio::{self, Client, Incoming};
use crate::relay;

/// The longest any single request or broadcast may take before the run is declared broken.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Relay(#[from] relay::Error),
    #[error(transparent)]
    Socket(#[from] eio::Error),
    #[error("{request} refused: {error}")]
    Refused {
        request: &'static str,
        error: WireError,
    },
    #[error("broken promise: {0}")]
    Broken(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("a client task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("{0}")]
    Setup(String),
}

/// The fields of an `ok:true` ack, or the refusal as an error.
fn expect_ok<R: Request>(ack: AckResult<R::Ack>) -> Result<R::Ack, Error> {
    match ack {
        AckResult::Ok(fields) => Ok(fields),
        AckResult::Err(error) => Err(Error::Refused {
            request: R::NAME,
            error,
        }),
    }
}

/// Creates a group room owned by `client` with `members` and returns its id.
async fn create_room(client: &mut Client, name: String, members: Vec<String>) -> Result<String, Error> {
    let ack = client
        .request(&CreateRoom { name, members }, REQUEST_TIMEOUT)
        .await?;
    Ok(expect_ok::<CreateRoom>(ack)?.room.id)
}

/// Reads until the ack `id` arrives, handing every other packet to `on_other`.
async fn wait_ack(
    client: &mut Client,
    id: u64,
    mut on_other: impl FnMut(&Incoming) -> Result<(), Error>,
) -> Result<Incoming, Error> {
    tokio::time::timeout(REQUEST_TIMEOUT, async {
        loop {
            let incoming = client.recv().await?;
            if incoming.ack_id() == Some(id) {
                return Ok(incoming);
            }
            on_other(&incoming)?;
        }
    })
    .await
    .map_err(|_| Error::Timeout(<SendMessage as Event>::NAME))?
}

/// A chat-sized body (about 60 bytes), different for every message.
fn body(n: usize) -> String {
    format!("natter-bench message {n}: the quick brown fox jumps over")
}

/// Tracks the `seq`s of one room's broadcasts as one client sees them.
#[derive(Debug, Clone, Copy, Default)]
struct SeqCheck {
    last: Seq,
    seen: u64,
    /// Seqs skipped: live events the relay did not deliver (allowed only to slow readers).
    missed: u64,
}

impl SeqCheck {
    /// Records `seq`; a repeat or a step backwards is a broken promise.
    fn see(&mut self, seq: Seq) -> Result<(), Error> {
        if seq <= self.last {
            return Err(Error::Broken(format!(
                "broadcast seq {seq} after {}: duplicate or out of order",
                self.last
            )));
        }
        self.missed += u64::try_from(seq - self.last - 1).unwrap_or_default();
        self.last = seq;
        self.seen += 1;
        Ok(())
    }
}
