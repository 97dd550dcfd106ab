//! The chat service: the rules of who may do what, free of sockets. Each request of the
//! protocol is one method; it returns the answer and what to announce, and the socket layer
//! hands the announcement to the broadcaster. Holds only what the rules need.

mod consent;
mod messages;
pub mod presence;
pub mod rooms;
mod search;

use std::sync::Arc;
use std::time::Duration;

use natter_protocol::{Room, User};

use crate::connect_limit::ConnectLimits;
use crate::error::{Error, Result};
use crate::files::Blobs;
use crate::presence::Presence;
use crate::ratelimit::Limits;
use crate::store::{Commits, Store};

#[derive(Clone)]
pub struct Chat {
    store: Arc<dyn Store>,
    commits: Commits,
    limits: Limits,
    presence: Arc<dyn Presence>,
    connects: ConnectLimits,
    /// How long a user whose last socket closed still counts as online.
    grace: Duration,
    leaving: Arc<presence::Leaving>,
    /// Rooms one user can be a member of.
    max_rooms: u32,
    /// Where a deleted message's files go.
    blobs: Blobs,
}

/// What the presence and membership rules need besides the store: the socket count, the
/// connect limits, the presence grace period, the bound on rooms per user, the file store (a
/// delete removes its message's files).
pub struct ChatParts {
    pub presence: Arc<dyn Presence>,
    pub connects: ConnectLimits,
    pub grace: Duration,
    pub max_rooms: u32,
    pub blobs: Blobs,
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat").finish_non_exhaustive()
    }
}

impl Chat {
    pub fn new(store: Arc<dyn Store>, commits: Commits, limits: Limits, parts: ChatParts) -> Self {
        Self {
            store,
            commits,
            limits,
            presence: parts.presence,
            connects: parts.connects,
            grace: parts.grace,
            leaving: Arc::default(),
            max_rooms: parts.max_rooms,
            blobs: parts.blobs,
        }
    }

    /// The room as `user` sees it, or `forbidden`.
    async fn member_room(&self, user: &User, room_id: &str) -> Result<Room> {
        self.store
            .room_for(room_id, &user.id)
            .await?
            .ok_or_else(not_member)
    }

    async fn require_member(&self, user: &User, room_id: &str) -> Result<()> {
        if self.store.is_member(room_id, &user.id).await? {
            Ok(())
        } else {
            Err(not_member())
        }
    }
}

pub(super) fn not_member() -> Error {
    // The same answer for a room that does not exist, so room ids cannot be probed.
    Error::forbidden("not a member of this room")
}
