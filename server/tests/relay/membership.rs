//! Membership with consent (issue 22 item 7): someone who left a group room, or was removed
//! from it, cannot be put back by anyone else; people can block a user, and `room:create`,
//! `room:invite` and `dm:open` honour it without saying why; a room's creator can remove a
//! member; the number of rooms a user can be put in is bounded.

use natter_protocol::events::{MessageEvent, RoomEvent, RoomRemovedEvent};
use natter_protocol::requests::{
    BlockUser, CreateRoom, InviteToRoom, LeaveRoom, ListBlocked, ListRooms, OpenDm, RemoveFromRoom,
    UnblockUser,
};
use natter_protocol::{ErrorCode, WireError, GENERAL_ROOM_ID};

use crate::util::*;

fn invite(room_id: &str, username: &str) -> InviteToRoom {
    InviteToRoom {
        room_id: room_id.to_owned(),
        username: username.to_owned(),
    }
}

fn remove(room_id: &str, username: &str) -> RemoveFromRoom {
    RemoveFromRoom {
        room_id: room_id.to_owned(),
        username: username.to_owned(),
    }
}

fn create(name: &str, members: &[&str]) -> CreateRoom {
    CreateRoom {
        name: name.to_owned(),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    }
}

fn dm(username: &str) -> OpenDm {
    OpenDm {
        username: username.to_owned(),
    }
}

