//! The Store conformance suite: every backend must pass every case. `store_conformance!` turns
//! each case into a test for one backend, given an async factory that opens a fresh store.

use std::sync::Arc;
use std::time::Duration;

use natter_protocol::admin::Role;
use natter_protocol::limits::MEMBERS_INLINE_MAX;
use natter_protocol::{Attachment, Change, User, GENERAL_ROOM_ID};
use natter_relay::store::{
    Admission, AppendOutcome, AppendRefusal, Departure, NewEntry, NewFile, NewInvite, NewMessage,
    PageFrom, RoomSeq, SearchQuery, SessionPolicy, Store, StoreError,
};

type Result = std::result::Result<(), StoreError>;

/// No bound on rooms per user, where a case is not about it.
const ANY: u32 = u32::MAX;

fn new_message(room_id: &str, sender: &User, client_id: &str) -> NewMessage {
    NewMessage {
        room_id: room_id.to_owned(),
        sender: sender.clone(),
        client_id: client_id.to_owned(),
        body: format!("body of {client_id}"),
        sent_at: "2026-01-01T00:00:00.000Z".to_owned(),
        entry: NewEntry::Message {
            reply_to: None,
            attachments: Vec::new(),
        },
        mentions: Vec::new(),
    }
}

/// Appends one entry of `sender` (a fresh client_id) and returns the outcome.
async fn change(
    store: &dyn Store,
    room_id: &str,
    sender: &User,
    body: &str,
    entry: NewEntry,
) -> std::result::Result<AppendOutcome, StoreError> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    store
        .commits()
        .append(NewMessage {
            body: body.to_owned(),
            entry,
            ..new_message(room_id, sender, &format!("change-{n}"))
        })
        .await
}

