//! Rooms of any size (issue 17): with thousands of accounts in `general`, `rooms:list`, `sync`
//! pages and `room` events stay small and do not grow with the number of users; members come
//! in pages (`room:members`), each member once, in name order, for members only.

use natter_protocol::events::RoomEvent;
use natter_protocol::limits::{MEMBERS_INLINE_MAX, MEMBERS_PAGE_DEFAULT};
use natter_protocol::requests::{CreateRoom, ListMembers, ListRooms, Sync};
use natter_protocol::{ErrorCode, Request, GENERAL_ROOM_ID};
use serde_json::Value;

use crate::seed::seed_accounts;
use crate::util::*;

/// The bound docs/protocol.md states for every answer and event about rooms.
const BOUND: usize = 16 * 1024;

/// The JSON size of `req`'s ack, as the relay sent it (compact, re-serialized).
async fn ack_bytes<R: Request>(client: &Client, req: &R) -> usize {
    let payload = serde_json::to_value(req).expect("a request serializes");
    let ack: Value = client
        .raw_request(R::NAME, Some(payload), WAIT)
        .await
        .expect("an ack")
        .unwrap_or_else(|e| panic!("{}: {e}", R::NAME));
    serde_json::to_vec(&ack).expect("JSON").len()
}

fn page(room_id: &str, after: Option<&str>, limit: Option<u32>) -> ListMembers {
    ListMembers {
        room_id: room_id.to_owned(),
        after: after.map(str::to_owned),
        limit,
    }
}

/// Every member of the room, page after page; asserts each page's size and `next`.
async fn walk(client: &Client, room_id: &str, limit: u32) -> Vec<String> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let ack = client
            .request(&page(room_id, after.as_deref(), Some(limit)))
            .await
            .expect("room:members");
        assert!(
            ack.members.len() <= limit as usize,
            "a page holds at most limit"
        );
        all.extend(ack.members.into_iter().map(|m| m.username));
        match ack.next {
            Some(next) => {
                assert_eq!(Some(&next), all.last(), "next is the page's last name");
                after = Some(next);
            }
            None => return all,
        }
    }
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort_by_key(|n| n.to_lowercase());
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_rooms_stay_small_and_members_come_in_pages() {
    let relay = TestRelay::start().await;
    let db = relay.data_dir().join(natter_relay::DB_FILE);
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    seed_accounts(&db, "user", 0, 500).expect("seed 500 accounts");

    let list_500 = ack_bytes(&alice, &ListRooms {}).await;
    let sync_500 = ack_bytes(&alice, &Sync::default()).await;

    seed_accounts(&db, "user", 500, 4_500).expect("seed 4,500 more");
    let total = 5_002;
    let list_5000 = ack_bytes(&alice, &ListRooms {}).await;
    let sync_5000 = ack_bytes(&alice, &Sync::default()).await;
    for (what, small, big) in [
        ("rooms:list", list_500, list_5000),
        ("sync", sync_500, sync_5000),
    ] {
        assert!(
            big < BOUND,
            "{what} answer of {big} bytes with {total} users"
        );
        // Only the count's digits may grow (501 → 5001).
        assert!(big <= small + 2, "{what} grew from {small} to {big} bytes");
    }

    let rooms = alice
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    let general = rooms
        .iter()
        .find(|r| r.id == GENERAL_ROOM_ID)
        .expect("general");
    assert_eq!(general.member_count, total);
    assert!(general.members.is_empty(), "a big room lists no names");
    assert!(!general.members_complete());

    // General's members (past the walk-the-names bound), all of them, once each, in order.
    let mut everyone: Vec<String> = (0..5_000).map(|i| format!("user{i:06}")).collect();
    everyone.extend(["alice".to_owned(), "bob".to_owned()]);
    let everyone = sorted(everyone);
    assert_eq!(walk(&alice, GENERAL_ROOM_ID, 200).await, everyone);
    let first = alice
        .request(&page(GENERAL_ROOM_ID, None, None))
        .await
        .expect("a first page");
    assert_eq!(first.members.len(), MEMBERS_PAGE_DEFAULT as usize);
    assert_eq!(first.members[0].username, "alice");
    assert_eq!(first.members[0].online, None, "general tells no presence");
    // `after` ignores case, like the order.
    let after_b = alice
        .request(&page(GENERAL_ROOM_ID, Some("ALICE"), Some(1)))
        .await
        .expect("a page after ALICE");
    assert_eq!(after_b.members[0].username, "bob");

    // A group of 251 (sorted in memory, under the walk bound): its `room` event is as small as
    // a room with no names, and its members page like general's.
    let names: Vec<String> = (0..250).map(|i| format!("user{:06}", i * 7)).collect();
    let create = CreateRoom {
        name: "big group".to_owned(),
        members: names.clone(),
    };
    let room = alice.request(&create).await.expect("room:create").room;
    assert_eq!(room.member_count, 251);
    assert!(room.members.is_empty());
    let told = alice
        .next_event_where(WAIT, |e: &RoomEvent| e.room.id == room.id)
        .await
        .expect("the creator hears `room`");
    let event_bytes = serde_json::to_vec(&told).expect("JSON").len();
    assert!(event_bytes < 1024, "a `room` event of {event_bytes} bytes");
    let mut in_group = names;
    in_group.push("alice".to_owned());
    assert_eq!(walk(&alice, &room.id, 64).await, sorted(in_group));
    let online = alice
        .request(&page(&room.id, None, Some(1)))
        .await
        .expect("the group's first member");
    assert_eq!(online.members[0].online, Some(true), "alice is connected");

    // Members only, with the answer of every member-only request.
    assert_refused(
        bob.request(&page(&room.id, None, None)).await,
        ErrorCode::Forbidden,
        "a non-member",
    );
    assert_refused(
        bob.request(&page("no-such-room", None, None)).await,
        ErrorCode::Forbidden,
        "an unknown room",
    );
    for (limit, after) in [
        (Some(0), None),
        (Some(201), None),
        (None, Some("not a name!")),
    ] {
        assert_refused(
            alice.request(&page(GENERAL_ROOM_ID, after, limit)).await,
            ErrorCode::Invalid,
            "a bad limit or cursor",
        );
    }
    // A small room is as before: every name inline.
    let small = group(&alice, "small", &["bob"]).await;
    assert_eq!((small.member_count, small.members.len()), (2, 2));
    assert!(small.member_count <= MEMBERS_INLINE_MAX);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sparse_page_past_the_last_member_is_empty() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let last = alice
        .request(&page(GENERAL_ROOM_ID, Some("zzz"), None))
        .await
        .expect("a page past the end");
    assert!(last.members.is_empty());
    assert_eq!(last.next, None);
}
