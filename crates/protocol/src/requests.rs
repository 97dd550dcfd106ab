//! Client → relay events. Each is acknowledged with `{ok:true, ...Ack}` or `{ok:false, error}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ack::{Empty, WireError};
use crate::declare::request;
use crate::decode::null_as_default;
use crate::limits::MEMBERS_PAGE_MAX;
use crate::model::{Id, Member, Message, Room, Seq};
use crate::validate;
use crate::{account, admin};
use crate::{Event, Request};

/// `rooms:list` — every room the user is a member of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRooms {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsAck {
    pub rooms: Vec<Room>,
}

/// The ack of every request that answers with one room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAck {
    pub room: Room,
}

/// `room:members` — one page of a room's members, in the order of `Room.members` (usernames
/// ignoring case), those after `after` (a username: the previous page's `next`). Members only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMembers {
    pub room_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// 1 to [`MEMBERS_PAGE_MAX`] (default
    /// [`MEMBERS_PAGE_DEFAULT`](crate::limits::MEMBERS_PAGE_DEFAULT)); others are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersAck {
    pub members: Vec<Member>,
    /// Pass it as `after` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `room:create` — a group room; the creator is always a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRoom {
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub members: Vec<String>,
}

/// `room:invite` — add a user to a group room the sender belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteToRoom {
    pub room_id: Id,
    pub username: String,
}

/// `room:leave` — leave a group room (not `general`, not a DM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveRoom {
    pub room_id: Id,
}

/// `dm:open` — the direct room with one other user; the same room every time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDm {
    pub username: String,
}

/// `room:remove` — the room's creator takes a member out of a group room; like leaving, the
/// removed user cannot be put back by anyone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveFromRoom {
    pub room_id: Id,
    pub username: String,
}

/// `user:block` — the blocked user can no longer put the blocker in a room or open a DM with
/// them. Answers the blocker's whole list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockUser {
    pub username: String,
}

/// `user:unblock` — undoes `user:block`. Answers the blocker's whole list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnblockUser {
    pub username: String,
}

/// `blocks:list` — the users the sender has blocked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListBlocked {}

/// The ack of `user:block`, `user:unblock` and `blocks:list`: usernames, in name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedAck {
    pub blocked: Vec<String>,
}

/// `message:send` — idempotent on (sender, client_id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessage {
    pub room_id: Id,
    pub client_id: String,
    pub body: String,
    /// The id of a message in the same room this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Id>,
    /// Ids of files the sender uploaded (`POST /api/files`), at most
    /// [`MAX_ATTACHMENTS`](crate::limits::MAX_ATTACHMENTS), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Id>,
}

/// `message:edit` — the sender of a message replaces its body. Idempotent on (sender,
/// client_id) like `message:send`; the ack carries the edit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditMessage {
    pub room_id: Id,
    pub client_id: String,
    pub message_id: Id,
    pub body: String,
}

/// `message:delete` — the sender of a message takes it back: its text (and its edits' text)
/// leaves the relay's storage. Idempotent on (sender, client_id); the ack carries the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteMessage {
    pub room_id: Id,
    pub client_id: String,
    pub message_id: Id,
}

/// `reaction` — any member adds (`on`) or takes back one emoji on a message; each user has each
/// emoji at most once on a message. Idempotent on (sender, client_id); the ack carries the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct React {
    pub room_id: Id,
    pub client_id: String,
    pub message_id: Id,
    pub emoji: String,
    pub on: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAck {
    pub message: Message,
}

/// `typing` — ephemeral; relayed to the room, never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetTyping {
    pub room_id: Id,
    pub typing: bool,
}

/// `read` — moves the sender's read position forward (clamped to the room's last seq).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRead {
    pub room_id: Id,
    pub seq: Seq,
}

/// `history` — up to `limit` entries before `before_seq` (newest page when absent), or the
/// oldest `limit` after `after_seq`, oldest first; or, with `around`, the messages around that
/// seq (about half before it, the rest from it on): what a search result opens. At most one of
/// `before_seq`, `after_seq` and `around`. With `messages_only`, change entries are left out
/// and `limit` counts messages (each carries its current state): how a client pages a room it
/// shows; without it, every entry (gap filling).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub room_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_seq: Option<Seq>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<Seq>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub around: Option<Seq>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub messages_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesAck {
    pub messages: Vec<Message>,
}

/// `search` — messages whose current text (never deleted or pre-edit text) contains every
/// whitespace-separated term of `query`, ignoring case, in every room the sender is a member of
/// (or only `room_id`), newest first. `cursor` is a previous page's `next_cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<Id>,
    /// Capped at [`SEARCH_MAX_LIMIT`](crate::limits::SEARCH_MAX_LIMIT) (default
    /// [`SEARCH_DEFAULT_LIMIT`](crate::limits::SEARCH_DEFAULT_LIMIT)) rather than refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchAck {
    /// Newest first (the order the relay committed them), each as it is now.
    pub messages: Vec<Message>,
    /// Opaque: pass it as `cursor` for the next page. Absent when there is no more. A page may
    /// hold fewer than `limit` messages (even none) and still have a next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `sync` — catch-up after a (re)connect: messages after each cursor, paged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sync {
    #[serde(default, deserialize_with = "null_as_default")]
    pub cursors: BTreeMap<Id, Seq>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncAck {
    pub rooms: Vec<Room>,
    /// Ordered by room id, then seq.
    pub messages: Vec<Message>,
    /// Call `sync` again with the advanced cursors when true.
    pub more: bool,
}

