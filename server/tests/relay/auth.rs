//! The HTTP API and the connect gate: register/login/logout/healthz, their bad input, login rate
//! limits, and which tokens a Socket.IO connect accepts (and that logout kills live sockets).

use natter_protocol::events::MessageEvent;
use natter_protocol::http::{Health, HEALTH_PATH};
use natter_protocol::requests::ListRooms;
use natter_protocol::{ErrorCode, GENERAL_ROOM_ID};
use serde_json::json;

use crate::util::Client;
use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_and_health() {
    let relay = TestRelay::start().await;
    let (status, body) = relay.get(HEALTH_PATH).await;
    assert_eq!(status, 200);
    let health: Health = serde_json::from_value(body).expect("healthz answers {status, version}");
    assert_eq!(health.status, "ok");
    assert!(!health.version.is_empty());

    let reg = relay.register("Alice", PASSWORD).await.expect("register");
    assert_eq!(reg.user.username, "Alice");
    assert!(reg.token.len() >= 32, "a token of at least 128 bits");
    let login = relay.login("Alice", PASSWORD).await.expect("login");
    assert_eq!(login.user, reg.user);
    assert_ne!(login.token, reg.token, "every login is a new session");

    let wrong = relay
        .login("Alice", "not the password")
        .await
        .expect_err("wrong password");
    let unknown = relay
        .login("nobody", PASSWORD)
        .await
        .expect_err("unknown user");
    let bad_shape = relay
        .login("no such name!", PASSWORD)
        .await
        .expect_err("impossible name");
    for failure in [&wrong, &unknown, &bad_shape] {
        assert_eq!(failure.status, 401, "{failure:?}");
        assert_eq!(failure.code(), Some(ErrorCode::Unauthorized), "{failure:?}");
    }
    assert_eq!(
        wrong.body, unknown.body,
        "unknown user and wrong password look the same"
    );

    // Both tokens open a connection; the user is a member of general.
    for token in [&reg.token, &login.token] {
        let c = relay.connect("Alice", token).await.expect("connect");
        let rooms = c.request(&ListRooms {}).await.expect("rooms:list").rooms;
        assert!(rooms.iter().any(|r| r.id == GENERAL_ROOM_ID));
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_without_a_valid_token_is_refused() {
    let relay = TestRelay::start().await;
    let base = relay.base.clone();
    let cases = [
        ("no auth", None),
        ("empty auth", Some(json!({}))),
        ("empty token", Some(json!({ "token": "" }))),
        ("garbage token", Some(json!({ "token": "garbage" }))),
        ("token of the wrong type", Some(json!({ "token": 42 }))),
        ("auth not an object", Some(json!("token"))),
    ];
    for (what, auth) in cases {
        match Client::connect(&base, "nobody", auth).await {
            Err(ClientError::Refused(message)) => assert_eq!(message, "unauthorized", "{what}"),
            Err(e) => panic!("{what}: expected connect_error `unauthorized`, got {e}"),
            Ok(_) => panic!("{what}: the relay accepted the connection"),
        }
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_token_and_disconnects_only_that_session() {
    let relay = TestRelay::start().await;
    let first = relay.user("alice").await;
    let second = relay
        .login("alice", PASSWORD)
        .await
        .expect("second session");
    let a1 = relay
        .connect("alice", &first.token)
        .await
        .expect("connect 1");
    let a1_again = relay
        .connect("alice", &first.token)
        .await
        .expect("connect 1b");
    let a2 = relay
        .connect("alice", &second.token)
        .await
        .expect("connect 2");
    let (_, bob) = relay.join("bob").await;

    relay
        .logout(&first.token)
        .await
        .expect("logout answers 204");
    a1.wait_closed()
        .await
        .expect("the session's socket is disconnected");
    a1_again
        .wait_closed()
        .await
        .expect("every socket of the session is disconnected");

    // The other session is untouched and still hears the room.
    let sent = bob
        .request(&send(GENERAL_ROOM_ID, "still there?"))
        .await
        .expect("send");
    let seen = a2
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.id == sent.message.id)
        .await;
    seen.expect("the other session still receives messages");

    match relay.connect("alice", &first.token).await {
        Err(ClientError::Refused(m)) => assert_eq!(m, "unauthorized"),
        other => panic!(
            "a revoked token must be refused, got {:?}",
            other.map(|_| ())
        ),
    }
    let again = relay.logout(&first.token).await.expect_err("second logout");
    assert_eq!(again.status, 401);
    assert_eq!(again.code(), Some(ErrorCode::Unauthorized));
    relay
        .connect("alice", &second.token)
        .await
        .expect("the other token still connects");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_needs_a_known_bearer_token() {
    let relay = TestRelay::start().await;
    let alice = relay.user("alice").await;
    let (status, body) = relay
        .post_raw("/api/logout", "application/json", Vec::new(), None)
        .await;
    assert_eq!(status, 401, "no Authorization header: {body}");
    for token in ["garbage", "", &"0".repeat(64)] {
        let failure = relay.logout(token).await.expect_err("unknown token");
        assert_eq!(failure.status, 401, "token {token:?}: {failure:?}");
    }
    relay
        .logout(&alice.token)
        .await
        .expect("the real token logs out");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_rate_limited_per_address_and_per_username() {
    let relay = TestRelay::start_with(|c| c.login_per_minute = 10).await;
    relay.user("alice").await; // the first of ten attempts from 127.0.0.1, and for alice
    for i in 2..=10 {
        let ok = relay.login("alice", PASSWORD).await;
        ok.unwrap_or_else(|f| panic!("attempt {i}: {f:?}"));
    }
    let limited = relay
        .login("alice", PASSWORD)
        .await
        .expect_err("the 11th attempt");
    assert_eq!(limited.status, 429, "{limited:?}");
    assert_eq!(limited.code(), Some(ErrorCode::RateLimited));
    let other = relay
        .login("bob", PASSWORD)
        .await
        .expect_err("same address, other name");
    assert_eq!(other.status, 429, "the per-address limit: {other:?}");

    // From another address the right password gets in: 127.0.0.1 spent its own budget, not
    // alice's (only wrong passwords spend a username's, and only addresses that have been
    // guessing it draw on that; server/src/ratelimit.rs, S7 in the reliability suite).
    let elsewhere = Api::from_address(relay.base.clone(), Some([127, 0, 0, 2].into()));
    elsewhere
        .login("alice", PASSWORD)
        .await
        .expect("alice from elsewhere is not locked out");
    elsewhere
        .register("carol", PASSWORD)
        .await
        .expect("a fresh address and name");
    relay.stop().await;
}
