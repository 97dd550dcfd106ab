//! The local cache against real SQLite files in temporary directories.

use natter_client::{Cache, CacheError, OutboxState, SeqRange, SignIn};
use natter_protocol::{ErrorCode, Message, Room, RoomKind, WireError};

fn message(room_id: &str, seq: i64) -> Message {
    Message {
        id: format!("m-{room_id}-{seq}"),
        room_id: room_id.to_owned(),
        seq,
        sender: "alice".to_owned(),
        body: format!("hello {seq}"),
        client_id: format!("c-{room_id}-{seq}"),
        sent_at: "2024-05-01T12:34:56.789Z".to_owned(),
        ..Message::default()
    }
}

fn room(id: &str, members: &[&str], last_seq: i64, read_seq: i64) -> Room {
    Room {
        id: id.to_owned(),
        name: format!("room {id}"),
        kind: RoomKind::Group,
        members: members.iter().map(|m| (*m).to_owned()).collect(),
        last_seq,
        read_seq,
        member_count: u32::try_from(members.len()).expect("a few members"),
        others_read_seq: 0,
        // What the cache answers for a room a relay without counts listed.
        unread: Some(u32::try_from(last_seq - read_seq).unwrap_or(0)),
    }
}

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

async fn open() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await.expect("the cache opens");
    (dir, cache)
}

#[tokio::test]
async fn each_room_and_seq_is_kept_once() -> Result<(), CacheError> {
    let (_dir, cache) = open().await;
    let batch: Vec<Message> = (1..=3).map(|s| message("general", s)).collect();
    assert_eq!(seqs(&cache.insert_messages(&batch).await?), vec![1, 2, 3]);
    // The live event and the sync page carry the same messages: nothing new the second time.
    let again = vec![
        message("general", 2),
        message("general", 4),
        message("r-1", 2),
    ];
    let fresh = cache.insert_messages(&again).await?;
    assert_eq!(
        fresh
            .iter()
            .map(|m| (m.room_id.as_str(), m.seq))
            .collect::<Vec<_>>(),
        vec![("general", 4), ("r-1", 2)]
    );
    assert_eq!(
        seqs(&cache.messages("general", None, 50).await?),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        seqs(&cache.messages("general", Some(4), 2).await?),
        vec![2, 3]
    );
    Ok(())
}

#[tokio::test]
async fn cursor_stops_at_the_first_gap_and_gaps_are_listed() -> Result<(), CacheError> {
    let (_dir, cache) = open().await;
    assert_eq!(cache.cursor("general").await?, 0);
    let held: Vec<Message> = [1, 2, 5, 6, 9]
        .iter()
        .map(|&s| message("general", s))
        .collect();
    cache.insert_messages(&held).await?;
    assert_eq!(cache.cursor("general").await?, 2);
    let range = |first, last| SeqRange { first, last };
    assert_eq!(cache.gaps("general").await?, vec![range(3, 4), range(7, 8)]);

    cache
        .insert_messages(&[message("general", 4), message("general", 3)])
        .await?;
    assert_eq!(cache.cursor("general").await?, 6);
    assert_eq!(cache.gaps("general").await?, vec![range(7, 8)]);

    // A room first seen at seq 100: older messages are history, not gaps.
    assert_eq!(cache.set_cursor_base("r-1", 100).await?, 100);
    cache
        .insert_messages(&[message("r-1", 101), message("r-1", 103)])
        .await?;
    assert_eq!(cache.cursor("r-1").await?, 101);
    assert_eq!(cache.gaps("r-1").await?, vec![range(102, 102)]);
    // A base below the cursor never moves it back.
    assert_eq!(cache.set_cursor_base("r-1", 5).await?, 101);
    let cursors = cache.cursors().await?;
    assert_eq!(cursors.get("general"), Some(&6));
    assert_eq!(cursors.get("r-1"), Some(&101));
    Ok(())
}

