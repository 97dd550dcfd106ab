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
/// How often a node that lost casts retries telling the others to catch up, and how often the
/// subscription is checked with a PING.
const TICK: Duration = Duration::from_secs(1);
/// How long a PING on the subscription may take before it counts as dead.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// A cast and the node that sent it (a node skips its own).
#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    cast: Cast,
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
    loop {
        let cast = tokio::select! {
            cast = rx.recv() => match cast {
                Some(cast) => Some(cast),
                None => return,
            },
            _ = tick.tick() => None,
        };
        // Once the link works again, everyone catches up on what we could not send.
        if lost.swap(false, Ordering::Relaxed) && !publish(&mut conn, &node, Cast::CatchUp).await {
            lost.store(true, Ordering::Relaxed);
        }
        if let Some(cast) = cast {
            if !publish(&mut conn, &node, cast).await {
                lost.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// True if Redis took the cast.
async fn publish(conn: &mut ConnectionManager, node: &str, cast: Cast) -> bool {
    let envelope = Envelope {
        node: node.to_owned(),
        cast,
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
                                let Ok(envelope) = serde_json::from_slice::<Envelope>(msg.get_payload_bytes()) else {
                                    tracing::warn!("a cast on the bus could not be read");
                                    continue;
                                };
                                if envelope.node != node && out.send(envelope.cast).await.is_err() {
                                    return;
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
