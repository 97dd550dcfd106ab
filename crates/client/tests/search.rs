//! Search at the client (issue 20): the cache's index follows what arrives (an edit or a delete
//! applied to a cached message re-indexes it), and the session merges the cache's results with
//! the relay's, each message once; offline, the cache answers alone.

mod support;

use std::collections::HashSet;

use natter_client::session::{AppEvent, AppEvents, Session};
use natter_client::{Cache, CacheError};
use natter_protocol::requests::{DeleteMessage, EditMessage, SendMessage};
use natter_protocol::{search, Change, Message, Room, RoomKind, GENERAL_ROOM_ID};
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

/// Waits until the session has filed (and announced) message `id`.
async fn arrived(events: &mut AppEvents, id: &str) {
    until(events, "the message", |e| match e {
        AppEvent::Message { message } if message.id == id => Some(()),
        _ => None,
    })
    .await;
}

/// Waits until the session has applied a change to message `id`.
async fn changed(events: &mut AppEvents, id: &str) {
    until(events, "a message_changed", |e| match e {
        AppEvent::MessageChanged { message } if message.id == id => Some(()),
        _ => None,
    })
    .await;
}

/// The bodies the cache finds for `query`, newest first.
async fn offline(session: &Session, query: &str) -> Vec<String> {
    session
        .cache()
        .search(&search::terms(query), None, 50)
        .await
        .expect("cache search")
        .into_iter()
        .map(|m| m.body)
        .collect()
}

