//! Authorization: every request that names a room is refused (`forbidden`) to non-members and for
//! room ids that do not exist, and a refusal leaves no trace for the members.

use std::collections::BTreeMap;

use natter_protocol::events::{MessageEvent, ReceiptEvent, RoomEvent, TypingEvent};
use natter_protocol::requests::{
    DeleteMessage, EditMessage, History, InviteToRoom, LeaveRoom, ListRooms, MarkRead, OpenDm,
    React, SendMessage, SetTyping, Sync,
};
use natter_protocol::{ErrorCode, GENERAL_ROOM_ID};

use crate::util::*;

/// Sends every room-naming request for `room_id` and asserts each is `forbidden`.
async fn all_forbidden(client: &Client, room_id: &str, what: &str) {
    let id = room_id.to_owned();
    let f = ErrorCode::Forbidden;
    let who = &client.username;
    assert_refused(
        client.request(&send(&id, "let me in")).await,
        f,
        &format!("{who}: message:send to {what}"),
    );
    let history = History {
        around: None,
        room_id: id.clone(),
        before_seq: None,
        limit: None,
        ..History::default()
    };
    assert_refused(
        client.request(&history).await,
        f,
        &format!("{who}: history of {what}"),
    );
    let typing = SetTyping {
        room_id: id.clone(),
        typing: true,
    };
    assert_refused(
        client.request(&typing).await,
        f,
        &format!("{who}: typing in {what}"),
    );
    let read = MarkRead {
        room_id: id.clone(),
        seq: 1,
    };
    assert_refused(
        client.request(&read).await,
        f,
        &format!("{who}: read in {what}"),
    );
    let invite = InviteToRoom {
        room_id: id.clone(),
        username: "dave".to_owned(),
    };
    assert_refused(
        client.request(&invite).await,
        f,
        &format!("{who}: invite into {what}"),
    );
    let leave = LeaveRoom { room_id: id };
    assert_refused(
        client.request(&leave).await,
        f,
        &format!("{who}: leave {what}"),
    );
}

/// Asserts that every change to message `message_id` of `room_id` (issue 19: a reply, an edit,
/// a delete, a reaction) is `forbidden` to `client`, who is not a member.
async fn changes_forbidden(client: &Client, room_id: &str, message_id: &str) {
    let f = ErrorCode::Forbidden;
    let who = &client.username;
    let reply = SendMessage {
        reply_to: Some(message_id.to_owned()),
        ..send(room_id, "a reply")
    };
    assert_refused(client.request(&reply).await, f, &format!("{who}: a reply"));
    let edit = EditMessage {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        message_id: message_id.to_owned(),
        body: "changed".to_owned(),
    };
    assert_refused(client.request(&edit).await, f, &format!("{who}: an edit"));
    let delete = DeleteMessage {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        message_id: message_id.to_owned(),
    };
    assert_refused(
        client.request(&delete).await,
        f,
        &format!("{who}: a delete"),
    );
    let react = React {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        message_id: message_id.to_owned(),
        emoji: "👍".to_owned(),
        on: true,
    };
    assert_refused(
        client.request(&react).await,
        f,
        &format!("{who}: a reaction"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_members_are_refused_everything_about_a_room() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    relay.user("dave").await;
    let room = group(&alice, "private", &["bob"]).await;
    let dm = alice
        .request(&OpenDm {
            username: "bob".into(),
        })
        .await
        .expect("dm:open")
        .room;
    let secret = alice
        .request(&send(&room.id, "secret"))
        .await
        .expect("send")
        .message;
    alice
        .request(&send(&dm.id, "also secret"))
        .await
        .expect("send");

    all_forbidden(&carol, &room.id, "a group room of others").await;
    all_forbidden(&carol, &dm.id, "a DM of others").await;
    changes_forbidden(&carol, &room.id, &secret.id).await;

    // Nothing of it reached the members or changed the room.
    for member in [&alice, &bob] {
        member
            .expect_no_event::<TypingEvent>()
            .await
            .expect("no typing from carol");
        member
            .expect_no_event::<ReceiptEvent>()
            .await
            .expect("no receipt from carol");
        member
            .expect_no_event_where::<MessageEvent>(|e| e.message.sender == "carol")
            .await
            .expect("no message from carol");
        member
            .expect_no_event_where::<RoomEvent>(|e| {
                e.room.members.iter().any(|m| m == "carol" || m == "dave")
            })
            .await
            .expect("nobody was invited");
    }
    let history = History {
        around: None,
        room_id: room.id.clone(),
        before_seq: None,
        limit: None,
        ..History::default()
    };
    let messages = bob.request(&history).await.expect("history").messages;
    assert_eq!(messages, [secret]);
    let rooms = alice
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    let row = rooms.iter().find(|r| r.id == room.id).expect("listed");
    assert_eq!(row.members, ["alice", "bob"]);

    // A cursor for someone else's room is ignored (protocol.md), and leaks nothing.
    let cursors = BTreeMap::from([(room.id.clone(), 0), (dm.id.clone(), 0)]);
    let page = carol
        .request(&Sync { cursors })
        .await
        .expect("stale cursors are not refused");
    assert!(page.messages.is_empty(), "sync leaked {:?}", page.messages);
    assert!(page.rooms.iter().all(|r| r.id != room.id && r.id != dm.id));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_room_ids_are_forbidden_not_found() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    relay.user("dave").await;
    // The same answer as for someone else's room, so room ids cannot be probed.
    for id in [
        "no-such-room",
        "0123456789abcdef0123456789abcdef",
        "GENERAL",
        "general ",
    ] {
        all_forbidden(&alice, id, &format!("unknown room {id:?}")).await;
    }
    alice
        .request(&send(GENERAL_ROOM_ID, "still fine"))
        .await
        .expect("general works");
    relay.stop().await;
}
