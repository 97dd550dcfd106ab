//! A deleted message's text leaves the profile's files (issue 19: a delete removes the text,
//! here as at the relay): the message's row and its base, its edit's words, the excerpt a
//! reply shows, our outbox row that sent it, the search index's pages, and the WAL's old pages,
//! both as soon as the app hears of the delete and after the session stops; and the relay's
//! data directory after its graceful stop.

mod support;

use std::path::Path;

use natter_client::cache::DB_FILE;
use natter_client::session::{AppEvent, AppEvents};
use natter_protocol::requests::SendMessage;
use natter_protocol::{Message, GENERAL_ROOM_ID};
use natter_testkit::Client;
use serde_json::json;
use sqlx::Connection;
use support::app::{connected, start, until};
use support::TestRelay;

// The index keeps trigrams, each written after the bytes it shares with the term before it: so
// it is checked for pairs of characters, of a text whose characters are used once (as the
// relay's test does, server/tests/store_conformance.rs).
const SECRET: &str = "my-pin-is-8214 暗証番号は秘密";
const EDITED: &str = "my-pin-is-really-5307 本当の鍵語だよ";

fn pairs(text: &str) -> Vec<String> {
    let cjk: Vec<char> = text.chars().skip_while(char::is_ascii).collect();
    cjk.windows(2).skip(1).map(|w| w.iter().collect()).collect()
}

/// Whether any file of the profile directory holds `text`'s bytes.
fn on_disk(dir: &Path, text: &str) -> bool {
    std::fs::read_dir(dir)
        .expect("the profile directory")
        .flatten()
        .filter(|f| f.path().is_file())
        .any(|f| {
            let bytes = std::fs::read(f.path()).unwrap_or_default();
            bytes.windows(text.len()).any(|w| w == text.as_bytes())
        })
}

/// Whether the search index's pages hold `text`'s bytes (read beside the running session).
async fn in_index(dir: &Path, text: &str) -> bool {
    let url = format!("sqlite://{}?mode=ro", dir.join(DB_FILE).display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open the cache");
    let blocks: Vec<Vec<u8>> = sqlx::query_scalar("SELECT block FROM message_search_data")
        .fetch_all(&mut conn)
        .await
        .expect("the index's pages");
    conn.close().await.expect("close");
    blocks
        .iter()
        .any(|b| b.windows(text.len()).any(|w| w == text.as_bytes()))
}

async fn changed(events: &mut AppEvents, id: &str) -> Message {
    until(events, "a message_changed", |e| match e {
        AppEvent::MessageChanged { message } if message.id == id => Some(message),
        _ => None,
    })
    .await
}

/// Asserts that no file of `dir` holds the secret, its edit, or their index trigrams.
fn assert_erased(dir: &Path, when: &str) {
    assert!(!on_disk(dir, SECRET), "{when}: the message's text");
    assert!(!on_disk(dir, EDITED), "{when}: its edit's text");
    for pair in pairs(SECRET).iter().chain(&pairs(EDITED)) {
        assert!(
            !on_disk(dir, pair),
            "{when}: {pair}, of the index's trigrams"
        );
    }
}

#[tokio::test]
async fn a_deleted_message_leaves_no_text_in_the_profiles_files() {
    let relay_dir = tempfile::tempdir().expect("the relay's data dir");
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let alice_token = relay.token("alice").await;
    let bob_token = relay.token("bob").await;
    let profile = tempfile::tempdir().expect("bob's profile");
    let dir = profile.path();
    let (bob, mut events) = start(dir, relay.url(), &bob_token).await;
    connected(&mut events).await;
    let alice = Client::connect(&relay.url(), "alice", Some(json!({ "token": alice_token })))
        .await
        .expect("alice's socket");

    // bob's message goes through his outbox; he edits it; alice replies to it (the reply's
    // preview quotes the edited text); his cache indexes it for search.
    bob.send(GENERAL_ROOM_ID, SECRET).await.expect("queued");
    let sent = until(&mut events, "bob's message", |e| match e {
        AppEvent::Message { message } if message.body == SECRET => Some(message),
        _ => None,
    })
    .await;
    bob.edit(GENERAL_ROOM_ID, &sent.id, EDITED)
        .await
        .expect("edited");
    assert_eq!(changed(&mut events, &sent.id).await.body, EDITED);
    alice
        .request(&SendMessage {
            room_id: GENERAL_ROOM_ID.into(),
            client_id: uuid::Uuid::new_v4().to_string(),
            body: "noted".into(),
            reply_to: Some(sent.id.clone()),
            attachments: Vec::new(),
        })
        .await
        .expect("alice's reply");
    let reply = until(&mut events, "alice's reply", |e| match e {
        AppEvent::Message { message } if message.body == "noted" => Some(message),
        _ => None,
    })
    .await;
    assert_eq!(reply.reply_to.map(|r| r.excerpt).as_deref(), Some(EDITED));
    let found = bob
        .search_cache("鍵語", None, None)
        .await
        .expect("search the cache");
    assert_eq!(found.messages.len(), 1, "{found:?}");

    // The checks find text that is there: the old text (the message's base, the outbox row),
    // the new one, and the index's trigrams of the new one (the old one's were taken out).
    assert!(on_disk(dir, SECRET) && on_disk(dir, EDITED));
    for pair in pairs(EDITED) {
        assert!(in_index(dir, &pair).await, "{pair} in the index");
    }

    bob.delete(GENERAL_ROOM_ID, &sent.id)
        .await
        .expect("deleted");
    let now = changed(&mut events, &sent.id).await;
    assert!(now.deleted && now.body.is_empty());
    assert_erased(dir, "once the app hears of the delete");
    let reply = bob
        .cache()
        .messages(GENERAL_ROOM_ID, None, 50)
        .await
        .expect("the cache")
        .into_iter()
        .find(|m| m.body == "noted")
        .expect("the reply is cached");
    let preview = reply.reply_to.expect("it still says what it answers");
    assert!(preview.deleted && preview.excerpt.is_empty(), "{preview:?}");
    assert!(bob
        .search_cache("鍵語", None, None)
        .await
        .expect("search")
        .messages
        .is_empty());

    bob.stop().await;
    assert_erased(dir, "after the session stopped");
    relay.stop().await;
    assert_erased(
        relay_dir.path(),
        "the relay's files, after its graceful stop",
    );
}
