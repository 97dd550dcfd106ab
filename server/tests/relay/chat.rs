//! Messages: two users chatting in a group room and a DM (`dm:open`), what a message carries,
//! gap-free seqs under concurrent senders, and the `message:send` rate limit.

use std::time::{Duration, Instant};

use natter_protocol::events::{MessageEvent, RoomEvent};
use natter_protocol::limits::{SEND_BURST, SEND_PER_SECOND};
use natter_protocol::requests::{ListRooms, OpenDm};
use natter_protocol::{ErrorCode, RoomKind, GENERAL_ROOM_ID};

use crate::util::*;

fn dm(username: &str) -> OpenDm {
    OpenDm {
        username: username.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_chat_in_general() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;

    let req = send(GENERAL_ROOM_ID, "hello bob 👋");
    let sent = alice.request(&req).await.expect("send").message;
    assert_eq!(sent.room_id, GENERAL_ROOM_ID);
    assert_eq!(sent.seq, 1);
    assert_eq!(sent.sender, "alice");
    assert_eq!(sent.body, req.body);
    assert_eq!(sent.client_id, req.client_id);
    assert!(!sent.id.is_empty());
    let at = chrono::DateTime::parse_from_rfc3339(&sent.sent_at).expect("sent_at is RFC 3339");
    assert_eq!(at.offset().local_minus_utc(), 0, "sent_at is UTC");

    let at_bob = bob
        .next_event::<MessageEvent>()
        .await
        .expect("bob hears alice");
    assert_eq!(at_bob.message, sent);
    let echo = alice
        .next_event::<MessageEvent>()
        .await
        .expect("the sender's socket hears it too");
    assert_eq!(echo.message, sent);

    let reply = bob
        .request(&send(GENERAL_ROOM_ID, "hi alice"))
        .await
        .expect("reply")
        .message;
    assert_eq!((reply.seq, reply.sender.as_str()), (2, "bob"));
    let heard = alice
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.sender == "bob")
        .await
        .expect("alice hears bob");
    assert_eq!(heard.message, reply);

    let general = alice
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    let general = general
        .iter()
        .find(|r| r.id == GENERAL_ROOM_ID)
        .expect("general is listed");
    assert_eq!(general.last_seq, 2);
    assert!(
        general.members.contains(&"alice".to_owned())
            && general.members.contains(&"bob".to_owned())
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_reach_only_the_pair() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;

    let room = alice.request(&dm("bob")).await.expect("dm:open").room;
    assert_eq!(room.kind, RoomKind::Direct);
    assert_eq!(room.members, ["alice", "bob"]);
    assert_eq!((room.last_seq, room.read_seq), (0, 0));
    let told = bob
        .next_event::<RoomEvent>()
        .await
        .expect("bob learns about the DM");
    assert_eq!(told.room.id, room.id);

    // The same room every time, from either side, whatever the case of the name.
    for (who, peer) in [(&alice, "bob"), (&alice, "BOB"), (&bob, "alice")] {
        let again = who.request(&dm(peer)).await.expect("dm:open again").room;
        assert_eq!(again.id, room.id, "{} opening {peer}", who.username);
    }
    bob.expect_no_event_where::<RoomEvent>(|e| e.room.id == room.id)
        .await
        .expect("re-opening announces nothing new");

    let sent = alice
        .request(&send(&room.id, "just us"))
        .await
        .expect("send in the DM")
        .message;
    let heard = bob
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.room_id == room.id)
        .await
        .expect("bob receives the DM");
    assert_eq!(heard.message, sent);
    carol
        .expect_no_event_where::<MessageEvent>(|e| e.message.room_id == room.id)
        .await
        .expect("carol does not see the DM");
    carol
        .expect_no_event_where::<RoomEvent>(|e| e.room.id == room.id)
        .await
        .expect("carol is not told about the DM");

    assert_refused(
        alice.request(&dm("alice")).await,
        ErrorCode::Invalid,
        "a DM with yourself",
    );
    assert_refused(
        alice.request(&dm("Alice")).await,
        ErrorCode::Invalid,
        "a DM with yourself, other case",
    );
    assert_refused(
        alice.request(&dm("nobody")).await,
        ErrorCode::NotFound,
        "a DM with nobody",
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_get_gap_free_seqs() {
    const EACH: usize = 15;
    let relay = TestRelay::start_with(|c| c.send_burst = 1_000).await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    let room = group(&alice, "busy", &["bob", "carol"]).await;

    let (from_alice, from_bob) = tokio::join!(
        send_many(&alice, &room.id, "alice", EACH),
        send_many(&bob, &room.id, "bob", EACH)
    );
    let mut seqs: Vec<i64> = from_alice.iter().chain(&from_bob).map(|m| m.seq).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=2 * EACH as i64).collect::<Vec<_>>(),
        "seqs are 1..=n without gaps"
    );
    // Each sender's own messages are in the order sent.
    assert!(from_alice.windows(2).all(|w| w[0].seq < w[1].seq));

    // Carol hears every message once, in seq order: the relay broadcasts in commit order.
    let mut heard = Vec::new();
    for _ in 0..2 * EACH {
        let e = carol
            .next_event_where::<MessageEvent>(WAIT, |e| e.message.room_id == room.id)
            .await
            .expect("carol hears every message");
        heard.push(e.message.seq);
    }
    assert_eq!(
        heard,
        (1..=2 * EACH as i64).collect::<Vec<_>>(),
        "live broadcasts arrive once each, in seq order"
    );
    carol
        .expect_no_event_where::<MessageEvent>(|e| e.message.room_id == room.id)
        .await
        .expect("nothing more");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_burst_is_rate_limited_without_a_disconnect() {
    let relay = TestRelay::start().await; // default limits: bursts of 30, then 10/s
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;

    // The burst goes out without acks, so the relay sees it within a few milliseconds.
    let started = Instant::now();
    for i in 0..SEND_BURST {
        alice
            .emit(&send(GENERAL_ROOM_ID, &format!("burst {i}")))
            .await
            .expect("emit");
    }
    for _ in 0..SEND_BURST {
        alice
            .next_event::<MessageEvent>()
            .await
            .expect("every message of the burst is committed");
    }
    // The 31st is refused unless the steady rate has refilled a token meanwhile; keep sending
    // until refused, and check no more got through than the rate allows.
    let mut extra = 0u32;
    let refusal = loop {
        match alice.request(&send(GENERAL_ROOM_ID, "one too many")).await {
            Ok(_) => extra += 1,
            Err(e) => break e,
        }
        assert!(
            extra <= 20,
            "the relay keeps accepting sends past the burst"
        );
    };
    let refilled = (started.elapsed().as_secs_f64() * f64::from(SEND_PER_SECOND)).floor() as u32;
    assert_eq!(refusal.code, ErrorCode::RateLimited, "{refusal}");
    assert!(
        extra <= refilled,
        "{extra} sends after the burst, but only {refilled} tokens refilled"
    );

    // Still connected: other requests work, and a send works again after a pause.
    alice
        .request(&ListRooms {})
        .await
        .expect("the connection stays up");
    tokio::time::sleep(Duration::from_millis(
        1_000 / u64::from(SEND_PER_SECOND) + 50,
    ))
    .await;
    let later = alice
        .request(&send(GENERAL_ROOM_ID, "after a pause"))
        .await
        .expect("send again");
    let heard = bob
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.id == later.message.id)
        .await;
    heard.expect("bob hears the later message");
    relay.stop().await;
}
