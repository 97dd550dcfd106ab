//! S2: input over the size limits (Socket.IO payload ≤ 64 KiB): a WebSocket message over the
//! limit in one frame and in many small frames, one huge frame, a polling body over
//! `max_payload` (sent, and merely announced), binary attachments. Each is rejected and its
//! connection closed (or, for polling, refused), a control conversation carries on, and the
//! relay's memory stays bounded while many arrive at once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use natter_protocol::limits::MAX_PAYLOAD_BYTES;
use natter_protocol::requests::SendMessage;
use natter_protocol::{Event, GENERAL_ROOM_ID};
use natter_testkit::raw::{http_exchange, http_status, json_string, RawError};
use natter_testkit::{RawFrame, RawWs};

use crate::control;
use crate::harness::{self, assert_alive, long};

const WAIT: Duration = Duration::from_secs(10);
/// How much the relay's RSS may grow while oversize input arrives (its buffers are bounded by
/// the limit, so this is a handful of in-flight 64 KiB buffers per connection, and allocator
/// slack).
const RSS_GROWTH_KIB: u64 = 96 * 1024;

/// `42["message:send",{... body of n bytes ...}]`: a payload of more than `n` bytes.
fn big_send(n: usize) -> String {
    let body = "x".repeat(n);
    format!(
        "42[{},{{\"room_id\":\"general\",\"client_id\":\"big\",\"body\":{}}}]",
        json_string(SendMessage::NAME),
        json_string(&body)
    )
}

/// One oversize attempt of `kind` on a fresh connection; true if the relay closed it (or
/// refused the request) without a success.
async fn attempt(addr: SocketAddr, token: &str, kind: usize) -> bool {
    let over = MAX_PAYLOAD_BYTES + 1024;
    if kind >= 4 {
        // Polling: a body over max_payload, sent in full or merely announced.
        let sid = natter_testkit::raw::polling_sid(addr, WAIT)
            .await
            .expect("a polling open")
            .expect("a sid in the open packet");
        let payload = format!(
            "40{{\"token\":{}}}\u{1e}{}",
            json_string(token),
            big_send(over)
        );
        let (head_len, body) = if kind == 4 {
            (payload.len(), payload.clone())
        } else {
            (1 << 30, payload[..1024].to_owned()) // announces 1 GiB, sends 1 KiB
        };
        let request = format!(
            "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\
             Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {head_len}\r\n\r\n{body}"
        );
        return match http_exchange(addr, request.as_bytes(), WAIT, 64 * 1024).await {
            Ok(answer) => {
                let status = http_status(&answer);
                // Refused (4xx), or the connection closed without an answer.
                status.is_none_or(|s| (400..500).contains(&s))
            }
            // Still waiting for the announced body: the relay holds the connection open.
            Err(RawError::Timeout(_)) => false,
            Err(_) => true, // reset
        };
    }
    let mut ws = RawWs::connect(addr, token, None, WAIT)
        .await
        .expect("connect");
    let sent = match kind {
        0 => ws.send(RawFrame::Text(big_send(over))).await,
        1 => {
            // The same message in 70 frames of ~1 KiB: the limit is on the message.
            let text = big_send(over).into_bytes();
            let parts = text.chunks(1024).map(<[u8]>::to_vec).collect();
            ws.send_fragments(parts).await
        }
        2 => {
            ws.send(RawFrame::Binary(vec![0x42; 4 * MAX_PAYLOAD_BYTES]))
                .await
        }
        _ => {
            // A binary attachment to a send (Socket.IO BINARY_EVENT), then the attachment.
            let head = format!(
                "451-7[{},{{\"room_id\":\"general\",\"client_id\":\"bin\",\"body\":{{\"_placeholder\":true,\"num\":0}}}}]",
                json_string(SendMessage::NAME)
            );
            match ws.send(RawFrame::Text(head)).await {
                Ok(()) => ws.send(RawFrame::Binary(vec![1, 2, 3, 4])).await,
                Err(e) => Err(e),
            }
        }
    };
    if sent.is_err() {
        return true; // closed while we wrote
    }
    if kind == 3 {
        // Either the relay closes the connection, or it refuses the send in its ack. No answer
        // at all is a relay that hangs on the send: a failure, as for polling above.
        return match ws.ack(7, WAIT).await {
            Ok(ack) => ack.contains("\"ok\":false"),
            Err(RawError::Closed | RawError::Ws(_) | RawError::Io(_)) => true,
            Err(_) => false, // a timeout, or something other than an answer or a close
        };
    }
    ws.closed_within(WAIT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_oversize_input_is_rejected_and_memory_bounded() {
    let _serial = crate::harness::serial().await;
    let rounds = if long() { 200 } else { 10 };
    let dir = tempfile::tempdir().expect("a data dir");
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &[])).await;
    let (_, alice) = api.join("alice").await;
    let (_, bob) = api.join("bob").await;
    let mallory = api.user("mallory").await.token;
    let stop = Arc::new(AtomicBool::new(false));
    let control = control::spawn(alice, bob, Duration::from_millis(150), stop.clone());
    let baseline = relay.rss_kib().expect("RSS");
    let mut peak = baseline;
    let mut rejected = 0;
    for round in 0..rounds {
        // Six kinds, eight at once each: 48 oversize inputs in flight.
        let mut tasks = Vec::new();
        for kind in 0..6 {
            for _ in 0..8 {
                let token = mallory.clone();
                let addr = relay.addr();
                tasks.push(tokio::spawn(async move {
                    (kind, attempt(addr, &token, kind).await)
                }));
            }
        }
        for t in tasks {
            let (kind, ok) = t.await.expect("an attempt");
            assert!(
                ok,
                "round {round}: oversize input of kind {kind} was not rejected"
            );
            rejected += 1;
        }
        peak = peak.max(relay.rss_kib().expect("RSS"));
        assert_alive(&mut relay, "during the oversize input");
    }
    stop.store(true, Ordering::SeqCst);
    let rounds_seen = control
        .await
        .expect("the control conversation never failed");
    // Nothing of it was stored.
    let (_, reader) = api.join("reader").await;
    let db = harness::stored(&reader, &[GENERAL_ROOM_ID.to_owned()]).await;
    let odd = db
        .values()
        .flatten()
        .filter(|m| m.client_id == "big" || m.client_id == "bin")
        .count();
    assert_eq!(odd, 0, "no oversize or binary send was stored");
    eprintln!(
        "S2: {rejected} oversize inputs rejected (6 kinds); control {} rounds, p99 {:?}; RSS \
         baseline {baseline} KiB, peak {peak} KiB",
        rounds_seen.latencies.len(),
        rounds_seen.percentile(99.0)
    );
    assert!(
        peak <= baseline + RSS_GROWTH_KIB,
        "RSS grew from {baseline} KiB to {peak} KiB"
    );
    reader.close().await;
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