/// Queues every message at once, in order (each queued before the next is polled), as
/// concurrent senders do; their outcomes, in the same order.
async fn append_batch(
    store: &dyn Store,
    batch: Vec<NewMessage>,
) -> std::result::Result<Vec<AppendOutcome>, StoreError> {
    let commits = store.commits();
    futures_util::future::join_all(batch.into_iter().map(|m| commits.append(m)))
        .await
        .into_iter()
        .collect()
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

/// A sign-on also names the user's rooms, each with its last seq (a relay of several nodes
/// starts a room's feed there for the socket).
pub async fn sessions_are_found_by_hash_and_revocable(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let team = store
        .create_group("team", &alice, std::slice::from_ref(&alice), ANY)
        .await?;
    let quiet = store
        .create_group("quiet", &bob, &[bob.clone(), alice.clone()], ANY)
        .await?;
    say(&*store, &team, &alice, "one").await;
    say(&*store, &team, &alice, "two").await;
    say(&*store, GENERAL_ROOM_ID, &bob, "hi").await;
    let id = store.create_session(&alice.id, "h1", "").await?.id;
    let Some(signed_on) = store.sign_on("h1").await? else {
        panic!("a new session signs on");
    };
    assert_eq!(signed_on.session_id, id);
    assert_eq!(signed_on.user, alice);
    let mut want = vec![
        RoomSeq {
            room_id: GENERAL_ROOM_ID.to_owned(),
            last_seq: 1,
        },
        RoomSeq {
            room_id: team,
            last_seq: 2,
        },
        RoomSeq {
            room_id: quiet,
            last_seq: 0,
        },
    ];
    want.sort_by(|a, b| a.room_id.cmp(&b.room_id));
    assert_eq!(
        signed_on.rooms, want,
        "every room, in id order, at its last seq"
    );
    assert_eq!(store.delete_session("h1").await?, Some(id));
    assert_eq!(store.sign_on("h1").await?, None);
    assert_eq!(store.delete_session("h1").await?, None);
    Ok(())
}

/// Past the cap (the default policy's) a new session ends the one used longest ago; signing on
/// counts as use, so a session in use outlives older idle ones.
pub async fn sessions_past_the_cap_end_the_least_recently_used(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    store.create_session(&bob.id, "bob", "").await?;
    let cap = SessionPolicy::default().per_user as usize;
    let mut ids = Vec::new();
    for n in 0..cap {
        let session = store
            .create_session(&alice.id, &format!("a{n}"), "")
            .await?;
        assert!(session.ended.is_empty(), "{n}: under the cap");
        ids.push(session.id);
        // Distinct use times (milliseconds in the store).
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let over = store.create_session(&alice.id, "over", "").await?;
    assert_eq!(over.ended, vec![ids[0].clone()], "the oldest goes");
    assert_eq!(store.sign_on("a0").await?, None);
    assert!(store.sign_on("over").await?.is_some(), "never the new one");
    assert!(
        store.sign_on("bob").await?.is_some(),
        "another user's are not counted"
    );
    let again = store.create_session(&alice.id, "again", "").await?;
    assert_eq!(again.ended, vec![ids[1].clone()]);
    Ok(())
}

pub async fn seq_is_gap_free_and_client_id_dedupes_per_sender(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let room = store
        .create_group("team", &alice, std::slice::from_ref(&bob), ANY)
        .await?;
    let batch = vec![
        new_message(&room, &alice, "a1"),
        new_message(&room, &alice, "a2"),
        new_message(&room, &alice, "a1"), // repeat inside one batch
        new_message(&room, &bob, "a1"),   // same client_id, other sender: a new message
        new_message(GENERAL_ROOM_ID, &alice, "a2"), // repeat into another room
    ];
    let out = append_batch(&*store, batch).await?;
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

/// A retry whose ack was lost comes back in a later batch, among new sends of the same room:
/// it answers the original and takes no seq, and the new sends around it stay gap-free.
pub async fn a_repeat_of_a_committed_send_inside_a_batch_takes_no_seq(
    store: Arc<dyn Store>,
) -> Result {
    let alice = user(&*store, "alice").await;
    let room = store.create_group("team", &alice, &[], ANY).await?;
    append_batch(&*store, vec![new_message(&room, &alice, "r1")]).await?;
    let out = append_batch(
        &*store,
        vec![
            new_message(&room, &alice, "r1"), // the retry, first in its batch
            new_message(&room, &alice, "r2"),
            new_message(&room, &alice, "r1"), // and again after a new one
            new_message(&room, &alice, "r3"),
        ],
    )
    .await?;
    let seqs: Vec<_> = out
        .iter()
        .map(|o| o.as_ref().map(|a| (a.message.seq, a.created)))
        .collect();
    assert_eq!(
        seqs,
        vec![Ok((1, false)), Ok((2, true)), Ok((1, false)), Ok((3, true))]
    );
    let all = store.history(&room, None, 100).await?;
    assert_eq!(
        all.iter()
            .map(|m| (m.seq, m.client_id.as_str()))
            .collect::<Vec<_>>(),
        [(1, "r1"), (2, "r2"), (3, "r3")]
    );
    Ok(())
}

pub async fn a_refused_message_does_not_spoil_its_batch(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let room = store.create_group("private", &alice, &[], ANY).await?;
    let out = append_batch(
        &*store,
        vec![
            new_message(&room, &alice, "ok1"),
            new_message(&room, &bob, "intruder"),
            new_message("no-such-room", &bob, "ghost"),
            new_message(&room, &alice, "ok2"),
        ],
    )
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
                store
                    .commits()
                    .append(m)
                    .await?
                    .expect("a member's message");
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

/// The stream of committed messages has every new message once, after its commit (before its
/// sender is answered), in commit order: each room's seqs in order, with no gap.
pub async fn committed_messages_come_out_in_commit_order(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let room = store.create_group("team", &alice, &[], ANY).await?;
    let mut committed = store.committed();
    let next = |committed: &mut tokio::sync::mpsc::Receiver<natter_protocol::Message>| {
        committed.try_recv().ok()
    };

    // One sender, one message at a time: the stream has each message by the time it is acked.
    let first = store
        .commits()
        .append(new_message(&room, &alice, "one"))
        .await?
        .expect("a member's message");
    assert_eq!(next(&mut committed), Some(first.message.clone()));
    // A repeat and a refusal create nothing, so the stream has nothing for them.
    let repeat = store
        .commits()
        .append(new_message(&room, &alice, "one"))
        .await?;
    assert_eq!(repeat.map(|a| a.created), Ok(false));
    let refused = store
        .commits()
        .append(new_message("no-such-room", &alice, "two"))
        .await?;
    assert_eq!(refused, Err(AppendRefusal::NotMember));
    assert_eq!(next(&mut committed), None);

    // Many senders at once, over two rooms.
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (commits, alice, room) = (store.commits(), alice.clone(), room.clone());
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..25 {
                let to = if (t + i) % 2 == 0 {
                    &room
                } else {
                    GENERAL_ROOM_ID
                };
                let outcome = commits
                    .append(new_message(to, &alice, &format!("t{t}-{i}")))
                    .await?;
                acked.push(outcome.expect("a member's message").message);
            }
            Ok::<_, StoreError>(acked)
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.expect("task")?);
    }
    let mut streamed = Vec::new();
    while streamed.len() < acked.len() {
        let wait = tokio::time::timeout(Duration::from_secs(10), committed.recv());
        match wait.await {
            Ok(Some(m)) => streamed.push(m),
            other => panic!(
                "the stream stopped after {} messages: {other:?}",
                streamed.len()
            ),
        }
    }
    assert_eq!(
        next(&mut committed),
        None,
        "nothing beyond what was created"
    );
    for (room_id, from) in [(room.as_str(), 2), (GENERAL_ROOM_ID, 1)] {
        let seqs: Vec<_> = streamed
            .iter()
            .filter(|m| m.room_id == room_id)
            .map(|m| m.seq)
            .collect();
        let want: Vec<_> = (from..from + 100).collect();
        assert_eq!(seqs, want, "{room_id}: seq order on the stream");
    }
    let by_id = |ms: &mut Vec<natter_protocol::Message>| ms.sort_by(|a, b| a.id.cmp(&b.id));
    by_id(&mut acked);
    by_id(&mut streamed);
    assert_eq!(
        streamed, acked,
        "the stream has exactly what the senders were told"
    );
    Ok(())
}

pub async fn history_pages_backwards_oldest_first(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let batch: Vec<_> = (1..=10)
        .map(|i| new_message(GENERAL_ROOM_ID, &alice, &format!("m{i}")))
        .collect();
    append_batch(&*store, batch).await?;
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

/// Pages of messages alone skip change entries however many follow; a member's unread count
/// is the messages from others past their read position.
pub async fn message_pages_and_unread_counts_leave_changes_out(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let room = store
        .create_group("team", &alice, std::slice::from_ref(&bob), ANY)
        .await?;
    let mut ids = Vec::new();
    for i in 1..=3 {
        let sent = store
            .commits()
            .append(new_message(&room, &alice, &format!("m{i}")))
            .await?
            .expect("sent");
        ids.push(sent.message.id);
    }
    // Seqs 4..=13: reactions by bob and edits by alice of the newest message.
    for i in 0..10 {
        let entry = if i % 2 == 0 {
            NewEntry::Reaction {
                target: ids[2].clone(),
                emoji: "👍".into(),
                on: i % 4 == 0,
            }
        } else {
            NewEntry::Edit {
                target: ids[2].clone(),
            }
        };
        let (sender, body) = if i % 2 == 0 {
            (&bob, "")
        } else {
            (&alice, "edited")
        };
        change(&*store, &room, sender, body, entry)
            .await?
            .expect("change");
    }
    store
        .commits()
        .append(new_message(&room, &bob, "from bob"))
        .await?
        .expect("sent");
    let seqs = |ms: Vec<natter_protocol::Message>| ms.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(
            store
                .messages_page(&room, PageFrom::Before(None), 3)
                .await?
        ),
        [2, 3, 14]
    );
    assert_eq!(
        seqs(
            store
                .messages_page(&room, PageFrom::Before(Some(14)), 5)
                .await?
        ),
        [1, 2, 3]
    );
    assert_eq!(
        seqs(store.messages_page(&room, PageFrom::After(2), 5).await?),
        [3, 14]
    );
    let newest = store
        .messages_page(&room, PageFrom::Before(Some(14)), 1)
        .await?;
    assert_eq!(newest[0].body, "edited", "each message as it is now");

    let unread = |user: &User| {
        let (store, room, user_id) = (store.clone(), room.clone(), user.id.clone());
        async move {
            store
                .room_for(&room, &user_id)
                .await
                .map(|r| r.and_then(|r| r.unread))
        }
    };
    assert_eq!(
        unread(&bob).await?,
        Some(3),
        "alice's messages, not her edits"
    );
    assert_eq!(
        unread(&alice).await?,
        Some(1),
        "bob's message, not his reactions"
    );
    store.mark_read(&room, &bob.id, 2).await?;
    assert_eq!(unread(&bob).await?, Some(1));
    store.mark_read(&room, &alice.id, 14).await?;
    assert_eq!(unread(&alice).await?, Some(0));
    Ok(())
}

pub async fn read_position_moves_forward_and_clamps(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let batch: Vec<_> = (1..=5)
        .map(|i| new_message(GENERAL_ROOM_ID, &alice, &format!("m{i}")))
        .collect();
    append_batch(&*store, batch).await?;
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
        .create_group("team", &alice, &[bob.clone(), alice.clone()], ANY)
        .await?;
    let seen = store
        .room_for(&room, &bob.id)
        .await?
        .expect("bob is a member");
    assert_eq!(seen.members, ["alice", "bob"]);
    assert!(store.room_for(&room, &carol.id).await?.is_none());
    assert!(store.add_member(&room, &carol.id, ANY).await?);
    assert!(!store.add_member(&room, &carol.id, ANY).await?);
    assert!(store.remove_member(&room, &bob.id, Departure::Left).await?);
    assert!(!store.remove_member(&room, &bob.id, Departure::Left).await?);
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

/// Issue 17: a room's member count, its names inline only up to `MEMBERS_INLINE_MAX`, and
/// pages of its members in name order (ignoring case) from a cursor.
pub async fn member_counts_and_pages(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "Bob").await;
    let carol = user(&*store, "carol").await;
    let room = store
        .create_group("team", &alice, &[carol.clone(), bob.clone()], ANY)
        .await?;
    let seen = store.room_for(&room, &alice.id).await?.expect("a member");
    assert_eq!(
        (seen.member_count, seen.members.clone()),
        (
            3,
            vec!["alice".to_owned(), "Bob".to_owned(), "carol".to_owned()]
        )
    );
    let names = |users: Vec<User>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(
        names(store.members_page(&room, None, 2).await?),
        ["alice", "Bob"]
    );
    assert_eq!(
        names(store.members_page(&room, Some("BOB"), 2).await?),
        ["carol"]
    );
    assert!(store
        .members_page(&room, Some("carol"), 2)
        .await?
        .is_empty());
    assert!(store
        .members_page("no-such-room", None, 2)
        .await?
        .is_empty());

    // Past the inline bound: the count, no names; joins and departures move the count.
    let mut more = Vec::new();
    for i in 0..MEMBERS_INLINE_MAX {
        more.push(user(&*store, &format!("m{i:03}")).await);
    }
    for m in &more {
        assert!(store.add_member(&room, &m.id, ANY).await?);
    }
    let big = store.room_for(&room, &bob.id).await?.expect("a member");
    assert_eq!(big.member_count, MEMBERS_INLINE_MAX + 3);
    assert!(big.members.is_empty());
    assert!(
        store
            .remove_member(&room, &carol.id, Departure::Left)
            .await?
    );
    let rooms = store.rooms_of(&alice.id).await?;
    let listed = rooms.iter().find(|r| r.id == room).expect("listed");
    assert_eq!(listed.member_count, MEMBERS_INLINE_MAX + 2);
    let page = names(store.members_page(&room, Some("m010"), 3).await?);
    assert_eq!(page, ["m011", "m012", "m013"]);
    let general = store
        .room_for(GENERAL_ROOM_ID, &alice.id)
        .await?
        .expect("everyone is in general");
    assert_eq!(general.member_count, MEMBERS_INLINE_MAX + 3);
    Ok(())
}

pub async fn direct_rooms_are_one_per_pair(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let carol = user(&*store, "carol").await;
    let (ab, created) = store.open_direct(&alice, &bob, ANY).await?;
    assert!(created);
    assert_eq!(
        store.open_direct(&bob, &alice, ANY).await?,
        (ab.clone(), false)
    );
    let (ac, _) = store.open_direct(&alice, &carol, ANY).await?;
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

pub async fn departures_creators_and_blocks_are_kept(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let room = store
        .create_group("team", &alice, std::slice::from_ref(&bob), ANY)
        .await?;
    assert_eq!(store.room_creator(&room).await?, Some(alice.id.clone()));
    assert_eq!(store.room_creator(GENERAL_ROOM_ID).await?, None);
    assert_eq!(store.departure(&room, &bob.id).await?, None);
    assert!(store.remove_member(&room, &bob.id, Departure::Left).await?);
    assert_eq!(
        store.departure(&room, &bob.id).await?,
        Some(Departure::Left)
    );
    assert_eq!(store.departure(&room, &alice.id).await?, None);
    assert!(store.add_member(&room, &bob.id, ANY).await?);
    assert_eq!(
        store.departure(&room, &bob.id).await?,
        None,
        "back: forgotten"
    );
    assert!(
        store
            .remove_member(&room, &bob.id, Departure::Removed)
            .await?
    );
    assert_eq!(
        store.departure(&room, &bob.id).await?,
        Some(Departure::Removed)
    );
    assert!(!store.remove_member(&room, &bob.id, Departure::Left).await?);
    assert_eq!(
        store.departure(&room, &bob.id).await?,
        Some(Departure::Removed),
        "not a member: nothing changes"
    );

    assert!(store.block(&bob.id, &alice.id).await?);
    assert!(!store.block(&bob.id, &alice.id).await?, "once");
    assert!(store.has_blocked(&bob.id, &alice.id).await?);
    assert!(!store.has_blocked(&alice.id, &bob.id).await?, "one way");
    assert_eq!(store.blocked_by(&bob.id).await?, vec!["alice"]);
    store.unblock(&bob.id, &alice.id).await?;
    assert!(store.blocked_by(&bob.id).await?.is_empty());
    Ok(())
}

pub async fn the_rooms_per_user_bound_writes_nothing_past_it(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let carol = user(&*store, "carol").await;
    // general + 1: bob is full at 2.
    store
        .create_group("one", &carol, std::slice::from_ref(&bob), 2)
        .await?;
    let refused = store
        .create_group("two", &alice, std::slice::from_ref(&bob), 2)
        .await;
    assert!(matches!(refused, Err(StoreError::TooManyRooms(id)) if id == bob.id));
    assert_eq!(
        store.room_ids_of(&alice.id).await?,
        vec![GENERAL_ROOM_ID],
        "the refused room was not half-made"
    );
    let dm = store.open_direct(&alice, &bob, 2).await;
    assert!(matches!(dm, Err(StoreError::TooManyRooms(_))));
    let mine = store.create_group("mine", &alice, &[], 2).await?;
    assert!(matches!(
        store.add_member(&mine, &bob.id, 2).await,
        Err(StoreError::TooManyRooms(_))
    ));
    assert!(store.add_member(&mine, &bob.id, 3).await?);
    assert!(!store.add_member(&mine, &bob.id, 3).await?, "already in");
    Ok(())
}

pub async fn peers_share_a_room_other_than_general(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let carol = user(&*store, "carol").await;
    user(&*store, "dave").await; // general only
    store
        .create_group("team", &alice, &[carol.clone(), bob.clone()], ANY)
        .await?;
    store.open_direct(&alice, &bob, ANY).await?;
    store
        .set_last_seen(&bob.id, "2026-01-01T00:00:00.000Z")
        .await?;
    let peers = store.peers_of(&alice.id, 10).await?;
    let names: Vec<_> = peers.iter().map(|p| p.user.username.as_str()).collect();
    assert_eq!(
        names,
        ["bob", "carol"],
        "once each, in name order, not dave"
    );
    assert_eq!(
        peers[0].last_seen.as_deref(),
        Some("2026-01-01T00:00:00.000Z")
    );
    assert_eq!(store.peers_of(&alice.id, 1).await?.len(), 1, "bounded");
    let seen = store.seen(&[carol.id.clone(), "nobody".into()]).await?;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].user, carol);
    Ok(())
}

/// Generates one `#[tokio::test]` per conformance case for a backend.
pub async fn changes_apply_to_their_target(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let carol = user(&*store, "carol").await;
    let room = store
        .create_group("team", &alice, std::slice::from_ref(&bob), ANY)
        .await?;
    let first = store
        .commits()
        .append(new_message(&room, &alice, "first"))
        .await?
        .expect("sent");
    let target = first.message.id.clone();
    let edit = |t: &str| NewEntry::Edit {
        target: t.to_owned(),
    };
    let react = |emoji: &str, on: bool| NewEntry::Reaction {
        target: target.clone(),
        emoji: emoji.to_owned(),
        on,
    };

    // An edit: its own entry (the next seq), and the message's body now.
    let edited = change(&*store, &room, &alice, "fixed", edit(&target))
        .await?
        .expect("edit");
    assert_eq!(edited.message.seq, 2);
    assert_eq!(
        edited.message.change.as_deref(),
        Some(&Change::Edit {
            target: target.clone(),
            body: "fixed".into()
        })
    );
    // Only the sender edits or deletes; anyone in the room reacts; no one outside it.
    assert_eq!(
        change(&*store, &room, &bob, "mine now", edit(&target))
            .await?
            .map(|a| a.created),
        Err(AppendRefusal::NotSender)
    );
    let delete = NewEntry::Delete {
        target: target.clone(),
    };
    assert_eq!(
        change(&*store, &room, &bob, "", delete)
            .await?
            .map(|a| a.created),
        Err(AppendRefusal::NotSender)
    );
    assert_eq!(
        change(&*store, &room, &carol, "", react("👍", true))
            .await?
            .map(|a| a.created),
        Err(AppendRefusal::NotMember)
    );
    for (who, emoji, on) in [
        (&bob, "👍", true),
        (&alice, "👍", true),
        (&bob, "🎉", true),
        (&bob, "👍", true),
        (&bob, "👍", false),
        (&bob, "👍", true),
    ] {
        let entry = change(&*store, &room, who, "", react(emoji, on))
            .await?
            .expect("react");
        assert!(matches!(
            entry.message.change.as_deref(),
            Some(&Change::Reaction { .. })
        ));
    }
    // Targets are messages of the same room, not entries, not elsewhere.
    assert_eq!(
        change(&*store, &room, &alice, "x", edit(&edited.message.id))
            .await?
            .map(|a| a.created),
        Err(AppendRefusal::NoSuchMessage)
    );
    let elsewhere = change(&*store, GENERAL_ROOM_ID, &alice, "x", edit(&target)).await?;
    assert_eq!(
        elsewhere.map(|a| a.created),
        Err(AppendRefusal::NoSuchMessage)
    );
    // A reply shows its target as it is now.
    let reply = change(
        &*store,
        &room,
        &bob,
        "agreed",
        NewEntry::Message {
            reply_to: Some(target.clone()),
            attachments: Vec::new(),
        },
    )
    .await?
    .expect("reply");
    let preview = reply.message.reply_to.clone().expect("a preview");
    assert_eq!(
        (preview.id.as_str(), preview.sender.as_str()),
        (target.as_str(), "alice")
    );
    assert_eq!(preview.excerpt, "fixed");
    // Its seq: how a client pages the target in to jump there.
    assert_eq!(preview.seq, first.message.seq);

    // History and catch-up carry the message's current state, and every entry in seq order.
    for page in [
        store.history(&room, None, 50).await?,
        store.messages_after(&room, 0, 50).await?,
    ] {
        let seqs: Vec<i64> = page.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=9).collect::<Vec<_>>(), "no gaps, nothing else");
        let message = &page[0];
        assert_eq!(message.body, "fixed");
        assert_eq!(
            message.edited_at.as_deref(),
            Some(edited.message.sent_at.as_str())
        );
        let reactions: Vec<(&str, Vec<&str>)> = message
            .reactions
            .iter()
            .map(|r| {
                (
                    r.emoji.as_str(),
                    r.users.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            reactions,
            [("👍", vec!["alice", "bob"]), ("🎉", vec!["bob"])]
        );
        assert_eq!(page[8].reply_to, reply.message.reply_to);
        assert_eq!(page[1].change, edited.message.change);
    }
    Ok(())
}

pub async fn a_delete_takes_the_text_of_the_message_and_its_edits(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let room = store
        .create_group("team", &alice, std::slice::from_ref(&bob), ANY)
        .await?;
    let sent = store
        .commits()
        .append(new_message(&room, &alice, "secret"))
        .await?
        .expect("sent");
    let target = sent.message.id.clone();
    let edit = NewEntry::Edit {
        target: target.clone(),
    };
    change(&*store, &room, &alice, "still secret", edit.clone())
        .await?
        .expect("edit");
    let react = NewEntry::Reaction {
        target: target.clone(),
        emoji: "👍".into(),
        on: true,
    };
    change(&*store, &room, &bob, "", react.clone())
        .await?
        .expect("react");
    let reply = NewEntry::Message {
        reply_to: Some(target.clone()),
        attachments: Vec::new(),
    };
    change(&*store, &room, &bob, "what?", reply.clone())
        .await?
        .expect("reply");

    let delete = NewMessage {
        body: String::new(),
        entry: NewEntry::Delete {
            target: target.clone(),
        },
        ..new_message(&room, &alice, "take-back")
    };
    let deleted = store
        .commits()
        .append(delete.clone())
        .await?
        .expect("delete");
    assert_eq!(
        deleted.message.change.as_deref(),
        Some(&Change::Delete {
            target: target.clone()
        })
    );
    // A repeat answers the original entry; nothing new.
    let repeat = store.commits().append(delete).await?.expect("repeat");
    assert_eq!(
        (repeat.created, repeat.message),
        (false, deleted.message.clone())
    );

    let page = store.history(&room, None, 50).await?;
    let message = &page[0];
    assert!(message.deleted);
    assert_eq!(message.body, "");
    assert!(message.reactions.is_empty());
    assert_eq!(
        page[1].change.as_deref(),
        Some(&Change::Edit {
            target: target.clone(),
            body: String::new()
        })
    );
    let preview = page[3].reply_to.clone().expect("a reply keeps its target");
    assert!(preview.deleted);
    assert_eq!(preview.excerpt, "");
    for page in [page, store.messages_after(&room, 0, 50).await?] {
        for m in &page {
            assert!(!m.body.contains("secret"), "{m:?}");
        }
    }
    // A deleted message takes no more changes; a reply to it is still allowed.
    assert_eq!(
        change(&*store, &room, &alice, "again", edit)
            .await?
            .map(|a| a.created),
        Err(AppendRefusal::NoSuchMessage)
    );
    assert_eq!(
        change(&*store, &room, &bob, "", react)
            .await?
            .map(|a| a.created),
        Err(AppendRefusal::NoSuchMessage)
    );
    assert!(change(&*store, &room, &bob, "gone?", reply).await?.is_ok());
    Ok(())
}

/// Sends `body` as `sender` into `room_id`; the new message's id.
async fn say(store: &dyn Store, room_id: &str, sender: &User, body: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    store
        .commits()
        .append(NewMessage {
            body: body.to_owned(),
            ..new_message(room_id, sender, &format!("say-{n}"))
        })
        .await
        .expect("append")
        .expect("a member's message")
        .message
        .id
}

/// The bodies `user` finds for `terms` (all of their rooms, or one), newest first.
async fn found(
    store: &dyn Store,
    user: &User,
    terms: &[&str],
    room_id: Option<&str>,
) -> std::result::Result<Vec<String>, StoreError> {
    let query = SearchQuery {
        terms: terms.iter().map(|t| (*t).to_owned()).collect(),
        room_id: room_id.map(str::to_owned),
        before: None,
        limit: 50,
    };
    let page = store.search(&user.id, &query).await?;
    Ok(page.messages.into_iter().map(|m| m.body).collect())
}

pub async fn search_finds_substrings_in_the_users_rooms_newest_first(
    store: Arc<dyn Store>,
) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let ours = store
        .create_group("ours", &alice, std::slice::from_ref(&bob), ANY)
        .await?;
    let bobs = store.create_group("bob's", &bob, &[], ANY).await?;
    say(&*store, GENERAL_ROOM_ID, &alice, "Lunch at noon?").await;
    say(&*store, &bobs, &bob, "lunch is a secret").await;
    say(&*store, &ours, &bob, "東京タワーでランチ 🍱🎉 lunch").await;
    say(&*store, &ours, &alice, "nothing to see").await;

    // Only alice's rooms, newest first; a substring inside a word, ignoring case.
    let lunch = ["東京タワーでランチ 🍱🎉 lunch", "Lunch at noon?"];
    assert_eq!(found(&*store, &alice, &["LUNCH"], None).await?, lunch);
    assert_eq!(found(&*store, &alice, &["unc"], None).await?, lunch);
    // Bob's own room, even named, is not alice's.
    assert!(found(&*store, &alice, &["secret"], Some(&bobs))
        .await?
        .is_empty());
    assert!(found(&*store, &alice, &["secret"], None).await?.is_empty());
    assert_eq!(
        found(&*store, &bob, &["lunch"], Some(&bobs)).await?,
        ["lunch is a secret"]
    );
    // Japanese without spaces: three characters through the index, fewer on the rows; emoji.
    for terms in [
        &["京タワ"][..],
        &["東京"],
        &["ラ"],
        &["🎉"],
        &["🍱🎉"],
        &["東京", "lunch"],
    ] {
        assert_eq!(
            found(&*store, &alice, terms, None).await?,
            ["東京タワーでランチ 🍱🎉 lunch"],
            "{terms:?}"
        );
    }
    // Every term must match.
    assert!(found(&*store, &alice, &["lunch", "dinner"], None)
        .await?
        .is_empty());
    assert!(found(&*store, &alice, &["lunch", "zz"], None)
        .await?
        .is_empty());
    // Wildcards and quotes are literal.
    assert!(found(&*store, &alice, &["%"], None).await?.is_empty());
    assert!(found(&*store, &alice, &["\"lunch"], None).await?.is_empty());
    Ok(())
}

