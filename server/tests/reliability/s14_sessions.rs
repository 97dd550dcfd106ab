//! S14 (issue 22, item 11): sessions end. With the default cap (20 per user), alice's first
//! token has a socket connected; after 20 more logins it is ended: that socket is disconnected,
//! the token is refused at connect (`unauthorized`) and by logout (401), and the newest tokens
//! work. Then a relay with `--session-idle-secs 2`: of two tokens, the one used (a connect every
//! 0.6 s) lives on, the one left alone for 3 s is refused.

use std::time::{Duration, Instant};

use natter_relay::config::DEFAULT_SESSIONS_PER_USER;
use natter_testkit::raw::RawError;
use natter_testkit::RawWs;

use crate::harness::{self, assert_alive};
use crate::util::{Api, PASSWORD, WAIT};

async fn connects(relay: std::net::SocketAddr, token: &str) -> Result<RawWs, String> {
    match RawWs::connect(relay, token, None, WAIT).await {
        Ok(ws) => Ok(ws),
        Err(RawError::Refused(message)) => Err(message),
        Err(e) => panic!("connect: {e}"),
    }
}

async fn login(api: &Api) -> String {
    api.login("alice", PASSWORD)
        .await
        .expect("alice logs in")
        .token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s14_sessions_past_the_cap_or_idle_end() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &[])).await;
    let addr = relay.addr();
    let first = api.user("alice").await.token;
    let socket = api
        .connect("alice", &first)
        .await
        .expect("the first token connects");
    let mut tokens = Vec::new();
    for _ in 0..DEFAULT_SESSIONS_PER_USER {
        tokens.push(login(&api).await);
    }
    socket
        .wait_closed()
        .await
        .expect("the ended session's socket is disconnected");
    let refused = connects(addr, &first)
        .await
        .expect_err("the ended session's token is refused");
    assert!(refused.contains("unauthorized"), "{refused}");
    let logout = api
        .logout(&first)
        .await
        .expect_err("logout of an ended session");
    assert_eq!(logout.status, 401);
    for token in [&tokens[0], &tokens[tokens.len() - 1]] {
        connects(addr, token)
            .await
            .expect("a kept session connects")
            .close()
            .await;
    }
    eprintln!(
        "S14: after {} logins alice's first session was ended, its socket closed and its token refused: {refused}",
        DEFAULT_SESSIONS_PER_USER
    );
    assert_alive(&mut relay, "after S14's cap");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");

    let dir = tempfile::tempdir().expect("a data dir");
    let args = ["--session-idle-secs", "2"];
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &args)).await;
    let addr = relay.addr();
    let idle = api.user("alice").await.token;
    let used = login(&api).await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(600)).await;
        connects(addr, &used)
            .await
            .expect("a session in use lives on")
            .close()
            .await;
    }
    let refused = connects(addr, &idle)
        .await
        .expect_err("a session idle past 2 s is refused");
    assert!(refused.contains("unauthorized"), "{refused}");
    let logout = api
        .logout(&idle)
        .await
        .expect_err("logout of an expired session");
    assert_eq!(logout.status, 401);
    eprintln!(
        "S14: the token idle for 3 s was refused ({refused}); the one used every 0.6 s lived"
    );
    assert_alive(&mut relay, "after S14's idle expiry");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
