//! Changes to messages at the client (issue 19): a change entry is stored like any entry and
//! applied to its target in the cache, and the app hears the target's new state
//! (`MessageChanged`) right after the entry itself; a catch-up that brings a message with its
//! current state and then its older entries ends at that state; a delete leaves no text of the
//! message or its edits in the cache.

mod support;

use natter_client::session::{AppEvent, AppEvents};
use natter_protocol::requests::{DeleteMessage, EditMessage, React, SendMessage};
use natter_protocol::{Message, GENERAL_ROOM_ID};
use natter_testkit::Client;
use serde_json::json;
use support::app::{connected, start, until};
use support::TestRelay;

fn client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn send(alice: &Client, body: &str) -> Message {
    alice
        .request(&SendMessage {
            room_id: GENERAL_ROOM_ID.into(),
            client_id: client_id(),
            body: body.into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("sent")
        .message
}

/// Edits `target`; answers the edit entry.
async fn edit(alice: &Client, target: &Message, body: &str) -> Message {
    alice
        .request(&EditMessage {
            room_id: GENERAL_ROOM_ID.into(),
            client_id: client_id(),
            message_id: target.id.clone(),
            body: body.into(),
        })
        .await
        .expect("edited")
        .message
}

async fn react(alice: &Client, target: &Message, emoji: &str, on: bool) {
    alice
        .request(&React {
            room_id: GENERAL_ROOM_ID.into(),
            client_id: client_id(),
            message_id: target.id.clone(),
            emoji: emoji.into(),
            on,
        })
        .await
        .expect("reacted");
}

/// The next `MessageChanged` for `id`.
async fn changed(events: &mut AppEvents, id: &str) -> Message {
    until(events, "a message_changed", |e| match e {
        AppEvent::MessageChanged { message } if message.id == id => Some(message),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn live_changes_update_the_cached_message_and_the_app_hears_its_new_state() {
    let relay = TestRelay::start().await;
    let alice_token = relay.token("alice").await;
    let bob_token = relay.token("bob").await;
    let dir = tempfile::tempdir().expect("bob's profile");
    let (bob, mut events) = start(dir.path(), relay.url(), &bob_token).await;
    connected(&mut events).await;
    let alice = Client::connect(&relay.url(), "alice", Some(json!({ "token": alice_token })))
        .await
        .expect("alice's socket");

    let sent = send(&alice, "lunch at 1?").await;
    let edit_entry = edit(&alice, &sent, "lunch at 2?").await;
    let now = changed(&mut events, &sent.id).await;
    assert_eq!(now.body, "lunch at 2?");
    assert!(now.edited_at.is_some());
    react(&alice, &sent, "👍", true).await;
    let now = changed(&mut events, &sent.id).await;
    assert_eq!(now.reactions.len(), 1);
    assert_eq!(now.reactions[0].users, ["alice"]);

    let delete = DeleteMessage {
        room_id: GENERAL_ROOM_ID.into(),
        client_id: client_id(),
        message_id: sent.id.clone(),
    };
    alice.request(&delete).await.expect("deleted");
    let now = changed(&mut events, &sent.id).await;
    assert!(now.deleted && now.body.is_empty() && now.reactions.is_empty());

    let mut cached = bob
        .cache()
        .messages(GENERAL_ROOM_ID, None, 50)
        .await
        .expect("the cache");
    assert_eq!(cached.len(), 1, "the message, its entries folded in");
    let held_edit = bob
        .cache()
        .message(GENERAL_ROOM_ID, &edit_entry.id)
        .await
        .expect("the cache")
        .expect("the edit entry is held");
    cached.push(held_edit);
    for m in &cached {
        assert!(!m.body.contains("lunch"), "text left in the cache: {m:?}");
        assert!(
            !serde_json::to_string(m)
                .unwrap_or_default()
                .contains("lunch"),
            "text left in a cached entry: {m:?}"
        );
    }
    bob.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_catch_up_applies_what_changed_while_away() {
    let relay = TestRelay::start().await;
    let alice_token = relay.token("alice").await;
    let bob_token = relay.token("bob").await;
    let dir = tempfile::tempdir().expect("bob's profile");
    let alice = Client::connect(&relay.url(), "alice", Some(json!({ "token": alice_token })))
        .await
        .expect("alice's socket");
    let first = send(&alice, "before").await;

    // bob has opened general and seen `first` (history caches it), then goes away.
    let (bob, mut events) = start(dir.path(), relay.url(), &bob_token).await;
    connected(&mut events).await;
    let page = bob
        .history(GENERAL_ROOM_ID, None, 50)
        .await
        .expect("history");
    assert!(page.iter().any(|m| m.id == first.id), "{page:?}");
    bob.stop().await;

    edit(&alice, &first, "before, edited").await;
    let second = send(&alice, "while away").await;
    react(&alice, &second, "🎉", true).await;
    react(&alice, &second, "🎉", false).await;
    react(&alice, &second, "👀", true).await;

    let (bob, mut events) = start(dir.path(), relay.url(), &bob_token).await;
    let now = changed(&mut events, &first.id).await;
    assert_eq!(
        now.body, "before, edited",
        "a target cached earlier is updated"
    );
    connected(&mut events).await;
    let cached = bob
        .cache()
        .messages(GENERAL_ROOM_ID, None, 50)
        .await
        .expect("the cache");
    let second = cached.iter().find(|m| m.id == second.id).expect("cached");
    let reactions: Vec<&str> = second.reactions.iter().map(|r| r.emoji.as_str()).collect();
    assert_eq!(
        reactions,
        ["👀"],
        "its current state, the older entries applied on top"
    );
    assert_eq!(second.reactions[0].users, ["alice"]);
    bob.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn the_session_replies_edits_reacts_and_deletes() {
    let relay = TestRelay::start().await;
    let bob_token = relay.token("bob").await;
    let dir = tempfile::tempdir().expect("bob's profile");
    let (bob, mut events) = start(dir.path(), relay.url(), &bob_token).await;
    connected(&mut events).await;

    bob.send(GENERAL_ROOM_ID, "first").await.expect("queued");
    let first = until(&mut events, "bob's first message", |e| match e {
        AppEvent::Message { message } if message.body == "first" => Some(message),
        _ => None,
    })
    .await;
    // A reply goes through the outbox like any send, and comes back with what it answers.
    bob.reply(GENERAL_ROOM_ID, "second", Some(&first.id))
        .await
        .expect("queued");
    let reply = until(&mut events, "bob's reply", |e| match e {
        AppEvent::Message { message } if message.body == "second" => Some(message),
        _ => None,
    })
    .await;
    assert_eq!(reply.reply_to.map(|r| r.excerpt), Some("first".to_owned()));

    let entry = bob
        .edit(GENERAL_ROOM_ID, &first.id, "first, fixed")
        .await
        .expect("edited");
    assert!(entry.change.is_some());
    assert_eq!(changed(&mut events, &first.id).await.body, "first, fixed");
    bob.react(GENERAL_ROOM_ID, &first.id, "🎉", true)
        .await
        .expect("reacted");
    assert_eq!(changed(&mut events, &first.id).await.reactions.len(), 1);
    bob.delete(GENERAL_ROOM_ID, &first.id)
        .await
        .expect("deleted");
    assert!(changed(&mut events, &first.id).await.deleted);
    // Not ours to change: refused with the relay's code, nothing changes.
    let refused = bob.edit(GENERAL_ROOM_ID, "no-such-message", "x").await;
    assert!(
        matches!(&refused, Err(natter_client::session::SessionError::Refused(e)) if e.code == natter_protocol::ErrorCode::NotFound),
        "{refused:?}"
    );
    bob.stop().await;
    relay.stop().await;
}
