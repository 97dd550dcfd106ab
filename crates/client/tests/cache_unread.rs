//! Unread counts in the cache: the relay's count of a room (messages from others past the read
//! position, change entries excluded), plus the news the cache holds above the seq the relay
//! counted to; reading takes off what it passes. Edits, reactions and one's own messages never
//! count, also when the cache never held what the relay counted.

use natter_client::{Cache, CacheError, SignIn};
use natter_protocol::{Change, Message, Room, RoomKind};

fn room(last_seq: i64, read_seq: i64, unread: u32) -> Room {
    Room {
        id: "r".to_owned(),
        name: "plans".to_owned(),
        kind: RoomKind::Group,
        members: vec!["alice".to_owned(), "bob".to_owned()],
        last_seq,
        read_seq,
        member_count: 0,
        others_read_seq: 0,
        unread: Some(unread),
    }
}

fn message(seq: i64, sender: &str) -> Message {
    Message {
        id: format!("m-{seq}"),
        room_id: "r".to_owned(),
        seq,
        sender: sender.to_owned(),
        body: format!("message {seq}"),
        client_id: format!("c-{seq}"),
        sent_at: "2026-12-06T10:00:00Z".to_owned(),
        ..Message::default()
    }
}

fn reaction(seq: i64, sender: &str, target: i64) -> Message {
    Message {
        change: Some(Box::new(Change::Reaction {
            target: format!("m-{target}"),
            emoji: "👍".to_owned(),
            on: true,
        })),
        ..message(seq, sender)
    }
}

fn edit(seq: i64, target: i64) -> Message {
    Message {
        change: Some(Box::new(Change::Edit {
            target: format!("m-{target}"),
            body: "fixed".to_owned(),
        })),
        ..message(seq, "bob")
    }
}

async fn signed_in_as_alice() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await.expect("open");
    cache
        .save_sign_in(&SignIn {
            server_url: "http://127.0.0.1:1".to_owned(),
            username: "alice".to_owned(),
            token: "t".to_owned(),
        })
        .await
        .expect("sign in");
    (dir, cache)
}

#[tokio::test]
async fn new_messages_from_others_count_changes_and_own_messages_do_not() -> Result<(), CacheError>
{
    let (_dir, cache) = signed_in_as_alice().await;
    // The relay: 40 seqs past our read position 10, of which 3 are messages from others (the
    // rest changes and our own), none of them held here.
    cache.upsert_room(&room(50, 10, 3)).await?;
    assert_eq!(cache.unread("r").await?, Some(3));

    // Live: a reaction and an edit by bob, a message of ours, then a message from bob.
    cache
        .insert_messages(&[reaction(51, "bob", 49), edit(52, 49), message(53, "Alice")])
        .await?;
    assert_eq!(
        cache.unread("r").await?,
        Some(3),
        "changes and our own are not news"
    );
    cache.insert_messages(&[message(54, "bob")]).await?;
    assert_eq!(cache.unread("r").await?, Some(4));
    assert_eq!(
        cache.rooms().await?[0].unread,
        Some(4),
        "the room says it too"
    );

    // The relay lists the room again, as of seq 54 (counting bob's 54): no double count.
    cache.upsert_room(&room(54, 10, 4)).await?;
    assert_eq!(cache.unread("r").await?, Some(4));
    // A staler copy (as of seq 50) does not undo what came since.
    cache.upsert_room(&room(50, 10, 3)).await?;
    assert_eq!(cache.unread("r").await?, Some(4));

    // Reading: past messages held here (bob's 20 and 30, paged in) takes them off the relay's
    // count; reading everything leaves none.
    cache
        .insert_messages(&[message(20, "bob"), message(30, "bob"), message(40, "bob")])
        .await?;
    cache.mark_read("r", 30).await?;
    assert_eq!(cache.unread("r").await?, Some(2));
    cache.mark_read("r", 54).await?;
    assert_eq!(cache.unread("r").await?, Some(0));
    cache.insert_messages(&[reaction(55, "bob", 54)]).await?;
    assert_eq!(
        cache.unread("r").await?,
        Some(0),
        "a reaction after reading"
    );
    cache.insert_messages(&[message(56, "bob")]).await?;
    assert_eq!(cache.unread("r").await?, Some(1));
    assert_eq!(cache.unread("nowhere").await?, None);
    Ok(())
}

#[tokio::test]
async fn a_read_the_relay_has_not_heard_of_yet_stays_off_its_count() -> Result<(), CacheError> {
    let (_dir, cache) = signed_in_as_alice().await;
    cache.upsert_room(&room(20, 10, 2)).await?;
    cache
        .insert_messages(&[message(15, "bob"), message(20, "bob")])
        .await?;
    // Read offline up to 15; the relay then lists the room still at read position 10.
    cache.mark_read("r", 15).await?;
    assert_eq!(cache.unread("r").await?, Some(1));
    cache.upsert_room(&room(20, 10, 2)).await?;
    assert_eq!(cache.unread("r").await?, Some(1));
    Ok(())
}
