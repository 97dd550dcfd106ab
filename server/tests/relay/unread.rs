//! A room's `unread`: messages from others past the member's read position. Edits, deletes and
//! reactions are not news, and neither is what the member sent.

use natter_protocol::requests::{EditMessage, ListRooms, MarkRead, React, Sync};
use natter_protocol::{Message, Room};

use crate::util::*;

fn react(room_id: &str, target: &Message, emoji: &str) -> React {
    React {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        message_id: target.id.clone(),
        emoji: emoji.to_owned(),
        on: true,
    }
}

async fn room_of(client: &Client, room_id: &str) -> Room {
    let rooms = client
        .request(&ListRooms {})
        .await
        .expect("rooms:list")
        .rooms;
    rooms
        .into_iter()
        .find(|r| r.id == room_id)
        .unwrap_or_else(|| panic!("room {room_id} listed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_counts_new_messages_from_others_not_changes_and_not_ones_own() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let room = group(&alice, "plans", &["bob"]).await.id;
    assert_eq!(room_of(&bob, &room).await.unread, Some(0));

    let first = send_many(&alice, &room, "from alice", 2).await;
    assert_eq!(room_of(&bob, &room).await.unread, Some(2));

    // Changes after bob's read position, by both of them, and a message of bob's own.
    let edit = EditMessage {
        room_id: room.clone(),
        client_id: client_id(),
        message_id: first[0].id.clone(),
        body: "from alice, fixed".into(),
    };
    alice.request(&edit).await.expect("edit");
    alice
        .request(&react(&room, &first[1], "👍"))
        .await
        .expect("react");
    bob.request(&react(&room, &first[0], "🎉"))
        .await
        .expect("react");
    send_many(&bob, &room, "from bob", 1).await;
    let at_bob = room_of(&bob, &room).await;
    assert_eq!(
        at_bob.unread,
        Some(2),
        "changes and own messages are not news"
    );
    assert_eq!(at_bob.last_seq, 6, "yet they take seqs");
    assert_eq!(
        room_of(&alice, &room).await.unread,
        Some(1),
        "bob's one message"
    );

    // Reading moves it: up to alice's first message, then past everything.
    bob.request(&MarkRead {
        room_id: room.clone(),
        seq: first[0].seq,
    })
    .await
    .expect("read");
    assert_eq!(room_of(&bob, &room).await.unread, Some(1));
    bob.request(&MarkRead {
        room_id: room.clone(),
        seq: 6,
    })
    .await
    .expect("read");
    assert_eq!(room_of(&bob, &room).await.unread, Some(0));

    // The room in a `sync` answer carries it too.
    send_many(&alice, &room, "later", 1).await;
    let synced = bob
        .request(&Sync {
            cursors: [(room.clone(), 6)].into(),
        })
        .await
        .expect("sync");
    let listed = synced.rooms.iter().find(|r| r.id == room).expect("room");
    assert_eq!(listed.unread, Some(1));
    relay.stop().await;
}