/// Refused with `code`, and the message does not say the user blocked anyone.
#[track_caller]
fn assert_refused_quietly<T: std::fmt::Debug>(result: Result<T, WireError>, code: ErrorCode) {
    match result {
        Err(e) => {
            assert_eq!(e.code, code, "{e}");
            assert!(!e.message.contains("block"), "reveals a block: {e}");
        }
        Ok(v) => panic!("expected `{code}`, got Ok({v:?})"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_who_left_cannot_be_put_back_by_others() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    let room = group(&alice, "club", &["bob", "carol"]).await;
    bob.request(&LeaveRoom {
        room_id: room.id.clone(),
    })
    .await
    .expect("bob leaves");
    for (who, client) in [("alice", &alice), ("carol", &carol)] {
        let refused = client.request(&invite(&room.id, "bob")).await;
        assert_refused(refused, ErrorCode::Forbidden, &format!("{who} re-adds bob"));
    }
    let rooms = bob.request(&ListRooms {}).await.expect("rooms:list").rooms;
    assert!(rooms.iter().all(|r| r.id != room.id), "bob stays out");

    // Bob himself can come back: that is his consent.
    let back = bob
        .request(&invite(&room.id, "bob"))
        .await
        .expect("bob comes back by himself")
        .room;
    assert_eq!(back.members, ["alice", "bob", "carol"]);
    let seen = alice
        .next_event_where::<RoomEvent>(WAIT, |e| e.room.id == room.id && e.room.members.len() == 3)
        .await
        .expect("the members are told");
    assert_eq!(seen.room.members, ["alice", "bob", "carol"]);
    // Not into a room he was never in (answered like any room he is not in).
    let other = group(&alice, "other", &[]).await;
    assert_refused(
        bob.request(&invite(&other.id, "bob")).await,
        ErrorCode::Forbidden,
        "a room bob was never in",
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_creator_removes_a_member_who_stays_out() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    let room = group(&alice, "club", &["bob", "carol"]).await;
    let direct = alice.request(&dm("bob")).await.expect("dm:open").room;
    carol.discard::<RoomEvent>().await.expect("a clean start");

    assert_refused(
        carol.request(&remove(&room.id, "bob")).await,
        ErrorCode::Forbidden,
        "only the creator removes",
    );
    assert_refused(
        alice.request(&remove(GENERAL_ROOM_ID, "bob")).await,
        ErrorCode::Forbidden,
        "nobody is removed from general",
    );
    assert_refused(
        alice.request(&remove(&direct.id, "bob")).await,
        ErrorCode::Forbidden,
        "nor from a direct room",
    );
    assert_refused(
        alice.request(&remove(&room.id, "alice")).await,
        ErrorCode::Invalid,
        "the creator leaves rather than removes herself",
    );

    let after = alice
        .request(&remove(&room.id, "bob"))
        .await
        .expect("alice removes bob")
        .room;
    assert_eq!(after.members, ["alice", "carol"]);
    let told = bob
        .next_event_where::<RoomRemovedEvent>(WAIT, |e| e.room_id == room.id)
        .await
        .expect("bob is told he was removed");
    assert_eq!(told.room_id, room.id);
    let seen = carol
        .next_event_where::<RoomEvent>(WAIT, |e| e.room.id == room.id)
        .await
        .expect("the members are told");
    assert_eq!(seen.room.members, ["alice", "carol"]);

    alice
        .request(&send(&room.id, "after bob"))
        .await
        .expect("send");
    bob.expect_no_event_where::<MessageEvent>(|e| e.message.room_id == room.id)
        .await
        .expect("bob's sockets left the room");
    assert_refused(
        bob.request(&send(&room.id, "still here?")).await,
        ErrorCode::Forbidden,
        "bob can no longer send there",
    );
    assert_refused(
        alice.request(&invite(&room.id, "bob")).await,
        ErrorCode::Forbidden,
        "a removed user is not put back",
    );
    assert_refused(
        bob.request(&invite(&room.id, "bob")).await,
        ErrorCode::Forbidden,
        "nor comes back by himself",
    );
    assert_refused(
        alice.request(&remove(&room.id, "bob")).await,
        ErrorCode::NotFound,
        "bob is no longer a member",
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_user_cannot_add_or_dm_the_blocker() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    relay.join("carol").await;
    let alice_room = group(&alice, "alice's", &[]).await;

    let blocked = bob
        .request(&BlockUser {
            username: "Alice".into(),
        })
        .await
        .expect("bob blocks alice");
    assert_eq!(blocked.blocked, ["alice"]);
    let listed = bob.request(&ListBlocked {}).await.expect("blocks:list");
    assert_eq!(listed.blocked, ["alice"]);
    assert!(
        alice
            .request(&ListBlocked {})
            .await
            .expect("blocks:list")
            .blocked
            .is_empty(),
        "alice's own list is hers"
    );

    let rooms_before = alice
        .request(&ListRooms {})
        .await
        .expect("list")
        .rooms
        .len();
    assert_refused_quietly(alice.request(&dm("bob")).await, ErrorCode::Forbidden);
    assert_refused_quietly(
        alice.request(&create("trap", &["carol", "bob"])).await,
        ErrorCode::Forbidden,
    );
    assert_refused_quietly(
        alice.request(&invite(&alice_room.id, "bob")).await,
        ErrorCode::Forbidden,
    );
    let rooms_after = alice
        .request(&ListRooms {})
        .await
        .expect("list")
        .rooms
        .len();
    assert_eq!(rooms_before, rooms_after, "no room half-made");
    bob.expect_no_event::<RoomEvent>()
        .await
        .expect("bob was put in nothing");

    let unblocked = bob
        .request(&UnblockUser {
            username: "alice".into(),
        })
        .await
        .expect("bob unblocks alice");
    assert!(unblocked.blocked.is_empty());
    alice
        .request(&dm("bob"))
        .await
        .expect("after the unblock alice can DM bob");
    assert_refused(
        bob.request(&BlockUser {
            username: "bob".into(),
        })
        .await,
        ErrorCode::Invalid,
        "blocking oneself",
    );
    assert_refused(
        bob.request(&BlockUser {
            username: "nobody".into(),
        })
        .await,
        ErrorCode::NotFound,
        "blocking nobody",
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rooms_a_user_can_be_put_in_are_bounded() {
    // general + 3 more.
    let relay = TestRelay::start_with(|c| c.max_rooms_per_user = 4).await;
    let (_, alice) = relay.join("alice").await;
    relay.join("bob").await;
    relay.join("carol").await;
    let (_, dave) = relay.join("dave").await;
    for i in 0..3 {
        group(&dave, &format!("dave's {i}"), &["bob"]).await;
    }
    let alice_room = group(&alice, "alice's", &[]).await;
    assert_refused(
        alice.request(&create("one more", &["carol", "bob"])).await,
        ErrorCode::TooLarge,
        "bob is in as many rooms as a user can be",
    );
    assert_refused(
        alice.request(&invite(&alice_room.id, "bob")).await,
        ErrorCode::TooLarge,
        "invite",
    );
    assert_refused(alice.request(&dm("bob")).await, ErrorCode::TooLarge, "dm");
    assert_refused(
        dave.request(&create("mine", &[])).await,
        ErrorCode::TooLarge,
        "dave, in 4 rooms too, cannot make another",
    );
    let carol_rooms = alice.request(&dm("carol")).await.expect("carol has room");
    assert_eq!(carol_rooms.room.members, ["alice", "carol"]);
    relay.stop().await;
}
