//! Who is signed in, which account is active, and what the shell needs of each without its
//! session: its unread count per room (a tally of its own events, seeded from its cache), its
//! connection state, who of its peers is online (the presence events it heard, replayed to the
//! webview when it becomes active: they are never stored anywhere else), its sends that have
//! not left (replayed too: `sends.rs`) and its notification levels. Shared, behind one lock, by every account's
//! event forwarder and notifier and by the commands. The active account changes only under that
//! lock, and a forwarder hands a batch to the webview only under it while its account is active,
//! so the webview hears "now B" between A's last batch and B's first ([`Roster::if_active`]).

use std::collections::HashMap;
use std::sync::{Mutex as StdMutex, MutexGuard, PoisonError};

use natter_client::session::{AppEvent, ConnectionView};
use natter_protocol::events::PresenceEvent;
use serde::Serialize;

use super::sends::Unsents;
use crate::alerts::{Level, View};

/// One signed-in account as the UI's switcher shows it (`accounts`, `natter://accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    /// The account's folder in the profile (`accounts/<id>`); stable while it is signed in.
    pub id: String,
    pub username: String,
    pub server_url: String,
    /// Messages from others not read yet, over all its rooms.
    pub unread: u32,
    pub active: bool,
    /// Its own session's connection, as last announced.
    pub connection: ConnectionView,
}

#[derive(Debug)]
struct Entry {
    username: String,
    server_url: String,
    unread: HashMap<String, u32>,
    connection: ConnectionView,
    presence: HashMap<String, PresenceEvent>,
    unsent: Unsents,
    levels: HashMap<String, Level>,
}

impl Entry {
    fn total(&self) -> u32 {
        self.unread
            .values()
            .fold(0, |sum, n| sum.saturating_add(*n))
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// In the order they were signed in (the switcher's order).
    accounts: Vec<(String, Entry)>,
    active: Option<String>,
}

impl Inner {
    fn entry(&mut self, id: &str) -> Option<&mut Entry> {
        self.accounts
            .iter_mut()
            .find(|(at, _)| at == id)
            .map(|(_, entry)| entry)
    }

    /// What the webview must hear again of the active account when it becomes active: who is
    /// online (the account heard it while another was shown) and its sends not sent yet.
    fn replay(&mut self) -> Vec<AppEvent> {
        let Some(id) = self.active.clone() else {
            return Vec::new();
        };
        self.entry(&id).map_or_else(Vec::new, |entry| {
            entry
                .presence
                .values()
                .cloned()
                .map(AppEvent::Presence)
                .chain(entry.unsent.replay())
                .collect()
        })
    }
}

#[derive(Debug, Default)]
pub struct Roster {
    inner: StdMutex<Inner>,
}

/// What an account starts with in the roster.
#[derive(Debug)]
pub struct Joining {
    pub username: String,
    pub server_url: String,
    /// Its cached rooms' unread counts.
    pub unread: HashMap<String, u32>,
    pub connection: ConnectionView,
    pub levels: HashMap<String, Level>,
}

impl Roster {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds (or, signed in again, replaces) account `id`, not active: [`Self::activate`].
    pub fn join(&self, id: &str, joining: Joining) {
        let entry = Entry {
            username: joining.username,
            server_url: joining.server_url,
            unread: joining.unread,
            connection: joining.connection,
            presence: HashMap::new(),
            unsent: Unsents::default(),
            levels: joining.levels,
        };
        let mut inner = self.lock();
        match inner.entry(id) {
            Some(old) => *old = entry,
            None => inner.accounts.push((id.to_owned(), entry)),
        }
    }

    /// Forgets account `id`; if it was active, the first remaining one becomes active. Then runs
    /// `announce` as [`Self::activate`] does; answers the active account, if any.
    pub fn leave(
        &self,
        id: &str,
        announce: impl FnOnce(&[AccountView], &[AppEvent]),
    ) -> Option<String> {
        let mut inner = self.lock();
        inner.accounts.retain(|(at, _)| at != id);
        let moved = inner.active.as_deref() == Some(id) || inner.active.is_none();
        if moved {
            inner.active = inner.accounts.first().map(|(at, _)| at.clone());
        }
        let replay = if moved { inner.replay() } else { Vec::new() };
        announce(&list(&inner), &replay);
        inner.active.clone()
    }

    /// Makes `id` the active account, then runs `announce` with the list as it is now and what
    /// the webview must hear again of the account (`presence`), all under the lock, so no
    /// forwarder's batch comes between; false (nothing announced) for an unknown account.
    pub fn activate(&self, id: &str, announce: impl FnOnce(&[AccountView], &[AppEvent])) -> bool {
        let mut inner = self.lock();
        if inner.entry(id).is_none() {
            return false;
        }
        inner.active = Some(id.to_owned());
        let replay = inner.replay();
        announce(&list(&inner), &replay);
        true
    }

