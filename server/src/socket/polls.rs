//! What a long-polling client has taken: a session that polls has no connection of its own, so
//! the bytes of each poll's response (and, once it upgrades, its WebSocket connection's bytes)
//! are counted per Engine.IO session id, which is the socket's id. `bounds.rs` compares them
//! with the read replies handed to the socket, as it does for a WebSocket's own connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::HttpBody as _;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::serve::Written;

/// The counters of the polling sessions the relay has now, by session id.
#[derive(Clone, Debug, Default)]
pub struct Polls(Arc<Mutex<HashMap<String, Delivered>>>);

/// What reached one session's client: its polls' responses, then its upgraded connection.
#[derive(Clone, Debug, Default)]
pub(super) struct Delivered {
    polled: Written,
    upgraded: Arc<Mutex<Option<Written>>>,
}

impl Delivered {
    pub(super) fn bytes(&self) -> u64 {
        let upgraded = self
            .upgraded
            .lock()
            .map_or(0, |w| w.as_ref().map_or(0, Written::bytes));
        self.polled.bytes() + upgraded
    }
}

impl Polls {
    /// Starts counting for session `sid` (a socket that opened on long-polling).
    pub(super) fn open(&self, sid: &str) -> Delivered {
        let delivered = Delivered::default();
        if let Ok(mut map) = self.0.lock() {
            map.insert(sid.to_owned(), delivered.clone());
        }
        delivered
    }

    /// Stops counting for `sid` (its socket is gone).
    pub(super) fn close(&self, sid: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(sid);
        }
    }

    fn get(&self, sid: &str) -> Option<Delivered> {
        self.0.lock().ok()?.get(sid).cloned()
    }
}

/// The Engine.IO session a request belongs to, and whether it is a poll or an upgrade.
fn session_of(req: &Request) -> Option<(&str, bool)> {
    let query = req.uri().query()?;
    let (mut sid, mut polling, mut websocket) = (None, false, false);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("sid", value)) => sid = Some(value),
            Some(("transport", "polling")) => polling = true,
            Some(("transport", "websocket")) => websocket = true,
            _ => {}
        }
    }
    let sid = sid?;
    if polling && req.method() == Method::GET {
        Some((sid, true))
    } else if websocket {
        Some((sid, false))
    } else {
        None
    }
}

/// Axum middleware around the Socket.IO layer: counts a poll's response, or links an upgrade's
/// connection, to its session. Sessions not opened by [`Polls::open`] are not counted.
pub async fn track(State(polls): State<Polls>, req: Request, next: Next) -> Response {
    let Some((delivered, poll)) =
        session_of(&req).and_then(|(sid, poll)| polls.get(sid).map(|delivered| (delivered, poll)))
    else {
        return next.run(req).await;
    };
    if !poll {
        if let (Some(written), Ok(mut upgraded)) = (
            req.extensions().get::<Written>().cloned(),
            delivered.upgraded.lock(),
        ) {
            *upgraded = Some(written);
        }
        return next.run(req).await;
    }
    let response = next.run(req).await;
    // A poll's body is one buffer of known length; a lower bound otherwise.
    delivered.polled.add(response.body().size_hint().lower());
    response
}
