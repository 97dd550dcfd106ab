//! The transport boundary against a real relay started in-process.

mod support;

use std::time::Duration;

use natter_client::transport::{self, ConnectError, RequestError, ServerEvent, Timeouts};
use natter_protocol::requests::{ListRooms, SendMessage};
use natter_protocol::{ErrorCode, GENERAL_ROOM_ID};
use support::{within, TestRelay};
use tokio::sync::mpsc;

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(5),
    }
}

fn send(room_id: &str, body: &str) -> SendMessage {
    SendMessage {
        room_id: room_id.to_owned(),
        client_id: uuid::Uuid::new_v4().to_string(),
        body: body.to_owned(),
        reply_to: None,
        attachments: Vec::new(),
    }
}

#[tokio::test]
async fn connect_resolves_on_connect_and_a_request_round_trips() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let token = relay.token("alice").await;
    let (events, _rx) = mpsc::unbounded_channel();
    let conn = transport::connect(&relay.url(), &token, timeouts(), events)
        .await
        .expect("alice connects");
    assert!(conn.is_alive());
    // Sent at once after connect() returned: an emit before the relay's CONNECT would close
    // the transport, so this proves connect() waited for it.
    let rooms = conn
        .request(&ListRooms {})
        .await
        .expect("rooms:list answers");
    assert!(rooms.rooms.iter().any(|r| r.id == GENERAL_ROOM_ID));
    let sent = conn
        .request(&send(GENERAL_ROOM_ID, "hello"))
        .await
        .expect("message:send answers");
    assert_eq!(sent.message.seq, 1);
    conn.close().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_bad_token_is_unauthorized() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let (events, _rx) = mpsc::unbounded_channel();
    let refused = transport::connect(&relay.url(), "not-a-token", timeouts(), events).await;
    assert!(
        matches!(refused, Err(ConnectError::Unauthorized)),
        "{refused:?}"
    );
    relay.stop().await;
}

#[tokio::test]
async fn nothing_listening_fails_fast() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").port()
    };
    let (events, _rx) = mpsc::unbounded_channel();
    let url = format!("http://127.0.0.1:{port}");
    let failed = within(
        "connect to fail",
        transport::connect(&url, "t", timeouts(), events),
    )
    .await;
    assert!(
        matches!(failed, Err(ConnectError::Transport(_))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_refusal_leaves_the_connection_alive() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let token = relay.token("alice").await;
    let (events, _rx) = mpsc::unbounded_channel();
    let conn = transport::connect(&relay.url(), &token, timeouts(), events)
        .await
        .expect("alice connects");
    let refused = conn.request(&send("r-nowhere", "hi")).await;
    assert!(
        matches!(&refused, Err(RequestError::Refused(e)) if e.code == ErrorCode::Forbidden),
        "{refused:?}"
    );
    assert!(conn.is_alive());
    conn.request(&ListRooms {}).await.expect("still answers");
    relay.stop().await;
}

#[tokio::test]
async fn events_arrive_decoded() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let alice_token = relay.token("alice").await;
    let bob_token = relay.token("bob").await;
    let (alice_events, _alice_rx) = mpsc::unbounded_channel();
    let (bob_events, mut bob_rx) = mpsc::unbounded_channel();
    let alice = transport::connect(&relay.url(), &alice_token, timeouts(), alice_events)
        .await
        .expect("alice connects");
    let _bob = transport::connect(&relay.url(), &bob_token, timeouts(), bob_events)
        .await
        .expect("bob connects");
    alice
        .request(&send(GENERAL_ROOM_ID, "hi bob"))
        .await
        .expect("alice sends");
    let message = within("bob's message event", async {
        loop {
            match bob_rx.recv().await {
                Some(ServerEvent::Message(ev)) => return ev.message,
                Some(_) => continue,
                None => panic!("bob's event channel closed"),
            }
        }
    })
    .await;
    assert_eq!(message.body, "hi bob");
    assert_eq!(message.sender, "alice");
    relay.stop().await;
}

#[tokio::test]
async fn stopping_the_relay_makes_the_connection_dead() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(dir.path()).await;
    let token = relay.token("alice").await;
    let (events, _rx) = mpsc::unbounded_channel();
    let conn = transport::connect(&relay.url(), &token, timeouts(), events)
        .await
        .expect("alice connects");
    relay.stop().await;
    // The relay closes the Engine.IO transport cleanly, and rust_socketio reports that through
    // no callback at all (measured): the next request finds out, at once, not after a timeout.
    let started = tokio::time::Instant::now();
    let after = within(
        "a request on a closed connection",
        conn.request(&ListRooms {}),
    )
    .await;
    assert!(matches!(after, Err(RequestError::Dead(_))), "{after:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(!conn.is_alive());
    within("dead() to resolve", conn.dead()).await;
}