#[tokio::test]
async fn the_cache_finds_current_text_only_as_changes_arrive() {
    let relay = TestRelay::start().await;
    let alice_token = relay.token("alice").await;
    let bob_token = relay.token("bob").await;
    let dir = tempfile::tempdir().expect("bob's profile");
    let (bob, mut events) = start(dir.path(), relay.url(), &bob_token).await;
    connected(&mut events).await;
    let alice = Client::connect(&relay.url(), "alice", Some(json!({ "token": alice_token })))
        .await
        .expect("alice's socket");

    let lunch = send(&alice, "Lunch at 1?").await;
    let tokyo = send(&alice, "東京タワーで会おう 🗼").await;
    let walrus = send(&alice, "walrus facts").await;
    arrived(&mut events, &walrus.id).await;
    assert_eq!(offline(&bob, "lunch").await, ["Lunch at 1?"]);
    assert_eq!(offline(&bob, "unch AT").await, ["Lunch at 1?"]);
    for query in ["東京", "タワー", "🗼", "会おう"] {
        assert_eq!(offline(&bob, query).await, [tokyo.body.as_str()], "{query}");
    }
    assert_eq!(
        offline(&bob, "a").await,
        ["walrus facts", "Lunch at 1?"],
        "newest first"
    );

    alice
        .request(&EditMessage {
            room_id: GENERAL_ROOM_ID.into(),
            client_id: client_id(),
            message_id: lunch.id.clone(),
            body: "dinner at 8?".into(),
        })
        .await
        .expect("edited");
    changed(&mut events, &lunch.id).await;
    assert!(offline(&bob, "lunch").await.is_empty(), "pre-edit text");
    assert_eq!(offline(&bob, "dinner").await, ["dinner at 8?"]);

    alice
        .request(&DeleteMessage {
            room_id: GENERAL_ROOM_ID.into(),
            client_id: client_id(),
            message_id: walrus.id.clone(),
        })
        .await
        .expect("deleted");
    changed(&mut events, &walrus.id).await;
    assert!(offline(&bob, "walrus").await.is_empty(), "deleted text");
    assert!(
        offline(&bob, "wa").await.is_empty(),
        "deleted text, scanned"
    );
    // Change entries are never results, though their fallback text has the words.
    assert!(offline(&bob, "edited").await.is_empty());
    bob.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn the_session_merges_the_cache_and_the_relay_each_message_once() {
    let relay = TestRelay::start().await;
    let alice_token = relay.token("alice").await;
    let bob_token = relay.token("bob").await;
    let alice = Client::connect(&relay.url(), "alice", Some(json!({ "token": alice_token })))
        .await
        .expect("alice's socket");
    // Before bob's first start: the relay has these, bob's cache never will (not opened).
    let mut all = Vec::new();
    for i in 0..3 {
        all.push(send(&alice, &format!("needle old {i}")).await.id);
    }
    let dir = tempfile::tempdir().expect("bob's profile");
    let (bob, mut events) = start(dir.path(), relay.url(), &bob_token).await;
    connected(&mut events).await;
    let live = send(&alice, "needle live").await;
    arrived(&mut events, &live.id).await;
    all.push(live.id.clone());

    assert_eq!(offline(&bob, "needle").await, ["needle live"]);
    let at_once = bob
        .search_cache("needle", None, None)
        .await
        .expect("the cache's page");
    assert!(!at_once.online);
    assert_eq!(at_once.messages.len(), 1, "{:?}", at_once.messages);
    let found = bob
        .search("needle", None, None, None)
        .await
        .expect("search");
    assert!(found.online);
    let ids: Vec<&str> = found.messages.iter().map(|m| m.id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "each once: {ids:?}");
    let mut want: Vec<&str> = all.iter().map(String::as_str).collect();
    want.reverse();
    assert_eq!(ids, want, "newest first, the relay's and the cache's");
    assert_eq!(found.next_cursor, None);

    // A refusal is an error, not an empty page.
    assert!(bob
        .search("needle", Some("not-my-room"), None, None)
        .await
        .is_err());

    relay.stop().await;
    let offline_only = bob
        .search("needle", None, None, None)
        .await
        .expect("search offline");
    assert!(!offline_only.online);
    let bodies: Vec<&str> = offline_only
        .messages
        .iter()
        .map(|m| m.body.as_str())
        .collect();
    assert_eq!(bodies, ["needle live"], "the cache's results alone");
    bob.stop().await;
}

/// A message of room `r` as the relay answers it, or a change entry (with the fallback text
/// older clients see).
fn filed(seq: i64, id: &str, body: &str, change: Option<Change>) -> Message {
    Message {
        id: id.into(),
        room_id: "r".into(),
        seq,
        sender: "alice".into(),
        body: body.into(),
        client_id: format!("c{seq}"),
        sent_at: format!("2026-12-06T10:00:0{seq}Z"),
        change: change.map(Box::new),
        ..Message::default()
    }
}

#[tokio::test]
async fn changes_filed_before_their_targets_leave_only_current_text_searchable(
) -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a profile dir");
    let cache = Cache::open(dir.path()).await?;
    cache
        .upsert_room(&Room {
            id: "r".into(),
            name: "r".into(),
            kind: RoomKind::Group,
            members: vec!["alice".into()],
            last_seq: 0,
            read_seq: 0,
            member_count: 0,
            others_read_seq: 0,
            unread: None,
        })
        .await?;
    // Live, above a hole: seq 3 edits message 1, seq 4 deletes message 2.
    let edit = Change::Edit {
        target: "m1".into(),
        body: "seal picnic".into(),
    };
    let delete = Change::Delete {
        target: "m2".into(),
    };
    let older = "(edited: walrus secret)";
    cache
        .insert_messages(&[filed(3, "e3", older, Some(edit))])
        .await?;
    cache
        .insert_messages(&[filed(4, "e4", older, Some(delete))])
        .await?;
    // The hole filled later, by a page the relay answered before the changes (as of seq 2).
    cache
        .insert_messages(&[
            filed(1, "m1", "walrus picnic", None),
            filed(2, "m2", "secret walrus code", None),
        ])
        .await?;
    let found = |query: &'static str| {
        let cache = &cache;
        async move {
            let bodies: Vec<String> = cache
                .search(&search::terms(query), None, 50)
                .await?
                .into_iter()
                .map(|m| m.body)
                .collect();
            Ok::<_, CacheError>(bodies)
        }
    };
    assert_eq!(
        found("picnic").await?,
        ["seal picnic"],
        "the edit, folded in"
    );
    assert_eq!(found("seal").await?, ["seal picnic"]);
    for gone in ["walrus", "secret", "code", "wa", "edited"] {
        assert!(
            found(gone).await?.is_empty(),
            "{gone}: pre-edit or deleted text, or an entry's"
        );
    }
    Ok(())
}
