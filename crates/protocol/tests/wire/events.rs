//! Relay → client events (`events`): exact JSON both ways.

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

#[test]
fn room_removed_event() {
    assert_wire(
        &RoomRemovedEvent {
            room_id: "r-7f3a".into(),
        },
        json!({"room_id": "r-7f3a"}),
    );
}
