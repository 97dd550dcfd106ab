//! OS notifications for new messages, raised from the backend (so they work while the webview
//! is hidden). The forwarder hands the notifier copies of the events that matter, without
//! waiting (a bounded queue; when full, events are dropped: notifications are best effort and
//! the UI stream must never stall). The notifier applies the rules in `alerts.rs` on a task of
//! its own and shows what they return through tauri-plugin-notification, which sends on a
//! background thread (Linux: a `Notify` call to org.freedesktop.Notifications on the session
//! bus), so a missing notification daemon costs a log line, never a block.
//!
//! Freedesktop servers may render markup in the body (`body-markup`), and some (dunst's default
//! format) put the summary inside markup too: room names and message text are the senders', so
//! both are escaped there ([`plain_text`]), or `<b>` or `<a href>` in a message would be obeyed.
//!
//! Activating a notification (where the platform reports it: Linux servers that support the
//! `default` action, Windows while the toast is on screen, macOS) shows and focuses the window
//! and emits [`OPEN_ROOM`] with the room and its account (the UI switches to it first).
//!
//! Each signed-in account has its own notifier. With more than one signed in, a notification's
//! title names its account (`#general · alice@chat.example.org`).

use std::sync::Arc;
use std::time::Instant;

use natter_client::session::AppEvent;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tauri_plugin_notification::{ActionPerformed, NotificationExt};
use tokio::sync::mpsc;

use crate::accounts::roster::Roster;
use crate::alerts::{Alert, Alerts};
use crate::shell::Shell;
use crate::window;

/// Emitted, with `{"room_id": "<id>"}`, when a notification is activated, after the window is
/// shown and focused: the UI opens that room.
pub const OPEN_ROOM: &str = "natter://open-room";

/// Events waiting for the notifier; beyond this a burst is dropped, not queued.
pub const QUEUE: usize = 1024;
/// The notification's extra fields that carry the room and the account.
const ROOM_KEY: &str = "room_id";
const ACCOUNT_KEY: &str = "account";

