//! What the benchmark measures. Each scenario checks as it goes that the relay kept its
//! promises (every send acked `ok`, broadcasts exactly once and in `seq` order): a fast wrong
//! answer is a failed run, not a good number.

pub mod crowd;
pub mod fanout;
pub mod floor;
pub mod latency;
pub mod mix;
pub mod throughput;

use std::time::Duration;

use natter_protocol::model::Seq;
use natter_protocol::requests::{CreateRoom, SendMessage};
use natter_protocol::{AckResult, Event, Request, WireError};

use crate::relay;
use natter_testkit::sio::{self, Client, Incoming};

/// The longest any single request or broadcast may take before the run is declared broken.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Relay(#[from] relay::Error),
    #[error(transparent)]
    Socket(#[from] sio::Error),
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

/// A flag's number of seconds as a duration.
pub fn seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.parse().map_err(|e| format!("{s}: {e}"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s}: not a duration in seconds"))
}

/// A flag's number of milliseconds as a duration.
pub fn millis(s: &str) -> Result<Duration, String> {
    let ms: u64 = s.parse().map_err(|e| format!("{s}: {e}"))?;
    Ok(Duration::from_millis(ms))
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
async fn create_room(
    client: &mut Client,
    name: String,
    members: Vec<String>,
) -> Result<String, Error> {
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
fn body(n: impl std::fmt::Display) -> String {
    format!("natter-bench message {n}: the quick brown fox jumps over")
}

/// Tracks the `seq`s of one fresh room's broadcasts (1, 2, 3, …) as one client sees them.
#[derive(Debug, Clone, Default)]
struct SeqCheck {
    /// Out-of-order delivery is a broken promise (one sender, one send in flight) rather than
    /// something to count (several senders whose sends share a commit batch).
    strict: bool,
    /// One bit per seq seen, to catch duplicates whatever the order.
    bits: Vec<u64>,
    /// The highest seq seen.
    last: Seq,
    /// Distinct seqs seen.
    seen: u64,
    /// Broadcasts that arrived after one with a higher seq.
    out_of_order: u64,
}

impl SeqCheck {
    fn strict() -> Self {
        Self {
            strict: true,
            ..Self::default()
        }
    }

    fn tolerant() -> Self {
        Self::default()
    }

    /// Records `seq`. A repeat is always a broken promise; so is any gap or step back when strict.
    fn see(&mut self, seq: Seq) -> Result<(), Error> {
        let index = usize::try_from(seq - 1)
            .map_err(|_| Error::Broken(format!("broadcast seq {seq} in a fresh room")))?;
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & bit != 0 {
            return Err(Error::Broken(format!("broadcast seq {seq} arrived twice")));
        }
        if self.strict && seq != self.last + 1 {
            return Err(Error::Broken(format!(
                "broadcast seq {seq} right after {}: out of order or missing",
                self.last
            )));
        }
        self.bits[word] |= bit;
        self.seen += 1;
        if seq < self.last {
            self.out_of_order += 1;
        }
        self.last = self.last.max(seq);
        Ok(())
    }

    /// Seqs up to `last` that never arrived.
    fn missing(&self, last: Seq) -> u64 {
        u64::try_from(last)
            .unwrap_or_default()
            .saturating_sub(self.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_wants_every_seq_in_order() {
        let mut check = SeqCheck::strict();
        assert!(check.see(1).is_ok() && check.see(2).is_ok());
        assert!(check.see(4).is_err(), "a gap");
        assert!(check.see(2).is_err(), "a repeat");
        assert_eq!(check.missing(2), 0);
    }

    #[test]
    fn tolerant_counts_reordering_and_gaps_but_not_repeats() {
        let mut check = SeqCheck::tolerant();
        for seq in [2, 1, 4] {
            assert!(check.see(seq).is_ok());
        }
        assert_eq!(check.out_of_order, 1);
        assert_eq!(check.missing(4), 1);
        assert!(check.see(1).is_err(), "a repeat");
        assert!(check.see(0).is_err(), "seqs start at 1");
    }
}
