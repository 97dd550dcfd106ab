//! One relay node alone, or one of several on one database that share live events, presence
//! and per-user rate limits through Redis (`--redis-url`, cargo feature `redis`). What the
//! other nodes must do travels as [`Cast`](crate::broadcast::Cast)s on the bus; the store
//! stays the one source of truth, so a lost cast costs a catch-up from it, never a message.

#[cfg(feature = "redis")]
mod breaker;
#[cfg(feature = "redis")]
mod bus;
#[cfg(feature = "redis")]
mod presence;
#[cfg(feature = "redis")]
mod quota;

use std::sync::Arc;

use socketioxide::SocketIo;
#[cfg(feature = "redis")]
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::broadcast::{Broadcaster, FeedInputs, Peers};
#[cfg(feature = "redis")]
use crate::broadcast::{Cast, Feed};
use crate::chat::Chat;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::presence::{LocalPresence, Presence};
use crate::ratelimit::Limits;
#[cfg(feature = "redis")]
use crate::store::RoomSeq;
use crate::store::Store;

/// Casts from the other nodes waiting for this node's broadcaster.
#[cfg(feature = "redis")]
const INBOX: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("--redis-url needs a relay built with the cargo feature `redis`")]
    NotBuilt,
    #[error("cannot reach Redis: {0}")]
    Redis(String),
}

/// This node's place among the relay's nodes.
pub struct Cluster {
    presence: Arc<dyn Presence>,
    peers: Peers,
    #[cfg(feature = "redis")]
    redis: Option<Redis>,
}

#[cfg(feature = "redis")]
struct Redis {
    client: ::redis::Client,
    node: String,
    bus_task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    /// Where this node's sockets joined rooms, for the feed (see [`Peers::new`]).
    joined: mpsc::Receiver<Vec<RoomSeq>>,
    presence: presence::RedisPresence,
    quota: quota::RedisQuota,
}

/// The tasks a node of several runs, and what its broadcaster reads.
pub struct Running {
    /// What `Broadcaster::committed` reads besides the commits; `None` when alone.
    pub feed: Option<FeedInputs>,
    tasks: Vec<JoinHandle<()>>,
    #[cfg(feature = "redis")]
    presence: Option<presence::RedisPresence>,
}

impl Cluster {
    /// Alone without `--redis-url`; with it, connected to Redis (a start fails if it cannot be
    /// reached: a misconfigured node must not run alone beside the others).
    pub async fn open(config: &Config) -> Result<Self, ClusterError> {
        let Some(url) = &config.redis_url else {
            return Ok(Self::alone());
        };
        Self::with_redis(url).await
    }

    fn alone() -> Self {
        Self {
            presence: Arc::new(LocalPresence::default()),
            peers: Peers::default(),
            #[cfg(feature = "redis")]
            redis: None,
        }
    }

    #[cfg(not(feature = "redis"))]
    async fn with_redis(_url: &str) -> Result<Self, ClusterError> {
        Err(ClusterError::NotBuilt)
    }

    #[cfg(feature = "redis")]
    async fn with_redis(url: &str) -> Result<Self, ClusterError> {
        let failed = |e: ::redis::RedisError| ClusterError::Redis(e.to_string());
        let client = ::redis::Client::open(url).map_err(failed)?;
        let config = ::redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(3)))
            .set_response_timeout(Some(std::time::Duration::from_secs(3)))
            .set_max_delay(std::time::Duration::from_secs(1));
        let conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(failed)?;
        let node = uuid::Uuid::new_v4().simple().to_string();
        tracing::info!(%node, "this relay node shares live events through Redis");
        let (bus, bus_task) = bus::RedisBus::new(conn.clone(), node.clone());
        let presence = presence::RedisPresence::new(conn.clone(), node.clone());
        let (peers, joined) = Peers::new(Arc::new(bus));
        Ok(Self {
            presence: Arc::new(presence.clone()),
            peers,
            redis: Some(Redis {
                client,
                node,
                bus_task: Box::pin(bus_task),
                joined,
                presence,
                quota: quota::RedisQuota::new(conn),
            }),
        })
    }

    pub fn presence(&self) -> Arc<dyn Presence> {
        self.presence.clone()
    }

    pub fn peers(&self) -> Peers {
        self.peers.clone()
    }

    /// `limits`, counted across the nodes when there are several.
    pub fn limits(&self, limits: Limits) -> Limits {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            return limits.shared(Arc::new(redis.quota.clone()));
        }
        limits
    }

    /// Starts what a node of several runs: publishing, the subscription, and presence's
    /// heartbeat and reaping (a dead node's users told "offline" by `chat`). Nothing alone.
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    pub fn start(
        self,
        io: &SocketIo,
        store: Arc<dyn Store>,
        chat: Chat,
        broadcaster: Broadcaster,
        metrics: Metrics,
    ) -> Running {
        #[cfg(feature = "redis")]
        if let Some(redis) = self.redis {
            let (inbox, remote) = mpsc::channel(INBOX);
            let own_feed = inbox.clone();
            let (gone_tx, mut gone) = mpsc::channel::<presence::Reaped>(1_024);
            let tasks = vec![
                tokio::spawn(redis.bus_task),
                tokio::spawn(bus::subscribe(redis.client, redis.node, inbox)),
                tokio::spawn(redis.presence.clone().keep_alive(gone_tx)),
                tokio::spawn(async move {
                    while let Some(reaped) = gone.recv().await {
                        match reaped {
                            presence::Reaped::Offline(user_id) => {
                                if let Some(offline) = chat.gone_with_node(&user_id).await {
                                    broadcaster.presence(&offline).await;
                                }
                            }
                            // A node killed between a commit and its publish took the cast
                            // with it: every node, this one too, catches up from the store,
                            // so the message arrives within the reaping bound even if that
                            // node never comes back.
                            presence::Reaped::NodeDied => {
                                broadcaster.catch_up_everywhere();
                                if own_feed.send(Cast::CatchUp).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }),
            ];
            return Running {
                feed: Some(FeedInputs {
                    feed: Feed::new(io.clone(), store, metrics),
                    remote,
                    joined: redis.joined,
                }),
                tasks,
                presence: Some(redis.presence),
            };
        }
        Running {
            feed: None,
            tasks: Vec::new(),
            #[cfg(feature = "redis")]
            presence: None,
        }
    }
}

impl Running {
    /// At shutdown, after the sockets are gone: the tasks stop and this node leaves the others.
    pub async fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
        #[cfg(feature = "redis")]
        if let Some(presence) = self.presence {
            presence.leave().await;
        }
    }
}
