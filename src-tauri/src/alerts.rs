//! Which new messages raise an OS notification, and with what text: pure rules, no I/O (the
//! `notifier` task feeds them events and the clock, and shows what they return).
//!
//! - Nothing during a catch-up: messages that arrive before the session announces `connected`
//!   (sent once the catch-up after a connect is done) are history, not news.
//! - Nothing for our own messages, nothing under Do not disturb, nothing for the room in view
//!   while the window has the focus (a hidden, minimized or unfocused window has none).
//! - Nothing for changes to messages (edits, deletes, reactions): only new messages are news.
//! - Each room's level (`Level`, set per account): all messages, only those that mention us,
//!   or none.
//! - Coalesced per room: at most one notification per room per [`COALESCE`]. The first message
//!   shows at once as `sender: preview`; the ones that follow within the window are held and,
//!   when it ends, shown as one notification (`sender: preview` if one was held, else
//!   `N new messages`). A steady stream thus gives one notification per room every few seconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use natter_client::session::{AppEvent, ConnectionView};
use natter_protocol::model::RoomKind;
use natter_protocol::{Message, Room};

/// The shortest time between two notifications of one room.
pub const COALESCE: Duration = Duration::from_secs(5);
/// The most characters of a message body a notification shows.
pub const PREVIEW_CHARS: usize = 100;
/// The title when the room is not known (yet).
const FALLBACK_TITLE: &str = "Natter";

/// Which messages of a room raise a notification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    All,
    /// Only messages that mention us (`Message::mentions`).
    Mentions,
    None,
}

/// What the user sees now, and wants to hear of, as far as notifications care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    pub dnd: bool,
    /// The room the UI shows (`set_view`).
    pub active_room: Option<String>,
    /// The main window is visible and has the keyboard focus.
    pub focused: bool,
    /// The signed-in account's rooms not at [`Level::All`].
    pub levels: HashMap<String, Level>,
}

impl View {
    /// Whether a message in `room_id` would be seen anyway (or must stay quiet).
    fn silences(&self, room_id: &str) -> bool {
        self.dnd
            || (self.focused && self.active_room.as_deref() == Some(room_id))
            || self.level(room_id) == Level::None
    }

    fn level(&self, room_id: &str) -> Level {
        self.levels.get(room_id).copied().unwrap_or_default()
    }
}

/// One OS notification to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub room_id: String,
    pub title: String,
    pub body: String,
}

/// A room's notification history inside the coalescing window.
#[derive(Debug)]
struct Held {
    last_shown: Instant,
    /// Messages not shown since `last_shown`.
    count: u32,
    /// The newest of them, as `sender: preview`.
    latest: String,
}

/// The rules' state for one session.
#[derive(Debug)]
pub struct Alerts {
    own: String,
    caught_up: bool,
    rooms: HashMap<String, Held>,
    titles: HashMap<String, String>,
}

impl Alerts {
    /// Rules for a session signed in as `own` (empty: unknown, nothing is treated as ours).
    pub fn new(own: impl Into<String>) -> Self {
        Self {
            own: own.into(),
            caught_up: false,
            rooms: HashMap::new(),
            titles: HashMap::new(),
        }
    }

    /// Takes in one session event; answers the notification to raise now, if any.
    pub fn on_event(&mut self, event: &AppEvent, view: &View, now: Instant) -> Option<Alert> {
        match event {
            AppEvent::Connection { state } => {
                self.caught_up = matches!(state, ConnectionView::Connected { .. });
                None
            }
            AppEvent::Room { room } => {
                self.titles
                    .insert(room.id.clone(), title_of(room, &self.own));
                None
            }
            AppEvent::Message { message } => self.on_message(message, view, now),
            _ => None,
        }
    }

