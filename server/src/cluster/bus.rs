//! The bus through Redis pub/sub: each node publishes its casts on one channel and does the
//! others' to its own sockets. Redis delivers at most once and forgets while a subscriber is
//! away, so a node that may have missed casts (its subscription dropped, or a publish failed
//! anywhere) has every node catch up from the store ([`Cast::CatchUp`]). So does a node that
//! starts: if it was killed between a commit and that commit's publish, the cast died with it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::broadcast::{Bus, Cast};

/// The one pub/sub channel of a relay's nodes.
const CHANNEL: &str = "natter:casts";
/// Casts waiting to be published; past this a cast is lost (and a catch-up follows).
const OUTBOX: usize = 65_536;
/// Casts published as one message at most: what queued during one publish goes in the next,
/// so a busy node makes one Redis round trip per batch instead of one per cast.
const BATCH: usize = 256;
/// How often a node that lost casts retries telling the others to catch up, and how often the
/// subscription is checked with a PING.
const TICK: Duration = Duration::from_secs(1);
/// How long a PING on the subscription may take before it counts as dead.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Casts, in the order they were made, and the node that sent them (a node skips its own).
#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    casts: Vec<Cast>,
}

/// This node's side of the bus: [`Bus::publish`] queues, a task publishes.
pub struct RedisBus {
    queue: mpsc::Sender<Cast>,
    lost: Arc<AtomicBool>,
}

impl Bus for RedisBus {
    fn publish(&self, cast: Cast) {
        if self.queue.try_send(cast).is_err() {
            self.lost.store(true, Ordering::Relaxed);
        }
    }
}

impl RedisBus {
    /// The bus and its publishing task's future. It starts "lost": the first thing it
    /// publishes is a catch-up (a previous run of this node may have died with casts unsent).
    pub fn new(
        conn: ConnectionManager,
        node: String,
    ) -> (Self, impl std::future::Future<Output = ()>) {
        let (queue, rx) = mpsc::channel(OUTBOX);
        let lost = Arc::new(AtomicBool::new(true));
        let task = publish_all(conn, node, rx, lost.clone());
        (Self { queue, lost }, task)
    }
}

async fn publish_all(
    mut conn: ConnectionManager,
    node: String,
    mut rx: mpsc::Receiver<Cast>,
    lost: Arc<AtomicBool>,
) {
    let mut tick = tokio::time::interval(TICK);
    let mut casts = Vec::new();
    loop {
        tokio::select! {
            n = rx.recv_many(&mut casts, BATCH) => if n == 0 {
                return;
            },
            _ = tick.tick() => {}
        }
        // Once the link works again, everyone catches up on what we could not send.
        if lost.swap(false, Ordering::Relaxed) {
            casts.insert(0, Cast::CatchUp);
        }
        if !casts.is_empty() && !publish(&mut conn, &node, std::mem::take(&mut casts)).await {
            lost.store(true, Ordering::Relaxed);
        }
    }
}

/// True if Redis took the casts.
async fn publish(conn: &mut ConnectionManager, node: &str, casts: Vec<Cast>) -> bool {
    let envelope = Envelope {
        node: node.to_owned(),
        casts,
    };
    let payload = match serde_json::to_vec(&envelope) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(error = %e, "could not encode a cast");
            return true; // nothing to retry
        }
    };
    let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
        .arg(CHANNEL)
        .arg(payload)
        .query_async(conn)
        .await;
    if let Err(e) = &sent {
        tracing::warn!(error = %e, "could not publish to the other nodes");
    }
    sent.is_ok()
}

/// Hands every other node's cast to `out`, in the order Redis delivers them, for as long as
/// `out` is open. Each time it subscribes (again, after a lost subscription) it hands `out` a
/// [`Cast::CatchUp`] first: what was published meanwhile is gone.
pub async fn subscribe(client: redis::Client, node: String, out: mpsc::Sender<Cast>) {
    let mut tick = tokio::time::interval(TICK);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                Ok(()) => {
                    tracing::info!("subscribed to the other nodes");
                    if out.send(Cast::CatchUp).await.is_err() {
                        return;
                    }
                    let (mut sink, mut stream) = pubsub.split();
                    loop {
                        tokio::select! {
                            msg = stream.next() => {
                                let Some(msg) = msg else { break };
                                let casts = read(msg.get_payload_bytes(), &node);
                                for cast in casts {
                                    if out.send(cast).await.is_err() {
                                        return;
                                    }
                                }
                            }
                            _ = tick.tick() => {
                                let pong = tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await;
                                if !matches!(pong, Ok(Ok(_))) {
                                    break;
                                }
                            }
                        }
                    }
                    tracing::warn!("lost the subscription to the other nodes; subscribing again");
                }
                Err(e) => tracing::warn!(error = %e, "could not subscribe to the other nodes"),
            },
            Err(e) => tracing::warn!(error = %e, "could not reach Redis to subscribe"),
        }
        if out.is_closed() {
            return;
        }
        tick.tick().await;
    }
}

/// The casts of another node in `payload`; none of this node's own. Unreadable (e.g. from a
/// node of another version), it is a [`Cast::CatchUp`]: what it said is missed, so this node's
/// sockets catch up from the store.
fn read(payload: &[u8], node: &str) -> Vec<Cast> {
    match serde_json::from_slice::<Envelope>(payload) {
        Ok(envelope) if envelope.node == node => Vec::new(),
        Ok(envelope) => envelope.casts,
        Err(e) => {
            tracing::warn!(error = %e, "casts on the bus could not be read; catching up");
            vec![Cast::CatchUp]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leave(room: &str) -> Cast {
        Cast::Leave {
            within: "u:ann".into(),
            room: room.into(),
        }
    }

    #[test]
    fn a_batch_of_another_nodes_casts_is_read_in_order_and_ones_own_skipped() {
        let envelope = Envelope {
            node: "b".into(),
            casts: vec![leave("r:1"), Cast::CatchUp, leave("r:2")],
        };
        let payload = serde_json::to_vec(&envelope).expect("encodes");
        assert_eq!(read(&payload, "a"), envelope.casts);
        assert_eq!(read(&payload, "b"), Vec::<Cast>::new());
    }

    #[test]
    fn an_unreadable_message_on_the_bus_is_a_catch_up() {
        let old_shape = br#"{"node":"b","cast":{"op":"catch_up"}}"#;
        assert_eq!(read(old_shape, "a"), vec![Cast::CatchUp]);
        assert_eq!(read(b"not json", "a"), vec![Cast::CatchUp]);
    }
}
