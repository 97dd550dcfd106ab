//! Size limits: bodies counted in characters (4,000), members per `room:create` (256), many sync
//! cursors, and a frame over 64 KiB (which drops only the sender's own connection).

use std::collections::BTreeMap;

use natter_protocol::events::MessageEvent;
use natter_protocol::limits::{MAX_BODY_CHARS, MAX_CREATE_MEMBERS, MAX_ID_CHARS, MAX_SYNC_CURSORS};
use natter_protocol::requests::{CreateRoom, ListRooms, Sync};
use natter_protocol::{ErrorCode, GENERAL_ROOM_ID};

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_members_is_too_large() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let req = CreateRoom {
        name: "crowd".to_owned(),
        members: (0..=MAX_CREATE_MEMBERS)
            .map(|i| format!("user{i}"))
            .collect(),
    };
    assert_refused(
        alice.request(&req).await,
        ErrorCode::TooLarge,
        "257 members",
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_answers_a_client_at_the_cursor_limit() {
    // MAX_SYNC_CURSORS cursors with the longest ids a client may send must still fit in one
    // payload (MAX_PAYLOAD_BYTES) and get an answer; one more is refused, not dropped.
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let id = |i: usize| format!("{i:0width$}", width = MAX_ID_CHARS);
    let cursors: BTreeMap<String, i64> = (0..MAX_SYNC_CURSORS).map(|i| (id(i), i64::MAX)).collect();
    match alice.try_request(&Sync { cursors }).await {
        Ok(Ok(page)) => assert!(page.messages.is_empty(), "unknown rooms yield nothing"),
        Ok(Err(e)) => panic!("{MAX_SYNC_CURSORS} cursors refused: {e}"),
        Err(e) => panic!("{MAX_SYNC_CURSORS} cursors got no answer: {e}"),
    }
    let cursors: BTreeMap<String, i64> = (0..=MAX_SYNC_CURSORS).map(|i| (id(i), 0)).collect();
    assert_refused(
        alice.request(&Sync { cursors }).await,
        ErrorCode::TooLarge,
        "one cursor over the limit",
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_counted_in_characters() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let too_long = send(GENERAL_ROOM_ID, &"x".repeat(MAX_BODY_CHARS + 1));
    assert_refused(
        alice.request(&too_long).await,
        ErrorCode::TooLarge,
        "4001 characters",
    );
    let too_long_wide = send(GENERAL_ROOM_ID, &"é".repeat(MAX_BODY_CHARS + 1));
    assert_refused(
        alice.request(&too_long_wide).await,
        ErrorCode::TooLarge,
        "4001 two-byte characters",
    );
    // 4000 characters are fine however many bytes they take (16,000 here).
    for body in ["x".repeat(MAX_BODY_CHARS), "🙂".repeat(MAX_BODY_CHARS)] {
        let sent = alice
            .request(&send(GENERAL_ROOM_ID, &body))
            .await
            .expect("a body at the limit");
        assert_eq!(sent.message.body, body, "stored as sent");
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_limit_frame_drops_only_its_own_connection() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (mallory_auth, mallory) = relay.join("mallory").await;

    let huge = send(GENERAL_ROOM_ID, &"x".repeat(80 * 1024));
    let answer = mallory.try_request(&huge).await;
    assert!(
        answer.is_err(),
        "a frame over 64 KiB gets no ack: {answer:?}"
    );
    let after = mallory.try_request(&ListRooms {}).await;
    assert!(
        after.is_err(),
        "…and its connection is gone: {:?}",
        after.map(|_| ())
    );

    let sent = alice
        .request(&send(GENERAL_ROOM_ID, "unbothered"))
        .await
        .expect("send")
        .message;
    let heard = bob
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.id == sent.id)
        .await;
    heard.expect("bob still hears alice");
    let back = relay
        .connect("mallory", &mallory_auth.token)
        .await
        .expect("mallory may reconnect");
    back.request(&ListRooms {})
        .await
        .expect("and is served normally");
    relay.stop().await;
}
