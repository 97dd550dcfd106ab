//! S12 (issue 22, item 2): what one socket that never reads can make the relay hold, and how
//! many sockets one user and one address may open. Alice's room holds 100 messages of 4,000
//! two-byte characters (a `history` page of them was ~800 KB). From 127.0.0.2 a socket of
//! alice's sends `history` requests for them back to back and reads nothing: the relay's RSS
//! must stay within [`RSS_BOUND_KIB`] of what it was, and bob (another user, another address)
//! is served meanwhile. Then the socket reads its answers: each a bounded page or
//! `rate_limited`. Then, with the default caps, bob opens sockets until refused (64 per user),
//! and four more users from one address until that address is refused (256); a closed socket
//! gives its place back.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use natter_protocol::http::AuthResponse;
use natter_protocol::limits::SYNC_PAGE_BYTES;
use natter_protocol::requests::SendMessage;
use natter_protocol::GENERAL_ROOM_ID;
use natter_relay::config::{DEFAULT_SOCKETS_PER_ADDRESS, DEFAULT_SOCKETS_PER_USER};
use natter_testkit::process::RelayProcess;
use natter_testkit::raw::{json_string, RawError};
use natter_testkit::{Api, RawWs};

use crate::harness::{self, assert_alive, long};
use crate::util::WAIT;

const MESSAGES: usize = 100;
const BODY_CHARS: usize = 4_000;
/// How much the relay's RSS may grow while the requests are answered. Before the bounds, 300
/// requests took it up by hundreds of MiB (the issue: 43 → 226 MiB).
const RSS_BOUND_KIB: u64 = 32 * 1024;
/// Page bytes a socket that reads nothing may be answered at the steady read rate: the relay's
/// `--unread-reply-bytes` (1 MiB) plus what the kernel's socket buffers take on loopback (a few
/// MiB each way) plus a page per read in flight. Before the bound, all of the 150 pages.
const PACED_BOUND_BYTES: usize = 16 * 1024 * 1024;

fn local(last_octet: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
}

/// The answers to the requests 1..=n, read off `ws` in whatever order they come:
/// (ok pages' sizes in bytes, how many `rate_limited`).
async fn answers(ws: &mut RawWs, n: usize, within: Duration) -> (Vec<usize>, usize) {
    let deadline = Instant::now() + within;
    let (mut pages, mut limited) = (Vec::new(), 0);
    while pages.len() + limited < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let text = match ws.next_text(left).await {
            Ok(text) => text,
            Err(e) => panic!("{} of {n} answers read: {e}", pages.len() + limited),
        };
        let Some(rest) = text.strip_prefix("43") else {
            continue;
        };
        let json = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        let value: serde_json::Value = serde_json::from_str(json).expect("an ack's JSON");
        let answer = &value[0];
        if answer["ok"] == true {
            pages.push(text.len());
        } else {
            assert_eq!(answer["error"]["code"], "rate_limited", "{answer}");
            limited += 1;
        }
    }
    (pages, limited)
}

/// Opens a socket with `token` from `from`; `Err(message)` if the relay refused it.
async fn open(addr: SocketAddr, token: &str, from: u8) -> Result<RawWs, String> {
    match RawWs::connect(addr, token, local(from), WAIT).await {
        Ok(ws) => Ok(ws),
        Err(RawError::Refused(message)) => Err(message),
        Err(e) => Err(format!("connect from 127.0.0.{from}: {e}")),
    }
}

