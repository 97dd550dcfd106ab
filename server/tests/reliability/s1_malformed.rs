//! S1: ≥ 10,000 generated malformed Engine.IO / Socket.IO inputs (long form: 100,000) against
//! the relay binary, from a printed seed: bad handshakes (EIO version, transport), unknown and
//! reused sids, unknown packet types, non-string / reserved names, huge / negative / non-numeric
//! ack ids, attachment counts, deep nesting, invalid UTF-8, `__proto__` keys, wrong field types
//! in every event. The relay never panics or exits, a control conversation carries on, and its
//! memory comes back to the baseline once the attackers leave.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::gen::Malformed;
use natter_protocol::requests::ListRooms;
use natter_protocol::Event;
use natter_testkit::raw::{http_exchange, http_status, RawError};
use natter_testkit::RawWs;

use crate::harness::{self, assert_alive, long, seed};
use natter_protocol::fuzz as fuzz_bodies;

use crate::{control, corpus};

const WAIT: Duration = Duration::from_secs(10);
/// Probes between two checks that the attacker's connection still answers.
const BATCH: usize = 10;
/// RSS above the baseline still counted as "back": allocator slack, not a leak (a leak of even
/// 100 bytes per input would be 1 MB per 10,000 and grow with the long form).
const RSS_SLACK_KIB: u64 = 24 * 1024;

/// What one attacker saw.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    closed_by_relay: usize,
    stalled: usize,
    handshakes: usize,
    kinds: BTreeMap<&'static str, usize>,
}

async fn reopen(addr: SocketAddr, token: &str) -> RawWs {
    RawWs::connect(addr, token, None, WAIT)
        .await
        .unwrap_or_else(|e| panic!("an attacker connects: {e}"))
}

