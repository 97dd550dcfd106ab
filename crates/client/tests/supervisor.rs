//! The connection supervisor against a real relay that stops and comes back on the same port.

mod support;

use std::sync::Arc;

use natter_client::supervisor::{ConnectionState, OfflineReason, Supervisor};
use natter_client::transport::Connection;
use natter_protocol::requests::ListRooms;
use support::app::supervisor_config;
use support::{within, TestRelay};
use tokio::sync::{mpsc, watch};

async fn connected(state: &mut watch::Receiver<ConnectionState>) -> Arc<Connection> {
    let state = within(
        "Connected",
        state.wait_for(|s| matches!(s, ConnectionState::Connected { .. })),
    )
    .await
    .expect("the supervisor is running");
    match &*state {
        ConnectionState::Connected { transport } => transport.clone(),
        other => panic!("expected Connected, got {other:?}"),
    }
}

#[tokio::test]
async fn reconnects_after_the_relay_restarts_on_the_same_port() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let addr = relay.addr();
    let token = relay.token("alice").await;
    let (events, _rx) = mpsc::unbounded_channel();
    let supervisor = Supervisor::start(supervisor_config(relay.url(), token), events);
    let mut state = supervisor.state();

    let first = connected(&mut state).await;
    first
        .request(&ListRooms {})
        .await
        .expect("the first connection answers");

    relay.stop().await;
    // The liveness check notices (a clean close fires no callback), then attempts fail and wait.
    within(
        "a retry to be scheduled",
        state.wait_for(|s| {
            matches!(
                s,
                ConnectionState::Connecting {
                    retry_at: Some(_),
                    ..
                }
            )
        }),
    )
    .await
    .expect("the supervisor is running");
    assert!(!first.is_alive());

    let relay = TestRelay::at(dir.path(), addr).await;
    let second = connected(&mut state).await;
    assert!(
        !Arc::ptr_eq(&first, &second),
        "a fresh transport per connection"
    );
    let rooms = second
        .request(&ListRooms {})
        .await
        .expect("the new connection answers");
    assert!(!rooms.rooms.is_empty());

    supervisor.stop().await;
    assert!(matches!(
        &*state.borrow(),
        ConnectionState::Offline {
            reason: OfflineReason::Stopped
        }
    ));
    relay.stop().await;
}

#[tokio::test]
async fn first_connect_waits_for_the_relay_to_come_up() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let addr = relay.addr();
    let token = relay.token("alice").await;
    relay.stop().await;

    let (events, _rx) = mpsc::unbounded_channel();
    let supervisor = Supervisor::start(supervisor_config(format!("http://{addr}"), token), events);
    let mut state = supervisor.state();
    within(
        "the second attempt",
        state.wait_for(|s| matches!(s, ConnectionState::Connecting { attempt: 2.., .. })),
    )
    .await
    .expect("the supervisor is running");

    let relay = TestRelay::at(dir.path(), addr).await;
    connected(&mut state)
        .await
        .request(&ListRooms {})
        .await
        .expect("the connection answers");
    supervisor.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_refused_token_goes_offline() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let (events, _rx) = mpsc::unbounded_channel();
    let supervisor = Supervisor::start(supervisor_config(relay.url(), "revoked"), events);
    let mut state = supervisor.state();
    within(
        "Offline",
        state.wait_for(|s| {
            matches!(
                s,
                ConnectionState::Offline {
                    reason: OfflineReason::Unauthorized
                }
            )
        }),
    )
    .await
    .expect("the supervisor is running");
    supervisor.stop().await;
    relay.stop().await;
}

/// "Retry now" (issue 23): a wait between attempts, however long, ends when asked.
#[tokio::test]
async fn retry_now_ends_the_wait_between_attempts() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let addr = relay.addr();
    let token = relay.token("alice").await;
    relay.stop().await;

    // A backoff far longer than any wait of this test: only `retry_now` can end it in time.
    let mut config = supervisor_config(format!("http://{addr}"), token);
    config.backoff = natter_client::supervisor::Backoff {
        base: std::time::Duration::from_secs(120),
        cap: std::time::Duration::from_secs(120),
    };
    let (events, _rx) = mpsc::unbounded_channel();
    let supervisor = Supervisor::start(config, events);
    let mut state = supervisor.state();
    within(
        "a wait after the first failed attempt",
        state.wait_for(|s| {
            matches!(
                s,
                ConnectionState::Connecting {
                    retry_at: Some(_),
                    ..
                }
            )
        }),
    )
    .await
    .expect("the supervisor is running");

    let relay = TestRelay::at(dir.path(), addr).await;
    supervisor.retry_now();
    connected(&mut state)
        .await
        .request(&ListRooms {})
        .await
        .expect("the connection answers");
    supervisor.stop().await;
    relay.stop().await;
}
