//! Relay → client events. None of them is acknowledged.

use serde::{Deserialize, Serialize};

use crate::model::{Id, Message, Room, Seq};
use crate::requests::SetTyping;
use crate::Event;

/// `message` — a committed message, to everyone in its room (the sender's sockets included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    pub message: Message,
}

/// `typing` — someone started or stopped typing; never sent to the typist's own sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingEvent {
    pub room_id: Id,
    pub user: String,
    pub typing: bool,
}

/// `presence` — a user came online (first socket) or went offline (last socket closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceEvent {
    pub user: String,
    pub online: bool,
    /// RFC 3339 UTC; `null` for a user never seen.
    pub last_seen: Option<String>,
}

/// `receipt` — a member's read position moved forward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptEvent {
    pub room_id: Id,
    pub user: String,
    pub seq: Seq,
}

/// `room` — a room was created or its members changed; sent to each member with their `read_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomEvent {
    pub room: Room,
}

/// `room:removed` — the room's creator removed this user from it; sent to that user's sockets,
/// which no longer get its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRemovedEvent {
    pub room_id: Id,
}

impl Event for MessageEvent {
    const NAME: &'static str = "message";
}
impl Event for TypingEvent {
    // The relay echoes the client's `typing` under the same name.
    const NAME: &'static str = SetTyping::NAME;
}
impl Event for PresenceEvent {
    const NAME: &'static str = "presence";
}
impl Event for ReceiptEvent {
    const NAME: &'static str = "receipt";
}
impl Event for RoomEvent {
    const NAME: &'static str = "room";
}
impl Event for RoomRemovedEvent {
    const NAME: &'static str = "room:removed";
}