/// The payload of [`OPEN_ROOM`].
#[derive(Debug, Clone, Serialize)]
pub struct OpenRoom {
    pub room_id: String,
    /// The account the room belongs to (its id in `accounts`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// Whose notifications a notifier raises.
pub struct Owner {
    /// The account's id (`accounts`).
    pub account: String,
    /// Its username: its own messages raise nothing.
    pub username: String,
    pub shell: Arc<Shell>,
    pub roster: Arc<Roster>,
}

/// Whether the notifier needs to see `event`.
pub fn wants(event: &AppEvent) -> bool {
    matches!(
        event,
        AppEvent::Message { .. } | AppEvent::Room { .. } | AppEvent::Connection { .. }
    )
}

/// Starts the notifier of one account's session; it ends when the sender is dropped.
pub fn spawn<R: Runtime>(app: AppHandle<R>, owner: Owner) -> mpsc::Sender<AppEvent> {
    let (sender, mut events) = mpsc::channel::<AppEvent>(QUEUE);
    tauri::async_runtime::spawn(async move {
        let Owner {
            account,
            username,
            shell,
            roster,
        } = owner;
        let view = || roster.view_of(&account, shell.view());
        let raise = |alert: Alert| {
            let label = roster.label_if_several(&account);
            show(&app, alert, &account, label.as_deref());
        };
        let mut alerts = Alerts::new(username);
        loop {
            let flush_at = alerts.next_flush();
            let flush = async {
                match flush_at {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = events.recv() => {
                    let Some(event) = event else { break };
                    if let Some(alert) = alerts.on_event(&event, &view(), Instant::now()) {
                        raise(alert);
                    }
                }
                () = flush => {
                    for alert in alerts.flush(&view(), Instant::now()) {
                        raise(alert);
                    }
                }
            }
        }
    });
    sender
}

/// Raises `alert` of `account` (the plugin sends it off this task); `label` names the account
/// in the title.
fn show<R: Runtime>(app: &AppHandle<R>, alert: Alert, account: &str, label: Option<&str>) {
    tracing::debug!(room_id = alert.room_id, account, "notification");
    let title = match label {
        Some(label) => format!("{} · {label}", alert.title),
        None => alert.title,
    };
    let shown = app
        .notification()
        .builder()
        .title(plain_text(&title))
        .body(plain_text(&alert.body))
        .extra(ROOM_KEY, alert.room_id)
        .extra(ACCOUNT_KEY, account)
        .show();
    if let Err(error) = shown {
        tracing::warn!(%error, "could not show a notification");
    }
}

/// `text` as the notification server must show it: on freedesktop desktops (which may parse
/// markup) `&`, `<` and `>` become entities; elsewhere the text is shown as given.
fn plain_text(text: &str) -> String {
    if cfg!(all(unix, not(target_os = "macos"))) {
        escape_markup(text)
    } else {
        text.to_owned()
    }
}

/// `&`, `<` and `>` as entities (the markup the notification spec allows is a subset of XML;
/// quotes need no escaping outside attributes).
pub fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Opens the room of an activated notification: call once at start, before any notification.
pub fn on_activate<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let registered = app.notification().on_action(move |performed| {
        if let Some(open) = activated_room(performed) {
            tracing::info!(room_id = %open.room_id, "notification clicked: opening its room");
            window::show_main(&handle);
            if let Err(error) = handle.emit(OPEN_ROOM, open) {
                tracing::warn!(%error, "could not ask the UI to open a room");
            }
        }
    });
    if let Err(error) = registered {
        tracing::warn!(%error, "notification clicks will not open their room");
    }
}

/// The room (and account) of a clicked notification (`tap`; Natter's notifications have no
/// other actions).
fn activated_room(performed: &ActionPerformed) -> Option<OpenRoom> {
    if performed.action_id() != "tap" {
        return None;
    }
    let extra = performed.notification()?.extra();
    let text = |key: &str| extra.get(key)?.as_str().map(str::to_owned);
    Some(OpenRoom {
        room_id: text(ROOM_KEY)?,
        account: text(ACCOUNT_KEY),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_client::session::DeliveryState;
    use serde_json::json;

    #[test]
    fn a_tap_names_its_room() -> Result<(), serde_json::Error> {
        let performed = |action: &str, extra: serde_json::Value| {
            serde_json::from_value::<ActionPerformed>(json!({
                "actionId": action,
                "inputValue": null,
                "notification": {"id": 1, "extra": extra},
            }))
        };
        let room = |p: &ActionPerformed| activated_room(p).map(|open| open.room_id);
        let tap = performed("tap", json!({"room_id": "r1"}))?;
        assert_eq!(room(&tap).as_deref(), Some("r1"));
        assert_eq!(activated_room(&tap).and_then(|open| open.account), None);
        let theirs = performed("tap", json!({"room_id": "r1", "account": "2"}))?;
        assert_eq!(
            activated_room(&theirs)
                .and_then(|open| open.account)
                .as_deref(),
            Some("2")
        );
        assert_eq!(room(&performed("reply", json!({"room_id": "r1"}))?), None);
        assert_eq!(room(&performed("tap", json!({}))?), None);
        assert_eq!(room(&performed("tap", json!({"room_id": 5}))?), None);
        Ok(())
    }

    #[test]
    fn markup_in_titles_and_bodies_reaches_the_server_as_text() {
        assert_eq!(
            escape_markup("alice: <b>x</b> & <a href=\"u\">y</a>"),
            "alice: &lt;b&gt;x&lt;/b&gt; &amp; &lt;a href=\"u\"&gt;y&lt;/a&gt;"
        );
        assert_eq!(
            escape_markup("&amp;"),
            "&amp;amp;",
            "an entity typed stays as typed"
        );
        assert_eq!(escape_markup("plain ünïcode"), "plain ünïcode");
        #[cfg(target_os = "linux")]
        assert_eq!(plain_text("#<i>room</i>"), "#&lt;i&gt;room&lt;/i&gt;");
    }

    #[test]
    fn only_messages_rooms_and_connection_reach_the_notifier() {
        assert!(!wants(&AppEvent::MessageState {
            client_id: "c".to_owned(),
            room_id: "r".to_owned(),
            state: DeliveryState::Pending {
                body: "b".to_owned(),
                created_at: "t".to_owned(),
                files: Vec::new(),
            },
        }));
        assert!(wants(&AppEvent::Connection {
            state: natter_client::session::ConnectionView::Offline {
                reason: "stopped".to_owned(),
                certificate: None,
            }
        }));
    }
}
