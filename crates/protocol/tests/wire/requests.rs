//! Client → relay payloads (`requests`) and their success acks: exact JSON both ways.

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
fn room_remove() {
    let req = RemoveFromRoom {
        room_id: "r-7f3a".into(),
        username: "dave".into(),
    };
    assert_request(
        "room:remove",
        &req,
        json!({"room_id": "r-7f3a", "username": "dave"}),
    );
    assert_ok_ack::<RemoveFromRoom>(
        RoomAck { room: room() },
        json!({"ok": true, "room": room_json()}),
    );
    assert_rejects::<RemoveFromRoom>(json!({"room_id": "r-7f3a"}));
}

#[test]
fn user_block_unblock_and_list() {
    let blocked = || BlockedAck {
        blocked: vec!["dave".into(), "eve".into()],
    };
    let blocked_json = json!({"ok": true, "blocked": ["dave", "eve"]});
    assert_request(
        "user:block",
        &BlockUser {
            username: "eve".into(),
        },
        json!({"username": "eve"}),
    );
    assert_ok_ack::<BlockUser>(blocked(), blocked_json.clone());
    assert_request(
        "user:unblock",
        &UnblockUser {
            username: "eve".into(),
        },
        json!({"username": "eve"}),
    );
    assert_ok_ack::<UnblockUser>(blocked(), blocked_json.clone());
    assert_request("blocks:list", &ListBlocked {}, json!({}));
    assert_ok_ack::<ListBlocked>(blocked(), blocked_json);
    assert_ok_ack::<ListBlocked>(
        BlockedAck { blocked: vec![] },
        json!({"ok": true, "blocked": []}),
    );
    assert_rejects::<BlockUser>(json!({}));
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
        reply_to: None,
        attachments: Vec::new(),
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
        around: None,
        room_id: "general".into(),
        before_seq: Some(100),
        limit: Some(25),
        ..History::default()
    };
    assert_request(
        "history",
        &req,
        json!({"room_id": "general", "before_seq": 100, "limit": 25}),
    );
    let forward = History {
        room_id: "general".into(),
        after_seq: Some(7),
        limit: Some(25),
        messages_only: true,
        ..History::default()
    };
    assert_request(
        "history",
        &forward,
        json!({"room_id": "general", "after_seq": 7, "limit": 25, "messages_only": true}),
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
        around: None,
        room_id: "general".into(),
        ..History::default()
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
        json!({"room_id": "general", "before_seq": null, "after_seq": null, "limit": null}),
    )
    .expect("null optional fields are accepted");
    assert_eq!(nulls, bare);
    // A relay before `after_seq` and `messages_only` reads a request without them as before;
    // `messages_only: false` is the default and is left out.
    let every_entry: History =
        serde_json::from_value(json!({"room_id": "general", "messages_only": false}))
            .expect("an explicit false decodes");
    assert_eq!(every_entry, bare);
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

#[test]
fn message_send_with_a_reply() {
    let req = SendMessage {
        room_id: "general".into(),
        client_id: CLIENT_ID.into(),
        body: "yes".into(),
        reply_to: Some("m-1".into()),
        attachments: Vec::new(),
    };
    assert_request(
        "message:send",
        &req,
        json!({"room_id": "general", "client_id": CLIENT_ID, "body": "yes", "reply_to": "m-1"}),
    );
    let bad = SendMessage {
        reply_to: Some(String::new()),
        ..req
    };
    assert_eq!(bad.validate().map_err(|e| e.code), Err(ErrorCode::Invalid));
}

#[test]
fn message_send_with_attachments() {
    let req = SendMessage {
        room_id: "general".into(),
        client_id: CLIENT_ID.into(),
        body: String::new(),
        reply_to: None,
        attachments: vec!["f-1".into(), "f-2".into()],
    };
    assert_request(
        "message:send",
        &req,
        json!({"room_id": "general", "client_id": CLIENT_ID, "body": "",
               "attachments": ["f-1", "f-2"]}),
    );
    // Files without text pass; text without files does not.
    assert_eq!(req.validate(), Ok(()));
    let blank = SendMessage {
        attachments: Vec::new(),
        ..req.clone()
    };
    assert_eq!(
        blank.validate().map_err(|e| e.code),
        Err(ErrorCode::Invalid)
    );
    let eleven = SendMessage {
        attachments: (0..11).map(|i| format!("f-{i}")).collect(),
        ..req.clone()
    };
    assert_eq!(
        eleven.validate().map_err(|e| e.code),
        Err(ErrorCode::TooLarge)
    );
    let ten = SendMessage {
        attachments: (0..10).map(|i| format!("f-{i}")).collect(),
        ..req.clone()
    };
    assert_eq!(ten.validate(), Ok(()));
    let twice = SendMessage {
        attachments: vec!["f-1".into(), "f-1".into()],
        ..req.clone()
    };
    assert_eq!(
        twice.validate().map_err(|e| e.code),
        Err(ErrorCode::Invalid)
    );
    let empty_id = SendMessage {
        attachments: vec![String::new()],
        ..req
    };
    assert_eq!(
        empty_id.validate().map_err(|e| e.code),
        Err(ErrorCode::Invalid)
    );
}

#[test]
fn message_edit_delete_and_reaction() {
    let edit = EditMessage {
        room_id: "general".into(),
        client_id: CLIENT_ID.into(),
        message_id: "m-1".into(),
        body: "fixed".into(),
    };
    assert_request(
        "message:edit",
        &edit,
        json!({"room_id": "general", "client_id": CLIENT_ID, "message_id": "m-1", "body": "fixed"}),
    );
    let delete = DeleteMessage {
        room_id: "general".into(),
        client_id: CLIENT_ID.into(),
        message_id: "m-1".into(),
    };
    assert_request(
        "message:delete",
        &delete,
        json!({"room_id": "general", "client_id": CLIENT_ID, "message_id": "m-1"}),
    );
    let react = React {
        room_id: "general".into(),
        client_id: CLIENT_ID.into(),
        message_id: "m-1".into(),
        emoji: "👍".into(),
        on: true,
    };
    assert_request(
        "reaction",
        &react,
        json!({"room_id": "general", "client_id": CLIENT_ID, "message_id": "m-1", "emoji": "👍", "on": true}),
    );
    assert_ok_ack::<EditMessage>(
        MessageAck { message: message() },
        json!({"ok": true, "message": message_json()}),
    );
    // Each is validated like a send: an edit to a blank body, a reaction that is not one emoji.
    let blank = EditMessage {
        body: "  ".into(),
        ..edit
    };
    assert_eq!(
        blank.validate().map_err(|e| e.code),
        Err(ErrorCode::Invalid)
    );
    let two = React {
        emoji: "👍👍".into(),
        ..react
    };
    assert_eq!(two.validate().map_err(|e| e.code), Err(ErrorCode::Invalid));
    assert_rejects::<React>(
        json!({"room_id": "general", "client_id": CLIENT_ID, "message_id": "m-1", "emoji": "👍"}),
    );
}
