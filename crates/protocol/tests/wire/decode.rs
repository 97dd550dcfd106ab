//! `decode`: the one edge where untrusted JSON becomes protocol types.

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
