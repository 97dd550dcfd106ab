//! Typing indicators, both ways. Ours: at most one `typing: true` per [`TYPING_REFRESH`] per room
//! while typing, `typing: false` when cleared or on send, never queued (offline, they are
//! dropped). Theirs: a remote `typing: true` expires after [`REMOTE_TYPING_EXPIRY`] without a
//! refresh, announced as `typing: false` by the worker from one deadline map — no polling.

use std::collections::HashMap;
use std::time::Duration;

use natter_protocol::events::TypingEvent;
use natter_protocol::requests::SetTyping;
use natter_protocol::validate;
use tokio::time::Instant;

use super::{Session, SessionError};

/// Our `typing: true` is repeated at most this often per room while the user keeps typing.
pub const TYPING_REFRESH: Duration = Duration::from_secs(3);
/// A remote `typing: true` without a refresh for this long counts as stopped.
pub const REMOTE_TYPING_EXPIRY: Duration = Duration::from_secs(5);

impl Session {
    /// Tells the room we are (`true`) or stopped (`false`) typing. Call it on every keystroke:
    /// `true` reaches the relay at most once per [`TYPING_REFRESH`]; `false` only if a `true`
    /// went out. Offline, nothing is sent or queued and the answer is `Ok`. A refusal from the
    /// relay (`rate_limited`, `forbidden`) is returned.
    pub async fn typing(&self, room_id: &str, typing: bool) -> Result<(), SessionError> {
        validate::id(room_id).map_err(SessionError::Refused)?;
        let now = Instant::now();
        {
            let mut sent = self.typing.lock().unwrap_or_else(|p| p.into_inner());
            if typing {
                let fresh = sent
                    .get(room_id)
                    .is_some_and(|at| now.duration_since(*at) < TYPING_REFRESH);
                if fresh || self.live_connection().is_none() {
                    return Ok(());
                }
                sent.insert(room_id.to_owned(), now);
            } else if sent.remove(room_id).is_none() {
                return Ok(());
            }
        }
        let request = SetTyping {
            room_id: room_id.to_owned(),
            typing,
        };
        match self.ask(&request).await {
            Ok(_) | Err(SessionError::Offline) => Ok(()),
            Err(e) => {
                if typing {
                    // Not shown to anyone: the next keystroke may try again.
                    self.forget_typing(room_id);
                }
                Err(e)
            }
        }
    }

    /// After a send: if we were typing in `room_id`, say we stopped, without holding up the send.
    pub(super) fn stop_typing_in_background(&self, room_id: &str) {
        if !self.forget_typing(room_id) {
            return;
        }
        let Some(conn) = self.live_connection() else {
            return;
        };
        let request = SetTyping {
            room_id: room_id.to_owned(),
            typing: false,
        };
        tokio::spawn(async move {
            if let Err(e) = conn.request(&request).await {
                tracing::debug!(error = %e, "typing: false after a send was not delivered");
            }
        });
    }

    /// Clears our typing state in a room; whether there was one.
    fn forget_typing(&self, room_id: &str) -> bool {
        let mut sent = self.typing.lock().unwrap_or_else(|p| p.into_inner());
        sent.remove(room_id).is_some()
    }
}

/// Remote users typing, each with the deadline of their indicator.
#[derive(Debug)]
pub(super) struct RemoteTyping {
    expiry: Duration,
    deadlines: HashMap<(String, String), Instant>,
}

impl RemoteTyping {
    pub(super) fn new(expiry: Duration) -> Self {
        Self {
            expiry,
            deadlines: HashMap::new(),
        }
    }

    /// Files a `typing` event from the relay, heard at `now`; whether to pass it on. A
    /// `typing: false` for someone not shown typing (already expired, or ended by their
    /// message) is not, so the app hears each stop once.
    pub(super) fn heard(&mut self, event: &TypingEvent, now: Instant) -> bool {
        let key = (event.room_id.clone(), event.user.clone());
        if event.typing {
            self.deadlines.insert(key, now + self.expiry);
            true
        } else {
            self.deadlines.remove(&key).is_some()
        }
    }

    /// A message from `user` in `room_id` ends their typing: the `typing: false` to announce.
    pub(super) fn message_from(&mut self, room_id: &str, user: &str) -> Option<TypingEvent> {
        self.deadlines
            .remove(&(room_id.to_owned(), user.to_owned()))
            .map(|_| stopped(room_id.to_owned(), user.to_owned()))
    }

    /// When the next indicator runs out.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }

    /// Removes every indicator that ran out by `now`; the `typing: false` events to announce.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<TypingEvent> {
        let mut gone: Vec<(String, String)> = self
            .deadlines
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(key, _)| key.clone())
            .collect();
        gone.sort();
        for key in &gone {
            self.deadlines.remove(key);
        }
        gone.into_iter()
            .map(|(room_id, user)| stopped(room_id, user))
            .collect()
    }
}

fn stopped(room_id: String, user: String) -> TypingEvent {
    TypingEvent {
        room_id,
        user,
        typing: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user: &str, typing: bool) -> TypingEvent {
        TypingEvent {
            room_id: "general".into(),
            user: user.into(),
            typing,
        }
    }

    #[test]
    fn indicators_expire_unless_refreshed() {
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);
        let mut remote = RemoteTyping::new(Duration::from_secs(5));
        assert_eq!(remote.next_deadline(), None);
        assert!(remote.heard(&event("bob", true), t0));
        assert_eq!(remote.next_deadline(), Some(at(5)));
        remote.heard(&event("carol", true), at(3));
        remote.heard(&event("bob", true), at(3)); // refreshed: runs out at 8 s now
        assert!(remote.expire(at(6)).is_empty());
        assert_eq!(
            remote.expire(at(8)),
            vec![event("bob", false), event("carol", false)]
        );
        remote.heard(&event("bob", true), at(9));
        assert_eq!(
            remote.message_from("general", "bob"),
            Some(event("bob", false))
        );
        assert_eq!(remote.message_from("general", "bob"), None);
        assert!(remote.heard(&event("dave", true), at(9)));
        assert!(remote.heard(&event("dave", false), at(9)));
        assert!(!remote.heard(&event("dave", false), at(9)), "stopped once");
        assert_eq!(remote.next_deadline(), None);
    }
}
