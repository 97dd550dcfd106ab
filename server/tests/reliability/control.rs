//! The "control" conversation that runs beside an attack: alice sends, bob receives, round after
//! round, until told to stop. Every round must complete; the latencies are the figures.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_protocol::events::MessageEvent;
use natter_protocol::requests::SendMessage;
use natter_protocol::GENERAL_ROOM_ID;
use tokio::task::JoinHandle;

use crate::util::Client;

/// What the control conversation saw.
#[derive(Debug, Default)]
pub struct Rounds {
    /// Send → bob's receipt of the live event, per round.
    pub latencies: Vec<Duration>,
}

impl Rounds {
    /// The `p`-th percentile (0–100) latency.
    pub fn percentile(&self, p: f64) -> Duration {
        let mut v = self.latencies.clone();
        v.sort_unstable();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let at = ((v.len() - 1) as f64 * p / 100.0).round() as usize;
        v[at]
    }
}

/// Runs rounds every `pause` until `stop` is set; panics (failing the test when joined) if any
/// round fails.
pub fn spawn(
    alice: Client,
    bob: Client,
    pause: Duration,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Rounds> {
    tokio::spawn(async move {
        let mut rounds = Rounds::default();
        let mut i = 0u64;
        while !stop.load(Ordering::SeqCst) && i < 1_000_000 {
            i += 1;
            let client_id = format!("control-{i}");
            let started = Instant::now();
            alice
                .request(&SendMessage {
                    room_id: GENERAL_ROOM_ID.to_owned(),
                    client_id: client_id.clone(),
                    body: format!("control {i}"),
                    reply_to: None,
                    attachments: Vec::new(),
                })
                .await
                .unwrap_or_else(|e| panic!("control round {i}: alice's send: {e}"));
            bob.next_event_where::<MessageEvent>(crate::util::WAIT, |e| {
                e.message.client_id == client_id
            })
            .await
            .unwrap_or_else(|e| panic!("control round {i}: bob's receipt: {e}"));
            rounds.latencies.push(started.elapsed());
            tokio::time::sleep(pause).await;
        }
        alice.close().await;
        bob.close().await;
        rounds
    })
}
