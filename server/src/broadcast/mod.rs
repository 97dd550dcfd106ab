//! The broadcaster: every event the relay sends without being asked — to a room, to a user's
//! sockets, to a session's sockets — leaves through here, and so does every change of which
//! Socket.IO room a socket is in after it connected. This is the one place a relay of several
//! nodes would route through a shared adapter (e.g. Redis). Acks are not broadcasts: they stay
//! with the request handlers.
//!
//! Sockets are put in Socket.IO rooms named by [`rooms`]. A socket with a full buffer misses a
//! live event (logged at debug); it catches up with `sync`.
//!
//! On a relay of several nodes, each act is also handed to the [`Bus`] as a [`Cast`], and every
//! other node does it to its own sockets; committed messages go through each node's [`Feed`],
//! which is also told where each socket joined its rooms (the seq it was synced up to).

pub mod cast;
pub mod feed;
pub mod rooms;

use std::sync::Arc;

use natter_protocol::events::{
    MessageEvent, PresenceEvent, ReceiptEvent, RoomEvent, RoomRemovedEvent, TypingEvent,
};
use natter_protocol::{Event, Message};
use socketioxide::extract::SocketRef;
use socketioxide::operators::BroadcastOperators;
use socketioxide::SocketIo;
use tokio::sync::mpsc;

pub use cast::Cast;
pub use feed::Feed;

use crate::chat::presence::PresenceChange;
use crate::chat::rooms::Membership;
use crate::store::RoomSeq;

/// The other nodes of a relay: what one node's broadcaster does is handed to them. Publishing
/// never waits (a cast that cannot be sent at once is counted as lost, and a loss makes every
/// node catch up from the store).
pub trait Bus: Send + Sync + 'static {
    fn publish(&self, cast: Cast);
}

/// Rooms sockets here joined, each at the seq they were synced up to, waiting for this node's
/// feed; past this, joining sockets wait.
const JOINED_INBOX: usize = 1_024;

/// The bus, if this relay has other nodes, and the way to this node's feed. Kept in the
/// Socket.IO server's state, so every broadcaster made from a handler's `SocketIo` reaches the
/// same nodes and the same feed.
#[derive(Clone, Default)]
pub struct Peers(Option<Arc<Link>>);

struct Link {
    bus: Arc<dyn Bus>,
    /// To [`Broadcaster::committed`]'s feed: rooms sockets here joined (see [`Feed::joined`]).
    joined: mpsc::Sender<Vec<RoomSeq>>,
}

impl Peers {
    /// The peers, and what their feed reads: hand it to [`Broadcaster::committed`].
    pub fn new(bus: Arc<dyn Bus>) -> (Self, mpsc::Receiver<Vec<RoomSeq>>) {
        let (joined, rx) = mpsc::channel(JOINED_INBOX);
        (Self(Some(Arc::new(Link { bus, joined }))), rx)
    }

    pub fn is_alone(&self) -> bool {
        self.0.is_none()
    }

    /// Hands the cast `make` builds to the other nodes; builds nothing when there are none.
    fn publish(&self, make: impl FnOnce() -> Cast) {
        if let Some(link) = &self.0 {
            link.bus.publish(make());
        }
    }

    /// Hands the rooms `make` builds to this node's feed; builds nothing when alone (messages
    /// then reach sockets in commit order, with no feed).
    async fn joined(&self, make: impl FnOnce() -> Vec<RoomSeq>) {
        if let Some(link) = &self.0 {
            if link.joined.send(make()).await.is_err() {
                tracing::debug!("the feed is gone (shutting down)");
            }
        }
    }
}

/// What a node of several hands [`Broadcaster::committed`]: its feed, the other nodes' casts,
/// and the rooms its sockets joined (from [`Peers::new`]).
pub struct FeedInputs {
    pub feed: Feed,
    pub remote: mpsc::Receiver<Cast>,
    pub joined: mpsc::Receiver<Vec<RoomSeq>>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Peers(bus)"
        } else {
            "Peers(none)"
        })
    }
}

/// A cheap handle (the Socket.IO server is reference-counted).
#[derive(Clone, Debug)]
pub struct Broadcaster {
    io: SocketIo,
    peers: Peers,
}

