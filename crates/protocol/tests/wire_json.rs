//! Pins the exact JSON of every wire type, in both directions, and the validation rules.
//!
//! If one of these tests fails, the wire protocol changed: update `docs/protocol.md` in the same
//! change, and make sure the relay and the client still agree.

use std::collections::BTreeMap;
use std::fmt::Debug;

use natter_protocol::events::{MessageEvent, PresenceEvent, ReceiptEvent, RoomEvent, TypingEvent};
use natter_protocol::http::{
    AuthResponse, ConnectAuth, Credentials, Health, HttpError, HEALTH_PATH, LOGIN_PATH,
    LOGOUT_PATH, REGISTER_PATH,
};
use natter_protocol::requests::{
    CreateRoom, History, InviteToRoom, LeaveRoom, ListRooms, MarkRead, MessageAck, MessagesAck,
    OpenDm, RoomAck, RoomsAck, SendMessage, SetTyping, Sync, SyncAck,
};
use natter_protocol::{
    AckResult, Empty, ErrorCode, Event, Message, Request, Room, RoomKind, User, WireError,
    GENERAL_ROOM_ID, PROTOCOL_VERSION,
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Helpers and fixtures
// ---------------------------------------------------------------------------------------------

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
        last_seq: 12,
        read_seq: 9,
    }
}

fn room_json() -> Value {
    json!({
        "id": "r-7f3a",
        "name": "Book club",
        "kind": "group",
        "members": ["alice", "Bob", "carol"],
        "last_seq": 12,
        "read_seq": 9
    })
}

fn dm_room() -> Room {
    Room {
        id: "d-19c2".into(),
        name: "alice, bob".into(),
        kind: RoomKind::Direct,
        members: vec!["alice".into(), "bob".into()],
        last_seq: 0,
        read_seq: 0,
    }
}

fn dm_room_json() -> Value {
    json!({
        "id": "d-19c2",
        "name": "alice, bob",
        "kind": "direct",
        "members": ["alice", "bob"],
        "last_seq": 0,
        "read_seq": 0
    })
}

// ---------------------------------------------------------------------------------------------
// Event names
// ---------------------------------------------------------------------------------------------

mod names {
    use super::*;

    #[test]
    fn request_names_match_design() {
        assert_eq!(ListRooms::NAME, "rooms:list");
        assert_eq!(CreateRoom::NAME, "room:create");
        assert_eq!(InviteToRoom::NAME, "room:invite");
        assert_eq!(LeaveRoom::NAME, "room:leave");
        assert_eq!(OpenDm::NAME, "dm:open");
        assert_eq!(SendMessage::NAME, "message:send");
        assert_eq!(SetTyping::NAME, "typing");
        assert_eq!(MarkRead::NAME, "read");
        assert_eq!(History::NAME, "history");
        assert_eq!(Sync::NAME, "sync");
    }

    #[test]
    fn relay_event_names_match_design() {
        assert_eq!(MessageEvent::NAME, "message");
        assert_eq!(TypingEvent::NAME, "typing");
        assert_eq!(PresenceEvent::NAME, "presence");
        assert_eq!(ReceiptEvent::NAME, "receipt");
        assert_eq!(RoomEvent::NAME, "room");
        // The relay echoes `typing` under the client's own event name.
        assert_eq!(TypingEvent::NAME, SetTyping::NAME);
    }

    #[test]
    fn names_are_unique_per_direction() {
        let requests = [
            ListRooms::NAME,
            CreateRoom::NAME,
            InviteToRoom::NAME,
            LeaveRoom::NAME,
            OpenDm::NAME,
            SendMessage::NAME,
            SetTyping::NAME,
            MarkRead::NAME,
            History::NAME,
            Sync::NAME,
        ];
        let events = [
            MessageEvent::NAME,
            TypingEvent::NAME,
            PresenceEvent::NAME,
            ReceiptEvent::NAME,
            RoomEvent::NAME,
        ];
        for list in [&requests[..], &events[..]] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len(), "duplicate name in {list:?}");
        }
        // Names Socket.IO reserves must never be used as events.
        for reserved in [
            "connect",
            "connect_error",
            "disconnect",
            "disconnecting",
            "newListener",
            "removeListener",
        ] {
            assert!(!requests.contains(&reserved) && !events.contains(&reserved));
        }
    }

    #[test]
    fn constants_match_design() {
        assert_eq!(GENERAL_ROOM_ID, "general");
        assert_eq!(PROTOCOL_VERSION, 1);
        assert_eq!(REGISTER_PATH, "/api/register");
        assert_eq!(LOGIN_PATH, "/api/login");
        assert_eq!(LOGOUT_PATH, "/api/logout");
        assert_eq!(HEALTH_PATH, "/healthz");
    }
}

// ---------------------------------------------------------------------------------------------
// Client → relay payloads and their acks
// ---------------------------------------------------------------------------------------------

mod requests {
    use super::*;

