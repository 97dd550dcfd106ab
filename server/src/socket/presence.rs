//! Presence: online while a user has at least one socket; announced to everyone who shares a
//! room with them, never to themselves. Never stored, except `last_seen` at going offline.
//! Counted per relay node; several nodes would need the count in the shared adapter or store.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use natter_protocol::events::PresenceEvent;
use natter_protocol::{Event, User, GENERAL_ROOM_ID};
use socketioxide::extract::SocketRef;
use socketioxide::socket::Sid;
use socketioxide::SocketIo;

use super::{rooms, Session};

/// Most `presence` events a new socket is sent about who is already online.
const SNAPSHOT_MAX: usize = 256;

/// Which sockets each user has open on this node. A mutex-guarded set per user makes "first
/// socket" and "last socket" exact even when sockets of one user come and go at once.
#[derive(Clone, Debug, Default)]
pub struct Presence {
    sockets: Arc<Mutex<HashMap<String, HashSet<Sid>>>>,
}

impl Presence {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<Sid>>> {
        // The map stays consistent even if a holder panicked: every update is one insert/remove.
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a socket; true if it is the user's first.
    pub fn add(&self, user_id: &str, sid: Sid) -> bool {
        let mut map = self.lock();
        let set = map.entry(user_id.to_owned()).or_default();
        set.insert(sid) && set.len() == 1
    }

    /// Forgets a socket; true if it was the user's last.
    pub fn remove(&self, user_id: &str, sid: Sid) -> bool {
        let mut map = self.lock();
        let Some(set) = map.get_mut(user_id) else {
            return false;
        };
        if !set.remove(&sid) || !set.is_empty() {
            return false;
        }
        map.remove(user_id);
        true
    }

    pub fn is_online(&self, user_id: &str) -> bool {
        self.lock().contains_key(user_id)
    }
}

/// Tells everyone in `chat_rooms` except `user` (never `user` themselves).
pub(super) async fn announce(
    io: &SocketIo,
    chat_rooms: Vec<String>,
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
    let Some(ns) = super::root(io) else {
        return;
    };
    let sent = ns
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
