//! What a person leaves in a room survives restarts and stays with its account (issue 23, items
//! 2 and 4): one draft per room, and how far the other members have read, from the relay and
//! from `receipt` events, so "read" on one's own messages does not turn back into "sent" after a
//! restart or a new sign-in.

mod support;

use natter_client::cache::Draft;
use natter_client::session::AppEvent;
use natter_client::{Cache, CacheError};
use support::app::{connected, start, until};
use support::TestRelay;

fn draft(room_id: &str, body: &str) -> Draft {
    Draft {
        room_id: room_id.into(),
        body: body.into(),
    }
}

#[tokio::test]
async fn drafts_and_the_last_room_survive_reopen_and_sign_out_forgets_them(
) -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    cache.save_draft("a", "half a thought for a").await?;
    cache.save_draft("b", "for b").await?;
    cache.save_draft("b", "for b, edited").await?;
    cache.save_draft("c", "gone").await?;
    cache.save_draft("c", "   ").await?;
    assert_eq!(cache.last_room().await?, None);
    cache.save_last_room("a").await?;
    cache.save_last_room("b").await?;
    cache.close().await;

    let cache = Cache::open(dir.path()).await?;
    assert_eq!(
        cache.drafts().await?,
        vec![
            draft("a", "half a thought for a"),
            draft("b", "for b, edited")
        ],
        "each room keeps its own draft; a blank one is none"
    );
    assert_eq!(cache.last_room().await?.as_deref(), Some("b"));

    cache.clear_sign_in().await?;
    assert!(
        cache.drafts().await?.is_empty(),
        "a draft outlived sign-out"
    );
    assert_eq!(
        cache.last_room().await?,
        None,
        "the last room outlived sign-out"
    );
    Ok(())
}

#[tokio::test]
async fn how_far_the_others_read_survives_a_restart_and_a_new_sign_in() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let relay = TestRelay::in_dir(relay_dir.path()).await;
    let alice_dir = tempfile::tempdir().expect("alice's profile");
    let bob_dir = tempfile::tempdir().expect("bob's profile");
    let alice = relay.token("alice").await;
    let bob = relay.token("bob").await;
    let (a, mut a_events) = start(alice_dir.path(), relay.url(), &alice).await;
    let (b, mut b_events) = start(bob_dir.path(), relay.url(), &bob).await;
    connected(&mut a_events).await;
    connected(&mut b_events).await;
    let dm = a.open_dm("bob").await.expect("a DM");
    a.send(&dm.id, "read me").await.expect("queued");
    let seq = until(&mut b_events, "alice's message reaches bob", |e| match e {
        AppEvent::Message { message } if message.body == "read me" => Some(message.seq),
        _ => None,
    })
    .await;
    b.mark_read(&dm.id, seq).await.expect("read");
    until(&mut a_events, "bob's receipt reaches alice", |e| match e {
        AppEvent::Receipt(r) if r.user == "bob" && r.seq == seq => Some(()),
        _ => None,
    })
    .await;
    a.stop().await;
    b.stop().await;

    // A restart: the cache kept it from the live receipt.
    let cache = Cache::open(alice_dir.path()).await.expect("alice's cache");
    let kept = cache
        .room(&dm.id)
        .await
        .expect("cache")
        .map(|r| r.others_read_seq);
    assert_eq!(
        kept,
        Some(seq),
        "bob's read position is not in alice's cache"
    );
    cache.close().await;

    // A new sign-in on an empty profile: the relay says it.
    let fresh = tempfile::tempdir().expect("a fresh profile");
    let (a, mut a_events) = start(fresh.path(), relay.url(), &alice).await;
    let room = until(&mut a_events, "the DM in the first sync", |e| match e {
        AppEvent::Room { room } if room.id == dm.id => Some(room.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        room.others_read_seq, seq,
        "the relay did not say how far bob read"
    );
    let cached = a
        .cache()
        .room(&dm.id)
        .await
        .expect("cache")
        .map(|r| r.others_read_seq);
    assert_eq!(cached, Some(seq));
    a.stop().await;
}
