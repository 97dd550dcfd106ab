//! The shared nouns (`model`): users, rooms, messages.

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
fn a_room_from_a_relay_without_others_read_seq_reads_it_as_0() -> Result<(), serde_json::Error> {
    let mut json = room_json();
    json.as_object_mut()
        .expect("object")
        .remove("others_read_seq");
    let room: Room = serde_json::from_value(json)?;
    assert_eq!(room.others_read_seq, 0);
    Ok(())
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
