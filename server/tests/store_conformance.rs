//! The Store conformance suite: every backend must pass every case. `store_conformance!` turns
//! each case into a test for one backend, given an async factory that opens a fresh store.

use std::sync::Arc;

use natter_protocol::{User, GENERAL_ROOM_ID};
use natter_relay::store::{AppendRefusal, NewMessage, Store, StoreError};

type Result = std::result::Result<(), StoreError>;

fn new_message(room_id: &str, sender: &User, client_id: &str) -> NewMessage {
    NewMessage {
        room_id: room_id.to_owned(),
        sender: sender.clone(),
        client_id: client_id.to_owned(),
        body: format!("body of {client_id}"),
        sent_at: "2026-01-01T00:00:00.000Z".to_owned(),
    }
}

async fn user(store: &dyn Store, name: &str) -> User {
    store.create_user(name, "hash").await.expect("create user")
}

pub async fn users_are_unique_ignoring_case_and_join_general(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "Alice").await;
    assert!(matches!(
        store.create_user("aLICE", "h").await,
        Err(StoreError::Conflict)
    ));
    let creds = store
        .credentials("ALICE")
        .await?
        .expect("found ignoring case");
    assert_eq!(creds.user, alice);
    assert_eq!(creds.password_hash, "hash");
    assert!(store.credentials("nobody").await?.is_none());
    assert!(store.is_member(GENERAL_ROOM_ID, &alice.id).await?);
    assert_eq!(store.room_ids_of(&alice.id).await?, vec![GENERAL_ROOM_ID]);
    let found = store
        .users_by_name(&["alice".into(), "ghost".into()])
        .await?;
    assert_eq!(found, vec![alice]);
    Ok(())
}

pub async fn sessions_are_found_by_hash_and_revocable(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let id = store.create_session(&alice.id, "h1").await?;
    let Some(signed_on) = store.sign_on("h1").await? else {
        panic!("a new session signs on");
    };
    assert_eq!(signed_on.session_id, id);
    assert_eq!(signed_on.user, alice);
    assert_eq!(signed_on.room_ids, vec![GENERAL_ROOM_ID]);
    assert_eq!(store.delete_session("h1").await?, Some(id));
    assert_eq!(store.sign_on("h1").await?, None);
    assert_eq!(store.delete_session("h1").await?, None);
    Ok(())
}

pub async fn seq_is_gap_free_and_client_id_dedupes_per_sender(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let room = store
        .create_group("team", &alice, std::slice::from_ref(&bob))
        .await?;
    let batch = vec![
        new_message(&room, &alice, "a1"),
        new_message(&room, &alice, "a2"),
        new_message(&room, &alice, "a1"), // repeat inside one batch
        new_message(&room, &bob, "a1"),   // same client_id, other sender: a new message
        new_message(GENERAL_ROOM_ID, &alice, "a2"), // repeat into another room
    ];
    let out = store.append_messages(batch).await?;
    let seqs: Vec<_> = out
        .iter()
        .map(|o| {
            o.as_ref()
                .map(|a| (a.message.room_id.clone(), a.message.seq, a.created))
        })
        .collect();
    assert_eq!(
        seqs,
        vec![
            Ok((room.clone(), 1, true)),
            Ok((room.clone(), 2, true)),
            Ok((room.clone(), 1, false)),
            Ok((room.clone(), 3, true)),
            Ok((room.clone(), 2, false)),
        ]
    );
    assert_eq!(
        store
            .room_for(GENERAL_ROOM_ID, &alice.id)
            .await?
            .map(|r| r.last_seq),
        Some(0),
        "a repeat must not touch the room it was re-sent to"
    );
    Ok(())
}

