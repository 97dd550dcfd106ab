//! `search` over the wire (issue 20): only the sender's rooms (a room named that is not theirs
//! is refused), substrings, Chinese/Japanese and emoji, current text only, paging by cursor;
//! and `history` around a seq, which opens a result in its context.

use natter_protocol::requests::{DeleteMessage, EditMessage, History, Search, SearchAck};
use natter_protocol::{ErrorCode, Message, GENERAL_ROOM_ID};

use crate::util::*;

fn search(query: &str, room_id: Option<&str>) -> Search {
    Search {
        query: query.to_owned(),
        room_id: room_id.map(str::to_owned),
        limit: None,
        cursor: None,
    }
}

fn bodies(ack: &SearchAck) -> Vec<&str> {
    ack.messages.iter().map(|m| m.body.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_keeps_to_the_senders_rooms_and_their_current_text() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, _carol) = relay.join("carol").await;
    let ours = group(&alice, "ours", &["bob"]).await.id;
    let carols = group(&bob, "bob only", &[]).await.id;

    alice
        .request(&send(GENERAL_ROOM_ID, "Lunch at noon?"))
        .await
        .expect("send");
    bob.request(&send(&carols, "lunch is a secret"))
        .await
        .expect("send");
    bob.request(&send(&ours, "北京烤鸭でランチ 🦆🎉 lunch"))
        .await
        .expect("send");
    let typo = alice
        .request(&send(&ours, "see you at the resturant"))
        .await
        .expect("send")
        .message;
    let gone = alice
        .request(&send(&ours, "my lunch code is 8214"))
        .await
        .expect("send")
        .message;
    alice
        .request(&EditMessage {
            room_id: ours.clone(),
            client_id: client_id(),
            message_id: typo.id.clone(),
            body: "see you at the restaurant".into(),
        })
        .await
        .expect("edit");
    alice
        .request(&DeleteMessage {
            room_id: ours.clone(),
            client_id: client_id(),
            message_id: gone.id.clone(),
        })
        .await
        .expect("delete");

    let found = alice.request(&search("LUNCH", None)).await.expect("search");
    assert_eq!(
        bodies(&found),
        ["北京烤鸭でランチ 🦆🎉 lunch", "Lunch at noon?"],
        "alice's rooms only, newest first, no deleted text"
    );
    assert_eq!(found.next_cursor, None);
    let bob_finds = bob.request(&search("secret", None)).await.expect("search");
    assert_eq!(bodies(&bob_finds), ["lunch is a secret"]);
    // A room of someone else's, named: refused like a room that does not exist.
    assert_refused(
        alice.request(&search("secret", Some(&carols))).await,
        ErrorCode::Forbidden,
        "search in a room alice is not in",
    );
    assert_refused(
        alice.request(&search("secret", Some("no-such-room"))).await,
        ErrorCode::Forbidden,
        "search in a room that does not exist",
    );
    assert!(alice
        .request(&search("secret", None))
        .await
        .expect("search")
        .messages
        .is_empty());

    for query in ["烤鸭", "北京烤", "ランチ", "🎉", "🦆🎉", "鸭 lunch", "unc"] {
        let got = alice
            .request(&search(query, Some(&ours)))
            .await
            .expect("search");
        assert_eq!(bodies(&got), ["北京烤鸭でランチ 🦆🎉 lunch"], "{query}");
    }
    let edited = alice
        .request(&search("restaurant", None))
        .await
        .expect("search");
    assert_eq!(edited.messages.len(), 1);
    assert_eq!(
        edited.messages[0].id, typo.id,
        "the message, not its edit entry"
    );
    assert!(edited.messages[0].edited_at.is_some());
    for old in ["resturant", "8214", "code is"] {
        let got = alice.request(&search(old, None)).await.expect("search");
        assert!(got.messages.is_empty(), "{old}: {:?}", got.messages);
    }
    // Bad input gets a clear error, and the connection stays.
    assert_refused(
        alice.request(&search("   ", None)).await,
        ErrorCode::Invalid,
        "blank query",
    );
    assert_refused(
        alice.request(&search(&"x".repeat(201), None)).await,
        ErrorCode::TooLarge,
        "long query",
    );
    let bad_cursor = Search {
        cursor: Some("not-a-cursor".into()),
        ..search("lunch", None)
    };
    assert_refused(
        alice.request(&bad_cursor).await,
        ErrorCode::Invalid,
        "a cursor the relay never gave",
    );
    alice
        .request(&search("lunch", None))
        .await
        .expect("still connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_by_cursor_newest_first() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let sent = send_many(&alice, GENERAL_ROOM_ID, "needle", 7).await;
    let mut pages = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = alice
            .request(&Search {
                limit: Some(3),
                cursor: cursor.clone(),
                ..search("needle", None)
            })
            .await
            .expect("search");
        pages.push(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>());
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let seqs: Vec<i64> = sent.iter().rev().map(|m| m.seq).collect();
    assert_eq!(pages, [&seqs[0..3], &seqs[3..6], &seqs[6..7]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_around_a_seq_opens_a_result_in_context() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let sent: Vec<Message> = send_many(&alice, GENERAL_ROOM_ID, "line", 20).await;
    let around = |seq: i64, limit: Option<u32>| History {
        around: Some(seq),
        limit,
        ..history(GENERAL_ROOM_ID, None, None)
    };
    let seqs = |page: &[Message]| page.iter().map(|m| m.seq).collect::<Vec<_>>();
    let mid = sent[9].seq;
    let page = alice
        .request(&around(mid, Some(6)))
        .await
        .expect("history")
        .messages;
    assert_eq!(seqs(&page), (mid - 3..=mid + 2).collect::<Vec<_>>());
    // At either end: what there is.
    let first = sent[0].seq;
    let page = alice
        .request(&around(first, Some(6)))
        .await
        .expect("history")
        .messages;
    assert_eq!(seqs(&page), (first..first + 6).collect::<Vec<_>>());
    let last = sent[19].seq;
    let page = alice
        .request(&around(last, Some(6)))
        .await
        .expect("history")
        .messages;
    assert_eq!(seqs(&page), (last - 3..=last).collect::<Vec<_>>());
    assert_refused(
        alice
            .request(&History {
                before_seq: Some(mid),
                ..around(mid, None)
            })
            .await,
        ErrorCode::Invalid,
        "around and before_seq",
    );
    // Only members: bob's own room is not alice's.
    let bobs = group(&bob, "bob's", &[]).await.id;
    assert_refused(
        alice
            .request(&History {
                room_id: bobs,
                ..around(1, None)
            })
            .await,
        ErrorCode::Forbidden,
        "history around in someone else's room",
    );
}
