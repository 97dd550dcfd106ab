//! The session's one way out to the app: the [`AppEvent`] stream, and the connection state it
//! last announced, kept on a watch so the app can also ask. Both are written only here, so what
//! the app is told and what it reads when it asks never disagree.

use tokio::sync::{mpsc, watch};

use super::event::{AppEvent, ConnectionView};

/// Cloned into the session and its worker; the watch is the one copy of the connection state.
#[derive(Debug, Clone)]
pub(super) struct Outlet {
    events: mpsc::UnboundedSender<AppEvent>,
    connection: std::sync::Arc<watch::Sender<ConnectionView>>,
}

impl Outlet {
    /// A new outlet, with the state a session starts in (connecting, first attempt), the
    /// stream's receiving end and a reader of the state.
    pub(super) fn new() -> (
        Self,
        mpsc::UnboundedReceiver<AppEvent>,
        watch::Receiver<ConnectionView>,
    ) {
        let (events, app_events) = mpsc::unbounded_channel();
        let (connection, view) = watch::channel(ConnectionView::Connecting {
            attempt: 1,
            retry_in_ms: None,
        });
        let outlet = Self {
            events,
            connection: std::sync::Arc::new(connection),
        };
        (outlet, app_events, view)
    }

    /// Tells the app; a connection change also moves the state the app can ask for, first, so
    /// an app that asks after hearing it never reads an older one.
    pub(super) fn emit(&self, event: AppEvent) {
        if let AppEvent::Connection { state } = &event {
            tracing::debug!(?state, "connection view");
            self.connection.send_replace(state.clone());
        }
        // The app may have dropped its receiver; the cache still holds everything.
        let _ = self.events.send(event);
    }
}
