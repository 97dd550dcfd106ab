//! What a person leaves in a room survives restarts and stays with its account (issue 23, items
//! 2 and 4): one draft per room, and the other members' read positions heard from `receipt`
//! events, so "read" on one's own messages does not turn back into "sent" after a restart.

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
async fn one_draft_per_room_survives_reopen_and_sign_out_forgets_it() -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    cache.save_draft("a", "half a thought for a").await?;
    cache.save_draft("b", "for b").await?;
    cache.save_draft("b", "for b, edited").await?;
    cache.save_draft("c", "gone").await?;
    cache.save_draft("c", "   ").await?;
    cache.save_receipt("a", "bob", 3).await?;
    cache.save_receipt("a", "bob", 2).await?;
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
    let receipts = cache.receipts().await?;
    assert_eq!(receipts.len(), 1);
    assert_eq!(
        (receipts[0].user.as_str(), receipts[0].seq),
        ("bob", 3),
        "never backwards"
    );

    cache.clear_sign_in().await?;
    assert!(
        cache.drafts().await?.is_empty(),
        "a draft outlived sign-out"
    );
    assert!(
        cache.receipts().await?.is_empty(),
        "read positions outlived sign-out"
    );
    Ok(())
}

#[tokio::test]
async fn another_members_receipt_is_kept_in_the_cache() {
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

    let cache = Cache::open(alice_dir.path()).await.expect("alice's cache");
    let kept = cache.receipts().await.expect("receipts");
    assert!(
        kept.iter()
            .any(|r| r.room_id == dm.id && r.user == "bob" && r.seq == seq),
        "bob's read position is not in alice's cache: {kept:?}"
    );
}