request!(ListRooms, "rooms:list", RoomsAck);
request!(CreateRoom, "room:create", RoomAck, |s| {
    validate::room_name(&s.name)?;
    validate::member_list(&s.members)
});
request!(InviteToRoom, "room:invite", RoomAck, |s| {
    validate::id(&s.room_id)?;
    validate::username_shape(&s.username)
});
request!(LeaveRoom, "room:leave", Empty, |s| validate::id(&s.room_id));
request!(OpenDm, "dm:open", RoomAck, |s| validate::username_shape(
    &s.username
));
request!(RemoveFromRoom, "room:remove", RoomAck, |s| {
    validate::id(&s.room_id)?;
    validate::username_shape(&s.username)
});
request!(BlockUser, "user:block", BlockedAck, |s| {
    validate::username_shape(&s.username)
});
request!(UnblockUser, "user:unblock", BlockedAck, |s| {
    validate::username_shape(&s.username)
});
request!(ListBlocked, "blocks:list", BlockedAck);
request!(SendMessage, "message:send", MessageAck, |s| {
    validate::id(&s.room_id)?;
    validate::client_id(&s.client_id)?;
    // A message with files may have no text.
    if s.attachments.is_empty() {
        validate::body(&s.body)?;
    } else {
        validate::caption(&s.body)?;
    }
    validate::attachments(&s.attachments)?;
    s.reply_to.as_deref().map_or(Ok(()), validate::id)
});
request!(EditMessage, "message:edit", MessageAck, |s| {
    validate::id(&s.room_id)?;
    validate::client_id(&s.client_id)?;
    validate::id(&s.message_id)?;
    validate::body(&s.body)
});
request!(DeleteMessage, "message:delete", MessageAck, |s| {
    validate::id(&s.room_id)?;
    validate::client_id(&s.client_id)?;
    validate::id(&s.message_id)
});
request!(React, "reaction", MessageAck, |s| {
    validate::id(&s.room_id)?;
    validate::client_id(&s.client_id)?;
    validate::id(&s.message_id)?;
    validate::emoji(&s.emoji)
});
request!(SetTyping, "typing", Empty, |s| validate::id(&s.room_id));
request!(MarkRead, "read", Empty, |s| {
    validate::id(&s.room_id)?;
    validate::seq(s.seq)
});
request!(History, "history", MessagesAck, |s| {
    validate::id(&s.room_id)?;
    let given = [s.before_seq, s.after_seq, s.around];
    if given.iter().flatten().count() > 1 {
        return Err(WireError::invalid(
            "history takes one of before_seq, after_seq and around",
        ));
    }
    given.into_iter().flatten().try_for_each(validate::seq)
});
request!(Sync, "sync", SyncAck, |s| validate::cursors(&s.cursors));
request!(ListMembers, "room:members", MembersAck, |s| {
    validate::id(&s.room_id)?;
    if let Some(after) = &s.after {
        validate::username(after)
            .map_err(|e| WireError::invalid(format!("after: {}", e.message)))?;
    }
    match s.limit {
        Some(limit) if limit == 0 || limit > MEMBERS_PAGE_MAX => Err(WireError::invalid(format!(
            "limit must be 1 to {MEMBERS_PAGE_MAX}"
        ))),
        _ => Ok(()),
    }
});
request!(Search, "search", SearchAck, |s| {
    validate::search_query(&s.query)?;
    s.room_id.as_deref().map_or(Ok(()), validate::id)?;
    s.cursor.as_deref().map_or(Ok(()), validate::id)
});

/// Every request's name, once: what a relay may count requests by (a client's event name is
/// its own string; anything not listed here is not a request). The admin and self-service
/// requests (`crate::admin`, `crate::account`) follow the chat requests, then those added after
/// them: `search`, `room:members`.
pub const NAMES: [&str; 35] = [
    ListRooms::NAME,
    CreateRoom::NAME,
    InviteToRoom::NAME,
    LeaveRoom::NAME,
    OpenDm::NAME,
    RemoveFromRoom::NAME,
    BlockUser::NAME,
    UnblockUser::NAME,
    ListBlocked::NAME,
    SendMessage::NAME,
    EditMessage::NAME,
    DeleteMessage::NAME,
    React::NAME,
    SetTyping::NAME,
    MarkRead::NAME,
    History::NAME,
    Sync::NAME,
    admin::NAMES[0],
    admin::NAMES[1],
    admin::NAMES[2],
    admin::NAMES[3],
    admin::NAMES[4],
    admin::NAMES[5],
    admin::NAMES[6],
    admin::NAMES[7],
    admin::NAMES[8],
    admin::NAMES[9],
    account::NAMES[0],
    account::NAMES[1],
    account::NAMES[2],
    account::NAMES[3],
    account::NAMES[4],
    account::NAMES[5],
    Search::NAME,
    ListMembers::NAME,
];
