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
fn a_room_carries_its_unread_count_and_a_relay_without_it_leaves_it_out(
) -> Result<(), serde_json::Error> {
    let counted = Room {
        unread: Some(3),
        ..room()
    };
    let mut json = room_json();
    json["unread"] = json!(3);
    assert_wire(&counted, json.clone());
    json.as_object_mut().expect("object").remove("unread");
    let older: Room = serde_json::from_value(json)?;
    assert_eq!(older.unread, None);
    Ok(())
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
    let mut user = User {
        id: "u-1".into(),
        username: "alice".into(),
        ..User::default()
    };
    // No display name: the field is left out, as before display names existed.
    assert_wire(&user, json!({"id": "u-1", "username": "alice"}));
    user.display_name = "Alice Liddell".into();
    assert_wire(
        &user,
        json!({"id": "u-1", "username": "alice", "display_name": "Alice Liddell"}),
    );
}

#[test]
fn a_plain_message_carries_none_of_the_change_fields() -> Result<(), serde_json::Error> {
    // Byte for byte what clients before edits, replies and reactions read.
    let json = serde_json::to_value(message())?;
    assert_eq!(json, message_json());
    Ok(())
}

#[test]
fn a_message_with_its_current_state() {
    let replying = Message {
        reply_to: Some(Box::new(ReplyPreview {
            id: "m-1".into(),
            seq: 4,
            sender: "bob".into(),
            excerpt: "lunch?".into(),
            deleted: false,
        })),
        edited_at: Some("2024-05-01T12:40:00.000Z".into()),
        reactions: vec![Reaction {
            emoji: "👍".into(),
            users: vec!["bob".into(), "carol".into()],
        }],
        ..message()
    };
    let mut json = message_json();
    let fields = json.as_object_mut().expect("object");
    fields.insert(
        "reply_to".into(),
        json!({"id": "m-1", "seq": 4, "sender": "bob", "excerpt": "lunch?"}),
    );
    fields.insert("edited_at".into(), json!("2024-05-01T12:40:00.000Z"));
    fields.insert(
        "reactions".into(),
        json!([{"emoji": "👍", "users": ["bob", "carol"]}]),
    );
    assert_wire(&replying, json);

    let deleted = Message {
        body: String::new(),
        deleted: true,
        ..message()
    };
    let mut json = message_json();
    json["body"] = json!("");
    json["deleted"] = json!(true);
    assert_wire(&deleted, json);
}

#[test]
fn a_reply_preview_from_a_relay_before_its_seq_reads_seq_0() -> Result<(), serde_json::Error> {
    let preview: ReplyPreview =
        serde_json::from_value(json!({"id": "m-1", "sender": "bob", "excerpt": "lunch?"}))?;
    assert_eq!(preview.seq, 0);
    assert_eq!(preview.id, "m-1");
    Ok(())
}

#[test]
fn a_message_with_attachments() {
    let with_files = Message {
        attachments: vec![
            Attachment {
                id: "f-1".into(),
                name: "cat.png".into(),
                size: 2_048,
                content_type: "image/png".into(),
                width: Some(640),
                height: Some(480),
            },
            Attachment {
                id: "f-2".into(),
                name: "notes.pdf".into(),
                size: 9,
                content_type: "application/pdf".into(),
                width: None,
                height: None,
            },
        ],
        ..message()
    };
    let mut json = message_json();
    json["attachments"] = json!([
        {"id": "f-1", "name": "cat.png", "size": 2048, "type": "image/png",
         "width": 640, "height": 480},
        {"id": "f-2", "name": "notes.pdf", "size": 9, "type": "application/pdf"},
    ]);
    assert_wire(&with_files, json);
}

#[test]
fn change_entries() {
    let entry = |change: Change, body: &str| Message {
        body: body.into(),
        change: Some(Box::new(change)),
        ..message()
    };
    let with = |change: Value, body: &str| {
        let mut json = message_json();
        json["body"] = json!(body);
        json["change"] = change;
        json
    };
    assert_wire(
        &entry(
            Change::Edit {
                target: "m-1".into(),
                body: "fixed".into(),
            },
            "✎ fixed",
        ),
        with(
            json!({"kind": "edit", "target": "m-1", "body": "fixed"}),
            "✎ fixed",
        ),
    );
    assert_wire(
        &entry(
            Change::Delete {
                target: "m-1".into(),
            },
            "deleted a message",
        ),
        with(
            json!({"kind": "delete", "target": "m-1"}),
            "deleted a message",
        ),
    );
    assert_wire(
        &entry(
            Change::Reaction {
                target: "m-1".into(),
                emoji: "👍".into(),
                on: true,
            },
            "reacted 👍",
        ),
        with(
            json!({"kind": "reaction", "target": "m-1", "emoji": "👍", "on": true}),
            "reacted 👍",
        ),
    );
}

#[test]
fn a_change_of_an_unknown_kind_still_decodes() -> Result<(), serde_json::Error> {
    // A newer relay's kinds must not make older clients drop a whole sync page.
    let mut json = message_json();
    json["change"] = json!({"kind": "pin", "target": "m-1"});
    let message: Message = serde_json::from_value(json)?;
    assert_eq!(message.change.as_deref(), Some(&Change::Unknown));
    assert_eq!(
        message.change.and_then(|c| c.target().map(str::to_owned)),
        None
    );
    Ok(())
}
