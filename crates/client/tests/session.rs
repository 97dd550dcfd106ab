//! The session against a real relay: chat between two sessions, sends queued while the relay is
//! down, catch-up after a long absence, an app restart with a pending outbox, permanent refusals.
//! Every wait is bounded and waits on the session's event stream, never on a sleep.

mod support;

use std::net::SocketAddr;

use natter_client::session::{
    AppEvent, AppEvents, ConnectionView, DeliveryState, Session, SessionConfig, SessionError,
};
use natter_client::transport::{self, Connection, Timeouts};
use natter_client::OutboxState;
use natter_protocol::model::Seq;
use natter_protocol::requests::{
    CreateRoom, InviteToRoom, LeaveRoom, MarkRead, SendMessage, SetTyping,
};
use natter_protocol::{ErrorCode, Message, GENERAL_ROOM_ID};
use support::app::{config, connected, sent, start, until};
use support::{within, TestRelay};

async fn messages_until(events: &mut AppEvents, last: &str) -> Vec<Message> {
    room_messages_until(events, GENERAL_ROOM_ID, last).await
}

/// Every message event of `room_id` up to and including the one with body `last`.
async fn room_messages_until(events: &mut AppEvents, room_id: &str, last: &str) -> Vec<Message> {
    let mut got = Vec::new();
    until(events, &format!("the message {last:?}"), |e| match e {
        AppEvent::Message { message } if message.room_id == room_id => {
            let done = message.body == last;
            got.push(message);
            done.then_some(())
        }
        _ => None,
    })
    .await;
    got
}

async fn send_all(session: &Session, bodies: &[String]) -> Vec<String> {
    let mut ids = Vec::new();
    for body in bodies {
        let item = session
            .send(GENERAL_ROOM_ID, body)
            .await
            .expect("the send is queued");
        ids.push(item.client_id);
    }
    ids
}

fn bodies(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// Each message once, in seq order without holes, with the bodies expected.
fn assert_in_order(messages: &[Message], expected: &[String]) {
    let got: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(got, expected);
    for pair in messages.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1, "consecutive seqs");
    }
}

