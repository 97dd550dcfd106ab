//! `Request::validate`, one test per request.

use super::*;

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
fn remove_and_block_validate() {
    let remove = |room_id: &str, username: &str| RemoveFromRoom {
        room_id: room_id.into(),
        username: username.into(),
    };
    assert_valid(remove("r-1", "bob").validate());
    assert_code(remove("", "bob").validate(), ErrorCode::Invalid);
    assert_code(remove("r-1", "b").validate(), ErrorCode::NotFound);
    assert_code(remove("r-1", "bo\u{202E}b").validate(), ErrorCode::NotFound);
    for name in ["bob", "Carol_9"] {
        let block = BlockUser {
            username: name.into(),
        };
        let unblock = UnblockUser {
            username: name.into(),
        };
        assert_valid(block.validate());
        assert_valid(unblock.validate());
    }
    for bad in ["b", "bob smith", &repeat("b", 33)] {
        let block = BlockUser {
            username: bad.into(),
        };
        let unblock = UnblockUser {
            username: bad.into(),
        };
        assert_code(block.validate(), ErrorCode::NotFound);
        assert_code(unblock.validate(), ErrorCode::NotFound);
    }
    assert_valid(ListBlocked {}.validate());
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
        reply_to: None,
        attachments: Vec::new(),
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
        around: None,
        room_id: "general".into(),
        ..History::default()
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
    assert_valid(
        History {
            after_seq: Some(0),
            messages_only: true,
            ..ok.clone()
        }
        .validate(),
    );
    assert_code(
        History {
            after_seq: Some(-1),
            ..ok.clone()
        }
        .validate(),
        ErrorCode::Invalid,
    );
    assert_code(
        History {
            before_seq: Some(9),
            after_seq: Some(3),
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