impl Broadcaster {
    pub fn new(io: SocketIo, peers: Peers) -> Self {
        Self { io, peers }
    }

    /// Does another node's cast to this node's sockets (`Committed` and `CatchUp` go to the
    /// feed instead).
    pub async fn apply(&self, cast: &Cast) {
        if let Some(ns) = self.root() {
            cast.apply(ns).await;
        }
    }

    /// The root namespace; `None` once the server is closing. (socketioxide's `io.to()` and
    /// friends panic when the namespace is gone, which disconnect handlers running during
    /// shutdown would hit.)
    fn root(&self) -> Option<BroadcastOperators> {
        self.io.of("/")
    }

    /// Sends every committed message to its room, one at a time in commit order, so each room
    /// sees its messages in seq order. Ends when the commit stage stops. With other nodes, each
    /// message also goes to them and reaches this node's sockets through the feed, together
    /// with theirs (`remote`); the feed is told where sockets here joined rooms (`joined`).
    pub async fn committed(self, committed: mpsc::Receiver<Message>, feed: Option<FeedInputs>) {
        match feed {
            None => self.committed_alone(committed).await,
            Some(inputs) => self.committed_with_peers(committed, inputs).await,
        }
    }

    async fn committed_with_peers(
        self,
        mut committed: mpsc::Receiver<Message>,
        inputs: FeedInputs,
    ) {
        let FeedInputs {
            mut feed,
            mut remote,
            mut joined,
        } = inputs;
        loop {
            let due = feed.due();
            tokio::select! {
                () = sleep_until(due) => feed.fill_due().await,
                own = committed.recv() => {
                    let Some(message) = own else { return };
                    self.peers.publish(|| Cast::Committed { message: message.clone() });
                    feed.deliver(message).await;
                }
                Some(rooms) = joined.recv() => {
                    for room in rooms {
                        feed.joined(&room.room_id, room.last_seq).await;
                    }
                }
                Some(cast) = remote.recv() => match cast {
                    Cast::Committed { message } => feed.deliver(message).await,
                    Cast::CatchUp => feed.catch_up().await,
                    other => {
                        self.apply(&other).await;
                        if let Cast::Join { room, since: Some(seq), .. } = &other {
                            if let Some(room_id) = rooms::chat_of(room) {
                                feed.joined(room_id, *seq).await;
                            }
                        }
                    }
                },
            }
        }
    }

    async fn committed_alone(self, mut committed: mpsc::Receiver<Message>) {
        while let Some(message) = committed.recv().await {
            let room = rooms::chat(&message.room_id);
            let Some(ns) = self.root() else {
                return; // shutting down
            };
            let event = MessageEvent { message };
            if let Err(e) = ns.to(room).emit(MessageEvent::NAME, &event).await {
                tracing::debug!(error = %e, "message broadcast incomplete");
            }
        }
    }

    /// To the room, except the typist's own sockets.
    pub async fn typing(&self, user_id: &str, event: &TypingEvent) {
        let (room, except) = (rooms::chat(&event.room_id), rooms::user(user_id));
        self.emit(vec![room], Some(except), event).await;
    }

    /// To the whole room, the reader's own sockets included (their other devices).
    pub async fn receipt(&self, event: &ReceiptEvent) {
        self.emit(vec![rooms::chat(&event.room_id)], None, event)
            .await;
    }

    /// Presence goes to everyone in the user's rooms, never to the user.
    pub async fn presence(&self, change: &PresenceChange) {
        if change.room_ids.is_empty() {
            return;
        }
        let chat_rooms: Vec<String> = change.room_ids.iter().map(|id| rooms::chat(id)).collect();
        let except = Some(rooms::user(&change.user_id));
        self.emit(chat_rooms, except, &change.event).await;
    }

    /// Sockets here joined these rooms (at their connect) synced up to each one's seq: with
    /// other nodes, this node's feed owes them what comes above it. Nothing when alone.
    pub async fn joined(&self, rooms: Vec<RoomSeq>) {
        self.peers.joined(|| rooms).await;
    }