pub async fn search_sees_only_current_text(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let first = say(&*store, GENERAL_ROOM_ID, &alice, "the walrus wears a hat").await;
    let second = say(&*store, GENERAL_ROOM_ID, &alice, "walrus facts: teeth").await;
    let edit = NewEntry::Edit {
        target: first.clone(),
    };
    change(
        &*store,
        GENERAL_ROOM_ID,
        &alice,
        "the seal wears a hat",
        edit,
    )
    .await?
    .expect("edit");
    let delete = NewEntry::Delete { target: second };
    change(&*store, GENERAL_ROOM_ID, &alice, "", delete)
        .await?
        .expect("delete");
    let react = NewEntry::Reaction {
        target: first,
        emoji: "🦭".into(),
        on: true,
    };
    change(&*store, GENERAL_ROOM_ID, &alice, "", react)
        .await?
        .expect("react");

    assert!(
        found(&*store, &alice, &["walrus"], None).await?.is_empty(),
        "pre-edit and deleted text"
    );
    assert!(
        found(&*store, &alice, &["teeth"], None).await?.is_empty(),
        "deleted text"
    );
    // The edited message, not its edit entry; with its reaction, as history has it.
    let query = SearchQuery {
        terms: vec!["seal".into()],
        room_id: None,
        before: None,
        limit: 50,
    };
    let page = store.search(&alice.id, &query).await?;
    assert_eq!(page.messages.len(), 1, "{:?}", page.messages);
    let message = &page.messages[0];
    assert_eq!(
        (message.seq, message.body.as_str()),
        (1, "the seal wears a hat")
    );
    assert!(message.change.is_none() && message.edited_at.is_some());
    assert_eq!(message.reactions.len(), 1);
    assert_eq!(page.next, None);

    // A page of several messages, newest first, from two rooms: each keeps its own reactions.
    let room = store.create_group("seals", &alice, &[], ANY).await?;
    let pups = say(&*store, &room, &alice, "seal pups").await;
    let react = NewEntry::Reaction {
        target: pups,
        emoji: "🐟".into(),
        on: true,
    };
    change(&*store, &room, &alice, "", react)
        .await?
        .expect("react");
    say(&*store, GENERAL_ROOM_ID, &alice, "a seal again").await;
    let page = store.search(&alice.id, &query).await?;
    let got: Vec<(&str, Vec<&str>)> = page
        .messages
        .iter()
        .map(|m| {
            let emoji = m.reactions.iter().map(|r| r.emoji.as_str()).collect();
            (m.body.as_str(), emoji)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a seal again", vec![]),
            ("seal pups", vec!["🐟"]),
            ("the seal wears a hat", vec!["🦭"]),
        ]
    );
    Ok(())
}

