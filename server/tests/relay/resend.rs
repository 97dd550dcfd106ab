//! Idempotent `message:send`: a repeated (sender, client_id) returns the original message, wherever
//! it went, is not broadcast again and uses no seq, also when two sockets race; another sender's
//! equal client_id is a different message.

use natter_protocol::events::MessageEvent;
use natter_protocol::requests::SendMessage;
use natter_protocol::GENERAL_ROOM_ID;

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_client_id_from_two_sockets_at_once_makes_one_message() {
    let relay = TestRelay::start().await;
    let (alice_auth, alice) = relay.join("alice").await;
    let alice2 = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("second socket");
    let (_, bob) = relay.join("bob").await;
    for round in 0..5 {
        let req = send(GENERAL_ROOM_ID, &format!("raced {round}"));
        let (one, two) = tokio::join!(alice.request(&req), alice2.request(&req));
        let (one, two) = (
            one.expect("socket 1").message,
            two.expect("socket 2").message,
        );
        assert_eq!(one, two, "round {round}: both sockets get the one message");
        let heard = bob
            .next_event::<MessageEvent>()
            .await
            .expect("broadcast")
            .message;
        assert_eq!(heard, one);
    }
    // Messages go out after the ack, in seq order: a second broadcast of any of them would
    // reach bob before this one.
    let last = alice
        .request(&send(GENERAL_ROOM_ID, "the last"))
        .await
        .expect("send")
        .message;
    let heard = bob
        .next_event::<MessageEvent>()
        .await
        .expect("broadcast")
        .message;
    assert_eq!(heard, last, "one broadcast per message");
    bob.expect_no_event::<MessageEvent>()
        .await
        .expect("one broadcast per message");
    let all = bob
        .request(&history(GENERAL_ROOM_ID, None, None))
        .await
        .expect("history")
        .messages;
    assert_seqs(&all, 1, 6);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_a_client_id_returns_the_original_message() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let room = group(&alice, "elsewhere", &["bob"]).await;

    let first = send(GENERAL_ROOM_ID, "only once");
    let original = alice.request(&first).await.expect("send").message;
    assert_eq!(
        bob.next_event::<MessageEvent>()
            .await
            .expect("broadcast")
            .message,
        original
    );

    let retries = [
        first.clone(),
        SendMessage {
            body: "a different body".into(),
            ..first.clone()
        },
        SendMessage {
            room_id: room.id.clone(),
            ..first.clone()
        },
    ];
    for retry in &retries {
        let again = alice
            .request(retry)
            .await
            .expect("a retry is acked")
            .message;
        assert_eq!(
            again, original,
            "a repeat returns the original, wherever it went"
        );
    }
    let next = alice
        .request(&send(GENERAL_ROOM_ID, "next"))
        .await
        .expect("send")
        .message;
    assert_eq!(next.seq, original.seq + 1, "retries used no seq");
    let heard = bob
        .next_event::<MessageEvent>()
        .await
        .expect("broadcast")
        .message;
    assert_eq!(heard, next, "retries were not broadcast again");
    // Within a room messages go out in seq order: had a retry gone to the other room, bob
    // would hear it before this one.
    let marker = alice
        .request(&send(&room.id, "the other room's first"))
        .await
        .expect("send")
        .message;
    let heard = bob
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.room_id == room.id)
        .await
        .expect("broadcast")
        .message;
    assert_eq!(heard, marker, "nothing went to the other room");

    // The key is (sender, client_id): bob's message with alice's client_id is his own.
    let bobs = bob.request(&first).await.expect("bob sends").message;
    assert_ne!(bobs.id, original.id);
    assert_eq!((bobs.sender.as_str(), bobs.seq), ("bob", next.seq + 1));

    let all = alice
        .request(&history(GENERAL_ROOM_ID, None, None))
        .await
        .expect("history")
        .messages;
    assert_seqs(&all, 1, 3);
    let room_history = alice
        .request(&history(&room.id, None, None))
        .await
        .expect("history")
        .messages;
    assert_eq!(room_history, [marker], "no retry stored in the other room");
    relay.stop().await;
}