    fn on_message(&mut self, message: &Message, view: &View, now: Instant) -> Option<Alert> {
        if !self.caught_up
            || message.change.is_some()
            || (!self.own.is_empty() && message.sender == self.own)
        {
            return None;
        }
        let mentions_us = message
            .mentions
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&self.own));
        if view.level(&message.room_id) == Level::Mentions && !mentions_us {
            return None;
        }
        if view.silences(&message.room_id) {
            // Seen (or muted): what was held for this room is old news too.
            if let Some(held) = self.rooms.get_mut(&message.room_id) {
                held.count = 0;
            }
            return None;
        }
        let line = format!("{}: {}", message.sender, preview(&message.body));
        match self.rooms.get_mut(&message.room_id) {
            Some(held) if now.saturating_duration_since(held.last_shown) < COALESCE => {
                held.count = held.count.saturating_add(1);
                held.latest = line;
                None
            }
            _ => {
                self.rooms.insert(
                    message.room_id.clone(),
                    Held {
                        last_shown: now,
                        count: 0,
                        latest: String::new(),
                    },
                );
                Some(self.alert(&message.room_id, line))
            }
        }
    }

    /// When [`Self::flush`] has something to do next, if ever.
    pub fn next_flush(&self) -> Option<Instant> {
        self.rooms
            .values()
            .filter(|held| held.count > 0)
            .map(|held| held.last_shown + COALESCE)
            .min()
    }

    /// The held messages of every room whose window ended by `now`, one notification per room
    /// (dropped if the room is silenced now); forgets rooms with nothing held.
    pub fn flush(&mut self, view: &View, now: Instant) -> Vec<Alert> {
        let mut due = Vec::new();
        self.rooms.retain(|room_id, held| {
            let ended = now.saturating_duration_since(held.last_shown) >= COALESCE;
            if !ended {
                return true;
            }
            if held.count == 0 || view.silences(room_id) {
                return false;
            }
            let body = if held.count == 1 {
                std::mem::take(&mut held.latest)
            } else {
                format!("{} new messages", held.count)
            };
            due.push((room_id.clone(), body));
            held.count = 0;
            held.last_shown = now;
            true
        });
        due.into_iter()
            .map(|(room_id, body)| self.alert(&room_id, body))
            .collect()
    }

    fn alert(&self, room_id: &str, body: String) -> Alert {
        Alert {
            room_id: room_id.to_owned(),
            title: self
                .titles
                .get(room_id)
                .cloned()
                .unwrap_or_else(|| FALLBACK_TITLE.to_owned()),
            body,
        }
    }
}

/// `#name` for a group; a DM by the other person (who sent it), never ourselves.
fn title_of(room: &Room, own: &str) -> String {
    match room.kind {
        RoomKind::Group if !room.name.is_empty() => format!("#{}", room.name),
        RoomKind::Direct => {
            let others: Vec<&str> = room
                .members
                .iter()
                .map(String::as_str)
                .filter(|m| *m != own)
                .collect();
            if others.is_empty() {
                FALLBACK_TITLE.to_owned()
            } else {
                others.join(", ")
            }
        }
        RoomKind::Group => FALLBACK_TITLE.to_owned(),
    }
}