pub async fn search_pages_by_cursor(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let room = store.create_group("r", &alice, &[], ANY).await?;
    for i in 1..=5 {
        say(&*store, &room, &alice, &format!("page {i}")).await;
        say(&*store, GENERAL_ROOM_ID, &alice, &format!("page {i}g")).await;
    }
    for terms in [&["page"][..], &["pa"]] {
        let mut seen = Vec::new();
        let mut before = None;
        for _ in 0..20 {
            let query = SearchQuery {
                terms: terms.iter().map(|t| (*t).to_owned()).collect(),
                room_id: Some(room.clone()),
                before,
                limit: 2,
            };
            let page = store.search(&alice.id, &query).await?;
            assert!(page.messages.len() <= 2);
            seen.extend(page.messages.into_iter().map(|m| m.body));
            before = page.next;
            if before.is_none() {
                break;
            }
        }
        assert_eq!(
            seen,
            ["page 5", "page 4", "page 3", "page 2", "page 1"],
            "{terms:?}: every match once, newest first, ending"
        );
    }
    Ok(())
}

/// An invite code's hash, as the relay stores it (any string works for the store).
fn invited(code_hash: &str, now: &str) -> Admission {
    Admission::Invite {
        code_hash: code_hash.to_owned(),
        now: now.to_owned(),
    }
}

