//! Accounts on one profile stay apart (issue 23, item 1): signing out forgets the account's
//! local data (its files too), and saving another account's sign-in over a saved one does the same, so the next
//! person on a shared computer never sees the previous one's rooms, DMs or unsent messages.

mod support;

use natter_client::session::AppEvent;
use natter_client::{Cache, SignIn};
use natter_protocol::RoomKind;
use support::app::{connected, start, until};
use support::TestRelay;

/// alice signs in on `profile` (saved first, as the desktop does) and her session caches a DM
/// from bob; returns the DM's id. The session is stopped, so the cache is hers to sign out of.
async fn alice_gets_a_dm(relay: &TestRelay, profile: &std::path::Path, alice: &str) -> String {
    let cache = Cache::open(profile).await.expect("the cache");
    cache
        .save_sign_in(&sign_in(relay, "alice", alice))
        .await
        .expect("saved");
    cache.close().await;
    let bob_dir = tempfile::tempdir().expect("bob's profile");
    let bob_token = relay.token("bob").await;
    let (a, mut a_events) = start(profile, relay.url(), alice).await;
    let (b, mut b_events) = start(bob_dir.path(), relay.url(), &bob_token).await;
    connected(&mut a_events).await;
    connected(&mut b_events).await;
    let dm = b.open_dm("alice").await.expect("a DM");
    assert_eq!(dm.kind, RoomKind::Direct);
    b.send(&dm.id, "for alice only").await.expect("queued");
    until(&mut a_events, "bob's DM reaches alice", |e| match e {
        AppEvent::Message { message } if message.body == "for alice only" => Some(()),
        _ => None,
    })
    .await;
    let cached = a.cache().messages(&dm.id, None, 10).await.expect("cache");
    assert_eq!(cached.len(), 1, "the DM is cached before sign-out");
    a.stop().await;
    b.stop().await;
    dm.id
}

fn sign_in(relay: &TestRelay, username: &str, token: &str) -> SignIn {
    SignIn {
        server_url: relay.url(),
        username: username.into(),
        token: token.into(),
    }
}

/// Puts files of alice's in `profile`'s files folder (a copy waiting to upload, a fetched
/// file), as her sends and downloads leave them; answers the folder.
fn alice_has_files(profile: &std::path::Path) -> std::path::PathBuf {
    let folder = profile.join(natter_client::files::FILES_DIR);
    for kind in ["outbox", "cache"] {
        std::fs::create_dir_all(folder.join(kind)).expect("the folder");
        std::fs::write(folder.join(kind).join("f"), b"alice's").expect("a file");
    }
    folder
}

/// Nothing of alice's is left in `cache`: no room, no message, no cursor, no outbox item.
async fn holds_nothing_of_alices(cache: &Cache, dm: &str) {
    let rooms = cache.rooms().await.expect("rooms");
    assert!(rooms.is_empty(), "rooms left after sign-out: {rooms:?}");
    let messages = cache.messages(dm, None, 10).await.expect("messages");
    assert!(messages.is_empty(), "messages left: {messages:?}");
    assert!(cache.cursors().await.expect("cursors").is_empty());
    assert!(cache.pending().await.expect("outbox").is_empty());
}

#[tokio::test]
async fn signing_out_forgets_the_accounts_rooms_messages_and_outbox() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let profile = tempfile::tempdir().expect("the shared profile");
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let alice = relay.token("alice").await;
    let dm = alice_gets_a_dm(&relay, profile.path(), &alice).await;

    let cache = Cache::open(profile.path()).await.expect("the cache");
    let unsent = cache.enqueue(&dm, "unsent, alice's").await.expect("queued");
    let files = alice_has_files(profile.path());
    cache.clear_sign_in().await.expect("signed out");
    holds_nothing_of_alices(&cache, &dm).await;
    assert!(!files.exists(), "alice's files are left after sign-out");
    cache.close().await;

    // carol registers on the same profile. What her window shows before the relay answers is
    // the cache: none of alice's rooms or messages; and alice's unsent message is not sent as
    // carol's (the relay would refuse it: carol is not a member).
    let carol = relay.token("carol").await;
    let (c, mut c_events) = start(profile.path(), relay.url(), &carol).await;
    let rooms = c.rooms().await.expect("carol's rooms");
    assert!(rooms.iter().all(|r| r.id != dm), "carol sees alice's DM");
    assert!(c.messages(&dm, None, 10).await.expect("cache").is_empty());
    connected(&mut c_events).await;
    let item = c
        .cache()
        .outbox_item(&unsent.client_id)
        .await
        .expect("cache");
    assert!(
        item.is_none(),
        "alice's unsent message went out as carol's: {item:?}"
    );
    c.stop().await;
}

#[tokio::test]
async fn another_account_signing_in_without_a_sign_out_sees_nothing_of_the_last() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let profile = tempfile::tempdir().expect("the shared profile");
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let alice = relay.token("alice").await;
    let dm = alice_gets_a_dm(&relay, profile.path(), &alice).await;

    let cache = Cache::open(profile.path()).await.expect("the cache");
    let alices = sign_in(&relay, "alice", &alice);
    cache.enqueue(&dm, "unsent, alice's").await.expect("queued");
    // The same account renewing its token keeps its data.
    let renewed = SignIn {
        token: "renewed".into(),
        ..alices
    };
    cache.save_sign_in(&renewed).await.expect("renewed");
    assert_eq!(cache.pending().await.expect("outbox").len(), 1);
    assert_eq!(cache.messages(&dm, None, 10).await.expect("cache").len(), 1);
    // So does her relay moving to another port.
    cache
        .move_sign_in("http://127.0.0.1:1")
        .await
        .expect("moved");
    assert_eq!(cache.pending().await.expect("outbox").len(), 1);
    let moved = cache.sign_in().await.expect("saved").map(|s| s.server_url);
    assert_eq!(moved.as_deref(), Some("http://127.0.0.1:1"));

    // Her token expired; carol signs in over it.
    let files = alice_has_files(profile.path());
    let carol = relay.token("carol").await;
    cache
        .save_sign_in(&sign_in(&relay, "carol", &carol))
        .await
        .expect("saved");
    holds_nothing_of_alices(&cache, &dm).await;
    assert!(!files.exists(), "alice's files are left for carol");
    cache.close().await;
}