#[tokio::test]
async fn a_message_keeps_its_files() -> Result<(), CacheError> {
    let (_dir, cache) = open().await;
    let file = natter_protocol::Attachment {
        id: "f-1".into(),
        name: "cat.png".into(),
        size: 10,
        content_type: "image/png".into(),
        width: Some(2),
        height: Some(1),
    };
    let with_file = Message {
        attachments: vec![file],
        ..message("general", 1)
    };
    cache
        .insert_messages(std::slice::from_ref(&with_file))
        .await?;
    assert_eq!(cache.messages("general", None, 10).await?, vec![with_file]);
    Ok(())
}

#[tokio::test]
async fn messages_raise_the_room_last_seq() -> Result<(), CacheError> {
    let (_dir, cache) = open().await;
    cache
        .upsert_room(&room("general", &["alice"], 1, 0))
        .await?;
    cache
        .insert_messages(&[message("general", 1), message("general", 2)])
        .await?;
    let cached = cache.room("general").await?.expect("the room is cached");
    assert_eq!(cached.last_seq, 2);
    Ok(())
}

#[tokio::test]
async fn rooms_members_and_read_state() -> Result<(), CacheError> {
    let (_dir, cache) = open().await;
    let general = room("general", &["alice", "Bob", "carol"], 10, 3);
    let book = room("r-7", &["alice", "bob"], 2, 0);
    let gone = cache
        .replace_rooms(&[general.clone(), book.clone()])
        .await?;
    assert!(gone.is_empty());
    assert_eq!(cache.rooms().await?, vec![general.clone(), book.clone()]);

    // Read positions only move forward and stop at last_seq.
    assert_eq!(cache.mark_read("general", 7).await?, Some(7));
    assert_eq!(cache.mark_read("general", 5).await?, Some(7));
    assert_eq!(cache.mark_read("general", 99).await?, Some(10));
    assert_eq!(cache.mark_read("nowhere", 1).await?, None);

    // A stale copy (older read_seq) keeps the newer position; members are replaced.
    let mut renamed = book.clone();
    renamed.members = vec!["alice".into(), "bob".into(), "dave".into()];
    cache.upsert_room(&renamed).await?;
    assert_eq!(cache.room("r-7").await?, Some(renamed.clone()));
    assert_eq!(cache.room("general").await?.map(|r| r.read_seq), Some(10));

    // A room gone from the list is forgotten with its messages and cursor.
    cache.insert_messages(&[message("r-7", 1)]).await?;
    assert_eq!(
        cache.replace_rooms(&[general]).await?,
        vec!["r-7".to_owned()]
    );
    assert_eq!(cache.room("r-7").await?, None);
    assert!(cache.messages("r-7", None, 10).await?.is_empty());
    assert_eq!(cache.cursor("r-7").await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_big_room_keeps_its_count_and_lists_no_names() -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    // Above 64 members the relay sends the count and no names.
    let general = Room {
        member_count: 100_000,
        ..room("general", &[], 10, 3)
    };
    cache.replace_rooms(std::slice::from_ref(&general)).await?;
    cache.close().await;
    drop(cache);

    let cache = Cache::open(dir.path()).await?;
    let cached = cache.room("general").await?.expect("general is cached");
    assert_eq!(cached, general);
    assert_eq!(cached.member_total(), 100_000);
    assert!(
        !cached.members_complete(),
        "its names are paged, not cached"
    );

    // It shrinks below the bound: names and count again, as the relay sent them.
    let small = room("general", &["alice", "bob"], 10, 3);
    cache.upsert_room(&small).await?;
    let cached = cache.room("general").await?.expect("general is cached");
    assert_eq!((cached.member_count, cached.members.len()), (2, 2));
    assert!(cached.members_complete());
    // A relay without counts: the names are the count.
    let older = Room {
        member_count: 0,
        ..room("general", &["alice", "bob", "carol"], 10, 3)
    };
    cache.upsert_room(&older).await?;
    assert_eq!(
        cache.room("general").await?.map(|r| r.member_count),
        Some(3)
    );
    Ok(())
}

#[tokio::test]
async fn outbox_order_and_states_survive_reopen() -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    let a = cache.enqueue("general", "first").await?;
    let b = cache.enqueue("r-1", "second").await?;
    let c = cache.enqueue("general", "third").await?;
    let d = cache.enqueue("general", "fourth").await?;
    assert_ne!(a.client_id, b.client_id);
    assert!(uuid::Uuid::parse_str(&a.client_id).is_ok());

    cache.mark_sent(&b.client_id, 7).await?;
    cache.mark_sent(&b.client_id, 7).await?; // acked twice: a no-op
    let refused = WireError::new(ErrorCode::Forbidden, "not a member");
    cache.mark_failed(&c.client_id, &refused).await?;
    // Transient errors never fail an item: it stays pending.
    let busy = WireError::new(ErrorCode::RateLimited, "slow down");
    assert!(matches!(
        cache.mark_failed(&a.client_id, &busy).await,
        Err(CacheError::NotPermanent(ErrorCode::RateLimited))
    ));
    // A failed item is final.
    assert!(matches!(
        cache.mark_sent(&c.client_id, 8).await,
        Err(CacheError::NotPending { .. })
    ));
    assert!(matches!(
        cache.mark_sent("no-such-id", 1).await,
        Err(CacheError::UnknownOutboxItem(_))
    ));
    cache.close().await;
    drop(cache);

    let cache = Cache::open(dir.path()).await?;
    let pending: Vec<String> = cache
        .pending()
        .await?
        .into_iter()
        .map(|i| i.client_id)
        .collect();
    assert_eq!(pending, vec![a.client_id.clone(), d.client_id.clone()]);
    let b_now = cache.outbox_item(&b.client_id).await?.expect("b is kept");
    assert_eq!(b_now.state, OutboxState::Sent { seq: 7 });
    assert_eq!(b_now.body, "second");
    assert_eq!(b_now.created_at, b.created_at);
    let c_now = cache.outbox_item(&c.client_id).await?.expect("c is kept");
    assert_eq!(c_now.state, OutboxState::Failed(refused));

    // Only a failed item can be discarded (Delete / Retry in the UI); pending and sent stay.
    assert!(!cache.discard_failed(&a.client_id).await?, "a pending send");
    assert!(!cache.discard_failed(&b.client_id).await?, "a sent one");
    assert!(cache.discard_failed(&c.client_id).await?);
    assert_eq!(cache.outbox_item(&c.client_id).await?, None);
    assert!(cache.outbox_item(&a.client_id).await?.is_some());
    assert!(!cache.discard_failed(&c.client_id).await?, "already gone");
    Ok(())
}

#[tokio::test]
async fn session_survives_reopen_and_token_file_is_private() -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    assert_eq!(cache.sign_in().await?, None);
    let session = SignIn {
        server_url: "http://127.0.0.1:7447".into(),
        username: "alice".into(),
        token: "tok_secret".into(),
    };
    cache.save_sign_in(&session).await?;
    assert!(!format!("{session:?}").contains("tok_secret"));
    cache.close().await;

    let cache = Cache::open(dir.path()).await?;
    assert_eq!(cache.sign_in().await?, Some(session.clone()));
    let token_file = dir.path().join(natter_client::cache::TOKEN_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file)
            .map(|m| m.permissions().mode() & 0o777)
            .ok();
        assert_eq!(mode, Some(0o600));
    }
    // Saving again replaces the token; logout removes it.
    let renewed = SignIn {
        token: "tok_new".into(),
        ..session
    };
    cache.save_sign_in(&renewed).await?;
    assert_eq!(cache.sign_in().await?, Some(renewed));
    cache.clear_sign_in().await?;
    assert_eq!(cache.sign_in().await?, None);
    assert!(!token_file.exists());
    Ok(())
}
