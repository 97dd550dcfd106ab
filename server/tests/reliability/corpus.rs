//! One valid sample payload per client → relay event, built from the protocol crate's types
//! (names and fields come from there, never typed out here): what the malformed-input generator
//! mutates.

use std::collections::BTreeMap;

use natter_protocol::requests::{
    BlockUser, CreateRoom, DeleteMessage, EditMessage, History, InviteToRoom, LeaveRoom,
    ListBlocked, ListRooms, MarkRead, OpenDm, React, RemoveFromRoom, SendMessage, SetTyping, Sync,
    UnblockUser,
};
use natter_protocol::{Request, GENERAL_ROOM_ID};
use serde_json::Value;

fn entry<R: Request>(req: R) -> (String, Value) {
    let value = serde_json::to_value(&req).expect("a protocol type serializes");
    (R::NAME.to_owned(), value)
}

/// Every request the relay handles, once, with plausible values (`room` is a room the sender
/// may or may not belong to).
pub fn requests(room: &str) -> Vec<(String, Value)> {
    vec![
        entry(ListRooms {}),
        entry(CreateRoom {
            name: "fuzz".to_owned(),
            members: vec!["alice".to_owned()],
        }),
        entry(InviteToRoom {
            room_id: room.to_owned(),
            username: "bob".to_owned(),
        }),
        entry(LeaveRoom {
            room_id: room.to_owned(),
        }),
        entry(OpenDm {
            username: "alice".to_owned(),
        }),
        entry(SendMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: "fuzz-1".to_owned(),
            body: "hello".to_owned(),
            reply_to: None,
            attachments: Vec::new(),
        }),
        entry(SetTyping {
            room_id: room.to_owned(),
            typing: true,
        }),
        entry(MarkRead {
            room_id: GENERAL_ROOM_ID.to_owned(),
            seq: 1,
        }),
        entry(History {
            around: None,
            room_id: room.to_owned(),
            before_seq: Some(10),
            limit: Some(20),
            ..History::default()
        }),
        entry(Sync {
            cursors: BTreeMap::from([(room.to_owned(), 0), (GENERAL_ROOM_ID.to_owned(), 0)]),
        }),
        entry(RemoveFromRoom {
            room_id: room.to_owned(),
            username: "bob".to_owned(),
        }),
        // A name of nobody: the sample must not change whom the control pair can reach.
        entry(BlockUser {
            username: "fuzzblock".to_owned(),
        }),
        entry(UnblockUser {
            username: "fuzzblock".to_owned(),
        }),
        entry(ListBlocked {}),
        // Ids of no message: the samples must not change the control pair's messages.
        entry(EditMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: "fuzz-2".to_owned(),
            message_id: "fuzz-message".to_owned(),
            body: "edited".to_owned(),
        }),
        entry(DeleteMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: "fuzz-3".to_owned(),
            message_id: "fuzz-message".to_owned(),
        }),
        entry(React {
            room_id: room.to_owned(),
            client_id: "fuzz-4".to_owned(),
            message_id: "fuzz-message".to_owned(),
            emoji: "👍".to_owned(),
            on: true,
        }),
    ]
}
