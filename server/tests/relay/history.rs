//! `history`: pages of up to `limit` entries before `before_seq`, oldest first, the default
//! limit and the cap of 100; pages of messages alone (`messages_only`), before or after a seq.

use natter_protocol::limits::{HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT};
use natter_protocol::requests::React;

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_oldest_first_and_caps_the_limit() {
    let relay = TestRelay::start_with(|c| c.send_burst = 1_000).await;
    let (_, alice) = relay.join("alice").await;
    let room = group(&alice, "archive", &[]).await;
    let sent = send_many(&alice, &room.id, "entry", 130).await;

    let newest = alice
        .request(&history(&room.id, None, None))
        .await
        .expect("history")
        .messages;
    assert_eq!(
        newest.len(),
        HISTORY_DEFAULT_LIMIT as usize,
        "default limit"
    );
    assert_seqs(&newest, 81, 130);
    assert_eq!(
        newest.last(),
        sent.last(),
        "history returns the messages as sent"
    );

    let capped = alice
        .request(&history(&room.id, None, Some(500)))
        .await
        .expect("history")
        .messages;
    assert_eq!(
        capped.len(),
        HISTORY_MAX_LIMIT as usize,
        "a larger limit is capped, not refused"
    );
    assert_seqs(&capped, 31, 130);

    let older = alice
        .request(&history(&room.id, Some(31), Some(100)))
        .await
        .expect("history")
        .messages;
    assert_seqs(&older, 1, 30);
    let middle = alice
        .request(&history(&room.id, Some(50), Some(10)))
        .await
        .expect("history")
        .messages;
    assert_seqs(&middle, 40, 49);
    for (before, limit) in [(Some(1), None), (None, Some(0)), (Some(0), Some(10))] {
        let none = alice
            .request(&history(&room.id, before, limit))
            .await
            .expect("history")
            .messages;
        assert!(none.is_empty(), "before {before:?}, limit {limit:?}");
    }
    let past_end = alice
        .request(&history(&room.id, Some(1_000), Some(5)))
        .await
        .expect("history")
        .messages;
    assert_seqs(&past_end, 126, 130);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_only_pages_reach_past_many_trailing_changes() {
    let relay = TestRelay::start_with(|c| c.send_burst = 1_000).await;
    let (_, alice) = relay.join("alice").await;
    let room = group(&alice, "reactions", &[]).await;
    let sent = send_many(&alice, &room.id, "message", 3).await;
    // 150 entries after the newest message: a reaction put on and taken back, 75 times.
    for i in 0..150 {
        let react = React {
            room_id: room.id.clone(),
            client_id: client_id(),
            message_id: sent[2].id.clone(),
            emoji: "👍".into(),
            on: i % 2 == 0,
        };
        alice.request(&react).await.expect("react");
    }

    // Every entry counts against a plain page's limit: the newest 100 seqs hold no message.
    let plain = alice
        .request(&history(&room.id, None, Some(100)))
        .await
        .expect("history")
        .messages;
    assert_seqs(&plain, 54, 153);
    assert!(plain.iter().all(|m| m.change.is_some()));

    // Messages alone, each as it is now: the room's three.
    let newest = alice
        .request(&messages_page(&room.id, None, None))
        .await
        .expect("history")
        .messages;
    assert_eq!(newest, sent, "the reaction was taken back: as sent");
    let older = alice
        .request(&messages_page(&room.id, Some(3), None))
        .await
        .expect("history")
        .messages;
    assert_eq!(older, sent[..2]);
    let newer = alice
        .request(&messages_page(&room.id, None, Some(1)))
        .await
        .expect("history")
        .messages;
    assert_eq!(newer, sent[1..], "after a seq: the oldest above it");
    let past_end = alice
        .request(&messages_page(&room.id, None, Some(3)))
        .await
        .expect("history")
        .messages;
    assert!(past_end.is_empty(), "only changes above the newest message");
    let both = alice
        .request(&natter_protocol::requests::History {
            before_seq: Some(9),
            ..messages_page(&room.id, None, Some(1))
        })
        .await;
    assert_refused(
        both,
        natter_protocol::ErrorCode::Invalid,
        "before and after",
    );
    relay.stop().await;
}
