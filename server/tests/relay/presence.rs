//! Presence: online at a user's first socket, offline when the last one closes (also when sockets
//! come and go at once, and while the relay is busy), never sent to its subject, only to people
//! who share a room other than `general` (issue 22 item 6), the snapshot a new socket gets of
//! everyone it shares such a room with, and presence at once when a membership change makes
//! people share one (issue 23 item 5). The test relay has no presence grace; the grace (churn
//! debounced) and connect limits are reliability test S15's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use natter_protocol::events::PresenceEvent;
use natter_protocol::requests::OpenDm;
use natter_protocol::GENERAL_ROOM_ID;

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_follows_the_first_and_last_socket() {
    let relay = TestRelay::start().await;
    let (_, bob) = relay.join("bob").await;
    let alice_auth = relay.user("alice").await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";
    share_a_room(&bob, "alice").await;

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
    group(&carol, "carol and bob", &["bob"]).await;
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
    share_a_room(&bob, "alice").await;
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
    share_a_room(&bob, "alice").await;
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
async fn a_new_socket_learns_the_presence_of_everyone_it_shares_a_room_with() {
    let relay = TestRelay::start().await;
    let (_, _bob) = relay.join("bob").await;
    let (_, _carol) = relay.join("carol").await; // online, but shares only general with alice
    let (_, dave) = relay.join("dave").await; // shares a room with alice, then goes offline
    relay.user("erin").await; // shares a room with alice, never seen online
    let alice_auth = relay.user("alice").await;
    let setup = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("connect");
    group(&setup, "friends", &["bob", "dave", "erin"]).await;
    dave.close().await;
    let dave_gone = setup
        .next_event_where::<PresenceEvent>(WAIT, |p| p.user == "dave" && !p.online)
        .await
        .expect("dave's offline (and his last_seen stored) before alice reconnects");
    setup.close().await;

    let alice = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("connect");
    // The snapshot is sent in one go, in name order, before anything else.
    let mut snapshot = Vec::new();
    for _ in 0..3 {
        let p = alice
            .next_event::<PresenceEvent>()
            .await
            .expect("alice is told the presence of everyone in her rooms");
        snapshot.push((p.user.clone(), p.online, p.last_seen.clone()));
    }
    assert_eq!(snapshot[0].0, "bob");
    assert!(snapshot[0].1, "bob is online: {snapshot:?}");
    assert_eq!(
        (snapshot[1].0.as_str(), snapshot[1].1, &snapshot[1].2),
        ("dave", false, &dave_gone.last_seen),
        "dave is offline, seen when he left"
    );
    assert_eq!(
        (snapshot[2].0.as_str(), snapshot[2].1, &snapshot[2].2),
        ("erin", false, &None),
        "erin is offline, never seen"
    );
    alice
        .expect_no_event::<PresenceEvent>()
        .await
        .expect("nothing about carol (general only) or alice herself");
    relay.stop().await;
}

/// Issue 22 item 6: `general` holds everyone, so presence through it told every stranger when
/// anyone came and went. Only people who share another room hear it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_not_sent_through_general() {
    let relay = TestRelay::start().await;
    let (_, bob) = relay.join("bob").await; // shares only general with alice
    let (_, carol) = relay.join("carol").await;
    let alice_auth = relay.user("alice").await;
    share_a_room(&carol, "alice").await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";

    let alice = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("connect");
    let online = carol
        .next_event_where::<PresenceEvent>(WAIT, is_alice)
        .await
        .expect("carol, who shares a room with alice, sees her come online");
    assert!(online.online);
    alice.close().await;
    let offline = carol
        .next_event_where::<PresenceEvent>(WAIT, is_alice)
        .await
        .expect("and go offline");
    assert!(!offline.online);
    bob.expect_no_event_where::<PresenceEvent>(is_alice)
        .await
        .expect("bob, who shares only general with alice, hears nothing of her");
    relay.stop().await;
}