pub async fn a_refused_message_does_not_spoil_its_batch(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let room = store.create_group("private", &alice, &[]).await?;
    let out = store
        .append_messages(vec![
            new_message(&room, &alice, "ok1"),
            new_message(&room, &bob, "intruder"),
            new_message("no-such-room", &bob, "ghost"),
            new_message(&room, &alice, "ok2"),
        ])
        .await?;
    assert_eq!(out[1], Err(AppendRefusal::NotMember));
    assert_eq!(out[2], Err(AppendRefusal::NotMember));
    assert_eq!(out[3].as_ref().map(|a| a.message.seq), Ok(2));
    let all = store.history(&room, None, 100).await?;
    assert_eq!(
        all.iter().map(|m| m.client_id.as_str()).collect::<Vec<_>>(),
        ["ok1", "ok2"]
    );
    Ok(())
}

pub async fn concurrent_appends_stay_gap_free(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (store, alice) = (store.clone(), alice.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let m = new_message(GENERAL_ROOM_ID, &alice, &format!("t{t}-{i}"));
                store.append_messages(vec![m]).await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    for t in tasks {
        t.await.expect("task")?;
    }
    let all = store.messages_after(GENERAL_ROOM_ID, 0, 1_000).await?;
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=200).collect::<Vec<_>>()
    );
    Ok(())
}

pub async fn queued_batches_commit_in_call_order(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    // All queued before any is awaited, as the committer does; awaited last-first.
    let pending: Vec<_> = (0..20)
        .map(|b| {
            let batch = (0..3)
                .map(|i| new_message(GENERAL_ROOM_ID, &alice, &format!("b{b}-{i}")))
                .collect();
            store.append_messages(batch)
        })
        .collect();
    let mut seqs = Vec::new();
    for outcome in pending.into_iter().rev() {
        let batch: Vec<_> = outcome
            .await?
            .into_iter()
            .map(|o| o.map(|a| a.message.seq))
            .collect();
        seqs.push(batch);
    }
    seqs.reverse();
    let expected: Vec<Vec<_>> = (0..20)
        .map(|b| (1..=3).map(|i| Ok(b * 3 + i)).collect())
        .collect();
    assert_eq!(seqs, expected);
    Ok(())
}

pub async fn history_pages_backwards_oldest_first(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let batch: Vec<_> = (1..=10)
        .map(|i| new_message(GENERAL_ROOM_ID, &alice, &format!("m{i}")))
        .collect();
    store.append_messages(batch).await?;
    let seqs = |ms: Vec<natter_protocol::Message>| ms.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(store.history(GENERAL_ROOM_ID, None, 3).await?),
        [8, 9, 10]
    );
    assert_eq!(
        seqs(store.history(GENERAL_ROOM_ID, Some(8), 3).await?),
        [5, 6, 7]
    );
    assert_eq!(seqs(store.history(GENERAL_ROOM_ID, Some(2), 3).await?), [1]);
    assert_eq!(
        seqs(store.messages_after(GENERAL_ROOM_ID, 7, 2).await?),
        [8, 9]
    );
    assert!(store
        .messages_after(GENERAL_ROOM_ID, 10, 5)
        .await?
        .is_empty());
    Ok(())
}

pub async fn read_position_moves_forward_and_clamps(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let batch: Vec<_> = (1..=5)
        .map(|i| new_message(GENERAL_ROOM_ID, &alice, &format!("m{i}")))
        .collect();
    store.append_messages(batch).await?;
    assert_eq!(
        store.mark_read(GENERAL_ROOM_ID, &alice.id, 3).await?,
        Some(3)
    );
    assert_eq!(store.mark_read(GENERAL_ROOM_ID, &alice.id, 2).await?, None);
    assert_eq!(store.mark_read(GENERAL_ROOM_ID, &alice.id, 3).await?, None);
    assert_eq!(
        store.mark_read(GENERAL_ROOM_ID, &alice.id, 99).await?,
        Some(5)
    );
    let room = store
        .room_for(GENERAL_ROOM_ID, &alice.id)
        .await?
        .expect("member");
    assert_eq!((room.last_seq, room.read_seq), (5, 5));
    assert_eq!(store.mark_read("no-such-room", &alice.id, 1).await?, None);
    Ok(())
}

