//! Pins the exact JSON of every wire type, in both directions, and the validation rules: one
//! test binary, one module per protocol module.
//!
//! If one of these tests fails, the wire protocol changed: update `docs/protocol.md` in the same
//! change, and make sure the relay and the client still agree.

use std::collections::BTreeMap;
use std::fmt::Debug;

use natter_protocol::events::{
    MessageEvent, PresenceEvent, ReceiptEvent, RoomEvent, RoomRemovedEvent, TypingEvent,
};
use natter_protocol::http::{
    file_path, thumbnail_path, AuthResponse, ConnectAuth, Credentials, Health, HttpError,
    FILES_PATH, HEALTH_PATH, LOGIN_PATH, LOGOUT_PATH, REGISTER_PATH,
};
use natter_protocol::requests::{
    BlockUser, BlockedAck, CreateRoom, DeleteMessage, EditMessage, History, InviteToRoom,
    LeaveRoom, ListBlocked, ListMembers, ListRooms, MarkRead, MembersAck, MessageAck, MessagesAck,
    OpenDm, React, RemoveFromRoom, RoomAck, RoomsAck, Search, SearchAck, SendMessage, SetTyping,
    Sync, SyncAck, UnblockUser,
};
use natter_protocol::{
    AckResult, Attachment, Change, Empty, ErrorCode, Event, Member, Message, Reaction,
    ReplyPreview, Request, Room, RoomKind, User, WireError, GENERAL_ROOM_ID, PROTOCOL_VERSION,
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

// Helpers and fixtures, for the modules below (one per protocol module).

/// `value` serializes to exactly `expected`, and `expected` deserializes back to `value`.
#[track_caller]
fn assert_wire<T>(value: &T, expected: Value)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let got = serde_json::to_value(value).expect("value serializes");
    assert_eq!(got, expected, "serialized JSON of {value:?}");

    let text = serde_json::to_string(&expected).expect("literal serializes to text");
    let from_text: T = serde_json::from_str(&text).expect("literal JSON text deserializes");
    assert_eq!(&from_text, value, "deserialized from {text}");

    let from_value: T = serde_json::from_value(expected).expect("literal JSON value deserializes");
    assert_eq!(&from_value, value);
}

/// A request's wire name and exact payload JSON, both directions.
#[track_caller]
fn assert_request<R>(name: &str, value: &R, expected: Value)
where
    R: Request + PartialEq + Debug,
{
    assert_eq!(R::NAME, name, "event name of {value:?}");
    assert_wire(value, expected);
}

/// The success ack of request `R` (through its associated `Ack` type) is exactly `expected`.
#[track_caller]
fn assert_ok_ack<R>(fields: R::Ack, expected: Value)
where
    R: Request,
    R::Ack: PartialEq + Debug,
{
    assert_eq!(
        expected["ok"],
        json!(true),
        "test literal must be an ok ack"
    );
    assert_wire(&AckResult::Ok(fields), expected);
}

#[track_caller]
fn assert_rejects<T: DeserializeOwned + Debug>(json: Value) {
    let got = serde_json::from_value::<T>(json.clone());
    assert!(got.is_err(), "{json} must not deserialize, got {got:?}");
}

#[track_caller]
fn assert_code(result: Result<(), WireError>, code: ErrorCode) {
    match result {
        Err(e) => {
            assert_eq!(e.code, code, "wrong code in {e}");
            assert!(!e.message.is_empty(), "error message is empty");
        }
        Ok(()) => panic!("expected {code}, got Ok"),
    }
}

#[track_caller]
fn assert_valid(result: Result<(), WireError>) {
    if let Err(e) = result {
        panic!("expected Ok, got {e}");
    }
}

const CLIENT_ID: &str = "0b6f3e4c-2f1a-4d8e-9c55-7a1f0e9d2b10";

fn message() -> Message {
    Message {
        id: "m-01HZX3M4".into(),
        room_id: "general".into(),
        seq: 42,
        sender: "alice".into(),
        body: "héllo \"world\" 😀\nsecond line".into(),
        client_id: CLIENT_ID.into(),
        sent_at: "2024-05-01T12:34:56.789Z".into(),
        ..Message::default()
    }
}

fn message_json() -> Value {
    json!({
        "id": "m-01HZX3M4",
        "room_id": "general",
        "seq": 42,
        "sender": "alice",
        "body": "héllo \"world\" 😀\nsecond line",
        "client_id": CLIENT_ID,
        "sent_at": "2024-05-01T12:34:56.789Z"
    })
}

fn room() -> Room {
    Room {
        id: "r-7f3a".into(),
        name: "Book club".into(),
        kind: RoomKind::Group,
        members: vec!["alice".into(), "Bob".into(), "carol".into()],
        member_count: 3,
        last_seq: 12,
        read_seq: 9,
        others_read_seq: 11,
        unread: None,
    }
}

fn room_json() -> Value {
    json!({
        "id": "r-7f3a",
        "name": "Book club",
        "kind": "group",
        "members": ["alice", "Bob", "carol"],
        "member_count": 3,
        "last_seq": 12,
        "read_seq": 9,
        "others_read_seq": 11
    })
}

fn dm_room() -> Room {
    Room {
        id: "d-19c2".into(),
        name: "alice, bob".into(),
        kind: RoomKind::Direct,
        members: vec!["alice".into(), "bob".into()],
        member_count: 2,
        last_seq: 0,
        read_seq: 0,
        others_read_seq: 0,
        unread: None,
    }
}

fn dm_room_json() -> Value {
    json!({
        "id": "d-19c2",
        "name": "alice, bob",
        "kind": "direct",
        "members": ["alice", "bob"],
        "member_count": 2,
        "last_seq": 0,
        "read_seq": 0,
        "others_read_seq": 0
    })
}

fn repeat(s: &str, n: usize) -> String {
    s.repeat(n)
}

mod accounts;
mod acks;
mod decode;
mod events;
mod http;
mod limits;
mod members;
mod model;
mod names;
mod request_validate;
mod requests;
mod search;
mod validate;