#[tokio::test]
async fn two_sessions_chat_each_message_once_in_order() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    connected(&mut a_events).await;
    connected(&mut b_events).await;

    let chat = bodies("hi ", 5);
    let ids = send_all(&a, &chat).await;
    let at_b = messages_until(&mut b_events, "hi 4").await;
    assert_in_order(&at_b, &chat);
    // The sender sees its own messages once too (ack and broadcast dedupe to one).
    let at_a = messages_until(&mut a_events, "hi 4").await;
    assert_eq!(at_a, at_b);
    let seqs: Vec<Seq> = at_b.iter().map(|m| m.seq).collect();
    assert_eq!(
        a.cache().pending().await.expect("the outbox").len(),
        0,
        "nothing left"
    );
    for (id, seq) in ids.iter().zip(&seqs) {
        let item = a
            .cache()
            .outbox_item(id)
            .await
            .expect("the outbox")
            .expect("kept");
        assert_eq!(item.state, OutboxState::Sent { seq: *seq });
    }

    // A reply, and then nothing at A or B repeats what came before it.
    b.send(GENERAL_ROOM_ID, "back at you")
        .await
        .expect("queued");
    let after = messages_until(&mut a_events, "back at you").await;
    assert_eq!(after.len(), 1, "no repeats: {after:?}");
    let after = messages_until(&mut b_events, "back at you").await;
    assert_eq!(after.len(), 1, "no repeats: {after:?}");
    assert_eq!(
        b.messages(GENERAL_ROOM_ID, None, 100)
            .await
            .expect("cache")
            .len(),
        6
    );

    a.stop().await;
    b.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn sends_while_the_relay_is_down_are_delivered_once_after_it_returns() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let addr = relay.addr();
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    connected(&mut a_events).await;
    connected(&mut b_events).await;
    // What the app reads when it asks is what the stream last said.
    assert!(
        matches!(a.connection_view(), ConnectionView::Connected { .. }),
        "{:?}",
        a.connection_view()
    );

    relay.stop().await;
    let retrying = until(
        &mut a_events,
        "A to notice the relay is gone",
        |e| match e {
            AppEvent::Connection {
                state:
                    state @ ConnectionView::Connecting {
                        retry_in_ms: Some(_),
                        ..
                    },
            } => Some(state),
            _ => None,
        },
    )
    .await;
    assert!(
        matches!(a.connection_view(), ConnectionView::Connecting { .. }),
        "announced {retrying:?}, reads {:?}",
        a.connection_view()
    );

    let offline = bodies("offline ", 3);
    let ids = send_all(&a, &offline).await;
    let pending = a.cache().pending().await.expect("the outbox");
    let queued: Vec<&str> = pending.iter().map(|i| i.body.as_str()).collect();
    assert_eq!(queued, offline, "queued, in order, visible");
    for id in &ids {
        until(&mut a_events, "the pending announcement", |e| {
            matches!(e, AppEvent::MessageState { client_id, state: DeliveryState::Pending { .. }, .. } if client_id == *id)
                .then_some(())
        })
        .await;
    }

    let relay = TestRelay::at(relay_dir.path(), addr).await;
    let seqs = sent(&mut a_events, &ids).await;
    let at_b = messages_until(&mut b_events, "offline 2").await;
    assert_in_order(&at_b, &offline);
    assert_eq!(at_b.iter().map(|m| m.seq).collect::<Vec<_>>(), seqs);
    assert!(a.cache().pending().await.expect("the outbox").is_empty());

    a.send(GENERAL_ROOM_ID, "and again").await.expect("queued");
    let after = messages_until(&mut b_events, "and again").await;
    assert_eq!(after.len(), 1, "no repeats: {after:?}");

    a.stop().await;
    b.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_long_absence_is_caught_up_in_order_through_sync_pages() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let unlimited = |c: &mut natter_relay::Config| {
        c.send_burst = 10_000;
        c.send_per_second = 10_000;
    };
    let relay = TestRelay::at_with(
        relay_dir.path(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        unlimited,
    )
    .await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    connected(&mut a_events).await;
    connected(&mut b_events).await;
    a.send(GENERAL_ROOM_ID, "hello").await.expect("queued");
    let hello = messages_until(&mut b_events, "hello").await;
    b.stop().await;

    let missed = bodies("missed ", 500);
    let ids = send_all(&a, &missed).await;
    let seqs = sent(&mut a_events, &ids).await;

    // Reopened with no relay reachable, B shows what it had, from the cache alone.
    let (offline_b, _events) = start(b_dir.path(), "http://127.0.0.1:9".into(), &bob).await;
    let rooms = offline_b.rooms().await.expect("cached rooms");
    assert!(rooms.iter().any(|r| r.id == GENERAL_ROOM_ID));
    assert_eq!(
        offline_b
            .messages(GENERAL_ROOM_ID, None, 50)
            .await
            .expect("cached messages"),
        hello
    );
    offline_b.stop().await;

    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    let caught_up = messages_until(&mut b_events, "missed 499").await;
    assert_in_order(&caught_up, &missed);
    assert_eq!(caught_up.iter().map(|m| m.seq).collect::<Vec<_>>(), seqs);
    assert_eq!(caught_up[0].seq, hello[0].seq + 1);
    let cached = b
        .messages(GENERAL_ROOM_ID, None, 1_000)
        .await
        .expect("cache");
    assert_eq!(cached.len(), 501);
    assert_eq!(cached[1..], caught_up[..]);

    a.stop().await;
    b.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_send_queued_before_an_app_restart_is_delivered_once() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let addr = relay.addr();
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    connected(&mut b_events).await;
    relay.stop().await;

    let (a, mut a_events) = start(a_dir.path(), format!("http://{addr}"), &alice).await;
    let queued = a.send(GENERAL_ROOM_ID, "queued").await.expect("queued");
    until(&mut a_events, "the pending announcement", |e| {
        matches!(
            e,
            AppEvent::MessageState {
                state: DeliveryState::Pending { .. },
                ..
            }
        )
        .then_some(())
    })
    .await;
    assert_eq!(
        a.cache().pending().await.expect("the outbox"),
        vec![queued.clone()]
    );
    a.stop().await;

    let relay = TestRelay::at(relay_dir.path(), addr).await;
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    // The app hears of the send left over before anything else, with what it needs to draw it.
    assert_eq!(
        within("the first event", a_events.recv()).await,
        Some(AppEvent::pending(&queued)),
        "a restarted session announces its pending sends first"
    );
    let kept = a
        .cache()
        .outbox_item(&queued.client_id)
        .await
        .expect("the outbox");
    assert!(kept.is_some(), "the send survived the restart");
    let seq = sent(&mut a_events, std::slice::from_ref(&queued.client_id)).await[0];
    let at_b = messages_until(&mut b_events, "queued").await;
    assert_eq!(at_b.len(), 1);
    assert_eq!(at_b[0].seq, seq);
    assert_eq!(at_b[0].client_id, queued.client_id);

    a.send(GENERAL_ROOM_ID, "after").await.expect("queued");
    let after = messages_until(&mut b_events, "after").await;
    assert_eq!(after.len(), 1, "no repeats: {after:?}");

    a.stop().await;
    b.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn permanent_refusals_fail_visibly_and_the_outbox_goes_on() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let a_dir = tempfile::tempdir().expect("a");
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let alice = relay.token("alice").await;
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    connected(&mut a_events).await;

    // Refused locally: nothing written, nothing sent.
    let too_long = "x".repeat(4_001);
    match a.send(GENERAL_ROOM_ID, &too_long).await {
        Err(SessionError::Refused(e)) => assert_eq!(e.code, ErrorCode::TooLarge),
        other => panic!("expected a local refusal, got {other:?}"),
    }
    match a.send(GENERAL_ROOM_ID, "  ").await {
        Err(SessionError::Refused(e)) => assert_eq!(e.code, ErrorCode::Invalid),
        other => panic!("expected a local refusal, got {other:?}"),
    }
    assert!(a.cache().pending().await.expect("the outbox").is_empty());

    // Refused by the relay: failed for good, and the next send still goes out.
    let lost = a.send("no-such-room", "hello?").await.expect("queued");
    let fine = a.send(GENERAL_ROOM_ID, "fine").await.expect("queued");
    let error = until(&mut a_events, "the failure", |e| match e {
        AppEvent::MessageState {
            client_id,
            state: DeliveryState::Failed { error },
            ..
        } if client_id == lost.client_id => Some(error),
        _ => None,
    })
    .await;
    assert_eq!(error.code, ErrorCode::Forbidden);
    let item = a
        .cache()
        .outbox_item(&lost.client_id)
        .await
        .expect("the outbox")
        .expect("kept");
    assert!(matches!(item.state, OutboxState::Failed(e) if e.code == ErrorCode::Forbidden));
    sent(&mut a_events, std::slice::from_ref(&fine.client_id)).await;
    assert!(a.cache().pending().await.expect("the outbox").is_empty());

    a.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_room_first_seen_starts_at_its_last_message_without_a_false_gap() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    connected(&mut a_events).await;
    let old = send_all(&a, &bodies("old ", 3)).await;
    let old_seqs = sent(&mut a_events, &old).await;

    // B's first start: `general` already holds 3 messages; they are history, not missed.
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    connected(&mut b_events).await;
    assert_eq!(
        b.cache().cursor(GENERAL_ROOM_ID).await.expect("cache"),
        old_seqs[2]
    );
    assert!(b
        .messages(GENERAL_ROOM_ID, None, 50)
        .await
        .expect("cache")
        .is_empty());

    a.send(GENERAL_ROOM_ID, "new").await.expect("queued");
    let at_b = messages_until(&mut b_events, "new").await;
    assert_eq!(at_b.len(), 1, "only the new message: {at_b:?}");
    assert_eq!(at_b[0].seq, old_seqs[2] + 1);
    assert!(b
        .cache()
        .gaps(GENERAL_ROOM_ID)
        .await
        .expect("cache")
        .is_empty());
    assert_eq!(
        b.messages(GENERAL_ROOM_ID, None, 50).await.expect("cache"),
        at_b
    );

    // Opening the room pages the older messages from the relay, up to the cursor.
    let older = b
        .history(GENERAL_ROOM_ID, None, 50)
        .await
        .expect("a history page");
    let mut page_seqs = old_seqs.clone();
    page_seqs.push(at_b[0].seq);
    assert_eq!(older.iter().map(|m| m.seq).collect::<Vec<_>>(), page_seqs);
    assert_eq!(
        b.history(GENERAL_ROOM_ID, Some(old_seqs[2]), 50)
            .await
            .expect("a history page from the cache"),
        older[..2]
    );
    let cached = b.messages(GENERAL_ROOM_ID, None, 50).await.expect("cache");
    assert_eq!(cached.len(), 4);
    assert!(b
        .cache()
        .gaps(GENERAL_ROOM_ID)
        .await
        .expect("cache")
        .is_empty());

    a.stop().await;
    b.stop().await;
    relay.stop().await;
}