pub async fn rooms_and_members(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let carol = user(&*store, "carol").await;
    let room = store
        .create_group("team", &alice, &[bob.clone(), alice.clone()])
        .await?;
    let seen = store
        .room_for(&room, &bob.id)
        .await?
        .expect("bob is a member");
    assert_eq!(seen.members, ["alice", "bob"]);
    assert!(store.room_for(&room, &carol.id).await?.is_none());
    assert!(store.add_member(&room, &carol.id).await?);
    assert!(!store.add_member(&room, &carol.id).await?);
    assert!(store.remove_member(&room, &bob.id).await?);
    assert!(!store.remove_member(&room, &bob.id).await?);
    let mut ids = store.member_ids(&room).await?;
    ids.sort();
    let mut want = vec![alice.id.clone(), carol.id.clone()];
    want.sort();
    assert_eq!(ids, want);
    let rooms = store.rooms_of(&carol.id).await?;
    assert_eq!(
        rooms
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .len(),
        2
    );
    Ok(())
}

pub async fn direct_rooms_are_one_per_pair(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let carol = user(&*store, "carol").await;
    let (ab, created) = store.open_direct(&alice, &bob).await?;
    assert!(created);
    assert_eq!(store.open_direct(&bob, &alice).await?, (ab.clone(), false));
    let (ac, _) = store.open_direct(&alice, &carol).await?;
    assert_ne!(ab, ac);
    let room = store.room_for(&ab, &bob.id).await?.expect("member");
    assert_eq!(room.kind, natter_protocol::RoomKind::Direct);
    assert_eq!(room.members, ["alice", "bob"]);
    Ok(())
}

pub async fn last_seen_is_kept(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    assert_eq!(store.last_seen(&alice.id).await?, None);
    store
        .set_last_seen(&alice.id, "2026-01-01T00:00:00.000Z")
        .await?;
    assert_eq!(
        store.last_seen(&alice.id).await?.as_deref(),
        Some("2026-01-01T00:00:00.000Z")
    );
    Ok(())
}

/// Generates one `#[tokio::test]` per conformance case for a backend.
macro_rules! store_conformance {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;
            store_conformance!(@cases $open;
                users_are_unique_ignoring_case_and_join_general,
                sessions_are_found_by_hash_and_revocable,
                seq_is_gap_free_and_client_id_dedupes_per_sender,
                a_refused_message_does_not_spoil_its_batch,
                concurrent_appends_stay_gap_free,
                queued_batches_commit_in_call_order,
                history_pages_backwards_oldest_first,
                read_position_moves_forward_and_clamps,
                rooms_and_members,
                direct_rooms_are_one_per_pair,
                last_seen_is_kept,
            );
        }
    };
    (@cases $open:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = $open(dir.path().to_path_buf()).await;
                super::$case(store).await.expect("store error");
            }
        )*
    };
}

async fn open_sqlite(dir: std::path::PathBuf) -> Arc<dyn Store> {
    let store = natter_relay::store::SqliteStore::open(&dir.join("natter.db"))
        .await
        .expect("open sqlite");
    Arc::new(store)
}

store_conformance!(sqlite, open_sqlite);

#[tokio::test]
async fn sqlite_keeps_everything_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("natter.db");
    let alice = {
        let store = natter_relay::store::SqliteStore::open(&path)
            .await
            .expect("open");
        let alice = store.create_user("alice", "h").await.expect("user");
        store
            .append_messages(vec![new_message(GENERAL_ROOM_ID, &alice, "x")])
            .await
            .expect("append");
        alice
    };
    let store = natter_relay::store::SqliteStore::open(&path)
        .await
        .expect("reopen");
    assert!(store.integrity_ok().await.expect("integrity"));
    let all = store
        .history(GENERAL_ROOM_ID, None, 10)
        .await
        .expect("history");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].sender, alice.username);
}
