//! S5 on the relay binary, all at once and in numbers (short: 100 of each kind, long: 1,000):
//! sockets that dribble their HTTP headers, Engine.IO sessions that never send the Socket.IO
//! CONNECT, and connected clients that ignore pings. Each is closed within its own timeout while
//! a new client still connects and is served; the relay's open sockets return to baseline.
//! (server/tests/relay/slow_clients.rs covers each kind alone, in-process.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use natter_testkit::raw::tcp;
use natter_testkit::RawWs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{self, assert_alive, long};

/// The header-read and connect timeouts.
const TIMEOUT_SECS: u64 = 2;
/// A ping timeout long enough that a CONNECT-less session the ping timeout ends cannot pass for
/// one the connect timeout ended. (socketioxide sends its first ping as the session opens, so an
/// unanswered session ends after the ping timeout, not after interval + timeout.)
const PING_INTERVAL_SECS: u64 = 10;
const PING_TIMEOUT_SECS: u64 = 10;
/// Slack on top of a timeout for the relay to notice and close, on a busy machine.
const MARGIN: Duration = Duration::from_secs(5);
const WAIT: Duration = Duration::from_secs(20);

/// Dribbles a request head one byte per 300 ms; returns how long until the relay closed it.
async fn dribbler(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut s = tcp(addr, None).await.expect("connect");
    let head = b"GET /healthz HTTP/1.1\r\nHost: natter\r\nX-Slow: ";
    let dribble = async {
        for _ in 0..1_000 {
            for b in head.iter().chain(std::iter::repeat_n(&b'a', 1_000)) {
                if s.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                // Closed by the relay? A read returns 0 (or the 408 it may write first).
                let mut buf = [0u8; 256];
                if let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await
                {
                    if n == 0 || buf.starts_with(b"HTTP/1.1 408") {
                        return;
                    }
                }
            }
        }
    };
    let limit = Duration::from_secs(TIMEOUT_SECS) + MARGIN;
    tokio::time::timeout(limit, dribble)
        .await
        .unwrap_or_else(|_| panic!("a header dribbler still open after {limit:?}"));
    not_before(
        started,
        Duration::from_secs(TIMEOUT_SECS),
        "a header dribbler",
    )
}

/// How long since `started`, which must be at least `timeout` (a tenth off for timer rounding):
/// the relay closed the connection by that timeout, not sooner.
fn not_before(started: Instant, timeout: Duration, what: &str) -> Duration {
    let took = started.elapsed();
    assert!(
        took >= timeout * 9 / 10,
        "{what} closed after {took:?}, before its {timeout:?} timeout"
    );
    took
}

/// Opens Engine.IO and never sends CONNECT.
async fn no_connect(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut ws = RawWs::open(addr, None, WAIT)
        .await
        .expect("an Engine.IO open");
    // Closed by the connect timeout: the ping timeout could not end it this soon.
    let limit = Duration::from_secs(TIMEOUT_SECS) + MARGIN;
    assert!(limit < Duration::from_secs(PING_TIMEOUT_SECS));
    assert!(
        ws.closed_within(limit).await,
        "a CONNECT-less session still open after {limit:?}"
    );
    not_before(
        started,
        Duration::from_secs(TIMEOUT_SECS),
        "a CONNECT-less session",
    )
}

/// Connects, then never answers a ping.
async fn ping_ignorer(addr: SocketAddr, token: String) -> Duration {
    let mut ws = RawWs::connect(addr, &token, None, WAIT)
        .await
        .expect("connect");
    let started = Instant::now();
    // socketioxide pings as the session opens. Unless `connect` read and answered that ping while
    // it waited for the CONNECT ack, the close comes after the ping timeout; else the next ping
    // comes after the interval, and the close after interval + timeout.
    let limit = Duration::from_secs(PING_INTERVAL_SECS + PING_TIMEOUT_SECS) + MARGIN;
    assert!(
        ws.closed_within(limit).await,
        "a ping ignorer still open after {limit:?}"
    );
    // The clock started at the Engine.IO open, a moment before `started`: a tenth off covers it.
    not_before(
        started,
        Duration::from_secs(PING_TIMEOUT_SECS),
        "a ping ignorer",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_slow_clients_are_closed_and_others_served() {
    let _serial = crate::harness::serial().await;
    let each = std::env::var("NATTER_S5_EACH")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if long() { 1_000 } else { 100 });
    natter_testkit::procfs::raise_nofile();
    let dir = tempfile::tempdir().expect("a data dir");
    let t = TIMEOUT_SECS.to_string();
    let (pi, pt) = (
        PING_INTERVAL_SECS.to_string(),
        PING_TIMEOUT_SECS.to_string(),
    );
    let mut spec = harness::spec(
        dir.path(),
        &[
            "--header-read-timeout-secs",
            &t,
            "--connect-timeout-secs",
            &t,
            "--ping-interval-secs",
            &pi,
            "--ping-timeout-secs",
            &pt,
            // Every slow client is one user ("slowpoke") on 127.0.0.1: the caps of S12 and
            // S13 are out of this test's way.
            "--sockets-per-user",
            "100000",
            "--sockets-per-address",
            "100000",
            "--connections-per-address",
            "100000",
        ],
    );
    spec.raise_nofile = true;
    let (mut relay, api) = harness::start(&spec).await;
    let token = api.user("slowpoke").await.token;
    let fresh = api.user("fresh").await.token;
    let fds_before = relay.socket_count().expect("socket count");
    let addr = relay.addr();

    let mut tasks = Vec::new();
    for _ in 0..each {
        tasks.push(tokio::spawn(dribbler(addr)));
        tasks.push(tokio::spawn(no_connect(addr)));
        tasks.push(tokio::spawn(ping_ignorer(addr, token.clone())));
    }
    // While they hang around: a newcomer connects and is answered.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let mut newcomer = RawWs::connect(addr, &fresh, None, WAIT)
        .await
        .expect("a new client connects");
    newcomer
        .request(
            <natter_protocol::requests::ListRooms as natter_protocol::Event>::NAME,
            "{}",
            WAIT,
        )
        .await
        .expect("and is answered");
    let served = started.elapsed();
    let mut worst = Duration::ZERO;
    for t in tasks {
        worst = worst.max(t.await.expect("a slow client closed in time"));
    }
    newcomer.close().await;
    // Every slow socket is gone from the relay (bounded wait for the last closes).
    let mut fds_after = relay.socket_count().expect("socket count");
    for _ in 0..40 {
        if fds_after <= fds_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        fds_after = relay.socket_count().expect("socket count");
    }
    assert!(
        fds_after <= fds_before,
        "sockets {fds_after}, before {fds_before}"
    );
    assert_alive(&mut relay, "after the slow clients");
    eprintln!(
        "S5: {each} each of header dribblers, CONNECT-less sessions and ping ignorers, all closed \
         (slowest {worst:?}; header and connect timeouts {TIMEOUT_SECS} s, pings every \
         {PING_INTERVAL_SECS} s with {PING_TIMEOUT_SECS} s to answer); a new client connected and was answered \
         in {served:?}; relay sockets {fds_before} → {fds_after}"
    );
    // The figure is 1 s; CI's short form runs on shared machines and only bounds it.
    let bound = Duration::from_secs(if long() { 1 } else { 5 });
    assert!(served <= bound, "a new client waited {served:?}");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