fn new_invite(code_hash: &str, uses: u32, expires_at: Option<&str>) -> NewInvite {
    NewInvite {
        code_hash: code_hash.to_owned(),
        role: Role::Member,
        uses,
        expires_at: expires_at.map(str::to_owned),
        created_by: None,
    }
}

const NOW: &str = "2026-06-01T00:00:00.000Z";

pub async fn invites_admit_their_uses_and_one_of_racing_registrations(
    store: Arc<dyn Store>,
) -> Result {
    store.create_invite(new_invite("once", 1, None)).await?;
    // Eight registrations race for the one use: exactly one wins, nothing of the others stays.
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        async move {
            store
                .register(&format!("racer{i}"), "hash", invited("once", NOW))
                .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, StoreError::InviteRefused)));
    assert_eq!(store.user_count().await?, 1);

    // A taken name does not spend the use.
    store.create_invite(new_invite("twice", 2, None)).await?;
    store
        .register("alice", "hash", invited("twice", NOW))
        .await?;
    let taken = store.register("ALICE", "hash", invited("twice", NOW)).await;
    assert!(matches!(taken, Err(StoreError::Conflict)), "{taken:?}");
    store.register("bob", "hash", invited("twice", NOW)).await?;
    let past = store.register("carol", "hash", invited("twice", NOW)).await;
    assert!(matches!(past, Err(StoreError::InviteRefused)), "{past:?}");

    // Expired, revoked, unknown.
    store
        .create_invite(new_invite("old", 5, Some("2026-05-31T23:59:59.999Z")))
        .await?;
    let expired = store.register("carol", "hash", invited("old", NOW)).await;
    assert!(
        matches!(expired, Err(StoreError::InviteRefused)),
        "{expired:?}"
    );
    let revoked = store.create_invite(new_invite("gone", 5, None)).await?;
    assert!(store.revoke_invite(&revoked.id).await?);
    let refused = store.register("carol", "hash", invited("gone", NOW)).await;
    assert!(
        matches!(refused, Err(StoreError::InviteRefused)),
        "{refused:?}"
    );
    let unknown = store.register("carol", "hash", invited("nope", NOW)).await;
    assert!(
        matches!(unknown, Err(StoreError::InviteRefused)),
        "{unknown:?}"
    );
    assert!(!store.revoke_invite("no-such-invite").await?);

    let listed = store.invites(10).await?;
    assert_eq!(listed.len(), 4);
    let uses: Vec<(u32, u32, bool)> = listed.iter().map(|i| (i.uses, i.used, i.revoked)).collect();
    for expected in [(1, 1, false), (2, 2, false), (5, 0, false), (5, 0, true)] {
        assert!(uses.contains(&expected), "{expected:?} in {uses:?}");
    }
    Ok(())
}

pub async fn roles_disabling_passwords_and_deletion_keep_an_admin(store: Arc<dyn Store>) -> Result {
    let root = store.register("root", "h0", Admission::FirstAdmin).await?;
    let bob = store.register("bob", "h0", Admission::FirstAdmin).await?;
    let role = |id: String| {
        let store = store.clone();
        async move { store.active_role(&id).await }
    };
    assert_eq!(role(root.id.clone()).await?, Some(Role::Admin));
    assert_eq!(role(bob.id.clone()).await?, Some(Role::Member));
    for refused in [
        store.set_role(&root.id, Role::Member).await.err(),
        store.set_disabled(&root.id, true).await.err(),
        store.delete_user(&root.id).await.err(),
    ] {
        assert!(
            matches!(refused, Some(StoreError::LastAdmin)),
            "{refused:?}"
        );
    }
    assert_eq!(
        role(root.id.clone()).await?,
        Some(Role::Admin),
        "nothing written"
    );

    // Disabling ends every session and refuses new ones and sign-ons.
    let s1 = store.create_session(&bob.id, "b1", "phone").await?;
    store.create_session(&bob.id, "b2", "laptop").await?;
    let mut ended = store.set_disabled(&bob.id, true).await?;
    ended.sort();
    assert_eq!(ended.len(), 2);
    assert!(ended.contains(&s1.id));
    assert_eq!(role(bob.id.clone()).await?, None);
    assert!(store.sign_on("b1").await?.is_none());
    let refused = store.create_session(&bob.id, "b3", "").await;
    assert!(matches!(refused, Err(StoreError::Inactive)), "{refused:?}");
    let creds = store.credentials("bob").await?.expect("still found");
    assert!(creds.disabled);
    store.set_disabled(&bob.id, false).await?;
    let kept = store.create_session(&bob.id, "b4", "desk").await?;
    store.create_session(&bob.id, "b5", "").await?;

    // A password change keeps the one session asked to.
    let ended = store.set_password(&bob.id, "h1", Some(&kept.id)).await?;
    assert_eq!(ended.len(), 1);
    let sessions = store.sessions_of(&bob.id).await?;
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        (sessions[0].id.as_str(), sessions[0].device.as_str()),
        (kept.id.as_str(), "desk")
    );
    assert_eq!(store.password_hash(&bob.id).await?.as_deref(), Some("h1"));
    assert!(
        !store.end_session_of(&root.id, &kept.id).await?,
        "not root's"
    );
    assert!(store.end_session_of(&bob.id, &kept.id).await?);

    store.set_display_name(&bob.id, "Bobby").await?;
    let found = store.users_by_name(&["bob".to_owned()]).await?;
    assert_eq!(found[0].display_name, "Bobby");

    // Two admins: either may go. A deleted account keeps its name taken and leaves its rooms.
    store.set_role(&bob.id, Role::Admin).await?;
    store.set_role(&root.id, Role::Member).await?;
    store.create_session(&root.id, "r1", "").await?;
    let ended = store.delete_user(&root.id).await?;
    assert_eq!(ended.len(), 1);
    assert!(store.credentials("root").await?.is_none());
    assert!(store.users_by_name(&["root".to_owned()]).await?.is_empty());
    assert!(store.account("root").await?.is_none());
    assert!(!store.is_member(GENERAL_ROOM_ID, &root.id).await?);
    let again = store
        .register("Root", "h", Admission::Open(Role::Member))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    let accounts = store.accounts(None, 10).await?;
    let names: Vec<&str> = accounts.iter().map(|a| a.user.username.as_str()).collect();
    assert_eq!(names, ["bob"]);
    assert_eq!(store.user_count().await?, 1);
    Ok(())
}