/// A polling POST of `body` to `/socket.io/?EIO=4&transport=polling&{query}`.
fn post(query: &str, body: &str) -> String {
    format!(
        "POST /socket.io/?EIO=4&transport=polling&{query} HTTP/1.1\r\nHost: x\r\n\
         Connection: close\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Connection-level probes: bad handshakes, unknown sids, a polling sid reused over WebSocket.
async fn handshake_probe(addr: SocketAddr, gen: &mut Malformed, tally: &mut Tally) {
    tally.handshakes += 1;
    let pick = gen.rng().below(5);
    let query = gen.handshake_query();
    let sid = gen.unknown_sid();
    let request = match pick {
        0 => format!("GET /socket.io/?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        1 => format!("GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        2 => post(&format!("sid={sid}"), "40{}"),
        3 => {
            // A real polling session, then its sid used for a second polling open and a
            // WebSocket upgrade by someone else, and junk posted to it.
            let sid = natter_testkit::raw::polling_sid(addr, WAIT)
                .await
                .expect("a polling open answers")
                .unwrap_or_else(|| "none".to_owned());
            let _ = RawWs::handshake(addr, &format!("EIO=4&transport=websocket&sid={sid}"), None).await;
            let _ = RawWs::handshake(addr, &format!("EIO=3&transport=websocket&sid={sid}"), None).await;
            post(&format!("sid={sid}"), "4\u{1e}9\u{1e}\u{1e}x")
        }
        _ => {
            // Refused at the handshake is fine; accepted, it must still behave.
            if let Ok(mut ws) = RawWs::handshake(addr, &query, None).await {
                let _ = ws.next_text(Duration::from_millis(200)).await;
                ws.close().await;
            }
            return;
        }
    };
    match http_exchange(addr, request.as_bytes(), WAIT, 64 * 1024).await {
        Ok(answer) => {
            let status = http_status(&answer);
            assert!(
                status.is_none_or(|s| s < 500),
                "a bad handshake is a client error, not {status:?}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        Err(RawError::Timeout(_)) => {
            panic!("a bad handshake is answered or closed in time: {request:?}")
        }
        Err(_) => {} // reset: fine
    }
}

async fn attacker(addr: SocketAddr, token: String, mut gen: Malformed, probes: usize) -> Tally {
    let mut tally = Tally::default();
    let mut ws = reopen(addr, &token).await;
    let mut in_batch = 0;
    let mut guard = 0usize;
    while tally.sent < probes && guard < probes * 4 {
        guard += 1;
        if gen.rng().below(20) == 0 {
            handshake_probe(addr, &mut gen, &mut tally).await;
            tally.sent += 1;
            continue;
        }
        let probe = gen.probe();
        if ws.send(probe.frame).await.is_err() {
            tally.closed_by_relay += 1;
            ws = reopen(addr, &token).await;
            in_batch = 0;
            continue;
        }
        tally.sent += 1;
        *tally.kinds.entry(probe.kind).or_default() += 1;
        in_batch += 1;
        if in_batch == BATCH {
            in_batch = 0;
            match ws.request(ListRooms::NAME, "{}", WAIT).await {
                Ok(_) => {}
                Err(RawError::Timeout(_)) => {
                    // A confused connection (e.g. waiting for announced attachments): it is the
                    // attacker's own; drop it.
                    tally.stalled += 1;
                    ws = reopen(addr, &token).await;
                }
                Err(_) => {
                    tally.closed_by_relay += 1;
                    ws = reopen(addr, &token).await;
                }
            }
        }
    }
    ws.close().await;
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_malformed_input_harms_no_one() {
    let _serial = crate::harness::serial().await;
    let total = std::env::var("NATTER_S1_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if long() { 100_000 } else { 10_000 });
    let seed = seed("S1");
    let dir = tempfile::tempdir().expect("a data dir");
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &[])).await;
    let (_, alice) = api.join("alice").await;
    let (_, bob) = api.join("bob").await;
    let (_, carol) = api.join("carol").await;
    let room = crate::harness::group(&carol, "private", &["alice"]).await;
    carol.close().await;
    let mallory = api.user("mallory").await;

    let stop = Arc::new(AtomicBool::new(false));
    let rounds = control::spawn(alice, bob, Duration::from_millis(150), stop.clone());

    // Warm-up (allocator arenas, caches, one attacker's worth of buffers), then the baseline.
    let warm = Malformed::new(seed ^ 1, corpus::requests(&room.id));
    attacker(relay.addr(), mallory.token.clone(), warm, 500).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = relay.rss_kib().expect("the relay's RSS");

    let started = Instant::now();
    let attackers = 2;
    let mut tasks = Vec::new();
    for k in 0..attackers {
        let gen = Malformed::new(seed.wrapping_add(k), corpus::requests(&room.id));
        tasks.push(tokio::spawn(attacker(
            relay.addr(),
            mallory.token.clone(),
            gen,
            total / attackers as usize,
        )));
    }
    let mut tally = Tally::default();
    let mut peak = baseline;
    // RSS and open sockets every 2 s while the attack runs: growth shows as a trend.
    let mut series = Vec::new();
    while !tasks.iter().all(|t| t.is_finished()) && series.len() < 10_000 {
        series.push((
            started.elapsed().as_secs(),
            relay.rss_kib().unwrap_or(0) / 1024,
            relay.socket_count().unwrap_or(0),
        ));
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    eprintln!("S1: (s, RSS MiB, sockets) during the attack: {series:?}");
    for t in tasks {
        let t = t.await.expect("an attacker task");
        tally.sent += t.sent;
        tally.closed_by_relay += t.closed_by_relay;
        tally.stalled += t.stalled;
        tally.handshakes += t.handshakes;
        for (k, n) in t.kinds {
            *tally.kinds.entry(k).or_default() += n;
        }
        peak = peak.max(relay.rss_kib().unwrap_or(0));
    }
    let elapsed = started.elapsed();
    assert_alive(&mut relay, "after the malformed input");
    stop.store(true, Ordering::SeqCst);
    let rounds = rounds.await.expect("the control conversation never failed");
    assert!(!rounds.latencies.is_empty(), "the control conversation ran");

    // Memory back to the baseline once the attackers are gone (bounded wait).
    let mut after = relay.rss_kib().expect("RSS");
    for _ in 0..40 {
        if after <= baseline + RSS_SLACK_KIB {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        after = relay.rss_kib().expect("RSS");
    }
    assert!(
        after <= baseline + RSS_SLACK_KIB,
        "RSS {after} KiB after the attack, baseline {baseline} KiB"
    );
    // A newcomer is served as usual.
    let (_, dave) = api.join("dave").await;
    dave.close().await;
    assert_alive(&mut relay, "at the end");
    eprintln!(
        "S1: {} inputs ({} connection-level) in {elapsed:?}, seed {seed}; relay closed the \
         attacker {} times, {} stalled; 0 panics; control: {} rounds, p50 {:?} p99 {:?}; RSS \
         baseline {baseline} KiB, peak {peak} KiB, after {after} KiB; kinds {:?}",
        tally.sent,
        tally.handshakes,
        tally.closed_by_relay,
        tally.stalled,
        rounds.latencies.len(),
        rounds.percentile(50.0),
        rounds.percentile(99.0),
        tally.kinds
    );
    assert!(tally.sent >= total, "{} of {total} inputs sent", tally.sent);
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}

/// The same generator against the fuzz targets' bodies (`fuzz/bodies.rs`, what `cargo fuzz`
/// runs without a seed), in-process: every generated frame's bytes through both targets, and
/// every JSON value the packets carry through every request's decode. Nothing panics; valid
/// samples decode.
#[test]
fn s1_decode_and_validate_never_panic() {
    let total = if long() { 1_000_000 } else { 100_000 };
    let seed = seed("S1 decode");
    let mut gen = Malformed::new(seed, corpus::requests("some-room"));
    let (mut parsed, mut accepted) = (0usize, 0usize);
    for _ in 0..total {
        let probe = gen.probe();
        let bytes: Vec<u8> = match probe.frame {
            natter_testkit::RawFrame::Text(t) => t.into_bytes(),
            natter_testkit::RawFrame::Binary(b) | natter_testkit::RawFrame::BadUtf8Text(b) => b,
        };
        fuzz_bodies::validate_fields(&bytes);
        // `42<id>[name, payload, ...]`: the JSON array after the packet type and ack id.
        let Some(at) = bytes.iter().position(|b| *b == b'[') else {
            continue;
        };
        let body = &bytes[at..];
        fuzz_bodies::decode_request(body);
        let Ok(serde_json::Value::Array(args)) = serde_json::from_slice(body) else {
            continue;
        };
        parsed += 1;
        for arg in &args {
            let arg_bytes = serde_json::to_vec(arg).expect("a JSON value serializes");
            accepted += fuzz_bodies::decode_request(&arg_bytes);
            if let Some(text) = arg.as_str() {
                fuzz_bodies::validate_fields(text.as_bytes());
            }
        }
    }
    for (_, valid) in corpus::requests("some-room") {
        assert!(
            fuzz_bodies::decode_value(&valid) >= 1,
            "a valid sample decodes: {valid}"
        );
    }
    eprintln!(
        "S1 decode: {total} generated packets through the fuzz targets' bodies, {parsed} with a \
         JSON body, {accepted} decodes accepted; 0 panics"
    );
    assert!(parsed > total / 2, "most packets carry JSON ({parsed})");
    assert!(accepted > 0, "some generated payloads decode");
}
