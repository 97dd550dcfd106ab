//! Rooms: `room:create`, `room:invite`, `room:leave`, the `room` events members get, live
//! membership of already-connected sockets, and the rooms that cannot be left or joined.

use natter_protocol::events::{MessageEvent, RoomEvent};
use natter_protocol::requests::{CreateRoom, History, InviteToRoom, LeaveRoom, ListRooms, OpenDm};
use natter_protocol::{ErrorCode, RoomKind, GENERAL_ROOM_ID};

use crate::util::*;

fn invite(room_id: &str, username: &str) -> InviteToRoom {
    InviteToRoom {
        room_id: room_id.to_owned(),
        username: username.to_owned(),
    }
}

fn leave(room_id: &str) -> LeaveRoom {
    LeaveRoom {
        room_id: room_id.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_tells_every_member_and_joins_their_sockets() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;

    // Names are trimmed; members ignore case and duplicates; the creator is always a member.
    let req = CreateRoom {
        name: "  Project X ".to_owned(),
        members: vec!["BOB".to_owned(), "bob".to_owned(), "alice".to_owned()],
    };
    let room = alice.request(&req).await.expect("room:create").room;
    assert_eq!(room.kind, RoomKind::Group);
    assert_eq!(room.name, "Project X");
    assert_eq!(room.members, ["alice", "bob"]);
    assert_eq!((room.last_seq, room.read_seq), (0, 0));

    for member in [&alice, &bob] {
        let told = member
            .next_event::<RoomEvent>()
            .await
            .expect("members hear `room`");
        assert_eq!(
            told.room, room,
            "{} sees the room as created",
            member.username
        );
    }
    carol
        .expect_no_event_where::<RoomEvent>(|e| e.room.id == room.id)
        .await
        .expect("a non-member is not told");

    // Bob's socket was connected before the room existed, and hears it now.
    let sent = alice
        .request(&send(&room.id, "welcome"))
        .await
        .expect("send")
        .message;
    let heard = bob
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.room_id == room.id)
        .await
        .expect("bob's live socket joined the room");
    assert_eq!(heard.message, sent);
    carol
        .expect_no_event_where::<MessageEvent>(|e| e.message.room_id == room.id)
        .await
        .expect("carol does not hear the room");

    let listed = bob.request(&ListRooms {}).await.expect("rooms:list").rooms;
    let mine = listed
        .iter()
        .find(|r| r.id == room.id)
        .expect("bob lists the room");
    assert_eq!(mine.last_seq, 1);
    let carols = carol
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    assert!(
        carols.iter().all(|r| r.id != room.id),
        "carol does not list it"
    );

    let unknown = CreateRoom {
        name: "ghosts".to_owned(),
        members: vec!["casper".to_owned()],
    };
    assert_refused(
        alice.request(&unknown).await,
        ErrorCode::NotFound,
        "an unknown member",
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_adds_a_member_live() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    let room = group(&alice, "team", &["bob"]).await;
    for c in [&alice, &bob] {
        c.next_event::<RoomEvent>().await.expect("creation event");
    }

    let grown = bob
        .request(&invite(&room.id, "Carol"))
        .await
        .expect("any member may invite")
        .room;
    assert_eq!(grown.members, ["alice", "bob", "carol"]);
    for member in [&alice, &bob, &carol] {
        let told = member
            .next_event::<RoomEvent>()
            .await
            .expect("every member hears the change");
        assert_eq!(
            (told.room.id.as_str(), told.room.members.len()),
            (room.id.as_str(), 3)
        );
    }
    let sent = alice
        .request(&send(&room.id, "hi carol"))
        .await
        .expect("send")
        .message;
    let heard = carol
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.room_id == room.id)
        .await
        .expect("carol's live socket joined");
    assert_eq!(heard.message, sent);

    // Inviting a member again changes nothing and announces nothing.
    let same = alice
        .request(&invite(&room.id, "carol"))
        .await
        .expect("idempotent invite")
        .room;
    assert_eq!(same.members, grown.members);
    for member in [&alice, &bob, &carol] {
        member
            .expect_no_event::<RoomEvent>()
            .await
            .expect("no event for a repeated invite");
    }
    assert_refused(
        alice.request(&invite(&room.id, "nobody")).await,
        ErrorCode::NotFound,
        "invite an unknown user",
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_removes_a_member_live() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let bob2 = relay
        .connect(
            "bob",
            &relay.login("bob", PASSWORD).await.expect("login").token,
        )
        .await
        .expect("bob's 2nd device");
    let room = group(&alice, "short-lived", &["bob"]).await;
    for c in [&alice, &bob, &bob2] {
        c.next_event::<RoomEvent>().await.expect("creation event");
    }

    bob.request(&leave(&room.id)).await.expect("room:leave");
    let told = alice
        .next_event::<RoomEvent>()
        .await
        .expect("the remaining member hears");
    assert_eq!(
        (told.room.id.as_str(), told.room.members.as_slice()),
        (room.id.as_str(), ["alice".to_owned()].as_slice())
    );

    // Every socket of bob (both devices) left the room. Messages go out after the ack, from
    // another task: alice's own copy shows this one went out before bob's sockets are checked.
    let gone = alice
        .request(&send(&room.id, "bob is gone"))
        .await
        .expect("send")
        .message;
    let own = alice
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.room_id == room.id)
        .await
        .expect("the sender's own copy");
    assert_eq!(own.message, gone);
    for device in [&bob, &bob2] {
        device
            .expect_no_event_where::<MessageEvent>(|e| e.message.room_id == room.id)
            .await
            .expect("a leaver hears nothing more");
    }
    let history = History {
        around: None,
        room_id: room.id.clone(),
        before_seq: None,
        limit: None,
        ..History::default()
    };
    assert_refused(
        bob.request(&send(&room.id, "let me in")).await,
        ErrorCode::Forbidden,
        "send after leaving",
    );
    assert_refused(
        bob.request(&history).await,
        ErrorCode::Forbidden,
        "history after leaving",
    );
    assert_refused(
        bob.request(&leave(&room.id)).await,
        ErrorCode::Forbidden,
        "leave twice",
    );
    let rooms = bob.request(&ListRooms {}).await.expect("rooms:list").rooms;
    assert!(
        rooms.iter().all(|r| r.id != room.id),
        "the room is no longer listed"
    );

    // Nobody else can put him back (issue 22 item 7: membership with consent).
    assert_refused(
        alice.request(&invite(&room.id, "bob")).await,
        ErrorCode::Forbidden,
        "invite back after leaving",
    );
    alice
        .request(&send(&room.id, "bob is gone"))
        .await
        .expect("send");
    bob2.expect_no_event_where::<MessageEvent>(|e| e.message.room_id == room.id)
        .await
        .expect("bob hears nothing of the room he left");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn general_and_direct_rooms_cannot_be_left_or_invited_into() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    relay.user("carol").await;
    let direct = alice
        .request(&OpenDm {
            username: "bob".to_owned(),
        })
        .await
        .expect("dm:open")
        .room;

    assert_refused(
        alice.request(&leave(GENERAL_ROOM_ID)).await,
        ErrorCode::Forbidden,
        "leave general",
    );
    assert_refused(
        alice.request(&leave(&direct.id)).await,
        ErrorCode::Forbidden,
        "leave a DM",
    );
    assert_refused(
        bob.request(&invite(&direct.id, "carol")).await,
        ErrorCode::Forbidden,
        "invite into a DM",
    );

    let rooms = alice
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    assert!(rooms.iter().any(|r| r.id == GENERAL_ROOM_ID));
    let dm = rooms
        .iter()
        .find(|r| r.id == direct.id)
        .expect("the DM is still there");
    assert_eq!(dm.members, ["alice", "bob"], "nobody was added to the DM");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_changes_are_rate_limited_per_user() {
    let relay = TestRelay::start_with(|c| c.room_changes_per_minute = 3).await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;

    // create, invite and dm:open draw on one budget: 3, then refused without a disconnect.
    let room = group(&alice, "one", &[]).await;
    alice
        .request(&invite(&room.id, "bob"))
        .await
        .expect("invite within the limit");
    alice
        .request(&OpenDm {
            username: "bob".to_owned(),
        })
        .await
        .expect("dm:open within the limit");
    let refused = alice
        .request(&CreateRoom {
            name: "one too many".to_owned(),
            members: Vec::new(),
        })
        .await;
    assert_refused(refused, ErrorCode::RateLimited, "a 4th room change");
    let rooms = alice.request(&ListRooms {}).await.expect("still connected");
    assert!(
        !rooms.rooms.iter().any(|r| r.name == "one too many"),
        "a refused create made no room"
    );

    // The budget is per user: bob's is untouched.
    group(&bob, "bob's", &[]).await;
    relay.stop().await;
}
