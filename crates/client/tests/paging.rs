//! Opening a room through the session, against a real relay: pages hold messages only, so a
//! room whose newest seqs are many reactions still shows its messages (issue 19), forward pages
//! reach the cursor, and the room's unread count counts messages from others, not changes.

mod support;

use natter_client::session::AppEvent;
use natter_protocol::requests::{React, SendMessage};
use natter_protocol::{Message, GENERAL_ROOM_ID};
use natter_testkit::Client;
use serde_json::json;
use support::app::{connected, start, until};
use support::TestRelay;

fn client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn send(alice: &Client, body: &str) -> Message {
    let send = SendMessage {
        room_id: GENERAL_ROOM_ID.into(),
        client_id: client_id(),
        body: body.into(),
        reply_to: None,
        attachments: Vec::new(),
    };
    alice.request(&send).await.expect("sent").message
}

#[tokio::test]
async fn a_room_whose_newest_seqs_are_reactions_opens_at_its_messages() {
    let relay = TestRelay::start_with(|c| c.send_burst = 1_000).await;
    let alice_token = relay.token("alice").await;
    let bob_token = relay.token("bob").await;
    let alice = Client::connect(&relay.url(), "alice", Some(json!({ "token": alice_token })))
        .await
        .expect("alice's socket");
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(send(&alice, &format!("message {i}")).await);
    }
    // 150 reactions after them, put on and taken back: more than a page of entries.
    for i in 0..150 {
        let react = React {
            room_id: GENERAL_ROOM_ID.into(),
            client_id: client_id(),
            message_id: sent[2].id.clone(),
            emoji: "👍".into(),
            on: i % 2 == 0,
        };
        alice.request(&react).await.expect("reacted");
    }

    // bob signs in afresh: the room starts at its last seq, its messages are history.
    let dir = tempfile::tempdir().expect("bob's profile");
    let (bob, mut events) = start(dir.path(), relay.url(), &bob_token).await;
    let general = until(&mut events, "general", |e| match e {
        AppEvent::Room { room } if room.id == GENERAL_ROOM_ID => Some(room),
        _ => None,
    })
    .await;
    assert_eq!(general.last_seq, 153);
    assert_eq!(general.unread, Some(3), "three messages, not 153 seqs");
    connected(&mut events).await;

    let page = bob
        .history(GENERAL_ROOM_ID, None, 50)
        .await
        .expect("history");
    let ids: Vec<&str> = page.iter().map(|m| m.id.as_str()).collect();
    let want: Vec<&str> = sent.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, want, "the room's messages, not a page of reactions");
    assert!(page.iter().all(|m| m.change.is_none()));
    let again = bob
        .history(GENERAL_ROOM_ID, None, 50)
        .await
        .expect("history");
    assert_eq!(again, page, "the same page again");
    let newer = bob
        .history_after(GENERAL_ROOM_ID, sent[0].seq, 50)
        .await
        .expect("history after");
    assert_eq!(newer, page[1..], "forward, up to the cursor");

    // Reading the newest message leaves nothing unread, trailing reactions or not.
    bob.mark_read(GENERAL_ROOM_ID, sent[2].seq)
        .await
        .expect("read");
    let count = until(&mut events, "the unread count", |e| match e {
        AppEvent::Unread { room_id, count } if room_id == GENERAL_ROOM_ID => Some(count),
        _ => None,
    })
    .await;
    assert_eq!(count, 0);

    // A reaction from alice is no news; her next message is.
    let react = React {
        room_id: GENERAL_ROOM_ID.into(),
        client_id: client_id(),
        message_id: sent[0].id.clone(),
        emoji: "🎉".into(),
        on: true,
    };
    alice.request(&react).await.expect("reacted");
    send(&alice, "news").await;
    until(&mut events, "the news", |e| match e {
        AppEvent::Message { message } if message.body == "news" => Some(()),
        _ => None,
    })
    .await;
    let count = until(&mut events, "the unread count", |e| match e {
        AppEvent::Unread { room_id, count } if room_id == GENERAL_ROOM_ID => Some(count),
        _ => None,
    })
    .await;
    assert_eq!(count, 1, "the message, not the reaction");
    bob.stop().await;
    relay.stop().await;
}