/// A relay admin may delete a member's message (in a room they are in), never edit it; once
/// disabled they may not. A display name shows wherever the store answers a user.
pub async fn an_admin_deletes_a_members_message_and_display_names_show(
    store: Arc<dyn Store>,
) -> Result {
    let root = store.register("root", "h", Admission::FirstAdmin).await?;
    let bob = store.register("bob", "h", Admission::FirstAdmin).await?;
    let carol = store
        .register("carol", "h", Admission::Open(Role::Member))
        .await?;
    let room = store
        .create_group("mods", &bob, &[root.clone(), carol.clone()], ANY)
        .await?;
    let first = change(
        &*store,
        &room,
        &bob,
        "one",
        new_message(&room, &bob, "1").entry,
    )
    .await?
    .expect("sent");
    let edit = NewEntry::Edit {
        target: first.message.id.clone(),
    };
    let delete = NewEntry::Delete {
        target: first.message.id.clone(),
    };
    // A member who is not the sender: neither; the admin: a delete only.
    for (who, entry) in [
        (&carol, edit.clone()),
        (&carol, delete.clone()),
        (&root, edit),
    ] {
        let refused = change(&*store, &room, who, "x", entry).await?;
        assert_eq!(refused.map(|a| a.created), Err(AppendRefusal::NotSender));
    }
    let deleted = change(&*store, &room, &root, "", delete).await?;
    assert_eq!(deleted.map(|a| a.created), Ok(true));
    assert!(store.history(&room, None, 10).await?[0].deleted);
    // A disabled admin moderates no more (another admin keeps the relay one).
    store.set_role(&bob.id, Role::Admin).await?;
    let second = change(
        &*store,
        &room,
        &carol,
        "two",
        new_message(&room, &carol, "2").entry,
    )
    .await?
    .expect("sent");
    store.set_disabled(&root.id, true).await?;
    let refused = change(
        &*store,
        &room,
        &root,
        "",
        NewEntry::Delete {
            target: second.message.id.clone(),
        },
    )
    .await?;
    assert_eq!(refused.map(|a| a.created), Err(AppendRefusal::NotSender));

    store.set_display_name(&carol.id, "Caroline").await?;
    store.create_session(&carol.id, "c1", "").await?;
    let signed_on = store.sign_on("c1").await?.expect("signed on");
    assert_eq!(signed_on.user.display_name, "Caroline");
    let seen = store.seen(std::slice::from_ref(&carol.id)).await?;
    assert_eq!(seen[0].user.display_name, "Caroline");
    let peers = store.peers_of(&bob.id, 10).await?;
    let carol_seen = peers
        .iter()
        .find(|p| p.user.id == carol.id)
        .expect("a peer");
    assert_eq!(carol_seen.user.display_name, "Caroline");
    let creds = store.credentials("CAROL").await?.expect("found");
    assert_eq!(creds.user.display_name, "Caroline");
    Ok(())
}

fn new_file(id: &str, uploader: &User, hash: &str, uploaded_at: &str) -> NewFile {
    NewFile {
        attachment: Attachment {
            id: id.to_owned(),
            name: format!("{id}.png"),
            size: 42,
            content_type: "image/png".to_owned(),
            width: Some(3),
            height: Some(2),
        },
        uploader_id: uploader.id.clone(),
        hash: hash.repeat(64),
        uploaded_at: uploaded_at.to_owned(),
    }
}

/// Uploads: only the uploader attaches, members of the rooms that carry a file read it, a
/// delete lets go of its files (and reports bytes nobody uses), old unattached uploads go.
pub async fn files_attach_read_release_and_orphan(store: Arc<dyn Store>) -> Result {
    let alice = user(&*store, "alice").await;
    let bob = user(&*store, "bob").await;
    let carol = user(&*store, "carol").await;
    let room = store
        .create_group("pics", &alice, std::slice::from_ref(&bob), ANY)
        .await?;
    let now = "2026-01-02T00:00:00.000Z";
    // f1 and f2 are the same bytes ("a"); f3 is Bob's; f4 is old and never attached.
    for f in [
        new_file("f1", &alice, "a", now),
        new_file("f2", &alice, "a", now),
        new_file("f3", &bob, "b", now),
        new_file("f4", &alice, "c", "2026-01-01T00:00:00.000Z"),
    ] {
        store.add_file(f).await?;
    }
    let with = |files: &[&str]| NewEntry::Message {
        reply_to: None,
        attachments: files.iter().map(|f| (*f).to_owned()).collect(),
    };
    // Someone else's upload or an unknown one: refused, nothing written.
    for files in [&["f1", "f3"][..], &["nope"]] {
        let refused = change(&*store, &room, &alice, "x", with(files)).await?;
        assert_eq!(refused.map(|a| a.created), Err(AppendRefusal::NoSuchFile));
    }
    assert!(store.history(&room, None, 10).await?.is_empty());
    // Before it is posted, only its uploader reads it.
    assert!(store.file_for("f1", &alice.id).await?.is_some());
    assert!(store.file_for("f1", &bob.id).await?.is_none());
    let sent = change(&*store, &room, &alice, "", with(&["f2", "f1"]))
        .await?
        .expect("sent");
    let ids: Vec<_> = sent
        .message
        .attachments
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(ids, ["f2", "f1"]);
    assert_eq!(
        sent.message.attachments[1],
        new_file("f1", &alice, "a", now).attachment
    );
    let other = change(&*store, &room, &alice, "again", with(&["f1"]))
        .await?
        .expect("sent");
    let page = store.history(&room, None, 10).await?;
    assert_eq!(page[0].attachments, sent.message.attachments);
    assert_eq!(
        store.messages_after(&room, 0, 10).await?[1]
            .attachments
            .len(),
        1
    );
    // Members read it now; Carol never.
    let read = store
        .file_for("f1", &bob.id)
        .await?
        .expect("a member reads it");
    assert_eq!(read.hash, "a".repeat(64));
    assert!(store.file_for("f1", &carol.id).await?.is_none());
    assert!(store.file_for("nope", &alice.id).await?.is_none());

    let delete = |target: &str| NewEntry::Delete {
        target: target.to_owned(),
    };
    // f1 is still carried by `other`; f2's bytes are f1's too: nothing freed.
    let deleted = change(&*store, &room, &alice, "", delete(&sent.message.id))
        .await?
        .expect("deleted");
    assert!(deleted.freed_files.is_empty());
    assert!(
        store.file_for("f2", &alice.id).await?.is_none(),
        "f2 went with its message"
    );
    assert!(store.file_hash_in_use(&"a".repeat(64)).await?);
    let deleted = change(&*store, &room, &alice, "", delete(&other.message.id))
        .await?
        .expect("deleted");
    assert_eq!(deleted.freed_files, ["a".repeat(64)]);
    assert!(!store.file_hash_in_use(&"a".repeat(64)).await?);
    assert!(store
        .history(&room, None, 10)
        .await?
        .iter()
        .all(|m| m.attachments.is_empty()));

    // Orphans before the cut-off go; f3 (newer, unattached) stays.
    let freed = store
        .remove_orphan_files("2026-01-01T12:00:00.000Z")
        .await?;
    assert_eq!(freed, ["c".repeat(64)]);
    assert!(store.file_for("f4", &alice.id).await?.is_none());
    assert!(store.file_for("f3", &bob.id).await?.is_some());
    Ok(())
}

macro_rules! store_conformance {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;
            store_conformance!(@cases $open;
                users_are_unique_ignoring_case_and_join_general,
                sessions_are_found_by_hash_and_revocable,
                sessions_past_the_cap_end_the_least_recently_used,
                seq_is_gap_free_and_client_id_dedupes_per_sender,
                a_refused_message_does_not_spoil_its_batch,
                a_repeat_of_a_committed_send_inside_a_batch_takes_no_seq,
                concurrent_appends_stay_gap_free,
                committed_messages_come_out_in_commit_order,
                history_pages_backwards_oldest_first,
                message_pages_and_unread_counts_leave_changes_out,
                read_position_moves_forward_and_clamps,
                rooms_and_members,
                member_counts_and_pages,
                direct_rooms_are_one_per_pair,
                last_seen_is_kept,
                departures_creators_and_blocks_are_kept,
                the_rooms_per_user_bound_writes_nothing_past_it,
                peers_share_a_room_other_than_general,
                changes_apply_to_their_target,
                a_delete_takes_the_text_of_the_message_and_its_edits,
                search_finds_substrings_in_the_users_rooms_newest_first,
                search_sees_only_current_text,
                search_pages_by_cursor,
                invites_admit_their_uses_and_one_of_racing_registrations,
                roles_disabling_passwords_and_deletion_keep_an_admin,
                files_attach_read_release_and_orphan,
                an_admin_deletes_a_members_message_and_display_names_show,
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

/// One PostgreSQL server for the whole suite (each case gets a database of its own); it stops
/// when the test process ends.
#[cfg(feature = "postgres")]
async fn open_postgres(_dir: std::path::PathBuf) -> Arc<dyn Store> {
    static SERVER: std::sync::OnceLock<natter_testkit::postgres::Postgres> =
        std::sync::OnceLock::new();
    let server = SERVER
        .get_or_init(|| natter_testkit::postgres::Postgres::start_new().expect("start PostgreSQL"));
    let url = server.database().expect("a database");
    let store = natter_relay::store::PgStore::open(&url)
        .await
        .expect("open postgres");
    Arc::new(store)
}

#[cfg(feature = "postgres")]
store_conformance!(postgres, open_postgres);

#[tokio::test]
async fn sqlite_sessions_idle_past_the_policy_expire_and_use_keeps_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = SessionPolicy {
        idle: Duration::from_millis(800),
        per_user: 20,
    };
    let store = natter_relay::store::SqliteStore::open(&dir.path().join("natter.db"))
        .await
        .expect("open sqlite")
        .with_sessions(policy);
    let alice = user(&store, "alice").await;
    store
        .create_session(&alice.id, "idle", "")
        .await
        .expect("a session");
    store
        .create_session(&alice.id, "used", "")
        .await
        .expect("a session");
    // "used" is used every 300 ms (each use counts once a quarter of the idle time passed);
    // "idle" is not.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            store.sign_on("used").await.expect("sign on").is_some(),
            "in use, kept"
        );
    }
    assert_eq!(
        store.sign_on("idle").await.expect("sign on"),
        None,
        "idle, expired"
    );
    assert_eq!(
        store.delete_session("idle").await.expect("delete"),
        None,
        "and deleted"
    );
}

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
            .commits()
            .append(new_message(GENERAL_ROOM_ID, &alice, "x"))
            .await
            .expect("append")
            .expect("a member's message");
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