/// A relay over `dir` whose `general` holds [`MESSAGES`] bodies of [`BODY_CHARS`] two-byte
/// characters (so a `history` page is byte-capped), sent by alice; her account.
pub(crate) async fn start_with_big_pages(
    dir: &std::path::Path,
) -> (RelayProcess, Api, AuthResponse) {
    let args = ["--send-burst", "1000", "--send-per-second", "1000"];
    let (relay, api) = harness::start(&harness::spec(dir, &args)).await;
    let (alice, writer) = api.join("alice").await;
    let body: String = "é".repeat(BODY_CHARS);
    for i in 0..MESSAGES {
        writer
            .request(&SendMessage {
                room_id: GENERAL_ROOM_ID.to_owned(),
                client_id: format!("big-{i}"),
                body: body.clone(),
                reply_to: None,
                attachments: Vec::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("send {i}: {e}"));
    }
    (relay, api, alice)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s12_a_socket_that_never_reads_holds_little_and_sockets_are_capped() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let (mut relay, api, alice) = start_with_big_pages(dir.path()).await;
    let addr = relay.addr();
    let bob = api.user("bob").await;

    let requests = if long() { 1_000 } else { 300 };
    let before = relay.rss_kib().expect("the relay's RSS");
    let mut attacker = open(addr, &alice.token, 2).await.expect("alice's socket");
    let history = format!(
        "{{\"room_id\":{},\"limit\":100}}",
        json_string(GENERAL_ROOM_ID)
    );
    let started = Instant::now();
    for _ in 0..requests {
        attacker.emit("history", &history).await.expect("a request");
    }
    // Bob, from elsewhere, is served while the attacker's answers pile up.
    let bob_token = bob.token.clone();
    let bob_history = history.clone();
    let victim = tokio::spawn(async move {
        let t = Instant::now();
        let mut ws = open(addr, &bob_token, 3).await?;
        let reply = ws
            .request("history", &bob_history, WAIT)
            .await
            .map_err(|e| format!("bob's history: {e}"))?;
        if !reply.contains("\"ok\":true") {
            return Err(format!("bob refused: {}", &reply[..80.min(reply.len())]));
        }
        Ok((ws, t.elapsed()))
    });
    // The relay builds whatever it will queue within a few seconds; sample its RSS meanwhile.
    let mut peak = before;
    while started.elapsed() < Duration::from_secs(5) {
        peak = peak.max(relay.rss_kib().expect("the relay's RSS"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let grew = peak.saturating_sub(before);
    eprintln!(
        "S12: {requests} history requests unread: relay RSS {before} → {peak} KiB peak (+{grew} KiB)"
    );
    assert!(
        grew <= RSS_BOUND_KIB,
        "a socket that never reads grew the relay by {grew} KiB (at most {RSS_BOUND_KIB})"
    );
    let (victim, bob_took) = victim
        .await
        .expect("bob's task")
        .unwrap_or_else(|e| panic!("bob is served while alice's socket does not read: {e}"));
    eprintln!("S12: bob connected and got his history in {bob_took:?} meanwhile");
    let (pages, limited) = answers(&mut attacker, requests, Duration::from_secs(60)).await;
    let largest = pages.iter().copied().max().unwrap_or(0);
    eprintln!(
        "S12: answered {} pages (largest {largest} bytes), {limited} rate_limited",
        pages.len()
    );
    assert!(!pages.is_empty(), "some requests are served");
    assert!(limited > 0, "the rest are refused");
    assert!(
        largest <= 2 * SYNC_PAGE_BYTES,
        "a history page is bounded like a sync page: {largest} bytes"
    );
    attacker.close().await;

    // Within the rate limits: carol (127.0.0.6) asks 15 times a second for 10 s (the burst of
    // 60 and 10/s allow all 150), reading nothing. What she has not read must stop the pages.
    let carol = api.user("carol").await;
    let mut slow_reader = open(addr, &carol.token, 6).await.expect("carol's socket");
    let paced = if long() { 300 } else { 150 };
    let before = relay.rss_kib().expect("the relay's RSS");
    let mut peak = before;
    let mut tick = tokio::time::interval(Duration::from_millis(1_000 / 15));
    for _ in 0..paced {
        tick.tick().await;
        slow_reader
            .emit("history", &history)
            .await
            .expect("a request");
        peak = peak.max(relay.rss_kib().expect("the relay's RSS"));
    }
    let grew = peak.saturating_sub(before);
    let (paced_pages, paced_limited) =
        answers(&mut slow_reader, paced, Duration::from_secs(60)).await;
    let served: usize = paced_pages.iter().sum();
    eprintln!(
        "S12: {paced} requests at 15/s unread: {} pages ({served} bytes) answered, {paced_limited} rate_limited; relay RSS {before} → {peak} KiB (+{grew} KiB)",
        paced_pages.len()
    );
    assert!(
        grew <= RSS_BOUND_KIB,
        "requests within the rate limits, unread, grew the relay by {grew} KiB (at most {RSS_BOUND_KIB})"
    );
    assert!(
        served <= PACED_BOUND_BYTES,
        "pages for a socket that does not read stop: {served} bytes answered (at most {PACED_BOUND_BYTES})"
    );
    slow_reader.close().await;

    // Sockets per user: bob has one; he may open up to the cap.
    let mut bobs = vec![victim];
    let per_user = usize::try_from(DEFAULT_SOCKETS_PER_USER).expect("a count");
    while bobs.len() < per_user {
        bobs.push(open(addr, &bob.token, 3).await.expect("bob under his cap"));
    }
    let refused = open(addr, &bob.token, 3)
        .await
        .expect_err("bob over his cap is refused");
    assert!(refused.contains("rate_limited"), "{refused}");
    eprintln!("S12: bob's socket {} refused: {refused}", per_user + 1);
    // A closed socket gives its place back (once the relay has seen it close).
    if let Some(ws) = bobs.pop() {
        ws.close().await;
    }
    let again = async {
        loop {
            match open(addr, &bob.token, 3).await {
                Ok(ws) => return ws,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    };
    bobs.push(
        tokio::time::timeout(WAIT, again)
            .await
            .expect("bob reconnects after a close"),
    );

    // Sockets per address: users on 127.0.0.4 fill it, each under the user cap.
    let per_address = usize::try_from(DEFAULT_SOCKETS_PER_ADDRESS).expect("a count");
    let mut crowd = Vec::new();
    let mut user = 0;
    while crowd.len() < per_address {
        user += 1;
        let token = api.user(&format!("crowd{user}")).await.token;
        for _ in 0..per_user.min(per_address - crowd.len()) {
            crowd.push(open(addr, &token, 4).await.expect("under the address cap"));
        }
    }
    let newcomer = api.user("newcomer").await.token;
    let refused = open(addr, &newcomer, 4)
        .await
        .expect_err("the address over its cap is refused");
    assert!(refused.contains("rate_limited"), "{refused}");
    eprintln!(
        "S12: socket {} from 127.0.0.4 refused: {refused}",
        per_address + 1
    );
    open(addr, &newcomer, 5)
        .await
        .expect("the newcomer from another address connects");

    assert_alive(&mut relay, "after S12");
    for ws in bobs.into_iter().chain(crowd) {
        drop(ws);
    }
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
