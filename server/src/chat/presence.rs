//! Signing a socket on, and the presence rules: online while a user has at least one socket,
//! announced only to people who share a room other than `general` with them (`general` can be
//! everyone: presence through it would tell every stranger when anyone comes and goes), never
//! to themselves. A user whose last socket closes stays online for a grace period, so a quick
//! reconnect announces nothing. Never stored, except `last_seen` at going offline. Counting
//! sockets is the [`Presence`](crate::presence) noun's.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use natter_protocol::events::PresenceEvent;
use natter_protocol::{User, GENERAL_ROOM_ID};
use socketioxide::socket::Sid;
use tokio::sync::Mutex;

use super::Chat;
use crate::auth::token_hash;
use crate::error::{Error, Result};
use crate::store::{Seen, SignOn};
use crate::time::now_rfc3339;

/// Most users a connecting socket, or a user joining a room, is told the presence of.
const SHOWN_MAX: u32 = 256;

/// A presence event and the rooms whose members hear it (not the user's own sockets).
#[derive(Debug)]
pub struct PresenceChange {
    pub user_id: String,
    pub room_ids: Vec<String>,
    pub event: PresenceEvent,
}

/// One user's presence for one other user (a membership change made them share a room).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceNote {
    /// The user id told.
    pub to: String,
    pub event: PresenceEvent,
}

/// Users whose last socket closed and whose "offline" waits out the grace period: user id →
/// the number of that close, so only the latest close's timer may announce it.
#[derive(Debug, Default)]
pub struct Leaving {
    pending: Mutex<(u64, HashMap<String, u64>)>,
}

impl Chat {
    /// The session, user and rooms behind a connect's token; `None` for an unknown token;
    /// `rate_limited` past the connect limits of the client's address (checked before the
    /// token costs a lookup) or of the user.
    pub async fn sign_on(&self, token: &str, from: IpAddr) -> Result<Option<SignOn>> {
        if !self.connects.allow_from(from) {
            return Err(Error::rate_limited());
        }
        let Some(found) = self.store.sign_on(&token_hash(token)).await? else {
            return Ok(None);
        };
        if !self.connects.allow_user(&found.user.id) {
            return Err(Error::rate_limited());
        }
        Ok(Some(found))
    }

    /// A socket of `user` opened; "online" to announce if it is their first and they were not
    /// still within the grace of their last close.
    pub async fn socket_opened(
        &self,
        user: &User,
        sid: Sid,
        room_ids: &[String],
    ) -> Option<PresenceChange> {
        let mut leaving = self.leaving.pending.lock().await;
        if !self.presence.add(&user.id, sid).await {
            return None;
        }
        if leaving.1.remove(&user.id).is_some() {
            return None; // back within the grace: nobody was told they left
        }
        drop(leaving);
        Some(PresenceChange {
            user_id: user.id.clone(),
            room_ids: shared(room_ids.iter().cloned()),
            event: PresenceEvent {
                user: user.username.clone(),
                online: true,
                last_seen: Some(now_rfc3339()),
            },
        })
    }

    /// A socket of `user` closed (or never got connected). If it was their last, waits out the
    /// grace period (unless `at_once`: the relay ended it on purpose — a logout, a shutdown —
    /// and no reconnect is on its way), then — unless they came back meanwhile — stores
    /// `last_seen` and answers "offline" to announce.
    pub async fn socket_closed(
        &self,
        user: &User,
        sid: Sid,
        at_once: bool,
    ) -> Option<PresenceChange> {
        let closed_at = now_rfc3339();
        let ticket = {
            let mut leaving = self.leaving.pending.lock().await;
            if !self.presence.remove(&user.id, sid).await {
                return None;
            }
            leaving.0 += 1;
            let ticket = leaving.0;
            leaving.1.insert(user.id.clone(), ticket);
            ticket
        };
        if !at_once && !self.grace.is_zero() {
            tokio::time::sleep(self.grace).await;
        }
        // The socket may already be out of its rooms; the store knows which rooms to tell.
        let room_ids = self.room_ids_to_tell(&user.id).await;
        {
            let mut leaving = self.leaving.pending.lock().await;
            if leaving.1.get(&user.id) != Some(&ticket) || self.presence.is_online(&user.id).await {
                return None; // back meanwhile, or a later close will announce
            }
            leaving.1.remove(&user.id);
        }
        Some(self.offline(user, room_ids, closed_at).await)
    }