/// A database written before migration 0003 (messages keyed by text ids) keeps every message,
/// its seq and its dedup key, and takes new messages and users after it.
#[tokio::test]
async fn sqlite_migrates_messages_to_integer_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("natter.db");
    // The schema as 0001 and 0002 left it, recorded as applied so that opening the store
    // runs only the later ones.
    natter_relay::store::SqliteStore::migrate_through(&path, 2).expect("migrate to 0002");
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.pragma_update(None, "foreign_keys", "ON")
        .expect("foreign keys");
    for statement in [
        "INSERT INTO users VALUES ('u-alice', 'alice', 'alice', 'h', 't', NULL)",
        "INSERT INTO users VALUES ('u-bob', 'bob', 'bob', 'h', 't', NULL)",
        "INSERT INTO rooms (id, name, kind, created_at) VALUES ('r-1', 'one', 'group', 't')",
        "INSERT INTO members VALUES ('general', 'u-alice', 0, 't'), ('general', 'u-bob', 0, 't'), \
         ('r-1', 'u-alice', 0, 't'), ('r-1', 'u-bob', 0, 't')",
        "INSERT INTO messages VALUES ('m1', 'general', 1, 'u-alice', 'alice', 'c1', 'one', 't1'), \
         ('m2', 'r-1', 1, 'u-bob', 'bob', 'c1', 'two', 't2'), \
         ('m3', 'r-1', 2, 'u-alice', 'alice', 'c2', 'three', 't3')",
    ] {
        conn.execute_batch(statement).expect(statement);
    }
    drop(conn);

    let store = natter_relay::store::SqliteStore::open(&path)
        .await
        .expect("open runs 0003");
    assert!(store.integrity_ok().await.expect("integrity"));
    let in_r1 = store.history("r-1", None, 10).await.expect("history");
    let seen: Vec<_> = in_r1
        .iter()
        .map(|m| {
            let fields = [&m.id, &m.room_id, &m.sender, &m.client_id, &m.body];
            (m.seq, fields.map(String::as_str))
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, ["m2", "r-1", "bob", "c1", "two"]),
            (2, ["m3", "r-1", "alice", "c2", "three"])
        ]
    );
    let after = store
        .messages_after(GENERAL_ROOM_ID, 0, 10)
        .await
        .expect("after");
    assert_eq!(after.len(), 1);
    assert_eq!(
        (after[0].id.as_str(), after[0].sender.as_str()),
        ("m1", "alice")
    );

    let alice = User {
        id: "u-alice".into(),
        username: "alice".into(),
        ..User::default()
    };
    let carol = user(&store, "carol").await;
    let outcomes = append_batch(
        &store,
        vec![
            new_message("r-1", &alice, "c3"),
            // alice's c1 went to general before the migration: the original comes back
            new_message("r-1", &alice, "c1"),
            new_message(GENERAL_ROOM_ID, &carol, "c1"),
        ],
    )
    .await
    .expect("append");
    let outcomes: Vec<_> = outcomes
        .into_iter()
        .map(|o| o.map(|a| (a.message.room_id, a.message.seq, a.created)))
        .collect();
    assert_eq!(
        outcomes,
        [
            Ok(("r-1".to_owned(), 3, true)),
            Ok((GENERAL_ROOM_ID.to_owned(), 1, false)),
            Ok((GENERAL_ROOM_ID.to_owned(), 2, true)),
        ]
    );
}

/// A deleted message's text leaves every file of the data directory once the delete is acked:
/// its row, its edit's, the WALs' old pages, and the search file's copy and pages (FTS5
/// `secure-delete`: without it a deleted message's trigrams stay in the index's older segments
/// until FTS5 merges them). The indexer is a thread of its own: the ack waits for it.
#[tokio::test]
async fn sqlite_a_deleted_text_leaves_the_files() -> Result {
    deleted_text_leaves_the_files(true).await
}

/// As above, with the delete right after the edit, before the indexer has the edit.
#[tokio::test]
async fn sqlite_a_deleted_text_leaves_the_files_before_its_edit_is_indexed() -> Result {
    deleted_text_leaves_the_files(false).await
}

async fn deleted_text_leaves_the_files(index_the_edit: bool) -> Result {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("natter.db");
    let store = natter_relay::store::SqliteStore::open(&db)
        .await
        .expect("open sqlite");
    let alice = user(&store, "alice").await;
    // The index keeps trigrams, each written after the bytes it shares with the term before
    // it: so it is checked for pairs of characters, of a text whose characters are used once.
    const SECRET: &str = "my-pin-is-8214 暗証番号は秘密";
    const EDITED: &str = "my-pin-is-really-5307 本当の鍵語だよ";
    let pairs = |text: &str| -> Vec<String> {
        let cjk: Vec<char> = text.chars().skip_while(|c| c.is_ascii()).collect();
        cjk.windows(2).skip(1).map(|w| w.iter().collect()).collect()
    };
    let sent = store
        .commits()
        .append(NewMessage {
            body: SECRET.into(),
            ..new_message(GENERAL_ROOM_ID, &alice, "secret")
        })
        .await?
        .expect("sent");
    store.index_for_search_now().await?;
    assert_eq!(found(&store, &alice, &["秘密"], None).await?, [SECRET]);
    let target = sent.message.id;
    let edit = NewEntry::Edit {
        target: target.clone(),
    };
    change(&store, GENERAL_ROOM_ID, &alice, EDITED, edit)
        .await?
        .expect("edit");
    assert_eq!(found(&store, &alice, &["鍵語"], None).await?, [EDITED]);
    // An edit is acked before the indexer has it.
    if index_the_edit {
        store.index_for_search_now().await?;
    }
    let search_db = natter_relay::store::SqliteStore::search_path(&db);
    let in_index = |text: &str| {
        let conn = rusqlite::Connection::open(&search_db).expect("open");
        let mut pages = conn
            .prepare("SELECT block FROM message_search_data")
            .expect("the index's pages");
        let blocks: Vec<Vec<u8>> = pages
            .query_map([], |row| row.get(0))
            .expect("read")
            .flatten()
            .collect();
        blocks
            .iter()
            .any(|b| b.windows(text.len()).any(|w| w == text.as_bytes()))
    };
    let on_disk = |text: &str| {
        std::fs::read_dir(dir.path())
            .expect("data dir")
            .flatten()
            .filter(|f| f.path().is_file())
            .any(|f| {
                let bytes = std::fs::read(f.path()).unwrap_or_default();
                bytes.windows(text.len()).any(|w| w == text.as_bytes())
            })
    };
    assert!(
        on_disk(SECRET) && on_disk(EDITED),
        "the check finds text that is there"
    );
    if index_the_edit {
        assert!(
            pairs(EDITED).iter().all(|p| in_index(p)),
            "the check finds the index's trigrams: {:?}",
            pairs(EDITED)
        );
        assert!(
            !pairs(SECRET).iter().any(|p| in_index(p)),
            "an edit takes the old text's trigrams out of the index's pages"
        );
    } else {
        assert!(pairs(SECRET).iter().all(|p| in_index(p)));
    }

    let delete = NewEntry::Delete { target };
    change(&store, GENERAL_ROOM_ID, &alice, "", delete)
        .await?
        .expect("delete");
    assert!(
        !on_disk(SECRET),
        "the message's text is gone from every file once acked"
    );
    assert!(!on_disk(EDITED), "and its edit's text");
    for pair in pairs(SECRET).iter().chain(&pairs(EDITED)) {
        assert!(!on_disk(pair), "{pair}: the index's trigrams too");
    }
    assert!(found(&store, &alice, &["鍵語"], None).await?.is_empty());
    assert!(store.integrity_ok().await?);
    Ok(())
}

