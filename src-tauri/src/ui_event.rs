//! The one stream of UI events: every `natter_client` [`AppEvent`] goes to the webview under
//! [`EVENT`], as the client's tagged JSON, in order. Bursts (a catch-up of hundreds of messages)
//! are coalesced: what is queued when the forwarder wakes goes out as one array, so the payload
//! is always `AppEvent[]`. The same events also go to the notifier (`notifier.rs`), without
//! waiting on it. Each signed-in account has its own forwarder: only the active account's
//! batches reach the webview (the others' are in their caches, read when the UI switches to
//! them), and every account's batches go through the roster, which keeps its unread counts.

use std::sync::Arc;

use natter_client::session::{AppEvent, AppEvents};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::accounts::roster::Roster;
use crate::notifier;

/// Which account a forwarder serves, and what to do when the roster's view of it changed.
pub struct Tap {
    pub account: String,
    pub roster: Arc<Roster>,
    /// Called after a batch changed the account's unread total or connection state.
    pub changed: Box<dyn Fn() + Send + Sync>,
}

/// The event name the webview listens to (`window.__TAURI__.event.listen`).
pub const EVENT: &str = "natter://event";

/// The most events in one emit, so one huge burst does not become one huge IPC message.
pub const MAX_BATCH: usize = 256;

/// Forwards `events` to every webview of `app` while `tap`'s account is the active one, until
/// the session closes its stream, handing `notifier` what it needs.
pub fn forward<R: Runtime>(
    app: AppHandle<R>,
    mut events: AppEvents,
    notifier: mpsc::Sender<AppEvent>,
    tap: Tap,
) -> JoinHandle<()> {
    tauri::async_runtime::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while events.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let changed = tap.roster.record(&tap.account, &batch);
            to_notifier(&notifier, &batch);
            // Under the roster's lock: a switch to another account cannot come in between.
            tap.roster.if_active(&tap.account, || {
                if let Err(error) = app.emit(EVENT, &batch) {
                    tracing::warn!(%error, "could not emit UI events");
                }
            });
            if changed {
                (tap.changed)();
            }
            batch.clear();
        }
    })
}

/// Copies what the notifier needs from `batch`; when its queue is full the rest is dropped.
fn to_notifier(notifier: &mpsc::Sender<AppEvent>, batch: &[AppEvent]) {
    for event in batch.iter().filter(|event| notifier::wants(event)) {
        match notifier.try_send(event.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::debug!("notifier busy; some events get no notification");
                return;
            }
            Err(TrySendError::Closed(_)) => return,
        }
    }
}
