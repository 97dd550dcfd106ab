//! Registration and HTTP bad input: username and password rules (counted in characters), names
//! unique ignoring case (409), malformed, mistyped and oversized bodies.

use natter_protocol::http::{LOGIN_PATH, REGISTER_PATH};
use natter_protocol::ErrorCode;
use serde_json::json;

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_bad_names_and_passwords() {
    let relay = TestRelay::start().await;
    let long_name = "a".repeat(33);
    let bad_names = [
        "",
        "ab",
        "has space",
        "semi;colon",
        "héllo",
        "emoji🙂x",
        &long_name,
    ];
    for name in bad_names {
        let f = relay
            .register(name, PASSWORD)
            .await
            .expect_err("bad username");
        assert_eq!(
            (f.status, f.code()),
            (400, Some(ErrorCode::Invalid)),
            "username {name:?}"
        );
    }
    let long_pw = "p".repeat(1_025);
    // Seven characters, fourteen bytes: lengths count Unicode scalar values.
    for pw in ["", "short12", "ééééééé", &long_pw] {
        let f = relay
            .register("valid_name", pw)
            .await
            .expect_err("bad password");
        assert_eq!(
            (f.status, f.code()),
            (400, Some(ErrorCode::Invalid)),
            "password of {} chars",
            pw.chars().count()
        );
    }
    // The edges are accepted.
    relay
        .register("abc", "éééééééé")
        .await
        .expect("3-char name, 8-char password");
    relay
        .register(&"Z".repeat(32), &"p".repeat(1_024))
        .await
        .expect("32-char name, 1024-char password");
    relay
        .register("a.b_c-9", PASSWORD)
        .await
        .expect("every allowed symbol");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_are_unique_ignoring_case() {
    let relay = TestRelay::start().await;
    relay.register("Alice", PASSWORD).await.expect("register");
    for name in ["Alice", "alice", "ALICE"] {
        let f = relay.register(name, PASSWORD).await.expect_err("taken");
        assert_eq!(f.status, 409, "{name}: {f:?}");
        // protocol.md: a taken name is 409 with the code `invalid`.
        assert_eq!(f.code(), Some(ErrorCode::Invalid), "{name}: {f:?}");
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http_bodies_are_refused() {
    let relay = TestRelay::start().await;
    let cases = [
        ("not JSON", b"{username:".to_vec()),
        ("missing password", br#"{"username":"alice"}"#.to_vec()),
        (
            "wrong types",
            br#"{"username":5,"password":["x"]}"#.to_vec(),
        ),
    ];
    for (what, body) in cases {
        for path in [REGISTER_PATH, LOGIN_PATH] {
            let (status, body) = relay
                .post_raw(path, "application/json", body.clone(), None)
                .await;
            assert_eq!(status, 400, "{what} to {path}: {body}");
            assert_eq!(body["error"]["code"], "invalid", "{what} to {path}: {body}");
        }
    }
    let (status, body) = relay
        .post_raw(
            REGISTER_PATH,
            "text/plain",
            br#"{"username":"alice","password":"password1"}"#.to_vec(),
            None,
        )
        .await;
    assert!(
        matches!(status, 400 | 415),
        "wrong content type: {status} {body}"
    );
    assert_eq!(
        body["error"]["code"], "invalid",
        "wrong content type: {body}"
    );

    // Over the 64 KiB payload limit: refused as too large, and the relay carries on.
    let huge = json!({ "username": "alice", "password": "p".repeat(100 * 1024) });
    let (status, body) = relay.post_json(REGISTER_PATH, &huge, None).await;
    // protocol.md files an unreadable body under 400 `invalid`; 413 `too_large` would fit too.
    let code = body["error"]["code"].as_str().unwrap_or_default();
    assert!(
        matches!((status, code), (400, "invalid") | (413, "too_large")),
        "oversized body: {status} {body}"
    );
    relay
        .register("alice", PASSWORD)
        .await
        .expect("a normal register still works");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_as_an_array_are_refused() {
    // `{username, password}` is an object; serde would also fill it from `[username, password]`.
    let relay = TestRelay::start().await;
    let body = json!(["mallory", PASSWORD]);
    let (status, answer) = relay.post_json(REGISTER_PATH, &body, None).await;
    assert_eq!(status, 400, "register with an array body: {answer}");
    assert_eq!(answer["error"]["code"], "invalid");
    relay.register("alice", PASSWORD).await.expect("register");
    let (status, answer) = relay
        .post_json(LOGIN_PATH, &json!(["alice", PASSWORD]), None)
        .await;
    assert_eq!(status, 400, "login with an array body: {answer}");
    relay.stop().await;
}