/// SQLite's search reads the index for what is indexed and scans the rows above it: both
/// answer the same, and edits and deletes reach the index once it holds the message.
#[tokio::test]
async fn sqlite_search_answers_the_same_from_the_index_and_the_scan() -> Result {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = natter_relay::store::SqliteStore::open(&dir.path().join("natter.db"))
        .await
        .expect("open sqlite");
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let bobs = store.create_group("bob's", &bob, &[], ANY).await?;
    say(&store, &bobs, &bob, "lunch is a secret").await;
    say(&store, GENERAL_ROOM_ID, &alice, "Lunch at noon?").await;
    let walrus = say(&store, GENERAL_ROOM_ID, &alice, "the walrus wears a hat").await;
    say(
        &store,
        GENERAL_ROOM_ID,
        &bob,
        "東京タワーでランチ 🍱🎉 lunch",
    )
    .await;
    // Indexed (the indexer is then idle until the next commit): undo that, so these are
    // scanned.
    store.index_for_search_now().await?;
    let search_db = natter_relay::store::SqliteStore::search_path(&dir.path().join("natter.db"));
    rusqlite::Connection::open(&search_db)
        .expect("open")
        .execute_batch("DELETE FROM message_search; UPDATE indexed SET upto = 0, upto_id = NULL;")
        .expect("unindex");
    let queries: [&[&str]; 7] = [
        &["lunch"],
        &["LUNCH", "at"],
        &["京タワ"],
        &["🍱🎉"],
        &["walrus", "hat"],
        &["a"],
        &["secret"],
    ];
    let mut scanned = Vec::new();
    for terms in queries {
        scanned.push(found(&store, &alice, terms, None).await?);
    }
    store.index_for_search_now().await?;
    for (terms, before) in queries.iter().zip(&scanned) {
        assert_eq!(
            &found(&store, &alice, terms, None).await?,
            before,
            "{terms:?}"
        );
    }
    assert_eq!(
        scanned[0],
        ["東京タワーでランチ 🍱🎉 lunch", "Lunch at noon?"]
    );
    assert!(scanned[6].is_empty(), "bob's room is not alice's");

    // Now indexed: from its ack on, an edited message is found by its new text and not by its
    // old (the index has it only later), and a deleted one by neither.
    let edit = NewEntry::Edit {
        target: walrus.clone(),
    };
    change(
        &store,
        GENERAL_ROOM_ID,
        &alice,
        "the seal wears a cap",
        edit,
    )
    .await?
    .expect("edit");
    assert!(found(&store, &alice, &["walrus"], None).await?.is_empty());
    assert_eq!(
        found(&store, &alice, &["seal"], None).await?,
        ["the seal wears a cap"]
    );
    assert_eq!(
        found(&store, &alice, &["cap", "wears"], None).await?,
        ["the seal wears a cap"],
        "one term short of the index's 3 characters, the other not"
    );
    assert_eq!(
        found(&store, &alice, &["wears"], None).await?,
        ["the seal wears a cap"]
    );
    store.index_for_search_now().await?;
    assert!(found(&store, &alice, &["walrus"], None).await?.is_empty());
    assert_eq!(
        found(&store, &alice, &["seal"], None).await?,
        ["the seal wears a cap"]
    );
    // Indexed, the edit leaves the old text in the index as a stale version until the relay
    // is quiet (kept here): searches skip it.
    store.keep_replaced_texts(true);
    let edit = NewEntry::Edit {
        target: walrus.clone(),
    };
    change(
        &store,
        GENERAL_ROOM_ID,
        &alice,
        "the seal wears a crown",
        edit,
    )
    .await?
    .expect("edit");
    store.index_for_search_now().await?;
    let stale = || -> i64 {
        rusqlite::Connection::open(&search_db)
            .expect("open")
            .query_row("SELECT COUNT(*) FROM stale", [], |row| row.get(0))
            .expect("stale versions")
    };
    assert_eq!(stale(), 1, "the cap version is kept");
    assert!(found(&store, &alice, &["cap"], None).await?.is_empty());
    assert_eq!(
        found(&store, &alice, &["seal", "wears"], None).await?,
        ["the seal wears a crown"],
        "once, in its current version"
    );
    store.keep_replaced_texts(false);
    store.index_for_search_now().await?;
    assert_eq!(stale(), 0, "erased once allowed");
    assert_eq!(
        found(&store, &alice, &["seal"], None).await?,
        ["the seal wears a crown"]
    );
    change(
        &store,
        GENERAL_ROOM_ID,
        &alice,
        "",
        NewEntry::Delete { target: walrus },
    )
    .await?
    .expect("delete");
    assert!(found(&store, &alice, &["seal"], None).await?.is_empty());
    store.index_for_search_now().await?;
    assert!(found(&store, &alice, &["seal"], None).await?.is_empty());
    assert!(store.integrity_ok().await?);
    Ok(())
}

/// The indexer keeps up by itself, within its bound (`LAG`), with no one asking; a message is
/// found from its commit on, before the indexer reaches it (the rows above its mark are
/// scanned).
#[tokio::test]
async fn sqlite_the_indexer_keeps_up_within_its_bound() -> Result {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("natter.db");
    let store = natter_relay::store::SqliteStore::open(&db)
        .await
        .expect("open sqlite");
    let alice = user(&store, "alice").await;
    store.index_for_search_now().await?;
    say(&store, GENERAL_ROOM_ID, &alice, "the heron fishes at dawn").await;
    assert_eq!(
        found(&store, &alice, &["heron"], None).await?,
        ["the heron fishes at dawn"],
        "found at once"
    );
    let search_db = natter_relay::store::SqliteStore::search_path(&db);
    let indexed = || -> i64 {
        raw(&search_db)
            .query_row("SELECT upto FROM indexed", [], |row| row.get(0))
            .expect("mark")
    };
    let last: i64 = raw(&db)
        .query_row("SELECT MAX(rowid) FROM messages", [], |row| row.get(0))
        .expect("last");
    assert!(indexed() < last, "not indexed right away");
    // The bound is 200 ms; 5 s leaves room for a loaded machine.
    let reached = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while indexed() < last {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(reached.is_ok(), "the indexer reached the message in time");
    assert_eq!(
        found(&store, &alice, &["heron"], None).await?,
        ["the heron fishes at dawn"],
        "found through the index"
    );
    Ok(())
}

/// The search file is derived: one of another schema version (deleted, or from another
/// relay), or not matching the messages (a backup of the main file restored alone), is rebuilt
/// from the messages on start.
#[tokio::test]
async fn sqlite_the_search_file_is_rebuilt_from_the_messages() -> Result {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("natter.db");
    let search_db = natter_relay::store::SqliteStore::search_path(&db);
    let store = natter_relay::store::SqliteStore::open(&db)
        .await
        .expect("open sqlite");
    let alice = user(&store, "alice").await;
    say(&store, GENERAL_ROOM_ID, &alice, "otters hold hands").await;
    store.index_for_search_now().await?;
    drop(store);
    let mark = || -> (i64, Option<String>) {
        raw(&search_db)
            .query_row("SELECT upto, upto_id FROM indexed", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .expect("mark")
    };
    // Emptied under its mark: only a rebuild finds the message again.
    raw(&search_db)
        .execute_batch("DELETE FROM message_search; PRAGMA user_version = 0;")
        .expect("another version");
    let store = natter_relay::store::SqliteStore::open(&db)
        .await
        .expect("reopen sqlite");
    store.index_for_search_now().await?;
    assert!(mark().0 > 0, "rebuilt from the messages");
    assert_eq!(
        found(&store, &alice, &["otters"], None).await?,
        ["otters hold hands"]
    );
    drop(store);

    let (upto, _) = mark();
    raw(&search_db)
        .execute_batch("DELETE FROM message_search; UPDATE indexed SET upto_id = 'not-this-one';")
        .expect("mismatch");
    let store = natter_relay::store::SqliteStore::open(&db)
        .await
        .expect("reopen sqlite");
    store.index_for_search_now().await?;
    assert_eq!(mark().0, upto, "indexed again up to the same row");
    assert_ne!(mark().1.as_deref(), Some("not-this-one"), "rebuilt");
    assert_eq!(
        found(&store, &alice, &["otters"], None).await?,
        ["otters hold hands"]
    );
    assert!(store.integrity_ok().await?);
    Ok(())
}

/// A connection of the test's own, which waits its turn like the store's.
fn raw(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    conn
}
