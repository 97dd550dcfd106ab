//! S13 (issue 22, item 3, the rest): connections per address and a whole-request deadline.
//! With the default cap, 127.0.0.2 opens as many TCP connections as it may and sends nothing;
//! one more must be closed at once (not after the 10 s header timeout), while alice logs in from
//! 127.0.0.3; once they close, 127.0.0.2 is served again. Then a relay with
//! `--connections-per-address 8 --trusted-proxy 127.0.0.4`: the proxy may open more than 8, a
//! plain address may not. Then `--request-timeout-secs 2` with the body timeout at its default
//! (30 s): an API call whose body comes a byte a second is closed within 2 s (+5 s slack).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use natter_relay::config::DEFAULT_CONNECTIONS_PER_ADDRESS;
use natter_testkit::raw::tcp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{self, assert_alive, long};
use crate::util::{Api, PASSWORD};

/// How soon a connection over the cap must be closed (well before the header timeout).
const CLOSED_WITHIN: Duration = Duration::from_secs(2);
const MARGIN: Duration = Duration::from_secs(5);

fn local(last_octet: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
}

/// Whether the relay closes `s` (EOF or reset) within `within`, sending nothing first.
async fn closed(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(within, s.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// A `/healthz` on a connection of its own from `from`; whether it was answered 200.
async fn healthy_from(addr: SocketAddr, from: u8) -> bool {
    let Ok(mut s) = tcp(addr, local(from)).await else {
        return false;
    };
    let request = "GET /healthz HTTP/1.1\r\nHost: natter\r\nConnection: close\r\n\r\n";
    if s.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(CLOSED_WITHIN, s.read_to_end(&mut answer)).await;
    matches!(read, Ok(Ok(_))) && answer.starts_with(b"HTTP/1.1 200")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s13_connections_per_address_are_capped_and_api_calls_have_a_deadline() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &[])).await;
    let addr = relay.addr();
    api.user("alice").await;
    let cap = usize::try_from(DEFAULT_CONNECTIONS_PER_ADDRESS).expect("a count");
    let mut held = Vec::with_capacity(cap);
    let started = Instant::now();
    for _ in 0..cap {
        held.push(
            tcp(addr, local(2))
                .await
                .expect("a connection under the cap"),
        );
    }
    let mut over = tcp(addr, local(2)).await.expect("the kernel accepts");
    assert!(
        closed(&mut over, CLOSED_WITHIN).await,
        "connection {} from one address is closed at once",
        cap + 1
    );
    let victim = Api::from_address(relay.url(), local(3));
    victim
        .login("alice", PASSWORD)
        .await
        .expect("alice logs in from elsewhere meanwhile");
    // The held ones are still open: the cap closed only the one over it.
    assert!(
        !closed(&mut held[0], Duration::from_millis(100)).await,
        "a connection under the cap stays open"
    );
    eprintln!(
        "S13: {cap} idle connections from 127.0.0.2 held; number {} closed at once; alice logged \
         in meanwhile ({:?} in all)",
        cap + 1,
        started.elapsed()
    );
    drop(held);
    let again = async {
        while !healthy_from(addr, 2).await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(MARGIN, again)
        .await
        .expect("127.0.0.2 is served again once its connections closed");
    assert_alive(&mut relay, "after S13's cap");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");

    // A trusted proxy's connections are not counted; a plain address's are.
    let dir = tempfile::tempdir().expect("a data dir");
    let args = [
        "--connections-per-address",
        "8",
        "--trusted-proxy",
        "127.0.0.4",
    ];
    let (mut relay, _) = harness::start(&harness::spec(dir.path(), &args)).await;
    let addr = relay.addr();
    let mut proxy = Vec::new();
    let mut plain = Vec::new();
    for _ in 0..8 {
        proxy.push(tcp(addr, local(4)).await.expect("the proxy connects"));
        plain.push(tcp(addr, local(5)).await.expect("a plain address connects"));
    }
    assert!(healthy_from(addr, 4).await, "the proxy's 9th is served");
    let mut over = tcp(addr, local(5)).await.expect("the kernel accepts");
    assert!(
        closed(&mut over, CLOSED_WITHIN).await,
        "a plain address's 9th is closed"
    );
    drop((proxy, plain));
    assert_alive(&mut relay, "after S13's proxy");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");

    // A whole-request deadline, shorter than the body's.
    let dir = tempfile::tempdir().expect("a data dir");
    let args = ["--request-timeout-secs", "2"];
    let (mut relay, _) = harness::start(&harness::spec(dir.path(), &args)).await;
    let addr = relay.addr();
    let slow = |n: usize| async move {
        let mut s = tcp(addr, local(6)).await.expect("connect");
        let head = "POST /api/login HTTP/1.1\r\nHost: natter\r\nContent-Type: application/json\r\n\
                    Content-Length: 1000\r\n\r\n";
        let t = Instant::now();
        s.write_all(head.as_bytes()).await.expect("the head");
        for _ in 0..1_000 {
            if s.write_all(b"{").await.is_err() {
                break;
            }
            let mut buf = [0u8; 512];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await
            {
                if n == 0 || buf.starts_with(b"HTTP/1.1 4") {
                    break;
                }
            }
            if t.elapsed() > Duration::from_secs(2) + MARGIN {
                panic!("slow call {n}: still open after {:?}", t.elapsed());
            }
        }
        t.elapsed()
    };
    let each = if long() { 50 } else { 3 };
    let calls: Vec<_> = (0..each).map(|n| tokio::spawn(slow(n))).collect();
    let mut slowest = Duration::ZERO;
    for call in calls {
        let took = call.await.expect("a slow call");
        assert!(
            took >= Duration::from_millis(1_800),
            "closed after {took:?}, before its deadline"
        );
        slowest = slowest.max(took);
    }
    eprintln!(
        "S13: {each} API calls with a body of a byte a second closed, the slowest after {slowest:?} \
         (request deadline 2 s, body deadline 30 s)"
    );
    assert_alive(&mut relay, "after S13's deadline");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