/// Issue 23 item 5: people already online who come to share a room (a DM opened, a room
/// created) see each other's presence at once, not only after one of them reconnects; someone
/// offline is shown offline with when they were last seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_a_new_room_shows_each_other_s_presence_at_once() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    let (_, dave) = relay.join("dave").await;
    // Dave leaves; carol, who shares a room with him, hears it (so his last_seen is stored).
    group(&carol, "carol and dave", &["dave"]).await;
    dave.close().await;
    let dave_gone = carol
        .next_event_where::<PresenceEvent>(WAIT, |p| p.user == "dave" && !p.online)
        .await
        .expect("carol hears dave go offline");
    for c in [&alice, &bob] {
        c.discard::<PresenceEvent>().await.expect("a clean start");
    }

    let dm = alice
        .request(&OpenDm {
            username: "bob".into(),
        })
        .await
        .expect("alice opens a DM with bob");
    assert_eq!(dm.room.members, vec!["alice", "bob"]);
    let bob_seen = alice
        .next_event_where::<PresenceEvent>(WAIT, |p| p.user == "bob")
        .await
        .expect("alice is told bob's presence when the DM opens");
    assert!(bob_seen.online, "bob is online: {bob_seen:?}");
    let alice_seen = bob
        .next_event_where::<PresenceEvent>(WAIT, |p| p.user == "alice")
        .await
        .expect("bob is told alice's presence when the DM opens");
    assert!(alice_seen.online, "alice is online: {alice_seen:?}");

    group(&alice, "alice and dave", &["dave"]).await;
    let dave_seen = alice
        .next_event_where::<PresenceEvent>(WAIT, |p| p.user == "dave")
        .await
        .expect("alice is told dave's presence when they come to share a room");
    assert!(!dave_seen.online);
    assert_eq!(
        dave_seen.last_seen, dave_gone.last_seen,
        "when dave was last seen"
    );
    alice
        .expect_no_event_where::<PresenceEvent>(|p| p.user == "carol")
        .await
        .expect("nothing about carol, with whom alice shares only general");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_closed_before_its_connect_ack_leaves_no_presence_behind() {
    let relay = TestRelay::start().await;
    let (_, bob) = relay.join("bob").await;
    let alice_auth = relay.user("alice").await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";
    share_a_room(&bob, "alice").await;
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

/// A reconnect within the grace announces nothing, but a logout is no reconnect: its sockets
/// are closed by the relay, and "offline" comes at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_is_offline_at_once_and_a_quick_reconnect_is_no_news() {
    let relay = TestRelay::start_with(|c| c.presence_grace_ms = 60_000).await;
    let (_, bob) = relay.join("bob").await;
    let alice_auth = relay.user("alice").await;
    share_a_room(&bob, "alice").await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";

    let alice = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("connect");
    assert!(
        bob.next_event_where::<PresenceEvent>(WAIT, is_alice)
            .await
            .expect("online")
            .online
    );
    alice.close().await;
    let alice = relay
        .connect("alice", &alice_auth.token)
        .await
        .expect("reconnect within the grace");
    alice.barrier().await.expect("alice is set up");
    bob.expect_no_event_where::<PresenceEvent>(is_alice)
        .await
        .expect("a reconnect within the grace is no news");

    relay.logout(&alice_auth.token).await.expect("logout");
    let offline = bob
        .next_event_where::<PresenceEvent>(WAIT, is_alice)
        .await
        .expect("offline at once, not after the 60 s grace");
    assert!(!offline.online);
    drop(alice);
    relay.stop().await;
}

/// `client` makes a group with `other` (offline), so presence travels between them, and
/// forgets what it was told of `other` meanwhile.
async fn share_a_room(client: &Client, other: &str) {
    group(client, &format!("with {other}"), &[other]).await;
    client
        .discard::<PresenceEvent>()
        .await
        .expect("a clean start");
}
