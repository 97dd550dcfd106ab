//! The shared nouns: users, rooms and messages as they appear on the wire.

use serde::{Deserialize, Serialize};

/// Opaque id of a user, room or message.
pub type Id = String;
/// Position of a message in its room: 1, 2, 3, … without gaps.
pub type Seq = i64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub username: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    Group,
    Direct,
}

impl RoomKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::Direct => "direct",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "group" => Some(Self::Group),
            "direct" => Some(Self::Direct),
            _ => None,
        }
    }
}

/// A room as one member sees it: `read_seq` is that member's read position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub id: Id,
    pub name: String,
    pub kind: RoomKind,
    /// Usernames, sorted case-insensitively.
    pub members: Vec<String>,
    pub last_seq: Seq,
    pub read_seq: Seq,
    /// The furthest read position of any other member (0: none has read anything): what shows
    /// "read" on this member's own messages, from the relay, so it survives a new sign-in.
    /// Absent from relays before it (read as 0).
    #[serde(default)]
    pub others_read_seq: Seq,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: Id,
    pub room_id: Id,
    pub seq: Seq,
    /// The sender's username.
    pub sender: String,
    pub body: String,
    pub client_id: String,
    /// RFC 3339, UTC.
    pub sent_at: String,
}
