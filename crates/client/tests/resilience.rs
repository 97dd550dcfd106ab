//! The session through network trouble, against a real relay: WebSocket upgrades refused by a
//! proxy (long-polling fallback), a half-open connection, a thousand sends across relay restarts,
//! and no Nagle stall between a typing event and a send. Every wait is bounded.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use natter_client::session::{AppEvent, DeliveryState};
use natter_client::transport::TransportKind;
use natter_client::OutboxState;
use natter_protocol::GENERAL_ROOM_ID;
use natter_testkit::{Direction, Fault, FaultProxy};
use support::app::{connected, connecting, sent, start, until};
use support::{within, TestRelay};
use tokio::time::Instant;

fn unlimited(c: &mut natter_relay::Config) {
    c.send_burst = 100_000;
    c.send_per_second = 100_000;
    c.typing_per_second = 100_000;
}

async fn relay(dir: &std::path::Path) -> TestRelay {
    TestRelay::at_with(dir, SocketAddr::from(([127, 0, 0, 1], 0)), unlimited).await
}

async fn message_at(events: &mut natter_client::session::AppEvents, body: &str) {
    until(events, &format!("the message {body:?}"), |e| {
        matches!(e, AppEvent::Message { message } if message.body == body).then_some(())
    })
    .await;
}

#[tokio::test]
async fn refused_websocket_upgrades_fall_back_to_long_polling_and_still_chat() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = relay(relay_dir.path()).await;
    let proxy = FaultProxy::start(relay.addr()).await.expect("the proxy");
    proxy.set(Direction::Both, Fault::RejectWebSocketUpgrade);
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a, mut a_events) = start(a_dir.path(), format!("http://{}", proxy.addr()), &alice).await;
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    assert_eq!(connected(&mut a_events).await, TransportKind::Polling);
    assert_eq!(connected(&mut b_events).await, TransportKind::WebSocket);
    assert!(proxy.stats().upgrades_rejected >= 1);

    a.send(GENERAL_ROOM_ID, "over polling")
        .await
        .expect("queued");
    message_at(&mut b_events, "over polling").await;
    b.send(GENERAL_ROOM_ID, "back over websocket")
        .await
        .expect("queued");
    message_at(&mut a_events, "back over websocket").await;

    a.stop().await;
    b.stop().await;
    proxy.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_half_open_connection_is_noticed_and_recovered() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = relay(relay_dir.path()).await;
    let proxy = FaultProxy::start(relay.addr()).await.expect("the proxy");
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a, mut a_events) = start(a_dir.path(), format!("http://{}", proxy.addr()), &alice).await;
    let (b, mut b_events) = start(b_dir.path(), relay.url(), &bob).await;
    connected(&mut a_events).await;
    connected(&mut b_events).await;

    // The laptop sleeps: nothing flows, nothing closes. Only the liveness check can tell.
    proxy.set(Direction::Both, Fault::Blackhole);
    let slept = Instant::now();
    connecting(&mut a_events).await;
    // Liveness every 300 ms with 1 s to answer: noticed well within 3 s.
    assert!(
        slept.elapsed() < Duration::from_secs(3),
        "{:?}",
        slept.elapsed()
    );
    let queued = a
        .send(GENERAL_ROOM_ID, "written while asleep")
        .await
        .expect("queued");

    proxy.clear();
    connected(&mut a_events).await;
    sent(&mut a_events, std::slice::from_ref(&queued.client_id)).await;
    message_at(&mut b_events, "written while asleep").await;
    assert!(proxy.stats().connections_accepted >= 2, "it reconnected");

    a.stop().await;
    b.stop().await;
    proxy.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn a_thousand_sends_across_relay_restarts_each_get_their_own_answer() {
    const SENDS: usize = 1_000;
    const RESTART_EVERY: usize = 250;
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let a_dir = tempfile::tempdir().expect("a");
    let mut relay = relay(relay_dir.path()).await;
    let addr = relay.addr();
    let alice = relay.token("alice").await;
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    connected(&mut a_events).await;

    let mut ids = Vec::with_capacity(SENDS);
    let mut bodies = HashMap::new();
    for i in 0..SENDS {
        let body = format!("request {i}");
        let item = a.send(GENERAL_ROOM_ID, &body).await.expect("queued");
        bodies.insert(item.client_id.clone(), body);
        ids.push(item.client_id);
    }
    // Restart the relay each time another 250 are acked, while the drain is in full flow.
    // Waited for 50 acks at a time, so each bounded wait stays short even on a slow disk.
    let mut acked: HashMap<String, i64> = HashMap::new();
    let mut next_restart = RESTART_EVERY;
    while acked.len() < SENDS {
        let step = (acked.len() + 50).min(next_restart).min(SENDS);
        until(&mut a_events, &format!("{step} sends acked"), |e| {
            if let AppEvent::MessageState {
                client_id,
                state: DeliveryState::Sent { seq },
                ..
            } = e
            {
                assert!(acked.insert(client_id, seq).is_none(), "acked once");
            }
            (acked.len() >= step).then_some(())
        })
        .await;
        if acked.len() >= next_restart && acked.len() < SENDS {
            relay.stop().await;
            relay = TestRelay::at_with(relay_dir.path(), addr, unlimited).await;
            next_restart += RESTART_EVERY;
        }
    }
    assert_eq!(next_restart, SENDS, "restarted after 250, 500 and 750");

    // Still alive: one more round trip.
    let last = a.send(GENERAL_ROOM_ID, "still here").await.expect("queued");
    sent(&mut a_events, std::slice::from_ref(&last.client_id)).await;

    // Every answer is the answer to its own request: the cached message at each acked seq
    // carries that send's client_id and body, and seqs follow the order of the sends.
    let cached = a
        .messages(GENERAL_ROOM_ID, None, 5_000)
        .await
        .expect("the cache");
    let by_seq: HashMap<i64, _> = cached.iter().map(|m| (m.seq, m)).collect();
    let mut previous = 0;
    for id in &ids {
        let seq = acked[id];
        assert!(seq > previous, "in order");
        previous = seq;
        let message = by_seq.get(&seq).unwrap_or_else(|| {
            panic!(
                "seq {seq} cached; {} cached, max {:?}",
                cached.len(),
                cached.last().map(|m| m.seq)
            )
        });
        assert_eq!(&message.client_id, id);
        assert_eq!(&message.body, &bodies[id]);
        let item = a
            .cache()
            .outbox_item(id)
            .await
            .expect("the outbox")
            .expect("kept");
        assert_eq!(item.state, OutboxState::Sent { seq });
    }
    let seqs: BTreeSet<i64> = acked.values().copied().collect();
    assert_eq!(seqs.len(), SENDS, "no message twice");
    assert!(a.cache().pending().await.expect("the outbox").is_empty());

    a.stop().await;
    relay.stop().await;
}