    #[test]
    fn rooms_list() {
        assert_request("rooms:list", &ListRooms {}, json!({}));
        assert_ok_ack::<ListRooms>(
            RoomsAck {
                rooms: vec![room(), dm_room()],
            },
            json!({"ok": true, "rooms": [room_json(), dm_room_json()]}),
        );
        assert_ok_ack::<ListRooms>(RoomsAck { rooms: vec![] }, json!({"ok": true, "rooms": []}));
    }

    #[test]
    fn room_create() {
        let req = CreateRoom {
            name: "Book club".into(),
            members: vec!["Bob".into(), "carol".into()],
        };
        assert_request(
            "room:create",
            &req,
            json!({"name": "Book club", "members": ["Bob", "carol"]}),
        );
        assert_ok_ack::<CreateRoom>(
            RoomAck { room: room() },
            json!({"ok": true, "room": room_json()}),
        );
    }

    #[test]
    fn room_create_members_default_to_empty() {
        let req = CreateRoom {
            name: "Just me".into(),
            members: vec![],
        };
        // Always serialized, even when empty ...
        assert_wire(&req, json!({"name": "Just me", "members": []}));
        // ... and accepted when absent.
        let parsed: CreateRoom =
            serde_json::from_value(json!({"name": "Just me"})).expect("members may be absent");
        assert_eq!(parsed, req);
        assert_rejects::<CreateRoom>(json!({"members": ["bob"]}));
    }

    #[test]
    fn room_invite() {
        let req = InviteToRoom {
            room_id: "r-7f3a".into(),
            username: "dave".into(),
        };
        assert_request(
            "room:invite",
            &req,
            json!({"room_id": "r-7f3a", "username": "dave"}),
        );
        assert_ok_ack::<InviteToRoom>(
            RoomAck { room: room() },
            json!({"ok": true, "room": room_json()}),
        );
    }

    #[test]
    fn room_leave() {
        let req = LeaveRoom {
            room_id: "r-7f3a".into(),
        };
        assert_request("room:leave", &req, json!({"room_id": "r-7f3a"}));
        assert_ok_ack::<LeaveRoom>(Empty {}, json!({"ok": true}));
    }

    #[test]
    fn dm_open() {
        let req = OpenDm {
            username: "bob".into(),
        };
        assert_request("dm:open", &req, json!({"username": "bob"}));
        assert_ok_ack::<OpenDm>(
            RoomAck { room: dm_room() },
            json!({"ok": true, "room": dm_room_json()}),
        );
    }

    #[test]
    fn message_send() {
        let req = SendMessage {
            room_id: "general".into(),
            client_id: CLIENT_ID.into(),
            body: "héllo \"world\" 😀\nsecond line".into(),
        };
        assert_request(
            "message:send",
            &req,
            json!({
                "room_id": "general",
                "client_id": CLIENT_ID,
                "body": "héllo \"world\" 😀\nsecond line"
            }),
        );
        assert_ok_ack::<SendMessage>(
            MessageAck { message: message() },
            json!({"ok": true, "message": message_json()}),
        );
    }

    #[test]
    fn typing() {
        for typing in [true, false] {
            let req = SetTyping {
                room_id: "general".into(),
                typing,
            };
            assert_request(
                "typing",
                &req,
                json!({"room_id": "general", "typing": typing}),
            );
        }
        assert_ok_ack::<SetTyping>(Empty {}, json!({"ok": true}));
    }

    #[test]
    fn read() {
        let req = MarkRead {
            room_id: "general".into(),
            seq: 42,
        };
        assert_request("read", &req, json!({"room_id": "general", "seq": 42}));
        assert_ok_ack::<MarkRead>(Empty {}, json!({"ok": true}));
    }

    #[test]
    fn history_with_every_field() {
        let req = History {
            room_id: "general".into(),
            before_seq: Some(100),
            limit: Some(25),
        };
        assert_request(
            "history",
            &req,
            json!({"room_id": "general", "before_seq": 100, "limit": 25}),
        );
        let mut older = message();
        older.seq = 41;
        older.id = "m-older".into();
        let mut older_json = message_json();
        older_json["seq"] = json!(41);
        older_json["id"] = json!("m-older");
        assert_ok_ack::<History>(
            MessagesAck {
                messages: vec![older, message()],
            },
            json!({"ok": true, "messages": [older_json, message_json()]}),
        );
        assert_ok_ack::<History>(
            MessagesAck { messages: vec![] },
            json!({"ok": true, "messages": []}),
        );
    }

    #[test]
    fn history_optional_fields_are_omitted_and_may_be_absent() {
        let bare = History {
            room_id: "general".into(),
            before_seq: None,
            limit: None,
        };
        assert_wire(&bare, json!({"room_id": "general"}));

        let only_limit = History {
            limit: Some(10),
            ..bare.clone()
        };
        assert_wire(&only_limit, json!({"room_id": "general", "limit": 10}));

        let only_before = History {
            before_seq: Some(7),
            ..bare.clone()
        };
        assert_wire(&only_before, json!({"room_id": "general", "before_seq": 7}));

        // JS clients may send explicit nulls for "not given".
        let nulls: History = serde_json::from_value(
            json!({"room_id": "general", "before_seq": null, "limit": null}),
        )
        .expect("null optional fields are accepted");
        assert_eq!(nulls, bare);
    }