/// The body on one line, cut to [`PREVIEW_CHARS`] characters (on a char boundary) with `…`.
pub fn preview(body: &str) -> String {
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use natter_client::session::DeliveryState;

    use super::*;

    fn message(room: &str, sender: &str, body: &str) -> AppEvent {
        AppEvent::Message {
            message: Message {
                id: format!("m-{body}"),
                room_id: room.to_owned(),
                seq: 1,
                sender: sender.to_owned(),
                body: body.to_owned(),
                client_id: "c".to_owned(),
                sent_at: "2026-01-01T00:00:00Z".to_owned(),
                ..Message::default()
            },
        }
    }

    fn connected() -> AppEvent {
        AppEvent::Connection {
            state: ConnectionView::Connected {
                transport: natter_client::transport::TransportKind::WebSocket,
            },
        }
    }

    fn caught_up(own: &str) -> Alerts {
        let mut alerts = Alerts::new(own);
        assert_eq!(
            alerts.on_event(&connected(), &View::default(), Instant::now()),
            None
        );
        alerts
    }

    #[test]
    fn a_message_from_someone_else_raises_sender_and_preview() {
        let mut alerts = caught_up("alice");
        let now = Instant::now();
        let room = Room {
            id: "r1".to_owned(),
            name: "general".to_owned(),
            kind: RoomKind::Group,
            members: vec![],
            last_seq: 0,
            read_seq: 0,
            member_count: 0,
            others_read_seq: 0,
            unread: None,
        };
        alerts.on_event(&AppEvent::Room { room }, &View::default(), now);
        assert_eq!(
            alerts.on_event(&message("r1", "bob", "hi there"), &View::default(), now),
            Some(Alert {
                room_id: "r1".to_owned(),
                title: "#general".to_owned(),
                body: "bob: hi there".to_owned(),
            })
        );
    }

    #[test]
    fn changes_to_messages_stay_quiet() {
        let mut alerts = caught_up("alice");
        let now = Instant::now();
        for change in [
            natter_protocol::Change::Edit {
                target: "m-1".to_owned(),
                body: "fixed".to_owned(),
            },
            natter_protocol::Change::Reaction {
                target: "m-1".to_owned(),
                emoji: "👍".to_owned(),
                on: true,
            },
            natter_protocol::Change::Delete {
                target: "m-1".to_owned(),
            },
        ] {
            let AppEvent::Message { mut message } = message("r1", "bob", "entry") else {
                unreachable!("a message event")
            };
            message.change = Some(Box::new(change));
            let event = AppEvent::Message { message };
            assert_eq!(alerts.on_event(&event, &View::default(), now), None);
        }
        assert!(alerts
            .on_event(&message("r1", "bob", "news"), &View::default(), now)
            .is_some());
    }

    #[test]
    fn a_room_at_mentions_only_or_none_raises_what_its_level_says() {
        let mut alerts = caught_up("alice");
        let now = Instant::now();
        let view = View {
            levels: [
                ("quiet".to_owned(), Level::Mentions),
                ("muted".to_owned(), Level::None),
            ]
            .into(),
            ..View::default()
        };
        let mentioning = |room: &str, body: &str| {
            let AppEvent::Message { mut message } = message(room, "bob", body) else {
                unreachable!("a message event")
            };
            message.mentions = vec!["Alice".to_owned()];
            AppEvent::Message { message }
        };
        assert_eq!(
            alerts.on_event(&message("quiet", "bob", "chatter"), &view, now),
            None
        );
        assert!(alerts
            .on_event(&mentioning("quiet", "@Alice look"), &view, now)
            .is_some());
        assert_eq!(
            alerts.on_event(&mentioning("muted", "@Alice look"), &view, now),
            None,
            "none means none, mentions too"
        );
        assert!(alerts
            .on_event(&message("loud", "bob", "chatter"), &view, now)
            .is_some());
        // What a muted room held before it was muted is not shown when its window ends.
        let mut alerts = caught_up("alice");
        alerts.on_event(&message("r1", "bob", "one"), &View::default(), now);
        alerts.on_event(&message("r1", "bob", "two"), &View::default(), now);
        let muted = View {
            levels: [("r1".to_owned(), Level::None)].into(),
            ..View::default()
        };
        assert!(alerts.flush(&muted, now + COALESCE).is_empty());
    }

    #[test]
    fn a_direct_message_is_titled_with_the_other_person() {
        let mut alerts = caught_up("alice");
        let now = Instant::now();
        let room = Room {
            id: "d1".to_owned(),
            name: "alice, bob".to_owned(),
            kind: RoomKind::Direct,
            members: vec!["alice".to_owned(), "bob".to_owned()],
            last_seq: 0,
            read_seq: 0,
            member_count: 0,
            others_read_seq: 0,
            unread: None,
        };
        alerts.on_event(&AppEvent::Room { room }, &View::default(), now);
        let alert = alerts.on_event(&message("d1", "bob", "psst"), &View::default(), now);
        assert_eq!(alert.map(|a| a.title), Some("bob".to_owned()));
    }

    #[test]
    fn own_messages_catch_up_and_dnd_stay_quiet() {
        let now = Instant::now();
        let view = View::default();
        // Before `connected`: the catch-up.
        let mut alerts = Alerts::new("alice");
        assert_eq!(
            alerts.on_event(&message("r1", "bob", "old"), &view, now),
            None
        );
        alerts.on_event(&connected(), &view, now);
        assert_eq!(
            alerts.on_event(&message("r1", "alice", "mine"), &view, now),
            None
        );
        let dnd = View {
            dnd: true,
            ..View::default()
        };
        assert_eq!(
            alerts.on_event(&message("r1", "bob", "hush"), &dnd, now),
            None
        );
        assert!(alerts
            .on_event(&message("r1", "bob", "now"), &view, now)
            .is_some());
        // A reconnect starts a new catch-up.
        let connecting = AppEvent::Connection {
            state: ConnectionView::Connecting {
                attempt: 1,
                retry_in_ms: None,
            },
        };
        alerts.on_event(&connecting, &view, now);
        let later = now + COALESCE * 2;
        assert_eq!(
            alerts.on_event(&message("r2", "bob", "x"), &view, later),
            None
        );
        // Other events change nothing.
        let state = AppEvent::MessageState {
            client_id: "c".to_owned(),
            room_id: "r1".to_owned(),
            state: DeliveryState::Pending {
                body: "hi".to_owned(),
                created_at: "2026-01-01T00:00:00.000Z".to_owned(),
                files: Vec::new(),
            },
        };
        assert_eq!(alerts.on_event(&state, &view, later), None);
    }

    #[test]
    fn the_room_in_view_is_quiet_only_while_the_window_has_focus() {
        let mut alerts = caught_up("alice");
        let now = Instant::now();
        let mut view = View {
            dnd: false,
            active_room: Some("r1".to_owned()),
            focused: true,
            levels: HashMap::new(),
        };
        assert_eq!(
            alerts.on_event(&message("r1", "bob", "seen"), &view, now),
            None
        );
        assert!(alerts
            .on_event(&message("r2", "bob", "elsewhere"), &view, now)
            .is_some());
        view.focused = false;
        assert!(alerts
            .on_event(&message("r1", "bob", "away"), &view, now)
            .is_some());
    }

    #[test]
    fn a_burst_in_one_room_is_coalesced() {
        let mut alerts = caught_up("alice");
        let view = View::default();
        let start = Instant::now();
        assert!(alerts
            .on_event(&message("r1", "bob", "1"), &view, start)
            .is_some());
        assert_eq!(alerts.next_flush(), None);
        for n in 2..=4 {
            let at = start + Duration::from_millis(100 * n);
            assert_eq!(alerts.on_event(&message("r1", "bob", "n"), &view, at), None);
        }
        // Another room is not held back by r1's window.
        assert!(alerts
            .on_event(&message("r2", "carol", "x"), &view, start)
            .is_some());
        assert_eq!(alerts.next_flush(), Some(start + COALESCE));
        assert!(alerts.flush(&view, start + COALESCE / 2).is_empty());
        let at = start + COALESCE;
        let due = alerts.flush(&view, at);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].room_id, "r1");
        assert_eq!(due[0].body, "3 new messages");
        // The flush opened a new window: one more message is held, then shown on its own.
        assert_eq!(alerts.on_event(&message("r1", "bob", "5"), &view, at), None);
        let due = alerts.flush(&view, at + COALESCE);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].body, "bob: 5");
        // Nothing held: the rooms are forgotten, and the next message shows at once.
        assert!(alerts.flush(&view, at + COALESCE * 3).is_empty());
        assert!(alerts.rooms.is_empty());
        let next = at + COALESCE * 3;
        assert!(alerts
            .on_event(&message("r1", "bob", "6"), &view, next)
            .is_some());
    }

    #[test]
    fn held_messages_are_dropped_once_seen_or_muted() {
        let mut alerts = caught_up("alice");
        let view = View::default();
        let start = Instant::now();
        assert!(alerts
            .on_event(&message("r1", "bob", "1"), &view, start)
            .is_some());
        assert_eq!(
            alerts.on_event(&message("r1", "bob", "2"), &view, start),
            None
        );
        let dnd = View {
            dnd: true,
            ..View::default()
        };
        assert!(alerts.flush(&dnd, start + COALESCE).is_empty());
        assert_eq!(alerts.next_flush(), None);
    }

    #[test]
    fn previews_are_cut_on_a_char_boundary() {
        assert_eq!(preview("short\nand  spaced"), "short and spaced");
        let long = "é".repeat(PREVIEW_CHARS + 5);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), PREVIEW_CHARS + 1);
        assert!(cut.ends_with('…'));
        let exact = "🙂".repeat(PREVIEW_CHARS);
        assert_eq!(preview(&exact), exact);
        assert_eq!(preview(""), "");
    }
}
