//! HTTP bodies, paths and the Socket.IO connect payload (`http`).

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
            ..User::default()
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
            ..User::default()
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
