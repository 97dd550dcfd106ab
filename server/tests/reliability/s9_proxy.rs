//! S9 (issue 22, items 8 and 9): behind a trusted proxy each client counts as its own address,
//! and an IPv6 client counts as its /64. The "proxy" is 127.0.0.2 (`--trusted-proxy
//! 127.0.0.2/32`) sending `X-Forwarded-For` as nginx does. A guesser behind it spends its own
//! login budget, not everyone's: alice behind the same proxy still gets in. The header is not
//! believed from any other peer, nor its left (client-written) hops. A guesser rotating through
//! one IPv6 /64 is limited as one address; alice from another /64 gets in.

use std::net::{IpAddr, Ipv4Addr};

use natter_protocol::http::LOGIN_PATH;
use serde_json::json;

use crate::harness::{self, assert_alive};
use crate::util::{PASSWORD, WAIT};

const PER_MINUTE: u32 = 3;

/// One login from 127.0.0.`octet` with `X-Forwarded-For: forwarded` (if any); the status.
async fn login(base: &str, octet: u8, forwarded: Option<&str>, password: &str) -> u16 {
    let http = reqwest::Client::builder()
        .timeout(WAIT)
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, octet)))
        .build()
        .expect("an HTTP client");
    let mut req = http
        .post(format!("{base}{LOGIN_PATH}"))
        .json(&json!({ "username": "alice", "password": password }));
    if let Some(hops) = forwarded {
        req = req.header("x-forwarded-for", hops);
    }
    req.send()
        .await
        .expect("the relay answers")
        .status()
        .as_u16()
}

/// Wrong guesses until the relay refuses one unchecked; how many it checked first.
async fn guess_until_limited(base: &str, octet: u8, forwarded: &[&str]) -> usize {
    for (n, hops) in forwarded.iter().cycle().take(20).enumerate() {
        match login(base, octet, Some(hops), "a wrong password").await {
            401 => {}
            429 => return n,
            other => panic!("guess {n} via {hops:?}: status {other}"),
        }
    }
    panic!("20 guesses via {forwarded:?} and never rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s9_behind_a_trusted_proxy_each_client_is_its_own_address() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let per_minute = PER_MINUTE.to_string();
    let args = [
        "--login-per-minute",
        per_minute.as_str(),
        "--trusted-proxy",
        "127.0.0.2/32",
    ];
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &args)).await;
    let base = relay.url();
    api.user("alice").await;
    let ok = |status: u16, what: &str| assert_eq!(status, 200, "{what}: status {status}");

    // Through the proxy: the guesser's budget is its own.
    let checked = guess_until_limited(&base, 2, &["198.51.100.1"]).await;
    assert_eq!(checked, PER_MINUTE as usize, "the guesser's own budget");
    ok(
        login(&base, 2, Some("198.51.100.2"), PASSWORD).await,
        "alice behind the same proxy",
    );
    // A client's own hop, left of what the proxy appended, is not believed.
    let spoofed = login(&base, 2, Some("203.0.113.9, 198.51.100.1"), PASSWORD).await;
    assert_eq!(spoofed, 429, "the limited guesser claiming another address");

    // From a peer that is not the proxy, the header is ignored.
    let forged = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"];
    let checked = guess_until_limited(&base, 3, &forged).await;
    assert_eq!(
        checked, PER_MINUTE as usize,
        "one budget for 127.0.0.3, any header"
    );

    // IPv6 through the proxy: rotating within one /64 is one address.
    let rotating = [
        "2001:db8:1:1::1",
        "2001:db8:1:1::2",
        "2001:db8:1:1:ffff::3",
        "2001:db8:1:1:abcd:1:2:3",
    ];
    let checked = guess_until_limited(&base, 2, &rotating).await;
    assert_eq!(checked, PER_MINUTE as usize, "one budget for the /64");
    ok(
        login(&base, 2, Some("2001:db8:1:2::1"), PASSWORD).await,
        "alice from another /64",
    );
    eprintln!(
        "S9: via the trusted proxy, a guesser was limited after {PER_MINUTE} and alice got in; \
         a forged header from 127.0.0.3 bought no budget; 4 addresses in one /64 shared one"
    );
    assert_alive(&mut relay, "after S9");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
