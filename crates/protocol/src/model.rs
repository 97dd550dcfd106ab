//! The shared nouns: users, rooms and messages as they appear on the wire.

use serde::{Deserialize, Serialize};

/// Opaque id of a user, room or message.
pub type Id = String;
/// Position of a message in its room: 1, 2, 3, … without gaps.
pub type Seq = i64;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub username: String,
    /// The name the user chose to be shown beside their username (`account:display_name`);
    /// left out when they have none. Checked by [`crate::validate::display_name`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
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
    /// Usernames, sorted case-insensitively: every member while the room has at most
    /// [`MEMBERS_INLINE_MAX`](crate::limits::MEMBERS_INLINE_MAX) of them (direct rooms, small
    /// groups), none (`[]`) above it, so a room stays a small object whatever its size; a
    /// client pages a big room's members with `room:members`.
    pub members: Vec<String>,
    /// How many members the room has. Absent from relays before it (read as 0): use
    /// [`Room::member_total`].
    #[serde(default)]
    pub member_count: u32,
    pub last_seq: Seq,
    pub read_seq: Seq,
    /// The furthest read position of any other member (0: none has read anything): what shows
    /// "read" on this member's own messages, from the relay, so it survives a new sign-in.
    /// Absent from relays before it (read as 0).
    #[serde(default)]
    pub others_read_seq: Seq,
    /// Messages from others past `read_seq` (change entries are not news), counted up to
    /// [`UNREAD_MAX`](crate::limits::UNREAD_MAX). Absent from relays before it: a client then
    /// counts what it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<u32>,
}

impl Room {
    /// The room's number of members, also from a relay that sends no `member_count` (which
    /// always listed every member).
    pub fn member_total(&self) -> u32 {
        if self.member_count == 0 {
            u32::try_from(self.members.len()).unwrap_or(u32::MAX)
        } else {
            self.member_count
        }
    }

    /// Whether `members` lists every member (false: page them with `room:members`).
    pub fn members_complete(&self) -> bool {
        self.member_total() as usize <= self.members.len()
    }
}

/// One member as `room:members` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub username: String,
    /// Left out when they have none (see [`User::display_name`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// Whether they are online now; only in rooms whose members are told each other's
    /// presence (not `general`), left out elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
}

/// One entry of a room: a message, or a change to one (`change`). Every entry takes the room's
/// next `seq`, so `sync`, `history` and the live `message` event carry changes with no other
/// mechanism. A plain message serializes exactly as before the changes existed: every field
/// below `sent_at` is left out when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: Id,
    pub room_id: Id,
    pub seq: Seq,
    /// The sender's username.
    pub sender: String,
    /// The text. For a change entry, a plain-text line for clients that know only messages
    /// ("✎ new text", "deleted a message", "reacted 👍"); clients that know `change` ignore it.
    pub body: String,
    pub client_id: String,
    /// RFC 3339, UTC.
    pub sent_at: String,
    /// Set on change entries only: what they change. (Boxed, like `reply_to`: most entries are
    /// plain messages, and a message travels inside every event enum.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Box<Change>>,
    /// The message this one answers, as it is now (so it renders without fetching it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Box<ReplyPreview>>,
    /// When the body was last edited (RFC 3339, UTC); `body` is the edited text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// Taken back by its sender: `body` is empty and the relay keeps no text of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Reactions, each emoji with who reacted, in the order each emoji first appeared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Members of the room the body mentions (`@name`, see [`crate::mentions`]), as they spell
    /// their usernames; worked out by the relay when the message was sent or last edited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// The files sent with the message, in the order the sender named them (none on a deleted
    /// message: its files go with its text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// What a change entry does to the message `target` (in the same room). Applying a room's
/// entries in seq order always ends at the message's current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The target's body is now `body` (an edit of a message deleted since carries "").
    Edit { target: Id, body: String },
    /// The target was deleted: its text is gone.
    Delete { target: Id },
    /// The entry's sender added (`on`) or took back their `emoji` on the target.
    Reaction { target: Id, emoji: String, on: bool },
    /// A kind this client does not know (from a newer relay): skip the entry.
    #[serde(other)]
    Unknown,
}

impl Change {
    /// The message the change applies to (`None` for [`Change::Unknown`]).
    pub fn target(&self) -> Option<&str> {
        match self {
            Self::Edit { target, .. } | Self::Delete { target } | Self::Reaction { target, .. } => {
                Some(target)
            }
            Self::Unknown => None,
        }
    }
}

/// A reply's target as it is now: who wrote it and how it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPreview {
    pub id: Id,
    /// The target's seq in the room, so a client can page it in to jump there. Absent from
    /// relays before it (read as 0: the client then finds the target by `id` among what it holds).
    #[serde(default)]
    pub seq: Seq,
    pub sender: String,
    /// The target's first [`REPLY_EXCERPT_CHARS`](crate::limits::REPLY_EXCERPT_CHARS)
    /// characters; "" once it is deleted.
    pub excerpt: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// One emoji on a message and who put it there (usernames, in the order they reacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<String>,
}

/// A file as a message carries it, and as `POST /api/files` answers it. `type` is sniffed from
/// the bytes for images (png, jpeg, gif, webp), which alone come with `width` and `height`;
/// for anything else it is the uploader's claim, which nobody should trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Random, not the content hash: knowing a file's bytes does not give its id.
    pub id: Id,
    pub name: String,
    /// Bytes.
    pub size: u64,
    #[serde(rename = "type")]
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}
