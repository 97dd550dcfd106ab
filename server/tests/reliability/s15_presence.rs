//! S15 (issue 22, item 6): presence is no broadcast channel for strangers, and connects are no
//! free loop. Alice (127.0.0.2) reconnects in a tight loop: carol, who shares only `general`
//! with her, must hear nothing of it; bob, who shares a room with her, hears one "online" and,
//! after her last close and the relay's grace period (default 3 s), one "offline" — not a pair
//! per cycle. Then connects are limited: alice's own past the per-user budget are refused
//! `rate_limited` (while another user from her address still gets in), and from one address
//! past the per-address budget (while that address's users get in from another), each refusal
//! logged.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use natter_protocol::events::PresenceEvent;
use natter_protocol::requests::CreateRoom;
use natter_testkit::ClientError;

use crate::harness::{self, assert_alive, long};
use crate::util::{Api, Client, WAIT};

/// The relay's default grace before "offline", plus slack for a busy machine.
const GRACE: Duration = Duration::from_millis(natter_protocol::limits::PRESENCE_GRACE_MS);
const PER_USER: u32 = 20;
const PER_ADDRESS: u32 = 40;

fn from(base: &str, last_octet: u8) -> Api {
    let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet));
    Api::from_address(base.to_owned(), Some(local))
}

async fn connect(api: &Api, name: &str, token: &str) -> Client {
    api.connect(name, token)
        .await
        .unwrap_or_else(|e| panic!("connect {name}: {e}"))
}

/// Every `presence` event about `user` that `client` holds once everything queued arrived.
async fn heard(client: &Client, user: &str) -> Vec<PresenceEvent> {
    client.barrier().await.expect("barrier");
    let mut events = Vec::new();
    while let Ok(p) = client
        .next_event_where::<PresenceEvent>(Duration::from_millis(50), |p| p.user == user)
        .await
    {
        events.push(p);
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s15_reconnect_churn_reaches_no_stranger_and_is_debounced() {
    let _serial = harness::serial().await;
    let cycles = if long() { 100 } else { 15 };
    let dir = tempfile::tempdir().expect("a data dir");
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &[])).await;
    let base = relay.url();
    let alice_auth = api.user("alice").await;
    let bob_auth = api.user("bob").await;
    let carol_auth = api.user("carol").await;
    let bob = connect(&from(&base, 3), "bob", &bob_auth.token).await;
    let carol = connect(&from(&base, 4), "carol", &carol_auth.token).await;
    bob.request(&CreateRoom {
        name: "bob and alice".into(),
        members: vec!["alice".into()],
    })
    .await
    .expect("bob makes a room with alice");
    bob.discard::<PresenceEvent>().await.expect("a clean start");

    let alice_api = from(&base, 2);
    let started = Instant::now();
    let mut alice = connect(&alice_api, "alice", &alice_auth.token).await;
    let online = bob
        .next_event_where::<PresenceEvent>(WAIT, |p| p.user == "alice")
        .await
        .expect("bob sees alice come online");
    assert!(online.online);
    for _ in 0..cycles {
        alice.close().await;
        alice = connect(&alice_api, "alice", &alice_auth.token).await;
    }
    let churned = started.elapsed();
    alice.close().await;
    let offline = bob
        .next_event_where::<PresenceEvent>(GRACE + WAIT, |p| p.user == "alice")
        .await
        .expect("bob sees alice go offline once she stays away");
    assert!(!offline.online, "{offline:?}");
    let gone_after = started.elapsed() - churned;
    let bob_extra = heard(&bob, "alice").await;
    let carol_heard = heard(&carol, "alice").await;
    eprintln!(
        "S15: {cycles} reconnects in {churned:?}; bob heard 1 online, 1 offline (+{} more), \
         offline {gone_after:?} after the last close; carol heard {}",
        bob_extra.len(),
        carol_heard.len()
    );
    assert!(
        carol_heard.is_empty(),
        "carol shares only general with alice and hears nothing: {} events",
        carol_heard.len()
    );
    assert!(
        bob_extra.is_empty(),
        "reconnects within the grace announce nothing: {bob_extra:?}"
    );
    assert!(
        gone_after >= GRACE.saturating_sub(Duration::from_millis(100)),
        "offline waits out the grace: {gone_after:?}"
    );
    assert_alive(&mut relay, "S15 churn");
    drop(relay);
}

/// A connect that must be refused for its rate.
async fn refused(api: &Api, name: &str, token: &str) -> bool {
    match api.connect(name, token).await {
        Err(ClientError::Refused(m)) if m.contains("rate_limited") => true,
        Err(e) => panic!("{name}: refused other than rate_limited: {e}"),
        Ok(c) => {
            c.close().await;
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s15_connects_are_limited_per_user_and_per_address() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let (per_user, per_address) = (PER_USER.to_string(), PER_ADDRESS.to_string());
    let args = [
        "--log",
        "info",
        "--connects-per-minute",
        per_user.as_str(),
        "--connects-per-minute-per-address",
        per_address.as_str(),
    ];
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &args)).await;
    let base = relay.url();
    let names = ["alice", "bob", "carol", "dave"];
    let mut tokens = Vec::new();
    for name in names {
        tokens.push(api.user(name).await.token);
    }

    // Alice from 127.0.0.2 until refused: her budget, plus what a minute's rate refills meanwhile.
    let alice_api = from(&base, 2);
    let started = Instant::now();
    let mut accepted = 0u32;
    while !refused(&alice_api, "alice", &tokens[0]).await {
        accepted += 1;
        assert!(accepted <= PER_USER * 2, "alice is never refused");
    }
    let refill = (started.elapsed().as_secs_f64() * f64::from(PER_USER) / 60.0).ceil() as u32;
    eprintln!(
        "S15: alice connected {accepted} times in {:?}, then was refused",
        started.elapsed()
    );
    assert!(
        (PER_USER..=PER_USER + refill + 1).contains(&accepted),
        "alice gets her budget of {PER_USER} (+{refill} refilled), not more: {accepted}"
    );
    let from_elsewhere = from(&base, 9);
    assert!(
        refused(&from_elsewhere, "alice", &tokens[0]).await,
        "her limit is hers from any address"
    );
    let bob_same_address = connect(&alice_api, "bob", &tokens[1]).await;
    bob_same_address.close().await;

    // One address (127.0.0.5) spreads connects over bob, carol and dave, each under the
    // per-user budget, until the address is refused.
    let flood = from(&base, 5);
    let mut from_flood = 0u32;
    'flood: for _ in 0..PER_USER - 2 {
        for (i, name) in names.iter().enumerate().skip(1) {
            if refused(&flood, name, &tokens[i]).await {
                break 'flood;
            }
            from_flood += 1;
        }
    }
    eprintln!("S15: 127.0.0.5 connected {from_flood} times, then was refused");
    assert!(
        (PER_ADDRESS..=PER_ADDRESS + 2).contains(&from_flood),
        "the address gets its budget of {PER_ADDRESS}, not more: {from_flood}"
    );
    let dave_elsewhere = connect(&from(&base, 6), "dave", &tokens[3]).await;
    dave_elsewhere.close().await;

    let refusals = relay
        .log_tail()
        .iter()
        .filter(|l| l.contains("connect refused: too many connects"))
        .count();
    assert!(refusals >= 3, "each refusal is logged: {refusals} lines");
    assert_alive(&mut relay, "S15 connects");
    drop(relay);
}
