//! Presence: online at a user's first socket, offline when the last one closes (also when sockets
//! come and go at once, and while the relay is busy), never sent to its subject, and the snapshot
//! of who is already online that a new socket gets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use natter_protocol::events::PresenceEvent;
use natter_protocol::GENERAL_ROOM_ID;

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_follows_the_first_and_last_socket() {
    let relay = TestRelay::start().await;
    let (_, bob) = relay.join("bob").await;
    let alice_auth = relay.user("alice").await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";

    let a1 = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("first socket");
    let online = bob
        .next_event_where::<PresenceEvent>(WAIT, is_alice)
        .await
        .expect("bob sees alice come online");
    assert!(online.online);
    a1.expect_no_event_where::<PresenceEvent>(is_alice)
        .await
        .expect("presence is never sent to its subject");

    let a2 = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("second socket");
    a2.barrier().await.expect("a2 is fully set up");
    bob.expect_no_event_where::<PresenceEvent>(is_alice)
        .await
        .expect("a second socket is not news");
    a2.expect_no_event_where::<PresenceEvent>(is_alice)
        .await
        .expect("not to the subject's second socket either");

    // a1 closes, then carol's only socket: once bob hears carol go offline, the relay has run
    // its disconnect path for a socket closed after a1 (there is no signal for a1 itself).
    let (_, carol) = relay.join("carol").await;
    let is_carol = |p: &PresenceEvent| p.user == "carol";
    let carol_online = bob
        .next_event_where::<PresenceEvent>(WAIT, is_carol)
        .await
        .expect("bob sees carol come online");
    assert!(carol_online.online);
    a1.close().await;
    carol.close().await;
    let carol_offline = bob
        .next_event_where::<PresenceEvent>(WAIT, is_carol)
        .await
        .expect("bob sees carol go offline");
    assert!(!carol_offline.online);
    bob.expect_no_event_where::<PresenceEvent>(is_alice)
        .await
        .expect("still online through a2");

    a2.close().await;
    let offline = bob
        .next_event_where::<PresenceEvent>(WAIT, is_alice)
        .await
        .expect("offline with the last socket");
    assert!(!offline.online);
    let seen = offline.last_seen.expect("an offline event says when");
    chrono::DateTime::parse_from_rfc3339(&seen).expect("last_seen is RFC 3339");
    bob.expect_no_event_where::<PresenceEvent>(is_alice)
        .await
        .expect("exactly one offline event");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_is_announced_while_the_relay_is_busy() {
    let relay = TestRelay::start_with(|c| c.send_burst = 1_000_000).await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    let alice_auth = relay.user("alice").await;
    let done = AtomicBool::new(false);
    // Carol keeps general busy (store writes, broadcasts), as other users would on a real relay.
    let busy = async {
        while !done.load(Ordering::Relaxed) {
            carol
                .request(&send(GENERAL_ROOM_ID, "note"))
                .await
                .expect("carol's send");
        }
    };
    let rounds = async {
        for round in 0..10 {
            let alice = relay
                .connect("alice", &alice_auth.token)
                .await
                .expect("connect");
            let online = bob
                .next_event_where::<PresenceEvent>(WAIT, |p| p.user == "alice")
                .await;
            assert!(online.expect("online").online, "round {round}");
            // A plain client disconnect: DISCONNECT, then the transport closes right behind it.
            alice.close().await;
            let offline = bob
                .next_event_where::<PresenceEvent>(Duration::from_secs(2), |p| p.user == "alice")
                .await;
            let offline = offline.unwrap_or_else(|e| {
                done.store(true, Ordering::Relaxed);
                panic!("round {round}: no offline event after alice's only socket left: {e}")
            });
            assert!(!offline.online, "round {round}");
        }
        done.store(true, Ordering::Relaxed);
    };
    tokio::join!(busy, rounds);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_holds_when_sockets_come_and_go_together() {
    let relay = TestRelay::start().await;
    let (_, bob) = relay.join("bob").await;
    let alice_auth = relay.user("alice").await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";
    for round in 0..20 {
        let (a1, a2) = tokio::join!(
            relay.connect("alice", &alice_auth.token),
            relay.connect("alice", &alice_auth.token)
        );
        let (a1, a2) = (a1.expect("socket 1"), a2.expect("socket 2"));
        let online = bob.next_event_where::<PresenceEvent>(WAIT, is_alice).await;
        let online = online.unwrap_or_else(|e| panic!("round {round}: two sockets at once: {e}"));
        assert!(online.online, "round {round}");
        tokio::join!(a1.close(), a2.close());
        let offline = bob.next_event_where::<PresenceEvent>(WAIT, is_alice).await;
        let offline = offline.unwrap_or_else(|e| panic!("round {round}: both closed at once: {e}"));
        assert!(!offline.online, "round {round}");
        bob.expect_no_event_where::<PresenceEvent>(is_alice)
            .await
            .expect("one event each way");
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_socket_learns_who_is_online_outside_general() {
    let relay = TestRelay::start().await;
    let (_, _bob) = relay.join("bob").await;
    let (_, _carol) = relay.join("carol").await; // online, but shares only general with alice
    relay.user("dave").await; // shares a room with alice, but offline
    let alice_auth = relay.user("alice").await;
    let setup = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("connect");
    group(&setup, "friends", &["bob", "dave"]).await;
    setup.close().await;

    let alice = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("connect");
    let snapshot = alice
        .next_event_where::<PresenceEvent>(WAIT, |p| p.user == "bob")
        .await
        .expect("alice is told bob is already online");
    assert!(snapshot.online);
    // The snapshot is sent in one go, in name order; bob's entry came first.
    alice
        .expect_no_event_where::<PresenceEvent>(|p| p.user != "bob")
        .await
        .expect("nothing about carol (general only), dave (offline) or alice herself");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_closed_before_its_connect_ack_leaves_no_presence_behind() {
    let relay = TestRelay::start().await;
    let (_, bob) = relay.join("bob").await;
    let alice_auth = relay.user("alice").await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";
    let addr = relay.addr();

    // CONNECT, then gone at once: the transport closes while the relay checks the token.
    let connect = format!(
        "40{{\"token\":{}}}",
        natter_testkit::raw::json_string(&alice_auth.token)
    );
    for _ in 0..50 {
        let mut raw = natter_testkit::RawWs::open(addr, None, WAIT)
            .await
            .expect("engine.io open");
        raw.send_text(connect.clone()).await.expect("CONNECT");
        drop(raw);
    }
    // Whatever bob heard meanwhile, alice's last socket closing must end with "offline".
    let alice = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("a real socket");
    alice.barrier().await.expect("alice is set up");
    alice.close().await;
    let mut last = None;
    let settled = tokio::time::timeout(WAIT, async {
        loop {
            match bob.next_event_where::<PresenceEvent>(WAIT, is_alice).await {
                Ok(p) if !p.online => break,
                Ok(p) => last = Some(p),
                Err(e) => panic!("bob never hears alice go offline (last: {last:?}): {e}"),
            }
        }
    })
    .await;
    assert!(settled.is_ok(), "alice offline within {WAIT:?}");
    relay.stop().await;
}
