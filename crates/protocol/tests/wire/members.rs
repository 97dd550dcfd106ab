//! Big rooms (issue 17): `Room.member_count`, members inline only up to a bound, and the
//! `room:members` page.

use natter_protocol::limits::{MEMBERS_INLINE_MAX, MEMBERS_PAGE_MAX};

use super::*;

#[test]
fn room_members_request_and_its_ack() {
    let req = ListMembers {
        room_id: GENERAL_ROOM_ID.into(),
        after: Some("Bob".into()),
        limit: Some(2),
    };
    assert_wire(
        &req,
        json!({"room_id": "general", "after": "Bob", "limit": 2}),
    );
    assert_eq!(ListMembers::NAME, "room:members");
    // Only the room is required.
    let first: ListMembers = serde_json::from_value(json!({"room_id": "general"})).expect("page 1");
    assert_eq!(first.after, None);
    assert_eq!(first.limit, None);
    assert_wire(&first, json!({"room_id": "general"}));
    assert_rejects::<ListMembers>(json!({"after": "bob"}));

    let ack = MembersAck {
        members: vec![
            Member {
                username: "carol".into(),
                display_name: "Carol C".into(),
                online: Some(true),
            },
            Member {
                username: "dave".into(),
                display_name: String::new(),
                online: None,
            },
        ],
        next: Some("dave".into()),
    };
    assert_wire(
        &ack,
        json!({"members": [
            {"username": "carol", "display_name": "Carol C", "online": true},
            {"username": "dave"}
        ], "next": "dave"}),
    );
    let last = MembersAck {
        members: vec![],
        next: None,
    };
    assert_wire(&last, json!({"members": []}));
}

#[test]
fn room_members_checks_its_cursor_and_limit() {
    let ok = ListMembers {
        room_id: "r-1".into(),
        after: None,
        limit: None,
    };
    assert_valid(ok.validate());
    for limit in [1, MEMBERS_PAGE_MAX] {
        let req = ListMembers {
            limit: Some(limit),
            ..ok.clone()
        };
        assert_valid(req.validate());
    }
    for limit in [0, MEMBERS_PAGE_MAX + 1, u32::MAX] {
        let req = ListMembers {
            limit: Some(limit),
            ..ok.clone()
        };
        assert_code(req.validate(), ErrorCode::Invalid);
    }
    for after in ["", "x", "no spaces", &"a".repeat(33)] {
        let req = ListMembers {
            after: Some(after.into()),
            ..ok.clone()
        };
        assert_code(req.validate(), ErrorCode::Invalid);
    }
    let no_room = ListMembers {
        room_id: String::new(),
        ..ok
    };
    assert_code(no_room.validate(), ErrorCode::Invalid);
}

#[test]
fn a_room_from_a_relay_without_member_count_counts_its_members() -> Result<(), serde_json::Error> {
    let mut json = room_json();
    json.as_object_mut().expect("object").remove("member_count");
    let older: Room = serde_json::from_value(json)?;
    assert_eq!(older.member_count, 0);
    assert_eq!(older.member_total(), 3);
    assert!(older.members_complete());
    Ok(())
}

#[test]
fn a_big_room_carries_its_count_and_no_names() {
    let big = Room {
        id: GENERAL_ROOM_ID.into(),
        name: "general".into(),
        members: vec![],
        member_count: 100_000,
        ..room()
    };
    let mut json = room_json();
    json["id"] = json!("general");
    json["name"] = json!("general");
    json["members"] = json!([]);
    json["member_count"] = json!(100_000);
    assert_wire(&big, json);
    assert_eq!(big.member_total(), 100_000);
    assert!(!big.members_complete());
    assert!(room().members_complete());
    assert_eq!(MEMBERS_INLINE_MAX, 64);
}