    /// Carries out a change of membership: sockets join and leave (on every node), then each
    /// user told gets the room as they see it. With other nodes, each node's feed owes the
    /// joining sockets what comes above the room's last seq they are told.
    pub async fn membership(&self, change: Membership) {
        let room = rooms::chat(&change.room_id);
        let since = change.tell.iter().map(|(_, r)| r.last_seq).min();
        for user_id in &change.join {
            let within = rooms::user(user_id);
            self.act(Cast::Join {
                within,
                room: room.clone(),
                since,
            })
            .await;
        }
        if let Some(last_seq) = since.filter(|_| !change.join.is_empty()) {
            let room_id = change.room_id.clone();
            self.peers
                .joined(|| vec![RoomSeq { room_id, last_seq }])
                .await;
        }
        for user_id in &change.leave {
            let within = rooms::user(user_id);
            self.act(Cast::Leave {
                within,
                room: room.clone(),
            })
            .await;
        }
        for (user_id, room) in change.tell {
            let event = RoomEvent { room };
            self.emit(vec![rooms::user(&user_id)], None, &event).await;
        }
        for user_id in &change.removed {
            let event = RoomRemovedEvent {
                room_id: change.room_id.clone(),
            };
            self.emit(vec![rooms::user(user_id)], None, &event).await;
        }
        for note in change.presence {
            self.emit(vec![rooms::user(&note.to)], None, &note.event)
                .await;
        }
    }

    /// Disconnects every socket opened with one session token (logout), on every node.
    pub async fn disconnect_session(&self, session_id: &str) {
        let within = rooms::session(session_id);
        self.act(Cast::Disconnect { within }).await;
    }

    /// Every socket of these sessions (ended by an account change), on every node.
    pub async fn disconnect_sessions(&self, session_ids: &[String]) {
        for id in session_ids {
            self.disconnect_session(id).await;
        }
    }

    /// Every socket of a user (disabled or deleted), on every node.
    pub async fn disconnect_user(&self, user_id: &str) {
        let within = rooms::user(user_id);
        self.act(Cast::Disconnect { within }).await;
    }

    /// At shutdown: a Socket.IO DISCONNECT to every socket tells clients to reconnect now,
    /// where a bare transport close leaves some (rust_socketio) to notice only at their next
    /// send.
    pub async fn goodbye(&self) {
        let Some(ns) = self.root() else {
            return;
        };
        if let Err(e) = ns.disconnect().await {
            tracing::debug!(error = %e, "could not say goodbye to every socket");
        }
    }

    /// Sends a new socket the presence of the users it is shown (see
    /// `Chat::presence_snapshot`), before any live event can overtake it.
    pub fn presence_snapshot(s: &SocketRef, snapshot: &[PresenceEvent]) {
        for event in snapshot {
            if s.emit(PresenceEvent::NAME, event).is_err() {
                break;
            }
        }
    }

    /// Has every other node catch up from the store (this node's feed is the caller's).
    #[cfg(feature = "redis")]
    pub fn catch_up_everywhere(&self) {
        self.peers.publish(|| Cast::CatchUp);
    }

    /// Joins, leaves and disconnects: done here, then by every other node.
    async fn act(&self, cast: Cast) {
        self.apply(&cast).await;
        self.peers.publish(|| cast);
    }

    /// An event to `to` less `except`: sent here as it is, then to the other nodes as JSON.
    async fn emit<E: Event>(&self, to: Vec<String>, except: Option<String>, event: &E) {
        let Some(ns) = self.root() else {
            return;
        };
        let mut op = ns.to(to.clone());
        if let Some(except) = &except {
            op = op.except(except.clone());
        }
        if let Err(e) = op.emit(E::NAME, event).await {
            tracing::debug!(event = E::NAME, error = %e, "broadcast incomplete");
        }
        if self.peers.is_alone() {
            return;
        }
        match serde_json::to_value(event) {
            Ok(data) => self.peers.publish(|| Cast::Emit {
                to,
                except,
                event: E::NAME.to_owned(),
                data,
            }),
            Err(e) => tracing::warn!(event = E::NAME, error = %e, "could not encode for the bus"),
        }
    }
}

/// Sleeps until `at`; with none, never wakes (a branch of a `select!` that stays off).
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