    #[test]
    fn history_limit_is_unsigned() {
        assert_rejects::<History>(json!({"room_id": "general", "limit": -1}));
        // Over the cap still decodes: the relay caps it rather than refusing.
        let big: History = serde_json::from_value(json!({"room_id": "general", "limit": 1000}))
            .expect("large limit decodes");
        assert_eq!(big.limit, Some(1000));
    }

    #[test]
    fn sync_with_cursors() {
        let req = Sync {
            cursors: BTreeMap::from([("general".to_string(), 42), ("r-7f3a".to_string(), 0)]),
        };
        assert_request(
            "sync",
            &req,
            json!({"cursors": {"general": 42, "r-7f3a": 0}}),
        );
        assert_ok_ack::<Sync>(
            SyncAck {
                rooms: vec![room()],
                messages: vec![message()],
                more: true,
            },
            json!({"ok": true, "rooms": [room_json()], "messages": [message_json()], "more": true}),
        );
    }

    #[test]
    fn sync_with_empty_or_absent_cursors() {
        let empty = Sync::default();
        assert!(empty.cursors.is_empty());
        assert_wire(&empty, json!({"cursors": {}}));
        let absent: Sync = serde_json::from_value(json!({})).expect("cursors may be absent");
        assert_eq!(absent, empty);
        assert_ok_ack::<Sync>(
            SyncAck {
                rooms: vec![],
                messages: vec![],
                more: false,
            },
            json!({"ok": true, "rooms": [], "messages": [], "more": false}),
        );
    }

    #[test]
    fn payloads_with_wrong_types_or_missing_fields_do_not_decode() {
        assert_rejects::<SendMessage>(json!({"room_id": "general", "client_id": CLIENT_ID}));
        assert_rejects::<SendMessage>(json!({"room_id": 7, "client_id": CLIENT_ID, "body": "x"}));
        assert_rejects::<MarkRead>(json!({"room_id": "general", "seq": "7"}));
        assert_rejects::<MarkRead>(json!({"room_id": "general", "seq": 1.5}));
        assert_rejects::<SetTyping>(json!({"room_id": "general", "typing": "yes"}));
        assert_rejects::<Sync>(json!({"cursors": {"general": "1"}}));
        assert_rejects::<Sync>(json!({"cursors": [["general", 1]]}));
        assert_rejects::<InviteToRoom>(json!({"room_id": "r-7f3a"}));
        assert_rejects::<OpenDm>(json!("bob"));
        assert_rejects::<ListRooms>(json!(null));
        assert_rejects::<ListRooms>(json!("rooms"));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        // Lets a later protocol add fields without breaking v1 peers.
        let req: LeaveRoom = serde_json::from_value(json!({"room_id": "r-1", "why": "bored"}))
            .expect("unknown fields are ignored");
        assert_eq!(req.room_id, "r-1");
        let ack: AckResult<Empty> = serde_json::from_value(json!({"ok": true, "extra": 1}))
            .expect("unknown ack fields are ignored");
        assert_eq!(ack, AckResult::Ok(Empty {}));
    }
}

// ---------------------------------------------------------------------------------------------
// The ack envelope and error codes
// ---------------------------------------------------------------------------------------------

mod acks {
    use super::*;

