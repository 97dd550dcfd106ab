//! Signing a socket on, and the presence rules: online while a user has at least one socket,
//! announced to everyone who shares a room with them, never to themselves. Never stored,
//! except `last_seen` at going offline. Counting is the [`Presence`](crate::presence) noun's.

use natter_protocol::events::PresenceEvent;
use natter_protocol::User;
use socketioxide::socket::Sid;

use super::Chat;
use crate::auth::token_hash;
use crate::error::Result;
use crate::store::SignOn;
use crate::time::now_rfc3339;

/// A presence event and the rooms whose members hear it (not the user's own sockets).
#[derive(Debug)]
pub struct PresenceChange {
    pub user_id: String,
    pub room_ids: Vec<String>,
    pub event: PresenceEvent,
}

impl Chat {
    /// The session, user and rooms behind a connect's token; `None` for an unknown token.
    pub async fn sign_on(&self, token: &str) -> Result<Option<SignOn>> {
        Ok(self.store.sign_on(&token_hash(token)).await?)
    }

    /// A socket of `user` opened; "online" to announce if it is their first.
    pub async fn socket_opened(
        &self,
        user: &User,
        sid: Sid,
        room_ids: &[String],
    ) -> Option<PresenceChange> {
        if !self.presence.add(&user.id, sid).await {
            return None;
        }
        Some(PresenceChange {
            user_id: user.id.clone(),
            room_ids: room_ids.to_vec(),
            event: PresenceEvent {
                user: user.username.clone(),
                online: true,
                last_seen: Some(now_rfc3339()),
            },
        })
    }

    /// A socket of `user` closed (or never got connected); "offline" to announce if it was
    /// their last, after storing `last_seen`.
    pub async fn socket_closed(&self, user: &User, sid: Sid) -> Option<PresenceChange> {
        if !self.presence.remove(&user.id, sid).await {
            return None;
        }
        let now = now_rfc3339();
        if let Err(e) = self.store.set_last_seen(&user.id, &now).await {
            tracing::warn!(error = %e, "could not store last_seen");
        }
        // The socket may already be out of its rooms; the store knows which rooms to tell.
        let room_ids = match self.store.room_ids_of(&user.id).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "presence: could not load rooms");
                return None;
            }
        };
        if self.presence.is_online(&user.id).await {
            return None; // back online meanwhile: "offline" would now be false
        }
        Some(PresenceChange {
            user_id: user.id.clone(),
            room_ids,
            event: PresenceEvent {
                user: user.username.clone(),
                online: false,
                last_seen: Some(now),
            },
        })
    }
}
