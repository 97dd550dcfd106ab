//! The broadcaster: every event the relay sends without being asked — to a room, to a user's
//! sockets, to a session's sockets — leaves through here, and so does every change of which
//! Socket.IO room a socket is in after it connected. This is the one place a relay of several
//! nodes would route through a shared adapter (e.g. Redis). Acks are not broadcasts: they stay
//! with the request handlers.
//!
//! Sockets are put in Socket.IO rooms named by [`rooms`]. A socket with a full buffer misses a
//! live event (logged at debug); it catches up with `sync`.

pub mod rooms;

use natter_protocol::events::{
    MessageEvent, PresenceEvent, ReceiptEvent, RoomEvent, RoomRemovedEvent, TypingEvent,
};
use natter_protocol::{Event, Message};
use socketioxide::extract::SocketRef;
use socketioxide::operators::BroadcastOperators;
use socketioxide::SocketIo;
use tokio::sync::mpsc;

use crate::chat::presence::PresenceChange;
use crate::chat::rooms::Membership;

/// A cheap handle (the Socket.IO server is reference-counted).
#[derive(Clone, Debug)]
pub struct Broadcaster {
    io: SocketIo,
}

impl Broadcaster {
    pub fn new(io: SocketIo) -> Self {
        Self { io }
    }

    /// The root namespace; `None` once the server is closing. (socketioxide's `io.to()` and
    /// friends panic when the namespace is gone, which disconnect handlers running during
    /// shutdown would hit.)
    fn root(&self) -> Option<BroadcastOperators> {
        self.io.of("/")
    }

    /// Sends every committed message to its room, one at a time in commit order, so each room
    /// sees its messages in seq order. Ends when the commit stage stops.
    pub async fn committed(self, mut committed: mpsc::Receiver<Message>) {
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
        self.emit(room, Some(except), event).await;
    }

    /// To the whole room, the reader's own sockets included (their other devices).
    pub async fn receipt(&self, event: &ReceiptEvent) {
        self.emit(rooms::chat(&event.room_id), None, event).await;
    }

    /// Presence goes to everyone in the user's rooms, never to the user.
    pub async fn presence(&self, change: &PresenceChange) {
        if change.room_ids.is_empty() {
            return;
        }
        let chat_rooms: Vec<String> = change.room_ids.iter().map(|id| rooms::chat(id)).collect();
        let Some(ns) = self.root() else {
            return;
        };
        let sent = ns
            .to(chat_rooms)
            .except(rooms::user(&change.user_id))
            .emit(PresenceEvent::NAME, &change.event)
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "presence broadcast incomplete");
        }
    }

    /// Carries out a change of membership: sockets join and leave (on every node), then each
    /// user told gets the room as they see it.
    pub async fn membership(&self, change: Membership) {
        let Some(ns) = self.root() else {
            return;
        };
        let room = rooms::chat(&change.room_id);
        for user_id in &change.join {
            let joined = ns.clone().within(rooms::user(user_id)).join(room.clone());
            if let Err(e) = joined.await {
                tracing::warn!(error = %e, "could not join sockets to a room");
            }
        }
        for user_id in &change.leave {
            let left = ns.clone().within(rooms::user(user_id)).leave(room.clone());
            if let Err(e) = left.await {
                tracing::warn!(error = %e, "could not remove sockets from a room");
            }
        }
        for (user_id, room) in change.tell {
            let event = RoomEvent { room };
            self.emit(rooms::user(&user_id), None, &event).await;
        }
        for user_id in &change.removed {
            let event = RoomRemovedEvent {
                room_id: change.room_id.clone(),
            };
            self.emit(rooms::user(user_id), None, &event).await;
        }
        for note in change.presence {
            self.emit(rooms::user(&note.to), None, &note.event).await;
        }
    }

    /// Disconnects every socket opened with one session token (logout), on every node.
    pub async fn disconnect_session(&self, session_id: &str) {
        let Some(ns) = self.root() else {
            return;
        };
        if let Err(e) = ns.within(rooms::session(session_id)).disconnect().await {
            tracing::warn!(error = %e, "logout: could not disconnect every socket");
        }
    }

    /// Every socket of these sessions (ended by an account change), on every node.
    pub async fn disconnect_sessions(&self, session_ids: &[String]) {
        for id in session_ids {
            self.disconnect_session(id).await;
        }
    }

    /// Every socket of a user (disabled or deleted), on every node.
    pub async fn disconnect_user(&self, user_id: &str) {
        let Some(ns) = self.root() else {
            return;
        };
        if let Err(e) = ns.within(rooms::user(user_id)).disconnect().await {
            tracing::warn!(error = %e, "could not disconnect every socket of a user");
        }
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

    async fn emit<E: Event>(&self, to: String, except: Option<String>, event: &E) {
        let Some(ns) = self.root() else {
            return;
        };
        let mut to = ns.to(to);
        if let Some(except) = except {
            to = to.except(except);
        }
        if let Err(e) = to.emit(E::NAME, event).await {
            tracing::debug!(event = E::NAME, error = %e, "broadcast incomplete");
        }
    }
}