    /// Runs `announce` with the list, under the lock (see [`Self::activate`]).
    pub fn announce(&self, announce: impl FnOnce(&[AccountView])) {
        announce(&list(&self.lock()));
    }

    pub fn active(&self) -> Option<String> {
        self.lock().active.clone()
    }

    pub fn list(&self) -> Vec<AccountView> {
        list(&self.lock())
    }

    /// How many accounts are signed in.
    pub fn len(&self) -> usize {
        self.lock().accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `emit` only while `id` is the active account, under the lock.
    pub fn if_active(&self, id: &str, emit: impl FnOnce()) {
        let inner = self.lock();
        if inner.active.as_deref() == Some(id) {
            emit();
        }
    }

    /// Takes in a batch of account `id`'s events: its unread counts, connection state, who is
    /// online and its unsent sends. Says whether what the switcher shows of it changed.
    pub fn record(&self, id: &str, batch: &[AppEvent]) -> bool {
        let mut inner = self.lock();
        let Some(entry) = inner.entry(id) else {
            return false;
        };
        let (total, connection) = (entry.total(), entry.connection.clone());
        for event in batch {
            entry.unsent.record(event);
            match event {
                AppEvent::Unread { room_id, count } => {
                    entry.unread.insert(room_id.clone(), *count);
                }
                AppEvent::Room { room } => {
                    if let Some(count) = room.unread {
                        entry.unread.insert(room.id.clone(), count);
                    }
                }
                AppEvent::RoomGone { room_id } => {
                    entry.unread.remove(room_id);
                }
                AppEvent::Connection { state } => entry.connection = state.clone(),
                AppEvent::Presence(presence) => {
                    entry
                        .presence
                        .insert(presence.user.clone(), presence.clone());
                }
                _ => {}
            }
        }
        entry.total() != total || entry.connection != connection
    }

    /// The user discarded account `id`'s failed send `client_id`: it is not drawn again.
    pub fn discarded(&self, id: &str, client_id: &str) {
        if let Some(entry) = self.lock().entry(id) {
            entry.unsent.forget(client_id);
        }
    }

    /// The unread total of every account but the active one (the UI counts that one).
    pub fn inactive_unread(&self) -> u32 {
        let inner = self.lock();
        inner
            .accounts
            .iter()
            .filter(|(id, _)| inner.active.as_deref() != Some(id.as_str()))
            .fold(0, |sum, (_, entry)| sum.saturating_add(entry.total()))
    }

    /// Account `id`'s unread total (0 if unknown).
    pub fn unread(&self, id: &str) -> u32 {
        self.lock().entry(id).map_or(0, |entry| entry.total())
    }

    pub fn set_levels(&self, id: &str, levels: HashMap<String, Level>) {
        if let Some(entry) = self.lock().entry(id) {
            entry.levels = levels;
        }
    }

    /// The shell's `view` as account `id`'s notifier must see it: its own levels, and the room
    /// in view only while it is the active account (another account's room is never in view).
    pub fn view_of(&self, id: &str, mut view: View) -> View {
        let mut inner = self.lock();
        if inner.active.as_deref() != Some(id) {
            view.active_room = None;
        }
        view.levels = inner
            .entry(id)
            .map(|entry| entry.levels.clone())
            .unwrap_or_default();
        view
    }

    /// `alice@chat.example.org` for account `id`, when more than one account is signed in (a
    /// notification then says whose it is); `None` otherwise.
    pub fn label_if_several(&self, id: &str) -> Option<String> {
        let mut inner = self.lock();
        if inner.accounts.len() < 2 {
            return None;
        }
        let entry = inner.entry(id)?;
        Some(label(&entry.username, &entry.server_url))
    }
}

fn list(inner: &Inner) -> Vec<AccountView> {
    inner
        .accounts
        .iter()
        .map(|(id, entry)| AccountView {
            id: id.clone(),
            username: entry.username.clone(),
            server_url: entry.server_url.clone(),
            unread: entry.total(),
            active: inner.active.as_deref() == Some(id.as_str()),
            connection: entry.connection.clone(),
        })
        .collect()
}

/// `user@host[:port]`: the relay's address without its scheme and path.
pub fn label(username: &str, server_url: &str) -> String {
    let host = server_url
        .split_once("://")
        .map_or(server_url, |(_, rest)| rest);
    let host = host.split('/').next().unwrap_or(host);
    format!("{username}@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_protocol::model::RoomKind;
    use natter_protocol::Room;

    fn joining(username: &str, unread: &[(&str, u32)]) -> Joining {
        Joining {
            username: username.to_owned(),
            server_url: "http://127.0.0.1:7447".to_owned(),
            unread: unread.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect(),
            connection: ConnectionView::Connecting {
                attempt: 1,
                retry_in_ms: None,
            },
            levels: HashMap::new(),
        }
    }

    fn room(id: &str, unread: Option<u32>) -> Room {
        Room {
            id: id.to_owned(),
            name: id.to_owned(),
            kind: RoomKind::Group,
            members: vec![],
            last_seq: 9,
            read_seq: 0,
            member_count: 0,
            others_read_seq: 0,
            unread,
        }
    }

    #[test]
    fn unread_counts_are_tallied_per_account_and_the_inactive_ones_add_up() {
        let roster = Roster::default();
        roster.join("1", joining("alice", &[("general", 2)]));
        roster.join("2", joining("bob", &[("general", 1), ("dm", 3)]));
        assert_eq!(roster.active(), None, "until one is made active");
        assert!(roster.activate("1", |_, _| {}));
        assert_eq!(roster.inactive_unread(), 4);
        assert!(roster.record(
            "2",
            &[AppEvent::Unread {
                room_id: "dm".to_owned(),
                count: 5
            }]
        ));
        assert!(!roster.record(
            "2",
            &[AppEvent::Unread {
                room_id: "dm".to_owned(),
                count: 5
            }]
        ));
        assert!(roster.record(
            "2",
            &[AppEvent::Room {
                room: room("new", Some(1))
            }]
        ));
        assert!(!roster.record(
            "2",
            &[AppEvent::Room {
                room: room("new", None)
            }]
        ));
        assert_eq!(roster.unread("2"), 7);
        assert!(roster.record(
            "2",
            &[AppEvent::RoomGone {
                room_id: "general".to_owned()
            }]
        ));
        assert_eq!(roster.unread("2"), 6);
        assert_eq!(roster.inactive_unread(), 6);
        assert!(roster.activate("2", |list, _| assert!(list[1].active)));
        assert_eq!(roster.inactive_unread(), 2, "now alice's are the others'");
        assert!(!roster.activate("9", |_, _| panic!("unknown: not announced")));
    }

    #[test]
    fn only_the_active_account_reaches_the_webview_and_leaving_moves_the_choice() {
        let roster = Roster::default();
        roster.join("1", joining("alice", &[]));
        roster.join("2", joining("bob", &[]));
        roster.activate("1", |_, _| {});
        let mut emitted = vec![];
        roster.if_active("1", || emitted.push("1"));
        roster.if_active("2", || emitted.push("2"));
        assert_eq!(emitted, ["1"]);
        // Bob heard who is online while alice was shown: the webview hears it when he is shown.
        let online = PresenceEvent {
            user: "carol".to_owned(),
            online: true,
            last_seen: None,
        };
        roster.record("2", &[AppEvent::Presence(online.clone())]);
        let mut replayed = vec![];
        let next = roster.leave("1", |list, replay| {
            assert!(list.len() == 1 && list[0].active);
            replayed.extend_from_slice(replay);
        });
        assert_eq!(next.as_deref(), Some("2"));
        assert_eq!(replayed, [AppEvent::Presence(online)]);
        assert_eq!(roster.leave("2", |list, _| assert!(list.is_empty())), None);
        assert!(roster.is_empty());
    }

    #[test]
    fn a_notifier_sees_its_own_levels_and_its_rooms_in_view_only_when_active() {
        let roster = Roster::default();
        roster.join("1", joining("alice", &[]));
        roster.join("2", joining("bob", &[]));
        roster.activate("1", |_, _| {});
        roster.set_levels("2", HashMap::from([("general".to_owned(), Level::None)]));
        let shown = View {
            active_room: Some("general".to_owned()),
            focused: true,
            ..View::default()
        };
        let bob = roster.view_of("2", shown.clone());
        assert_eq!(
            bob.active_room, None,
            "alice's general is in view, not bob's"
        );
        assert_eq!(bob.levels.get("general"), Some(&Level::None));
        let alice = roster.view_of("1", shown);
        assert_eq!(alice.active_room.as_deref(), Some("general"));
        assert!(alice.levels.is_empty());
        assert_eq!(
            roster.label_if_several("2").as_deref(),
            Some("bob@127.0.0.1:7447")
        );
        roster.leave("1", |_, _| {});
        assert_eq!(roster.label_if_several("2"), None, "one account: no label");
    }

    #[test]
    fn labels_name_user_and_host() {
        assert_eq!(
            label("alice", "https://chat.example.org/"),
            "alice@chat.example.org"
        );
        assert_eq!(label("bob", "http://[::1]:7447"), "bob@[::1]:7447");
    }
}