    /// A user whose last socket was on a relay node that died (see `cluster/`): unless a
    /// socket of theirs is open somewhere now, "offline" to announce.
    pub async fn gone_with_node(&self, user_id: &str) -> Option<PresenceChange> {
        let closed_at = now_rfc3339();
        if self.presence.is_online(user_id).await {
            return None;
        }
        let user = match self.store.seen(&[user_id.to_owned()]).await {
            Ok(seen) => seen.into_iter().next()?.user,
            Err(e) => {
                tracing::warn!(error = %e, "presence: could not load a user");
                return None;
            }
        };
        let room_ids = self.room_ids_to_tell(user_id).await;
        Some(self.offline(&user, room_ids, closed_at).await)
    }

    async fn room_ids_to_tell(&self, user_id: &str) -> Vec<String> {
        match self.store.room_ids_of(user_id).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "presence: could not load rooms");
                Vec::new()
            }
        }
    }

    /// Stores `last_seen` and makes the "offline" change.
    async fn offline(&self, user: &User, room_ids: Vec<String>, at: String) -> PresenceChange {
        if let Err(e) = self.store.set_last_seen(&user.id, &at).await {
            tracing::warn!(error = %e, "could not store last_seen");
        }
        PresenceChange {
            user_id: user.id.clone(),
            room_ids: shared(room_ids),
            event: PresenceEvent {
                user: user.username.clone(),
                online: false,
                last_seen: Some(at),
            },
        }
    }

    /// What a new socket of `me` is told: the presence of everyone who shares a room other
    /// than `general` with them, online or offline with `last_seen` (at most [`SHOWN_MAX`]).
    pub async fn presence_snapshot(&self, me: &User) -> Vec<PresenceEvent> {
        match self.store.peers_of(&me.id, SHOWN_MAX).await {
            Ok(peers) => self.presence_of(peers).await,
            Err(e) => {
                tracing::warn!(error = %e, "presence snapshot: could not load peers");
                Vec::new()
            }
        }
    }

    /// After `joined` became members of `room_id` (whose members are now `members`): each of
    /// them is told the presence of every other member, and every other member theirs, so
    /// people who now share a room see each other's presence at once, not at their next
    /// connect. Only users online are told; a connect's snapshot covers the rest.
    pub(super) async fn presence_notes(
        &self,
        room_id: &str,
        joined: &[String],
        members: &[String],
    ) -> Vec<PresenceNote> {
        if room_id == GENERAL_ROOM_ID || joined.is_empty() {
            return Vec::new();
        }
        let mut pairs = BTreeSet::new();
        for j in joined {
            for m in members.iter().filter(|m| *m != j) {
                pairs.insert((m.clone(), j.clone()));
                pairs.insert((j.clone(), m.clone()));
            }
        }
        let subjects: Vec<String> = pairs
            .iter()
            .map(|(_, about)| about.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .take(SHOWN_MAX as usize)
            .collect();
        let seen = match self.store.seen(&subjects).await {
            Ok(seen) => seen,
            Err(e) => {
                tracing::warn!(error = %e, "presence: could not load members");
                return Vec::new();
            }
        };
        let ids: Vec<String> = seen.iter().map(|s| s.user.id.clone()).collect();
        let events: HashMap<String, PresenceEvent> =
            ids.into_iter().zip(self.presence_of(seen).await).collect();
        let mut notes = Vec::new();
        let mut online_cache: HashMap<String, bool> = HashMap::new();
        for (to, about) in pairs {
            let Some(event) = events.get(&about) else {
                continue;
            };
            let online = match online_cache.get(&to) {
                Some(&o) => o,
                None => {
                    let o = self.presence.is_online(&to).await;
                    online_cache.insert(to.clone(), o);
                    o
                }
            };
            if online {
                notes.push(PresenceNote {
                    to,
                    event: event.clone(),
                });
            }
        }
        notes
    }

    /// Each user's presence as of now: online (within the grace too), or offline with the
    /// stored `last_seen`.
    async fn presence_of(&self, users: Vec<Seen>) -> Vec<PresenceEvent> {
        let now = now_rfc3339();
        let leaving = self.leaving.pending.lock().await;
        let mut events = Vec::with_capacity(users.len());
        for Seen { user, last_seen } in users {
            let online =
                leaving.1.contains_key(&user.id) || self.presence.is_online(&user.id).await;
            events.push(PresenceEvent {
                user: user.username,
                online,
                last_seen: if online { Some(now.clone()) } else { last_seen },
            });
        }
        events
    }
}

/// The rooms presence travels through: all of a user's rooms but `general`.
fn shared(room_ids: impl IntoIterator<Item = String>) -> Vec<String> {
    room_ids
        .into_iter()
        .filter(|id| id != GENERAL_ROOM_ID)
        .collect()
}
