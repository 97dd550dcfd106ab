//! Typing and read receipts: `typing` goes to the room but never to the typist's own sockets, is
//! rate limited and never stored; `read` moves forward only, clamps to last_seq, and sends
//! `receipt` to the room, and rooms say how far the others have read. (Presence has its own module.)

use std::time::Instant;

use natter_protocol::events::{ReceiptEvent, TypingEvent};
use natter_protocol::limits::TYPING_PER_SECOND;
use natter_protocol::requests::{History, ListRooms, MarkRead, SetTyping, Sync};
use natter_protocol::{ErrorCode, Room};

use crate::util::*;

fn typing(room_id: &str, on: bool) -> SetTyping {
    SetTyping {
        room_id: room_id.to_owned(),
        typing: on,
    }
}

fn read(room_id: &str, seq: i64) -> MarkRead {
    MarkRead {
        room_id: room_id.to_owned(),
        seq,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_room_but_not_the_typist() {
    let relay = TestRelay::start().await;
    let (alice_auth, alice) = relay.join("alice").await;
    let alice2 = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("alice's second socket");
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    let room = group(&alice, "typists", &["bob"]).await;

    alice
        .request(&typing(&room.id, true))
        .await
        .expect("typing");
    let seen = bob
        .next_event::<TypingEvent>()
        .await
        .expect("bob sees alice typing");
    assert_eq!(
        seen,
        TypingEvent {
            room_id: room.id.clone(),
            user: "alice".into(),
            typing: true
        }
    );
    for own in [&alice, &alice2] {
        own.expect_no_event::<TypingEvent>()
            .await
            .expect("never echoed to the typist's sockets");
    }
    carol
        .expect_no_event::<TypingEvent>()
        .await
        .expect("not sent outside the room");

    bob.request(&typing(&room.id, false))
        .await
        .expect("typing off");
    for own in [&alice, &alice2] {
        let seen = own
            .next_event::<TypingEvent>()
            .await
            .expect("both of alice's sockets see bob");
        assert_eq!((seen.user.as_str(), seen.typing), ("bob", false));
    }

    // Never stored: nothing in history, nothing moved.
    let history = History {
        around: None,
        room_id: room.id.clone(),
        before_seq: None,
        limit: None,
        ..History::default()
    };
    assert!(bob
        .request(&history)
        .await
        .expect("history")
        .messages
        .is_empty());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_is_rate_limited_without_a_disconnect() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let room = group(&alice, "chatty", &["bob"]).await;

    let started = Instant::now();
    for _ in 0..TYPING_PER_SECOND {
        alice.emit(&typing(&room.id, true)).await.expect("emit");
    }
    for _ in 0..TYPING_PER_SECOND {
        bob.next_event::<TypingEvent>()
            .await
            .expect("the allowed typing events arrive");
    }
    let mut extra = 0u32;
    let refusal = loop {
        match alice.request(&typing(&room.id, true)).await {
            Ok(_) => extra += 1,
            Err(e) => break e,
        }
        assert!(extra <= 10, "typing is never limited");
    };
    assert_eq!(refusal.code, ErrorCode::RateLimited, "{refusal}");
    let refilled = (started.elapsed().as_secs_f64() * f64::from(TYPING_PER_SECOND)).floor() as u32;
    assert!(
        extra <= refilled,
        "{extra} typing events past the limit, {refilled} refilled"
    );
    alice
        .request(&ListRooms {})
        .await
        .expect("the connection stays up");
    relay.stop().await;
}

/// Alice's room with bob, holding three messages.
async fn room_with_three(relay: &TestRelay) -> (Client, Client, Room) {
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let room = group(&alice, "reading", &["bob"]).await;
    send_many(&alice, &room.id, "news", 3).await;
    (alice, bob, room)
}

async fn read_seq(client: &Client, room: &Room) -> i64 {
    let rooms = client
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    rooms
        .iter()
        .find(|r| r.id == room.id)
        .expect("listed")
        .read_seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_move_forward_only_and_clamp_to_the_last_seq() {
    let relay = TestRelay::start().await;
    let (alice, bob, room) = room_with_three(&relay).await;

    bob.request(&read(&room.id, 2)).await.expect("read 2");
    let want = ReceiptEvent {
        room_id: room.id.clone(),
        user: "bob".into(),
        seq: 2,
    };
    for member in [&alice, &bob] {
        let got = member
            .next_event::<ReceiptEvent>()
            .await
            .expect("the room hears the receipt");
        assert_eq!(got, want, "at {}", member.username);
    }
    assert_eq!(read_seq(&bob, &room).await, 2);

    // Backwards and in place: accepted, nothing moves, nobody is told.
    for seq in [1, 2, 0] {
        bob.request(&read(&room.id, seq))
            .await
            .expect("an old read is not an error");
    }
    alice
        .expect_no_event::<ReceiptEvent>()
        .await
        .expect("no receipt for going back");
    assert_eq!(read_seq(&bob, &room).await, 2);

    // Past the end: clamped to last_seq.
    bob.request(&read(&room.id, 1_000))
        .await
        .expect("read past the end");
    let got = alice.next_event::<ReceiptEvent>().await.expect("receipt");
    assert_eq!(got.seq, 3, "clamped to the room's last seq");
    assert_eq!(read_seq(&bob, &room).await, 3);
    bob.request(&read(&room.id, 1_000)).await.expect("again");
    alice
        .expect_no_event::<ReceiptEvent>()
        .await
        .expect("nothing moved");
    assert_eq!(
        read_seq(&alice, &room).await,
        0,
        "read positions are per member"
    );
    relay.stop().await;
}

/// "read" on one's own messages comes from the relay too, not only from live receipts: a member
/// who signs in afresh (an empty cache) sees how far the others have read in `rooms:list` and
/// `sync` (issue 23, item 4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_carry_how_far_the_others_have_read() {
    let relay = TestRelay::start().await;
    let (alice, bob, room) = room_with_three(&relay).await;
    let others_read = |rooms: &[Room]| {
        rooms
            .iter()
            .find(|r| r.id == room.id)
            .map(|r| r.others_read_seq)
    };
    let listed = alice
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    assert_eq!(others_read(&listed), Some(0), "nobody has read yet");

    bob.request(&read(&room.id, 2)).await.expect("read 2");
    alice
        .next_event::<ReceiptEvent>()
        .await
        .expect("the receipt");
    let listed = alice
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    assert_eq!(
        others_read(&listed),
        Some(2),
        "alice's list says bob read up to 2"
    );
    let bobs = bob.request(&ListRooms {}).await.expect("rooms:list").rooms;
    assert_eq!(
        others_read(&bobs),
        Some(0),
        "bob's own read is not 'the others'"
    );

    let synced = alice
        .request(&Sync {
            cursors: Default::default(),
        })
        .await
        .expect("sync");
    assert_eq!(others_read(&synced.rooms), Some(2), "sync carries it too");
    relay.stop().await;
}
