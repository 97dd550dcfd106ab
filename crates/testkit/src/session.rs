//! Desktop-client session helpers (natter-client): a session config with short timeouts, and
//! bounded waits on its event stream.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use natter_client::session::{
    AppEvent, AppEvents, ConnectionView, DeliveryState, Session, SessionConfig,
};
use natter_client::supervisor::{Backoff, SupervisorConfig};
use natter_client::transport::{Timeouts, TransportKind};
use natter_protocol::model::Seq;

/// How long any single wait on a session may take: a reconnect with backoff takes longer than
/// one request.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `fut` for at most [`WAIT`]; the test fails with `what` otherwise.
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Short timeouts, a fast backoff and a liveness check every 300 ms (1 s to answer).
pub fn supervisor_config(url: impl Into<String>, token: impl Into<String>) -> SupervisorConfig {
    SupervisorConfig {
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(2),
        },
        backoff: Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(400),
        },
        liveness_every: Duration::from_millis(300),
        liveness_timeout: Duration::from_secs(1),
        ..SupervisorConfig::new(url, token)
    }
}

/// A session in `dir` with [`supervisor_config`]'s timeouts and a fast outbox retry.
pub fn config(dir: &Path, url: String, token: &str) -> SessionConfig {
    SessionConfig {
        supervisor: supervisor_config(url, token),
        retry_after: Duration::from_millis(200),
        ..SessionConfig::new(dir, "", "")
    }
}

pub async fn start(dir: &Path, url: String, token: &str) -> (Session, AppEvents) {
    Session::start(config(dir, url, token))
        .await
        .expect("the session starts")
}

/// Waits for the first event `pick` accepts, skipping the others.
pub async fn until<T>(
    events: &mut AppEvents,
    what: &str,
    mut pick: impl FnMut(AppEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            let event = events.recv().await.expect("the session is running");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
}

/// Waits until connected and caught up; returns the transport in use.
pub async fn connected(events: &mut AppEvents) -> TransportKind {
    until(events, "connected and caught up", |e| match e {
        AppEvent::Connection {
            state: ConnectionView::Connected { transport },
        } => Some(transport),
        _ => None,
    })
    .await
}

/// Waits until the session reports it is reconnecting.
pub async fn connecting(events: &mut AppEvents) {
    until(events, "connecting", |e| {
        matches!(
            e,
            AppEvent::Connection {
                state: ConnectionView::Connecting { .. }
            }
        )
        .then_some(())
    })
    .await
}

/// Waits until every one of `client_ids` is sent; returns their seqs in the same order.
pub async fn sent(events: &mut AppEvents, client_ids: &[String]) -> Vec<Seq> {
    let mut seqs = HashMap::new();
    until(events, "every send acked", |e| {
        if let AppEvent::MessageState {
            client_id,
            state: DeliveryState::Sent { seq },
            ..
        } = e
        {
            assert!(seqs.insert(client_id, seq).is_none(), "sent announced once");
        }
        client_ids
            .iter()
            .all(|id| seqs.contains_key(id))
            .then_some(())
    })
    .await;
    client_ids.iter().map(|id| seqs[id]).collect()
}