    #[test]
    fn empty_ack_is_exactly_ok_true() {
        assert_wire(&AckResult::Ok(Empty {}), json!({"ok": true}));
        assert_eq!(
            serde_json::to_string(&AckResult::Ok(Empty {})).expect("serializes"),
            r#"{"ok":true}"#
        );
        let parsed: AckResult<Empty> =
            serde_json::from_str(r#"{"ok":true}"#).expect("literal parses");
        assert_eq!(parsed, AckResult::Ok(Empty {}));
        // `Empty` on its own is an empty object.
        assert_wire(&Empty {}, json!({}));
    }

    #[test]
    fn ok_ack_merges_fields_next_to_ok() {
        let text =
            serde_json::to_string(&AckResult::Ok(RoomsAck { rooms: vec![] })).expect("serializes");
        assert_eq!(text, r#"{"ok":true,"rooms":[]}"#);
    }

    #[test]
    fn error_ack() {
        let err = WireError::new(ErrorCode::Forbidden, "you are not a member of this room");
        let expected = json!({
            "ok": false,
            "error": {"code": "forbidden", "message": "you are not a member of this room"}
        });
        assert_wire(&AckResult::<Empty>::Err(err.clone()), expected.clone());
        assert_wire(&AckResult::<MessageAck>::Err(err.clone()), expected.clone());
        assert_wire(&AckResult::<SyncAck>::Err(err), expected);
    }

    #[test]
    fn error_ack_for_every_code() {
        for code in ALL_CODES {
            let ack = AckResult::<RoomAck>::Err(WireError::new(code, "m"));
            assert_wire(
                &ack,
                json!({"ok": false, "error": {"code": code.as_str(), "message": "m"}}),
            );
        }
    }

    #[test]
    fn ack_deserialization_errors() {
        // Missing `ok`.
        assert_rejects::<AckResult<RoomAck>>(json!({"room": room_json()}));
        assert_rejects::<AckResult<Empty>>(json!({}));
        // `ok` that is not a boolean.
        assert_rejects::<AckResult<Empty>>(json!({"ok": "true"}));
        assert_rejects::<AckResult<Empty>>(json!({"ok": 1}));
        assert_rejects::<AckResult<Empty>>(json!({"ok": null}));
        // Not an object.
        for not_object in [
            json!(null),
            json!(true),
            json!("ok"),
            json!(1),
            json!([{"ok": true}]),
        ] {
            assert_rejects::<AckResult<Empty>>(not_object);
        }
        // ok:true without the ack's fields.
        assert_rejects::<AckResult<MessageAck>>(json!({"ok": true}));
        assert_rejects::<AckResult<SyncAck>>(json!({"ok": true, "rooms": [], "messages": []}));
        // ok:false without an error, or with a malformed one.
        assert_rejects::<AckResult<Empty>>(json!({"ok": false}));
        assert_rejects::<AckResult<Empty>>(json!({"ok": false, "error": "forbidden"}));
        assert_rejects::<AckResult<Empty>>(
            json!({"ok": false, "error": {"code": "nope", "message": "m"}}),
        );
        assert_rejects::<AckResult<Empty>>(json!({"ok": false, "error": {"code": "forbidden"}}));
    }

    #[test]
    fn ack_result_converts_to_and_from_result() {
        let ok: AckResult<Empty> = Ok(Empty {}).into();
        assert_eq!(ok, AckResult::Ok(Empty {}));
        let err: AckResult<Empty> = Err(WireError::invalid("bad")).into();
        assert_eq!(err, AckResult::Err(WireError::invalid("bad")));
        let back: Result<Empty, WireError> = err.into();
        assert_eq!(back, Err(WireError::new(ErrorCode::Invalid, "bad")));
    }

    const ALL_CODES: [ErrorCode; 7] = [
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Invalid,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
    ];

    #[test]
    fn error_code_strings() {
        let expected = [
            "unauthorized",
            "forbidden",
            "not_found",
            "invalid",
            "too_large",
            "rate_limited",
            "internal",
        ];
        for (code, s) in ALL_CODES.into_iter().zip(expected) {
            assert_wire(&code, json!(s));
            assert_eq!(code.as_str(), s);
            assert_eq!(code.to_string(), s);
        }
        assert_rejects::<ErrorCode>(json!("NotFound"));
        assert_rejects::<ErrorCode>(json!("conflict"));
    }

    #[test]
    fn transient_codes() {
        let transient: Vec<_> = ALL_CODES.into_iter().filter(|c| c.is_transient()).collect();
        assert_eq!(
            transient,
            [
                ErrorCode::Unauthorized,
                ErrorCode::RateLimited,
                ErrorCode::Internal
            ]
        );
    }

    #[test]
    fn wire_error_display() {
        let e = WireError::new(ErrorCode::RateLimited, "slow down");
        assert_eq!(e.to_string(), "rate_limited: slow down");
        assert_wire(&e, json!({"code": "rate_limited", "message": "slow down"}));
    }
}

// ---------------------------------------------------------------------------------------------
// Relay → client events
// ---------------------------------------------------------------------------------------------

mod events {
    use super::*;

    #[test]
    fn message_event() {
        let ev = MessageEvent { message: message() };
        assert_wire(&ev, json!({"message": message_json()}));
    }

    #[test]
    fn typing_event() {
        let ev = TypingEvent {
            room_id: "general".into(),
            user: "alice".into(),
            typing: true,
        };
        assert_wire(
            &ev,
            json!({"room_id": "general", "user": "alice", "typing": true}),
        );
    }

    #[test]
    fn presence_event() {
        let online = PresenceEvent {
            user: "bob".into(),
            online: true,
            last_seen: Some("2024-05-01T12:00:00Z".into()),
        };
        assert_wire(
            &online,
            json!({"user": "bob", "online": true, "last_seen": "2024-05-01T12:00:00Z"}),
        );
        // A user never seen: `last_seen` is present and null, not omitted ...
        let never = PresenceEvent {
            user: "bob".into(),
            online: false,
            last_seen: None,
        };
        assert_wire(
            &never,
            json!({"user": "bob", "online": false, "last_seen": null}),
        );
        // ... and tolerated when absent.
        let absent: PresenceEvent = serde_json::from_value(json!({"user": "bob", "online": false}))
            .expect("absent last_seen is accepted");
        assert_eq!(absent, never);
    }

    #[test]
    fn receipt_event() {
        let ev = ReceiptEvent {
            room_id: "r-7f3a".into(),
            user: "carol".into(),
            seq: 12,
        };
        assert_wire(
            &ev,
            json!({"room_id": "r-7f3a", "user": "carol", "seq": 12}),
        );
    }

    #[test]
    fn room_event() {
        assert_wire(&RoomEvent { room: room() }, json!({"room": room_json()}));
        assert_wire(
            &RoomEvent { room: dm_room() },
            json!({"room": dm_room_json()}),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Shared nouns
// ---------------------------------------------------------------------------------------------

mod model {
    use super::*;

    #[test]
    fn room_and_message() {
        assert_wire(&room(), room_json());
        assert_wire(&dm_room(), dm_room_json());
        assert_wire(&message(), message_json());
    }

    #[test]
    fn room_requires_every_field() {
        for field in ["id", "name", "kind", "members", "last_seq", "read_seq"] {
            let mut json = room_json();
            json.as_object_mut().expect("object").remove(field);
            assert_rejects::<Room>(json);
        }
    }

    #[test]
    fn message_requires_every_field() {
        for field in [
            "id",
            "room_id",
            "seq",
            "sender",
            "body",
            "client_id",
            "sent_at",
        ] {
            let mut json = message_json();
            json.as_object_mut().expect("object").remove(field);
            assert_rejects::<Message>(json);
        }
    }

    #[test]
    fn room_kind() {
        assert_wire(&RoomKind::Group, json!("group"));
        assert_wire(&RoomKind::Direct, json!("direct"));
        for kind in [RoomKind::Group, RoomKind::Direct] {
            assert_eq!(RoomKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(RoomKind::parse("Group"), None);
        assert_eq!(RoomKind::parse("channel"), None);
        assert_rejects::<RoomKind>(json!("Group"));
        assert_rejects::<RoomKind>(json!("channel"));
    }

    #[test]
    fn user() {
        let user = User {
            id: "u-1".into(),
            username: "alice".into(),
        };
        assert_wire(&user, json!({"id": "u-1", "username": "alice"}));
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP bodies and the connect payload
// ---------------------------------------------------------------------------------------------

mod http {
    use super::*;

    #[test]
    fn credentials() {
        let c = Credentials {
            username: "alice".into(),
            password: "correct horse battery staple".into(),
        };
        assert_wire(
            &c,
            json!({"username": "alice", "password": "correct horse battery staple"}),
        );
    }

    #[test]
    fn credentials_debug_redacts_the_password() {
        let c = Credentials {
            username: "alice".into(),
            password: "hunter2-secret".into(),
        };
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2"), "password leaked: {debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains("alice"), "{debug}");
        assert!(!format!("{c:#?}").contains("hunter2"));
    }

    #[test]
    fn auth_response() {
        let r = AuthResponse {
            user: User {
                id: "u-1".into(),
                username: "alice".into(),
            },
            token: "tok_9f8e7d6c5b4a".into(),
        };
        assert_wire(
            &r,
            json!({"user": {"id": "u-1", "username": "alice"}, "token": "tok_9f8e7d6c5b4a"}),
        );
    }

    #[test]
    fn auth_response_debug_redacts_the_token() {
        let r = AuthResponse {
            user: User {
                id: "u-1".into(),
                username: "alice".into(),
            },
            token: "tok_9f8e7d6c5b4a".into(),
        };
        let debug = format!("{r:?}");
        assert!(!debug.contains("tok_9f8e7d6c5b4a"), "token leaked: {debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains("alice") && debug.contains("u-1"), "{debug}");
    }

    #[test]
    fn http_error() {
        let e = HttpError {
            error: WireError::invalid("username is taken"),
        };
        assert_wire(
            &e,
            json!({"error": {"code": "invalid", "message": "username is taken"}}),
        );
        let unauthorized = HttpError {
            error: WireError::new(ErrorCode::Unauthorized, "wrong username or password"),
        };
        assert_wire(
            &unauthorized,
            json!({"error": {"code": "unauthorized", "message": "wrong username or password"}}),
        );
    }

    #[test]
    fn health() {
        let h = Health {
            status: "ok".into(),
            version: "0.1.0".into(),
        };
        assert_wire(&h, json!({"status": "ok", "version": "0.1.0"}));
    }

    #[test]
    fn connect_auth() {
        // ConnectAuth has no Debug impl (it holds the token), so it cannot go through assert_wire.
        let auth = ConnectAuth {
            token: "tok_9f8e7d6c5b4a".into(),
        };
        assert_eq!(
            serde_json::to_value(&auth).expect("serializes"),
            json!({"token": "tok_9f8e7d6c5b4a"})
        );
        let parsed: ConnectAuth =
            serde_json::from_value(json!({"token": "tok_9f8e7d6c5b4a"})).expect("deserializes");
        assert!(parsed == auth);
        assert!(serde_json::from_value::<ConnectAuth>(json!({})).is_err());
        assert!(serde_json::from_value::<ConnectAuth>(json!({"token": null})).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Limits (docs/protocol.md quotes these values)
// ---------------------------------------------------------------------------------------------

mod limits {
    use natter_protocol::limits::*;

    #[test]
    fn values_match_the_docs() {
        assert_eq!(MAX_BODY_CHARS, 4_000);
        assert_eq!(MAX_PAYLOAD_BYTES, 65_536);
        assert_eq!(USERNAME_MIN_CHARS, 3);
        assert_eq!(USERNAME_MAX_CHARS, 32);
        assert_eq!(PASSWORD_MIN_CHARS, 8);
        assert_eq!(PASSWORD_MAX_CHARS, 1_024);
        assert_eq!(ROOM_NAME_MAX_CHARS, 64);
        assert_eq!(MAX_CREATE_MEMBERS, 256);
        assert_eq!(MAX_ID_CHARS, 64);
        assert_eq!(MAX_SYNC_CURSORS, 500);
        assert_eq!(HISTORY_DEFAULT_LIMIT, 50);
        assert_eq!(HISTORY_MAX_LIMIT, 100);
        assert_eq!(SYNC_PAGE_MESSAGES, 200);
        assert_eq!(SYNC_PAGE_BYTES, 262_144);
        assert_eq!(SEND_BURST, 30);
        assert_eq!(SEND_PER_SECOND, 10);
        assert_eq!(TYPING_PER_SECOND, 5);
        assert_eq!(ROOM_CHANGES_PER_MINUTE, 30);
    }

    #[test]
    fn a_full_body_fits_a_sync_page_and_a_payload() {
        // A maximal body of 4-byte characters fits one payload, and one sync page, so a sync
        // page always holds at least one message and catch-up cannot stall.
        const { assert!(MAX_BODY_CHARS * 4 < MAX_PAYLOAD_BYTES) };
        const { assert!(MAX_BODY_CHARS * 4 < SYNC_PAGE_BYTES) };
        const { assert!(HISTORY_DEFAULT_LIMIT <= HISTORY_MAX_LIMIT) };
    }
}

// ---------------------------------------------------------------------------------------------
// Validation rules
// ---------------------------------------------------------------------------------------------

mod validation {
    use super::*;
    use natter_protocol::validate;

    fn repeat(s: &str, n: usize) -> String {
        s.repeat(n)
    }

    #[test]
    fn username_length_boundaries() {
        assert_code(validate::username(""), ErrorCode::Invalid);
        assert_code(validate::username("ab"), ErrorCode::Invalid);
        assert_valid(validate::username("abc"));
        assert_valid(validate::username(&repeat("a", 32)));
        assert_code(validate::username(&repeat("a", 33)), ErrorCode::Invalid);
    }

    #[test]
    fn username_alphabet() {
        assert_valid(validate::username("Alice_B.c-9"));
        assert_valid(validate::username("___"));
        assert_valid(validate::username("..."));
        assert_valid(validate::username("0-9"));
        for bad in [
            "al ice",
            "alice!",
            "al@ce",
            "a/b",
            "tab\there",
            "new\nline",
            "josé",
            "ééé",
            "日本語",
            "１２３", // full-width digits
            "ali😀",
        ] {
            assert_code(validate::username(bad), ErrorCode::Invalid);
        }
    }

    #[test]
    fn username_shape_reports_not_found() {
        assert_valid(validate::username_shape("bob"));
        assert_code(validate::username_shape("b"), ErrorCode::NotFound);
        assert_code(validate::username_shape("bob smith"), ErrorCode::NotFound);
    }

    #[test]
    fn password_length_in_scalar_values() {
        assert_code(validate::password(""), ErrorCode::Invalid);
        assert_code(validate::password(&repeat("p", 7)), ErrorCode::Invalid);
        assert_valid(validate::password(&repeat("p", 8)));
        assert_valid(validate::password(&repeat("p", 1_024)));
        assert_code(validate::password(&repeat("p", 1_025)), ErrorCode::Invalid);
        // Characters, not bytes: 8 emoji (32 bytes) pass, 7 emoji (28 bytes) do not.
        assert_valid(validate::password(&repeat("😀", 8)));
        assert_code(validate::password(&repeat("😀", 7)), ErrorCode::Invalid);
        assert_valid(validate::password(&repeat("😀", 1_024)));
        assert_code(validate::password(&repeat("😀", 1_025)), ErrorCode::Invalid);
        // Scalar values, not graphemes: "e" + combining acute is two.
        assert_valid(validate::password(&repeat("e\u{301}", 4)));
        // Any characters are allowed, spaces included.
        assert_valid(validate::password("        "));
    }

    #[test]
    fn body_blank_is_invalid() {
        for blank in ["", " ", "\n\t  \r\n", "\u{3000}\u{a0}"] {
            assert_code(validate::body(blank), ErrorCode::Invalid);
        }
        assert_valid(validate::body("x"));
        assert_valid(validate::body("  padded  "));
    }

    #[test]
    fn body_length_in_chars_not_bytes() {
        assert_valid(validate::body(&repeat("a", 4_000)));
        assert_code(validate::body(&repeat("a", 4_001)), ErrorCode::TooLarge);
        assert_valid(validate::body(&repeat("😀", 4_000)));
        assert_code(validate::body(&repeat("😀", 4_001)), ErrorCode::TooLarge);
        assert_valid(validate::body(&repeat("é", 4_000)));
        // Whitespace counts once there is something else in the body.
        assert_code(
            validate::body(&format!("x{}", repeat(" ", 4_000))),
            ErrorCode::TooLarge,
        );
        // A blank body is reported as blank, however long.
        assert_code(validate::body(&repeat(" ", 4_001)), ErrorCode::Invalid);
    }

    #[test]
    fn room_name() {
        assert_valid(validate::room_name("a"));
        assert_valid(validate::room_name("Café ☕ & friends"));
        assert_valid(validate::room_name(&repeat("n", 64)));
        assert_valid(validate::room_name(&repeat("☕", 64)));
        assert_code(validate::room_name(&repeat("n", 65)), ErrorCode::Invalid);
        assert_code(validate::room_name(&repeat("☕", 65)), ErrorCode::Invalid);
        for bad in [
            "",
            "   ",
            "\t",
            "a\nb",
            "bell\u{7}",
            "tab\tname",
            "del\u{7f}",
        ] {
            assert_code(validate::room_name(bad), ErrorCode::Invalid);
        }
    }

    #[test]
    fn member_list() {
        assert_valid(validate::member_list(&[]));
        assert_valid(validate::member_list(&["bob".into(), "Carol".into()]));
        assert_code(
            validate::member_list(&["bob".into(), "x".into()]),
            ErrorCode::NotFound,
        );
        let names = |n: usize| (0..n).map(|i| format!("user{i}")).collect::<Vec<_>>();
        assert_valid(validate::member_list(&names(256)));
        assert_code(validate::member_list(&names(257)), ErrorCode::TooLarge);
    }

    #[test]
    fn id() {
        assert_code(validate::id(""), ErrorCode::Invalid);
        assert_valid(validate::id("general"));
        assert_valid(validate::id(&repeat("i", 64)));
        assert_valid(validate::id(&repeat("é", 64)));
        assert_code(validate::id(&repeat("i", 65)), ErrorCode::Invalid);
    }

    #[test]
    fn client_id() {
        assert_valid(validate::client_id(CLIENT_ID));
        assert_valid(validate::client_id("1"));
        assert_valid(validate::client_id(&repeat("c", 64)));
        assert_code(validate::client_id(""), ErrorCode::Invalid);
        assert_code(validate::client_id(&repeat("c", 65)), ErrorCode::Invalid);
        assert_code(validate::client_id("a\u{0}b"), ErrorCode::Invalid);
        assert_code(validate::client_id("line\nbreak"), ErrorCode::Invalid);
        let e = validate::client_id("").expect_err("empty client_id");
        assert!(e.message.contains("client_id"), "{e}");
    }

    #[test]
    fn seq() {
        assert_code(validate::seq(-1), ErrorCode::Invalid);
        assert_code(validate::seq(i64::MIN), ErrorCode::Invalid);
        assert_valid(validate::seq(0));
        assert_valid(validate::seq(1));
        assert_valid(validate::seq(i64::MAX));
    }

    #[test]
    fn cursors() {
        assert_valid(validate::cursors(&BTreeMap::new()));
        assert_valid(validate::cursors(&BTreeMap::from([
            ("general".to_string(), 0),
            ("r-1".to_string(), 99),
        ])));
        assert_code(
            validate::cursors(&BTreeMap::from([("general".to_string(), -1)])),
            ErrorCode::Invalid,
        );
        assert_code(
            validate::cursors(&BTreeMap::from([(String::new(), 1)])),
            ErrorCode::Invalid,
        );
        assert_code(
            validate::cursors(&BTreeMap::from([(repeat("r", 65), 1)])),
            ErrorCode::Invalid,
        );
        let many = |n: usize| {
            (0..n)
                .map(|i| (format!("r{i}"), 1))
                .collect::<BTreeMap<_, _>>()
        };
        assert_valid(validate::cursors(&many(
            natter_protocol::limits::MAX_SYNC_CURSORS,
        )));
        assert_code(
            validate::cursors(&many(natter_protocol::limits::MAX_SYNC_CURSORS + 1)),
            ErrorCode::TooLarge,
        );
    }

    // --- Request::validate, one test per request ------------------------------------------

    #[test]
    fn list_rooms_validates() {
        assert_valid(ListRooms {}.validate());
    }

    #[test]
    fn create_room_validates() {
        let ok = CreateRoom {
            name: "Book club".into(),
            members: vec!["bob".into()],
        };
        assert_valid(ok.validate());
        assert_valid(
            CreateRoom {
                members: vec![],
                ..ok.clone()
            }
            .validate(),
        );
        assert_code(
            CreateRoom {
                name: " ".into(),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            CreateRoom {
                name: repeat("n", 65),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            CreateRoom {
                members: vec!["bob".into(), "no way".into()],
                ..ok.clone()
            }
            .validate(),
            ErrorCode::NotFound,
        );
        assert_code(
            CreateRoom {
                members: (0..257).map(|i| format!("user{i}")).collect(),
                ..ok
            }
            .validate(),
            ErrorCode::TooLarge,
        );
    }

    #[test]
    fn invite_validates() {
        let ok = InviteToRoom {
            room_id: "r-1".into(),
            username: "dave".into(),
        };
        assert_valid(ok.validate());
        assert_code(
            InviteToRoom {
                room_id: String::new(),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            InviteToRoom {
                username: "d".into(),
                ..ok
            }
            .validate(),
            ErrorCode::NotFound,
        );
    }

    #[test]
    fn leave_validates() {
        assert_valid(
            LeaveRoom {
                room_id: "r-1".into(),
            }
            .validate(),
        );
        assert_code(
            LeaveRoom {
                room_id: String::new(),
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            LeaveRoom {
                room_id: repeat("r", 65),
            }
            .validate(),
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn dm_open_validates() {
        assert_valid(
            OpenDm {
                username: "bob".into(),
            }
            .validate(),
        );
        assert_code(
            OpenDm {
                username: "bö".into(),
            }
            .validate(),
            ErrorCode::NotFound,
        );
    }

    #[test]
    fn send_validates() {
        let ok = SendMessage {
            room_id: "general".into(),
            client_id: CLIENT_ID.into(),
            body: "hi".into(),
        };
        assert_valid(ok.validate());
        assert_code(
            SendMessage {
                room_id: String::new(),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            SendMessage {
                client_id: String::new(),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            SendMessage {
                client_id: "tab\tid".into(),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            SendMessage {
                body: " \n ".into(),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            SendMessage {
                body: repeat("b", 4_001),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::TooLarge,
        );
        assert_valid(
            SendMessage {
                body: repeat("😀", 4_000),
                ..ok
            }
            .validate(),
        );
    }

    #[test]
    fn typing_validates() {
        assert_valid(
            SetTyping {
                room_id: "general".into(),
                typing: false,
            }
            .validate(),
        );
        assert_code(
            SetTyping {
                room_id: String::new(),
                typing: true,
            }
            .validate(),
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn read_validates() {
        let ok = MarkRead {
            room_id: "general".into(),
            seq: 0,
        };
        assert_valid(ok.validate());
        // Beyond the room's last seq is not refused: the relay clamps it.
        assert_valid(
            MarkRead {
                seq: i64::MAX,
                ..ok.clone()
            }
            .validate(),
        );
        assert_code(
            MarkRead {
                seq: -1,
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            MarkRead {
                room_id: String::new(),
                ..ok
            }
            .validate(),
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn history_validates() {
        let ok = History {
            room_id: "general".into(),
            before_seq: None,
            limit: None,
        };
        assert_valid(ok.validate());
        assert_valid(
            History {
                before_seq: Some(0),
                ..ok.clone()
            }
            .validate(),
        );
        // Over the cap is capped by the relay, not refused.
        assert_valid(
            History {
                limit: Some(u32::MAX),
                ..ok.clone()
            }
            .validate(),
        );
        assert_code(
            History {
                before_seq: Some(-1),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            History {
                room_id: String::new(),
                ..ok
            }
            .validate(),
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn sync_validates() {
        assert_valid(Sync::default().validate());
        assert_valid(
            Sync {
                cursors: BTreeMap::from([("general".to_string(), 3)]),
            }
            .validate(),
        );
        assert_code(
            Sync {
                cursors: BTreeMap::from([("general".to_string(), -3)]),
            }
            .validate(),
            ErrorCode::Invalid,
        );
        assert_code(
            Sync {
                cursors: (0..10_001).map(|i| (format!("r{i}"), 0)).collect(),
            }
            .validate(),
            ErrorCode::TooLarge,
        );
    }
}

// --- decode: the one edge where untrusted JSON becomes protocol types -------------------------

mod decoding {
    use natter_protocol::requests::{CreateRoom, ListRooms, SendMessage, Sync};
    use natter_protocol::{decode, decode_request, ErrorCode};
    use serde_json::json;

    #[test]
    fn only_an_object_is_a_payload() {
        for not_object in [
            json!(["general", "c1", "hi"]),
            json!("x"),
            json!(7),
            json!(true),
        ] {
            let err = decode_request::<SendMessage>(not_object.clone())
                .expect_err("a non-object payload must be refused");
            assert_eq!(err.code, ErrorCode::Invalid, "{not_object}");
        }
        let err = decode::<natter_protocol::http::Credentials>("credentials", json!(["a", "b"]))
            .expect_err("credentials by position");
        assert_eq!(err.code, ErrorCode::Invalid);
    }

    #[test]
    fn a_missing_payload_reads_as_an_empty_object() {
        assert_eq!(
            decode_request::<ListRooms>(serde_json::Value::Null).expect("null is {}"),
            ListRooms {}
        );
        let err = decode_request::<SendMessage>(serde_json::Value::Null).expect_err("fields");
        assert_eq!(err.code, ErrorCode::Invalid);
    }

    #[test]
    fn null_optional_collections_read_as_empty() {
        let room: CreateRoom =
            decode_request(json!({"name": "x", "members": null})).expect("members null");
        assert!(room.members.is_empty());
        let sync: Sync = decode_request(json!({"cursors": null})).expect("cursors null");
        assert!(sync.cursors.is_empty());
    }

    #[test]
    fn decoding_also_validates() {
        let err = decode_request::<SendMessage>(
            json!({"room_id": "general", "client_id": "c", "body": "  "}),
        )
        .expect_err("blank body");
        assert_eq!(err.code, ErrorCode::Invalid);
    }
}
