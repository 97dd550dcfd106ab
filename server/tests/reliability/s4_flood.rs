//! S4: one user sends at 1,000 messages/s (pipelined, without waiting for acks) for a few
//! seconds; the relay's default limits (a burst of 30, then 10/s) let only that rate through and
//! refuse the rest with `rate_limited`, without disconnecting; meanwhile another pair's
//! conversation keeps its latency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_protocol::limits::{SEND_BURST, SEND_PER_SECOND};
use natter_protocol::requests::SendMessage;
use natter_protocol::{Event, GENERAL_ROOM_ID};
use natter_testkit::RawWs;
use serde_json::Value;

use crate::control;
use crate::harness::{self, assert_alive, long};

const WAIT: Duration = Duration::from_secs(10);
const RATE: u64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_flood_is_throttled_and_harms_no_one() {
    let _serial = crate::harness::serial().await;
    let secs = if long() { 30 } else { 3 };
    let dir = tempfile::tempdir().expect("a data dir");
    // The relay's default send limits: the flag defaults are the protocol's.
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &[])).await;
    let (_, alice) = api.join("alice").await;
    let (_, bob) = api.join("bob").await;
    let flooder = api.user("flooder").await;

    // The pair's latency without a flood, then with one.
    let stop = Arc::new(AtomicBool::new(false));
    let quiet = control::spawn(alice, bob, Duration::from_millis(150), stop.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    let quiet = quiet.await.expect("the quiet rounds");
    let (_, alice) = api.join("alice2").await;
    let (_, bob) = api.join("bob2").await;
    let stop = Arc::new(AtomicBool::new(false));
    let loud = control::spawn(alice, bob, Duration::from_millis(150), stop.clone());

    let mut ws = RawWs::connect(relay.addr(), &flooder.token, None, WAIT)
        .await
        .expect("the flooder connects");
    let started = Instant::now();
    let total = RATE * secs;
    let (mut sent, mut ok, mut limited, mut other) = (0u64, 0u64, 0u64, 0u64);
    let tally = |text: &str, ok: &mut u64, limited: &mut u64, other: &mut u64| {
        let ack: Value =
            serde_json::from_str(text.get(text.find('[').unwrap_or(0)..).unwrap_or(""))
                .unwrap_or(Value::Null);
        let ack = &ack[0];
        if ack["ok"] == Value::Bool(true) {
            *ok += 1;
        } else if ack["error"]["code"] == "rate_limited" {
            *limited += 1;
        } else {
            *other += 1;
        }
    };
    while sent < total {
        // Keep to the schedule: send what is due by now, 1 ms apart on average.
        let due = (started.elapsed().as_millis() as u64 * RATE / 1_000).min(total);
        while sent < due {
            sent += 1;
            let req = SendMessage {
                room_id: GENERAL_ROOM_ID.to_owned(),
                client_id: format!("flood-{sent}"),
                body: format!("flood {sent}"),
                reply_to: None,
                attachments: Vec::new(),
            };
            let json = serde_json::to_string(&req).expect("serializes");
            ws.emit(SendMessage::NAME, &json)
                .await
                .expect("the flooder stays connected");
        }
        // Take the acks that arrived meanwhile.
        while let Ok(text) = ws.next_text(Duration::from_millis(1)).await {
            if text.starts_with("43") {
                tally(&text, &mut ok, &mut limited, &mut other);
            }
        }
    }
    let flood_time = started.elapsed();
    while ok + limited + other < sent {
        let text = ws.next_text(WAIT).await.unwrap_or_else(|e| {
            panic!(
                "every flood send is acked ({} of {sent}): {e}",
                ok + limited + other
            )
        });
        if text.starts_with("43") {
            tally(&text, &mut ok, &mut limited, &mut other);
        }
    }
    stop.store(true, Ordering::SeqCst);
    let loud = loud.await.expect("the rounds during the flood");
    assert_alive(&mut relay, "after the flood");
    assert_eq!(other, 0, "only successes and rate_limited");
    let allowed = u64::from(SEND_BURST) + u64::from(SEND_PER_SECOND) * (flood_time.as_secs() + 2);
    assert!(ok <= allowed, "{ok} accepted, at most {allowed} allowed");
    assert!(ok >= u64::from(SEND_BURST), "the burst is accepted ({ok})");
    assert!(limited >= sent - allowed, "the rest is refused ({limited})");
    let (q99, l99) = (quiet.percentile(99.0), loud.percentile(99.0));
    eprintln!(
        "S4: {sent} sends in {flood_time:?} ({:.0}/s): {ok} accepted, {limited} rate_limited; \
         the other pair's p50/p99: quiet {:?}/{q99:?} ({} rounds), during the flood {:?}/{l99:?} \
         ({} rounds)",
        sent as f64 / flood_time.as_secs_f64(),
        quiet.percentile(50.0),
        quiet.latencies.len(),
        loud.percentile(50.0),
        loud.latencies.len()
    );
    // Generous on purpose (a shared 2-core VM): the point is "not starved", measured above.
    assert!(
        l99 <= (q99 * 10).max(Duration::from_millis(500)),
        "the other pair's p99 went from {q99:?} to {l99:?}"
    );
    ws.close().await;
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
