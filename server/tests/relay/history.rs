//! `history`: pages of up to `limit` messages before `before_seq`, oldest first, the default
//! limit and the cap of 100.

use natter_protocol::limits::{HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT};

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
