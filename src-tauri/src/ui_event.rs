//! The one stream of UI events: every `natter_client` [`AppEvent`] goes to the webview under
//! [`EVENT`], as the client's tagged JSON, in order. Bursts (a catch-up of hundreds of messages)
//! are coalesced: what is queued when the forwarder wakes goes out as one array, so the payload
//! is always `AppEvent[]`. The same events also go to the notifier (`notifier.rs`), without
//! waiting on it.

use natter_client::session::{AppEvent, AppEvents};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::notifier;

/// The event name the webview listens to (`window.__TAURI__.event.listen`).
pub const EVENT: &str = "natter://event";

/// The most events in one emit, so one huge burst does not become one huge IPC message.
pub const MAX_BATCH: usize = 256;

/// Forwards `events` to every webview of `app` until the session closes its stream, handing
/// `notifier` what it needs.
pub fn forward<R: Runtime>(
    app: AppHandle<R>,
    mut events: AppEvents,
    notifier: mpsc::Sender<AppEvent>,
) -> JoinHandle<()> {
    tauri::async_runtime::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while events.recv_many(&mut batch, MAX_BATCH).await > 0 {
            to_notifier(&notifier, &batch);
            if let Err(error) = app.emit(EVENT, &batch) {
                tracing::warn!(%error, "could not emit UI events");
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