#[tokio::test]
async fn typing_then_send_back_to_back_has_no_nagle_stall() {
    const ROUNDS: usize = 50;
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let a_dir = tempfile::tempdir().expect("a");
    let relay = relay(relay_dir.path()).await;
    let alice = relay.token("alice").await;
    let (a, mut a_events) = start(a_dir.path(), relay.url(), &alice).await;
    connected(&mut a_events).await;

    let mut round_trips = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        within("typing", a.typing(GENERAL_ROOM_ID, true))
            .await
            .expect("typing goes out");
        let started = Instant::now();
        let item = a
            .send(GENERAL_ROOM_ID, &format!("quick {i}"))
            .await
            .expect("queued");
        sent(&mut a_events, std::slice::from_ref(&item.client_id)).await;
        round_trips.push(started.elapsed());
    }
    round_trips.sort();
    let p50 = round_trips[ROUNDS / 2];
    eprintln!(
        "typing + send round trip: p50 {p50:?}, max {:?}",
        round_trips[ROUNDS - 1]
    );
    // A Nagle stall (~40 ms) would sit on every round; loopback with fsyncs is a few ms.
    assert!(
        p50 < Duration::from_millis(30),
        "p50 {p50:?}, all {round_trips:?}"
    );

    a.stop().await;
    relay.stop().await;
}
