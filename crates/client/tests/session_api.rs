//! The session's calls beyond sending, against a real relay: typing (throttled, cleared on send,
//! remote indicators expiring), rooms (create, invite, DM, leave, read) and the account calls
//! over HTTP. Every wait is bounded.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use natter_client::account::{self, AccountError};
use natter_client::session::{AppEvent, AppEvents, Session, SessionConfig, SessionError};
use natter_protocol::{ErrorCode, RoomKind, GENERAL_ROOM_ID};
use support::app::{config, connected, connecting, start, until};
use support::{within, TestRelay, PASSWORD};
use tokio::time::Instant;

fn no_typing_limit(c: &mut natter_relay::Config) {
    c.typing_per_second = 1_000;
}

/// Waits for alice's next typing event at `events`; returns its `typing`.
async fn alice_typing(events: &mut AppEvents) -> bool {
    until(events, "alice's typing event", |e| match e {
        AppEvent::Typing(t) if t.user == "alice" => Some(t.typing),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn typing_is_throttled_cleared_on_send_and_expires_remotely() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = TestRelay::at_with(
        relay_dir.path(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        no_typing_limit,
    )
    .await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    let expiry = Duration::from_secs(2);
    let (b, mut b_events) = Session::start(SessionConfig {
        typing_expiry: expiry,
        ..config(b_dir.path(), relay.url(), &bob)
    })
    .await
    .expect("bob's session");
    connected(&mut a_events).await;
    connected(&mut b_events).await;

    // Ten keystrokes in a second: one `typing: true` on the wire; then the clear.
    for _ in 0..10 {
        within("typing", a.typing(GENERAL_ROOM_ID, true))
            .await
            .expect("typing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    within("clear", a.typing(GENERAL_ROOM_ID, false))
        .await
        .expect("cleared");
    assert!(alice_typing(&mut b_events).await, "one typing: true");
    assert!(
        !alice_typing(&mut b_events).await,
        "then typing: false, nothing between"
    );

    // Typing, then a send: the send says `typing: false` (before B's expiry would).
    a.typing(GENERAL_ROOM_ID, true).await.expect("typing");
    assert!(alice_typing(&mut b_events).await);
    let started = Instant::now();
    a.send(GENERAL_ROOM_ID, "done typing")
        .await
        .expect("queued");
    // B also clears alice's indicator when her message arrives: wait for both, or that clear
    // could land in the next step (as it did on a loaded machine).
    let (mut stopped, mut delivered) = (None, false);
    until(&mut b_events, "typing: false and the message at B", |e| {
        match e {
            AppEvent::Typing(t) if t.user == "alice" => {
                assert!(!t.typing, "typing: false");
                stopped.get_or_insert_with(|| started.elapsed());
            }
            AppEvent::Message { message } if message.body == "done typing" => delivered = true,
            _ => {}
        }
        (stopped.is_some() && delivered).then_some(())
    })
    .await;
    let stopped_after = stopped.unwrap_or_default();
    assert!(stopped_after < expiry, "{stopped_after:?}");

    // Typing and then silence: B lets the indicator run out by itself.
    a.typing(GENERAL_ROOM_ID, true).await.expect("typing");
    assert!(alice_typing(&mut b_events).await);
    let heard = Instant::now();
    assert!(!alice_typing(&mut b_events).await, "expired");
    let held = heard.elapsed();
    assert!(
        held >= expiry - Duration::from_millis(100) && held < expiry * 3,
        "{held:?}"
    );

    a.stop().await;
    b.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn room_calls_reach_the_relay_and_the_cache_and_say_offline_when_offline() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    relay.token("carol").await;
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    connected(&mut a_events).await;
    connected(&mut b_events).await;

    let room = a
        .create_room("Book club", &["bob".to_owned()])
        .await
        .expect("created");
    assert_eq!(room.members, vec!["alice", "bob"]);
    until(&mut b_events, "bob hears of the room", |e| {
        matches!(e, AppEvent::Room { room: r } if r.id == room.id).then_some(())
    })
    .await;
    // A page of members at a time (what the members panel shows of a big room).
    let first = a.members(&room.id, None, Some(1)).await.expect("a page");
    let names: Vec<&str> = first.members.iter().map(|m| m.username.as_str()).collect();
    assert_eq!(
        (names, first.next.as_deref()),
        (vec!["alice"], Some("alice"))
    );
    let rest = a
        .members(&room.id, Some("alice"), None)
        .await
        .expect("the rest");
    let names: Vec<&str> = rest.members.iter().map(|m| m.username.as_str()).collect();
    assert_eq!((names, rest.next), (vec!["bob"], None));
    match a.members("no-such-room", None, None).await {
        Err(SessionError::Refused(e)) => assert_eq!(e.code, ErrorCode::Forbidden),
        other => panic!("expected forbidden, got {other:?}"),
    }
    let invited = a.invite(&room.id, "carol").await.expect("invited");
    assert_eq!(invited.members, vec!["alice", "bob", "carol"]);
    let cached = a.cache().room(&room.id).await.expect("cache");
    assert_eq!(cached.map(|r| r.members.len()), Some(3));

    let dm = a.open_dm("bob").await.expect("a DM");
    assert_eq!(dm.kind, RoomKind::Direct);
    assert_eq!(b.open_dm("alice").await.expect("the same DM").id, dm.id);

    // Refusals come back as they are; the connection stays up.
    match a.leave(GENERAL_ROOM_ID).await {
        Err(SessionError::Refused(e)) => assert_eq!(e.code, ErrorCode::Forbidden),
        other => panic!("expected forbidden, got {other:?}"),
    }
    match a.open_dm("nobody").await {
        Err(SessionError::Refused(e)) => assert_eq!(e.code, ErrorCode::NotFound),
        other => panic!("expected not_found, got {other:?}"),
    }
    // The creator removes a member; blocking is honoured and listed.
    let after = a.remove_member(&room.id, "carol").await.expect("removed");
    assert_eq!(after.members, vec!["alice", "bob"]);
    let cached = a.cache().room(&room.id).await.expect("cache");
    assert_eq!(cached.map(|r| r.members.len()), Some(2));
    assert_eq!(b.block("alice").await.expect("blocked"), vec!["alice"]);
    assert_eq!(b.blocked().await.expect("listed"), vec!["alice"]);
    match a.open_dm("bob").await {
        Err(SessionError::Refused(e)) => assert_eq!(e.code, ErrorCode::Forbidden),
        other => panic!("expected forbidden, got {other:?}"),
    }
    assert!(b.unblock("alice").await.expect("unblocked").is_empty());
    // A member the creator removes: their session forgets the room at once and says so.
    a.remove_member(&room.id, "bob").await.expect("bob removed");
    until(&mut b_events, "bob hears the room is gone", |e| {
        matches!(e, AppEvent::RoomGone { room_id } if *room_id == room.id).then_some(())
    })
    .await;
    assert!(b.cache().room(&room.id).await.expect("cache").is_none());

    a.leave(&room.id).await.expect("left");
    assert!(a.cache().room(&room.id).await.expect("cache").is_none());

    // Read positions: bob reads, alice hears the receipt.
    a.send(GENERAL_ROOM_ID, "read me").await.expect("queued");
    let seq = until(&mut b_events, "the message", |e| match e {
        AppEvent::Message { message } if message.body == "read me" => Some(message.seq),
        _ => None,
    })
    .await;
    b.mark_read(GENERAL_ROOM_ID, seq).await.expect("read");
    until(&mut a_events, "bob's receipt", |e| {
        matches!(e, AppEvent::Receipt(r) if r.user == "bob" && r.seq == seq).then_some(())
    })
    .await;

    // Offline: a clear error, nothing queued; typing is silently dropped; reads stay cached.
    relay.stop().await;
    connecting(&mut a_events).await;
    match a.create_room("Later", &[]).await {
        Err(SessionError::Offline) => {}
        other => panic!("expected offline, got {other:?}"),
    }
    assert!(matches!(a.open_dm("bob").await, Err(SessionError::Offline)));
    a.typing(GENERAL_ROOM_ID, true)
        .await
        .expect("dropped, not an error");
    a.mark_read(GENERAL_ROOM_ID, seq).await.expect("cached");
    let general = a.cache().room(GENERAL_ROOM_ID).await.expect("cache");
    assert_eq!(general.map(|r| r.read_seq), Some(seq));

    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn account_calls_register_log_in_and_out_and_carry_the_relays_errors() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let url = relay.url();

    let registered = within("register", account::register(&url, "alice", PASSWORD))
        .await
        .expect("registered");
    assert_eq!(registered.user.username, "alice");
    match within("register again", account::register(&url, "Alice", PASSWORD)).await {
        Err(AccountError::Relay { status: 409, error }) => {
            assert_eq!(error.code, ErrorCode::Invalid)
        }
        other => panic!("expected 409, got {other:?}"),
    }
    let logged_in = within(
        "login",
        account::login(&format!("{url}/"), "alice", PASSWORD),
    )
    .await
    .expect("logged in");
    assert_ne!(logged_in.token, registered.token);
    match within(
        "wrong password",
        account::login(&url, "alice", "not the password"),
    )
    .await
    {
        Err(AccountError::Relay { status: 401, error }) => {
            assert_eq!(error.code, ErrorCode::Unauthorized)
        }
        other => panic!("expected 401, got {other:?}"),
    }
    within("logout", account::logout(&url, &logged_in.token))
        .await
        .expect("logged out");
    let again = within("logout again", account::logout(&url, &logged_in.token)).await;
    assert_eq!(
        again.as_ref().err().and_then(AccountError::code),
        Some(ErrorCode::Unauthorized),
        "{again:?}"
    );

    relay.stop().await;
    let down = within(
        "a relay that is gone",
        account::login(&url, "alice", PASSWORD),
    )
    .await;
    assert!(matches!(down, Err(AccountError::Network(_))), "{down:?}");
}