/// A raw relay connection, for what the session has no API for yet (rooms).
async fn raw(relay: &TestRelay, token: &str) -> Connection {
    let (sink, _events) = tokio::sync::mpsc::unbounded_channel();
    within(
        "a raw connection",
        transport::connect(&relay.url(), token, Timeouts::default(), sink),
    )
    .await
    .expect("connected")
}

async fn raw_send(conn: &Connection, room_id: &str, body: &str) -> Message {
    let request = SendMessage {
        room_id: room_id.to_owned(),
        client_id: uuid::Uuid::new_v4().to_string(),
        body: body.to_owned(),
        reply_to: None,
        attachments: Vec::new(),
    };
    within("a send", conn.request(&request))
        .await
        .expect("sent")
        .message
}

#[tokio::test]
async fn a_live_message_after_a_hole_has_the_hole_fetched_first() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let b_dir = tempfile::tempdir().expect("b");
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (b, mut b_events) = Session::start(SessionConfig {
        username: Some("bob".into()),
        ..config(b_dir.path(), relay.url(), &bob)
    })
    .await
    .expect("the session starts");
    connected(&mut b_events).await;
    let (alice_raw, bob_raw) = (raw(&relay, &alice).await, raw(&relay, &bob).await);

    let create = CreateRoom {
        name: "Book club".into(),
        members: vec!["bob".into()],
    };
    let room = within("create", alice_raw.request(&create))
        .await
        .expect("created")
        .room;
    until(&mut b_events, "the new room", |e| {
        matches!(e, AppEvent::Room { room: r } if r.id == room.id).then_some(())
    })
    .await;
    raw_send(&alice_raw, &room.id, "before").await;
    room_messages_until(&mut b_events, &room.id, "before").await;

    // Bob leaves from another device: B's socket stops hearing the room, B's cache keeps it.
    let leave = LeaveRoom {
        room_id: room.id.clone(),
    };
    within("leave", bob_raw.request(&leave))
        .await
        .expect("left");
    let missed = bodies("missed ", 3);
    for body in &missed {
        raw_send(&alice_raw, &room.id, body).await;
    }
    // Bob comes back from that device (only he can: he left by himself).
    let invite = InviteToRoom {
        room_id: room.id.clone(),
        username: "bob".into(),
    };
    within("come back", bob_raw.request(&invite))
        .await
        .expect("back");
    until(&mut b_events, "the room again", |e| {
        matches!(e, AppEvent::Room { room: r } if r.id == room.id).then_some(())
    })
    .await;

    // The next live message lands above a hole of 3: the hole is fetched, then all shown in order.
    raw_send(&alice_raw, &room.id, "after").await;
    let at_b = room_messages_until(&mut b_events, &room.id, "after").await;
    let mut expected = missed.clone();
    expected.push("after".into());
    assert_in_order(&at_b, &expected);
    assert!(b.cache().gaps(&room.id).await.expect("cache").is_empty());
    assert_eq!(
        b.cache().cursor(&room.id).await.expect("cache"),
        at_b[3].seq
    );

    // Typing and receipts are forwarded; a receipt of B's own user moves the cached read state.
    let typing = SetTyping {
        room_id: room.id.clone(),
        typing: true,
    };
    within("typing", alice_raw.request(&typing))
        .await
        .expect("typing");
    until(&mut b_events, "alice typing", |e| {
        matches!(e, AppEvent::Typing(t) if t.user == "alice" && t.typing).then_some(())
    })
    .await;
    let read = MarkRead {
        room_id: room.id.clone(),
        seq: at_b[1].seq,
    };
    within("read", bob_raw.request(&read)).await.expect("read");
    until(&mut b_events, "bob's receipt", |e| {
        matches!(e, AppEvent::Receipt(r) if r.user == "bob" && r.seq == read.seq).then_some(())
    })
    .await;
    let cached = b
        .cache()
        .room(&room.id)
        .await
        .expect("cache")
        .expect("the room");
    assert_eq!(cached.read_seq, read.seq);

    alice_raw.close().await;
    bob_raw.close().await;
    b.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn rate_limited_sends_wait_and_go_out_in_order() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let strict = |c: &mut natter_relay::Config| {
        c.send_burst = 3;
        c.send_per_second = 5;
    };
    let relay = TestRelay::at_with(
        relay_dir.path(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        strict,
    )
    .await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    connected(&mut a_events).await;
    connected(&mut b_events).await;

    let burst = bodies("burst ", 8);
    let ids = send_all(&a, &burst).await;
    let seqs = sent(&mut a_events, &ids).await;
    let at_b = messages_until(&mut b_events, "burst 7").await;
    assert_in_order(&at_b, &burst);
    assert_eq!(at_b.iter().map(|m| m.seq).collect::<Vec<_>>(), seqs);

    a.stop().await;
    b.stop().await;
    relay.stop().await;
}

