//! S10 (issue 22, item 3): slow request bodies. From 127.0.0.2, requests whose head arrives at
//! once but whose body comes one byte a second: `/api/login` with a `Content-Length`,
//! `/api/login` chunked, and a polling POST (Engine.IO) chunked. With `--body-timeout-secs 2`
//! each must be answered `408` or closed within the deadline (+5 s slack) and not before it;
//! meanwhile alice on 127.0.0.3 logs in.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use natter_testkit::raw::tcp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{self, assert_alive, long};
use crate::util::{Api, PASSWORD};

const DEADLINE_SECS: u64 = 2;
const MARGIN: Duration = Duration::from_secs(5);
const DRIBBLE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
enum Kind {
    LoginSized,
    LoginChunked,
    PollingChunked,
}

/// An Engine.IO polling session's id, opened with `http` (one client for all: building one
/// costs enough CPU that a hundred at once starved the test's runtime).
async fn polling_sid(http: &reqwest::Client, addr: SocketAddr) -> String {
    let body = http
        .get(format!("http://{addr}/socket.io/?EIO=4&transport=polling"))
        .send()
        .await
        .expect("an Engine.IO open")
        .text()
        .await
        .expect("its body");
    let json = body.trim_start_matches(|c: char| c.is_ascii_digit());
    let open: serde_json::Value = serde_json::from_str(json).expect("the open packet");
    open["sid"].as_str().expect("a sid").to_owned()
}

/// Sends the head, then the body a byte at a time; how long until the relay answered or closed.
async fn slow(addr: SocketAddr, kind: Kind, http: reqwest::Client) -> Duration {
    let (path, chunked) = match kind {
        Kind::LoginSized => ("/api/login".to_owned(), false),
        Kind::LoginChunked => ("/api/login".to_owned(), true),
        Kind::PollingChunked => (
            format!(
                "/socket.io/?EIO=4&transport=polling&sid={}",
                polling_sid(&http, addr).await
            ),
            true,
        ),
    };
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        "Content-Length: 1000".to_owned()
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: natter\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    );
    let local = Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    let mut s = tcp(addr, local).await.expect("connect");
    let started = Instant::now();
    s.write_all(head.as_bytes()).await.expect("the head");
    let dribble = async {
        for _ in 0..1_000 {
            let byte: &[u8] = if chunked { b"1\r\n{\r\n" } else { b"{" };
            if s.write_all(byte).await.is_err() {
                return;
            }
            let mut buf = [0u8; 512];
            if let Ok(Ok(n)) = tokio::time::timeout(DRIBBLE, s.read(&mut buf)).await {
                if n == 0 || buf.starts_with(b"HTTP/1.1 4") {
                    return;
                }
            }
        }
    };
    let limit = Duration::from_secs(DEADLINE_SECS) + MARGIN;
    tokio::time::timeout(limit, dribble)
        .await
        .unwrap_or_else(|_| panic!("{kind:?}: a slow body still open after {limit:?}"));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(DEADLINE_SECS) * 9 / 10,
        "{kind:?}: closed after {took:?}, before its deadline"
    );
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_slow_bodies_are_closed_by_their_deadline() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let deadline = DEADLINE_SECS.to_string();
    let args = ["--body-timeout-secs", deadline.as_str()];
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &args)).await;
    let addr = relay.addr();
    api.user("alice").await;
    let each = if long() { 100 } else { 3 };
    let kinds = [Kind::LoginSized, Kind::LoginChunked, Kind::PollingChunked];
    let http = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .expect("an HTTP client");
    let slow_ones: Vec<_> = (0..each)
        .flat_map(|_| kinds.map(|k| tokio::spawn(slow(addr, k, http.clone()))))
        .collect();
    // Meanwhile, alice logs in from elsewhere.
    let victim = Api::from_address(relay.url(), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3))));
    let t = Instant::now();
    victim
        .login("alice", PASSWORD)
        .await
        .expect("alice logs in");
    let alice_took = t.elapsed();
    let mut slowest = Duration::ZERO;
    for task in slow_ones {
        slowest = slowest.max(task.await.expect("a slow client"));
    }
    eprintln!(
        "S10: {} slow bodies ({each} of each kind) closed, the slowest after {slowest:?} \
         (deadline {DEADLINE_SECS} s); alice logged in in {alice_took:?} meanwhile",
        each * kinds.len()
    );
    assert_alive(&mut relay, "after S10");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
