//! The ack envelope (`AckResult`) and the error codes (`ErrorCode`, `WireError`).

use super::*;

#[test]
fn empty_ack_is_exactly_ok_true() {
    assert_wire(&AckResult::Ok(Empty {}), json!({"ok": true}));
    assert_eq!(
        serde_json::to_string(&AckResult::Ok(Empty {})).expect("serializes"),
        r#"{"ok":true}"#
    );
    let parsed: AckResult<Empty> = serde_json::from_str(r#"{"ok":true}"#).expect("literal parses");
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

const ALL_CODES: [ErrorCode; 7] = ErrorCode::ALL;

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