/// A user who registered after us joins `general` without any `room` event to us; their first
/// message there brings the room's new member list.
#[tokio::test]
async fn a_member_who_joined_later_is_listed_once_they_write() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, c_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("c"),
    );
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let alice = relay.token("alice").await;
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    connected(&mut a_events).await;
    let before = a.rooms().await.expect("the cache");
    let general = before
        .iter()
        .find(|r| r.id == GENERAL_ROOM_ID)
        .expect("general");
    assert_eq!(general.members, vec!["alice".to_owned()]);

    let carol = relay.token("carol").await;
    let (c, mut c_events) = start(c_dir.path(), relay.url(), &carol).await;
    connected(&mut c_events).await;
    c.send(GENERAL_ROOM_ID, "hi, I'm new")
        .await
        .expect("queued");
    let members = until(&mut a_events, "general with carol in it", |e| match e {
        AppEvent::Room { room } if room.id == GENERAL_ROOM_ID => room
            .members
            .iter()
            .any(|m| m == "carol")
            .then_some(room.members),
        _ => None,
    })
    .await;
    assert!(members.iter().any(|m| m == "alice"), "{members:?}");
    let cached = a.rooms().await.expect("the cache");
    let general = cached
        .iter()
        .find(|r| r.id == GENERAL_ROOM_ID)
        .expect("general");
    assert!(
        general.members.iter().any(|m| m == "carol"),
        "the cache too"
    );
    c.stop().await;
    a.stop().await;
    relay.stop().await;
}
