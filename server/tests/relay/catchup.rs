//! Catching up with `sync` after a disconnect: cursors, rooms absent from the cursors (listed,
//! their messages not sent), and paging with `more` by message count and by body bytes.

use std::collections::{BTreeMap, HashSet};

use natter_protocol::limits::{MAX_BODY_CHARS, SYNC_PAGE_BYTES, SYNC_PAGE_MESSAGES};
use natter_protocol::requests::{ListRooms, OpenDm, Sync, SyncAck};
use natter_protocol::{Message, GENERAL_ROOM_ID};

use crate::util::*;

/// Calls `sync` until `more` is false, advancing each room's cursor like the desktop client.
async fn sync_all(
    client: &Client,
    mut cursors: BTreeMap<String, i64>,
) -> (Vec<SyncAck>, Vec<Message>) {
    let mut pages = Vec::new();
    let mut all = Vec::new();
    loop {
        let page = client
            .request(&Sync {
                cursors: cursors.clone(),
            })
            .await
            .expect("sync");
        for m in &page.messages {
            let cursor = cursors
                .get_mut(&m.room_id)
                .expect("only rooms with a cursor are synced");
            assert_eq!(
                m.seq,
                *cursor + 1,
                "sync continues each room exactly where it left off"
            );
            *cursor = m.seq;
        }
        all.extend(page.messages.iter().cloned());
        let more = page.more;
        assert!(
            !more || !page.messages.is_empty(),
            "`more` with an empty page would never end"
        );
        pages.push(page);
        if !more {
            return (pages, all);
        }
        assert!(pages.len() < 20, "sync never finishes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_after_a_disconnect_sends_what_was_missed() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (bob_auth, bob) = relay.join("bob").await;
    let room = group(&alice, "project", &["bob"]).await;
    let dm = alice
        .request(&OpenDm {
            username: "bob".into(),
        })
        .await
        .expect("dm:open")
        .room;
    send_many(&alice, GENERAL_ROOM_ID, "before", 2).await;

    // Bob's cursors: everything he has seen, except that his client never opened the DM.
    let rooms = bob.request(&ListRooms {}).await.expect("rooms:list").rooms;
    let mut cursors: BTreeMap<String, i64> =
        rooms.iter().map(|r| (r.id.clone(), r.last_seq)).collect();
    cursors.remove(&dm.id);
    bob.close().await;

    send_many(&alice, GENERAL_ROOM_ID, "general", 3).await;
    send_many(&alice, &room.id, "project", 2).await;
    send_many(&alice, &dm.id, "private", 1).await;

    let bob = relay
        .connect("bob", &bob_auth.token)
        .await
        .expect("reconnect");
    let page = bob
        .request(&Sync {
            cursors: cursors.clone(),
        })
        .await
        .expect("sync");
    assert!(!page.more);
    let listed: HashSet<&str> = page.rooms.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        listed,
        HashSet::from([GENERAL_ROOM_ID, room.id.as_str(), dm.id.as_str()])
    );
    let dm_row = page
        .rooms
        .iter()
        .find(|r| r.id == dm.id)
        .expect("the DM is listed");
    assert_eq!(
        dm_row.last_seq, 1,
        "a room without a cursor is listed with its last_seq"
    );
    assert!(
        page.messages.iter().all(|m| m.room_id != dm.id),
        "…but its messages are not sent"
    );

    let got: Vec<(&str, i64)> = page
        .messages
        .iter()
        .map(|m| (m.room_id.as_str(), m.seq))
        .collect();
    let mut want = vec![
        (GENERAL_ROOM_ID, 3),
        (GENERAL_ROOM_ID, 4),
        (GENERAL_ROOM_ID, 5),
        (room.id.as_str(), 1),
        (room.id.as_str(), 2),
    ];
    want.sort();
    assert_eq!(
        got, want,
        "exactly the missed messages, ordered by room id then seq"
    );

    // Up to date: nothing more. The DM is paged with history when opened.
    let (_, again) = sync_all(
        &bob,
        page.rooms
            .iter()
            .filter(|r| r.id != dm.id)
            .map(|r| (r.id.clone(), r.last_seq))
            .collect(),
    )
    .await;
    assert!(again.is_empty());
    let dm_history = bob
        .request(&history(&dm.id, None, None))
        .await
        .expect("history")
        .messages;
    assert_eq!(
        dm_history
            .iter()
            .map(|m| m.body.as_str())
            .collect::<Vec<_>>(),
        ["private 0"]
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_pages_with_more_when_far_behind() {
    let relay = TestRelay::start_with(|c| {
        c.send_burst = 10_000;
        c.send_per_second = 10_000;
    })
    .await;
    let (_, alice) = relay.join("alice").await;
    let (bob_auth, bob) = relay.join("bob").await;
    let room = group(&alice, "side", &["bob"]).await;
    bob.close().await;

    let missed_general = SYNC_PAGE_MESSAGES + 50;
    let second = relay.login("alice", PASSWORD).await.expect("login");
    let alice2 = relay
        .connect("alice", &second.token)
        .await
        .expect("alice's 2nd socket");
    tokio::join!(
        send_many(&alice, GENERAL_ROOM_ID, "flood", missed_general),
        send_many(&alice2, &room.id, "side", 30),
    );

    let bob = relay
        .connect("bob", &bob_auth.token)
        .await
        .expect("reconnect");
    let cursors = BTreeMap::from([(GENERAL_ROOM_ID.to_owned(), 0), (room.id.clone(), 0)]);
    let (pages, all) = sync_all(&bob, cursors).await;
    assert!(
        pages.len() >= 2,
        "more than one page for {} messages",
        all.len()
    );
    assert!(pages[0].more && pages[0].messages.len() <= SYNC_PAGE_MESSAGES);
    let in_room = |id: &str| {
        all.iter()
            .filter(|m| m.room_id == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_seqs(&in_room(GENERAL_ROOM_ID), 1, missed_general as i64);
    assert_seqs(&in_room(&room.id), 1, 30);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_pages_are_bounded_in_bytes() {
    let relay = TestRelay::start_with(|c| c.send_burst = 1_000).await;
    let (_, alice) = relay.join("alice").await;
    let (bob_auth, bob) = relay.join("bob").await;
    bob.close().await;
    // 40 bodies of 4,000 four-byte characters: 640,000 bytes, several pages' worth.
    let body = "🙂".repeat(MAX_BODY_CHARS);
    for i in 0..40 {
        alice
            .request(&send(GENERAL_ROOM_ID, &body))
            .await
            .unwrap_or_else(|e| panic!("send {i}: {e}"));
    }
    let bob = relay
        .connect("bob", &bob_auth.token)
        .await
        .expect("reconnect");
    let (pages, all) = sync_all(&bob, BTreeMap::from([(GENERAL_ROOM_ID.to_owned(), 0)])).await;
    assert_seqs(&all, 1, 40);
    assert!(
        pages.len() >= 3,
        "640 kB of bodies in {} page(s)",
        pages.len()
    );
    for page in &pages {
        let bytes: usize = page.messages.iter().map(|m| m.body.len()).sum();
        assert!(
            bytes <= SYNC_PAGE_BYTES || page.messages.len() == 1,
            "a page of {bytes} body bytes"
        );
    }
    relay.stop().await;
}
