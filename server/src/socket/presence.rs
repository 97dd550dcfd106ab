//! Presence: online while a user has at least one socket; announced to everyone who shares a
//! room with them, never to themselves. Never stored, except `last_seen` at going offline.

use std::collections::BTreeSet;

use natter_protocol::events::PresenceEvent;
use natter_protocol::{Event, User, GENERAL_ROOM_ID};
use socketioxide::extract::SocketRef;
use socketioxide::SocketIo;

use super::{rooms, Session};

/// A Socket.IO room name, as socketioxide hands it out.
type Room = std::borrow::Cow<'static, str>;

/// Most `presence` events a new socket is sent about who is already online.
const SNAPSHOT_MAX: usize = 256;

/// Sockets of `user` other than `s`, on every relay node the adapter reaches.
pub(super) async fn other_sockets(io: &SocketIo, s: &SocketRef, user: &User) -> usize {
    match io.within(rooms::user(&user.id)).fetch_sockets().await {
        Ok(sockets) => sockets.iter().filter(|r| r.data().id != s.id).count(),
        Err(e) => {
            tracing::warn!(error = %e, "presence: could not count sockets");
            1 // unknown: say nothing rather than something false
        }
    }
}

/// The chat rooms a socket is in. Read it before any await in a disconnect handler: a second
/// close (Socket.IO disconnect, then transport close) can empty the socket's rooms meanwhile.
pub(super) fn chat_rooms(s: &SocketRef) -> Vec<Room> {
    s.rooms()
        .into_iter()
        .filter(|r| rooms::is_chat(r))
        .collect()
}

/// Tells everyone in `chat_rooms` except `user` (never `user` themselves).
pub(super) async fn announce(
    io: &SocketIo,
    chat_rooms: Vec<Room>,
    user: &User,
    online: bool,
    last_seen: Option<String>,
) {
    if chat_rooms.is_empty() {
        return;
    }
    let event = PresenceEvent {
        user: user.username.clone(),
        online,
        last_seen,
    };
    let sent = io
        .to(chat_rooms)
        .except(rooms::user(&user.id))
        .emit(PresenceEvent::NAME, &event)
        .await;
    if let Err(e) = sent {
        tracing::debug!(error = %e, "presence broadcast incomplete");
    }
}

/// Sends a new socket one `presence` (online) per user already online who shares a room with
/// it other than `general` (DM peers and group members; `general` can be everyone, so it is
/// left to live events). Bounded by [`SNAPSHOT_MAX`]. Counts sockets on this node only.
pub(super) fn snapshot(s: &SocketRef, me: &User) {
    let general = rooms::chat(GENERAL_ROOM_ID);
    let chat_rooms: Vec<_> = s
        .rooms()
        .into_iter()
        .filter(|r| rooms::is_chat(r) && *r != general)
        .collect();
    if chat_rooms.is_empty() {
        return;
    }
    let mut online = BTreeSet::new();
    for peer in s.within(chat_rooms).sockets() {
        if let Some(session) = peer.extensions.get::<Session>() {
            if session.user.id != me.id {
                online.insert(session.user.username.clone());
            }
        }
        if online.len() >= SNAPSHOT_MAX {
            break;
        }
    }
    let now = crate::time::now_rfc3339();
    for user in online {
        let event = PresenceEvent {
            user,
            online: true,
            last_seen: Some(now.clone()),
        };
        if s.emit(PresenceEvent::NAME, &event).is_err() {
            break;
        }
    }
}
