//! The fault proxy, fault by fault, against an echo server, a byte sink and an HTTP responder.

mod support;

use std::{io::ErrorKind, time::Duration};

use natter_testkit::{Direction, Fault, FaultProxy};
use support::{connect, read_until_closed, roundtrip, within};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{timeout, Instant},
};

async fn proxy_to(upstream: std::net::SocketAddr) -> FaultProxy {
    FaultProxy::start(upstream).await.expect("proxy starts")
}

/// An echo server, a proxy in front of it, and a connection through the proxy that echoed once.
async fn echo_through_proxy() -> (support::Upstream, FaultProxy, TcpStream) {
    let echo = support::echo().await;
    let proxy = proxy_to(echo.addr).await;
    let mut live = connect(proxy.addr()).await;
    assert_eq!(roundtrip(&mut live, b"warm").await, b"warm");
    (echo, proxy, live)
}

/// Writes `bytes`, bounded.
async fn write(socket: &mut TcpStream, bytes: &[u8]) {
    within("write", socket.write_all(bytes))
        .await
        .expect("write is accepted");
}

/// True if the socket was closed on us: EOF or ECONNRESET.
async fn is_closed(socket: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match within("read after close", socket.read(&mut buf)).await {
        Ok(0) => true,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_both_ways_and_counts() {
    let echo = support::echo().await;
    let proxy = proxy_to(echo.addr).await;
    let mut client = connect(proxy.addr()).await;
    assert_eq!(
        roundtrip(&mut client, b"hello natter").await,
        b"hello natter"
    );
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(roundtrip(&mut client, &big).await, big);
    let stats = proxy.stats();
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.live_connections, 1);
    assert_eq!(stats.bytes_upstream, 12 + 200_000);
    assert_eq!(stats.bytes_downstream, 12 + 200_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_adds_at_least_the_delay_on_live_and_new_connections() {
    let (_echo, proxy, mut live) = echo_through_proxy().await;

    let delay = Duration::from_millis(120);
    proxy.set(Direction::Both, Fault::Latency(delay));
    let started = Instant::now();
    assert_eq!(roundtrip(&mut live, b"ping").await, b"ping");
    assert!(started.elapsed() >= 2 * delay, "{:?}", started.elapsed());

    let mut fresh = connect(proxy.addr()).await;
    let started = Instant::now();
    assert_eq!(roundtrip(&mut fresh, b"pong").await, b"pong");
    assert!(started.elapsed() >= 2 * delay, "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_caps_throughput() {
    let echo = support::echo().await;
    let proxy = proxy_to(echo.addr).await;
    let rate = 20_000u64;
    proxy.set(Direction::Upstream, Fault::Bandwidth(rate));
    let mut client = connect(proxy.addr()).await;
    let payload = vec![7u8; 8_000];
    let started = Instant::now();
    assert_eq!(roundtrip(&mut client, &payload).await, payload);
    // At most one piece (1/20 s worth) may go before the cap bites.
    let floor = Duration::from_secs_f64((8_000.0 - rate as f64 / 20.0) / rate as f64);
    assert!(
        started.elapsed() >= floor,
        "{:?} < {floor:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackhole_holds_bytes_without_closing_anything() {
    let (_echo, proxy, mut live) = echo_through_proxy().await;

    proxy.set(Direction::Both, Fault::Blackhole);
    write(&mut live, b"asleep").await;
    let mut buf = [0u8; 6];
    let read = timeout(Duration::from_millis(300), live.read(&mut buf)).await;
    assert!(
        read.is_err(),
        "a read through a blackhole must time out, got {read:?}"
    );
    // A connection opened during the blackhole is accepted but silent too.
    let mut fresh = connect(proxy.addr()).await;
    write(&mut fresh, b"x").await;
    let read = timeout(Duration::from_millis(100), fresh.read(&mut buf)).await;
    assert!(
        read.is_err(),
        "new connection must be blackholed too, got {read:?}"
    );

    // Nothing was closed: once the network "wakes up", the held bytes arrive.
    proxy.clear();
    within("held bytes", live.read_exact(&mut buf))
        .await
        .expect("still open");
    assert_eq!(&buf, b"asleep");
    assert_eq!(roundtrip(&mut live, b"after").await, b"after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_aborts_current_connections_only() {
    let (_echo, proxy, mut live) = echo_through_proxy().await;

    proxy.set(Direction::Downstream, Fault::Reset);
    let mut buf = [0u8; 8];
    match within("read after reset", live.read(&mut buf)).await {
        Ok(0) => {}
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        Ok(n) => panic!("read {n} bytes from a reset connection"),
    }
    // One-shot: a new connection works.
    let mut fresh = connect(proxy.addr()).await;
    assert_eq!(roundtrip(&mut fresh, b"again").await, b"again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_upstream_aborts_the_upstream_side_and_closes_the_client() {
    let (sink, mut received) = support::sink().await;
    let proxy = proxy_to(sink.addr).await;
    let mut live = connect(proxy.addr()).await;
    write(&mut live, b"partial").await;
    // Bytes through before the reset, so the sink has surely been dialled.
    let bytes_through = async {
        while proxy.stats().bytes_upstream < 7 {
            tokio::task::yield_now().await;
        }
    };
    within("bytes reach upstream", bytes_through).await;

    proxy.set(Direction::Upstream, Fault::Reset);
    let (got, ended) = within("sink ends", received.recv())
        .await
        .expect("sink reports");
    assert_eq!(got, b"partial");
    let error = ended.expect_err("upstream must see a reset, not EOF");
    assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
    assert!(is_closed(&mut live).await, "client side gets a plain close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slice1_delivers_bytes_intact() {
    let echo = support::echo().await;
    let proxy = proxy_to(echo.addr).await;
    proxy.set(Direction::Both, Fault::Slice1);
    let mut client = connect(proxy.addr()).await;
    let payload: Vec<u8> = (0..3_000u32).map(|i| (i * 7 % 256) as u8).collect();
    assert_eq!(roundtrip(&mut client, &payload).await, payload);
    assert_eq!(proxy.stats().bytes_downstream, 3_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_after_downstream_delivers_exactly_n_then_eof() {
    let (_echo, proxy, mut live) = echo_through_proxy().await;

    proxy.set(Direction::Downstream, Fault::CloseAfter(3));
    write(&mut live, b"0123456789").await;
    let got = read_until_closed(&mut live).await.expect("plain EOF");
    assert_eq!(got, b"012");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_after_upstream_delivers_exactly_n_then_eof() {
    let (sink, mut received) = support::sink().await;
    let proxy = proxy_to(sink.addr).await;
    proxy.set(Direction::Upstream, Fault::CloseAfter(7));
    let mut client = connect(proxy.addr()).await;
    write(&mut client, b"abcdefghijklmnopqrst").await;
    let (got, ended) = within("sink sees EOF", received.recv())
        .await
        .expect("sink reports");
    assert_eq!(got, b"abcdefg");
    assert!(ended.is_ok(), "a plain close, not a reset: {ended:?}");
    assert!(
        is_closed(&mut client).await,
        "client must see the close too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_new_closes_new_connections_but_not_live_ones() {
    let (echo, proxy, mut live) = echo_through_proxy().await;

    proxy.set(Direction::Both, Fault::RefuseNew);
    let mut refused = connect(proxy.addr()).await;
    assert!(
        is_closed(&mut refused).await,
        "refused connection must close"
    );
    assert_eq!(echo.accepted(), 1, "upstream must not be dialled");
    assert_eq!(proxy.stats().connections_refused, 1);
    assert_eq!(roundtrip(&mut live, b"2").await, b"2");

    proxy.clear();
    let mut fresh = connect(proxy.addr()).await;
    assert_eq!(roundtrip(&mut fresh, b"3").await, b"3");
    assert_eq!(echo.accepted(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrade_rejected_while_plain_get_passes() {
    let http = support::http_ok().await;
    let proxy = proxy_to(http.addr).await;
    proxy.set(Direction::Both, Fault::RejectWebSocketUpgrade);

    let upgrade = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: relay\r\n\
                   Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let answer = support::http_request(proxy.addr(), upgrade).await;
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(answer.contains("Content-Length: 0\r\n"), "{answer}");
    assert_eq!(http.accepted(), 0, "upstream must not be contacted");
    assert_eq!(proxy.stats().upgrades_rejected, 1);

    let poll = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: relay\r\n\r\n";
    let answer = support::http_request(proxy.addr(), poll).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
    assert_eq!(http.accepted(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_all_closes_live_connections_and_new_ones_work() {
    let echo = support::echo().await;
    let proxy = proxy_to(echo.addr).await;
    let mut a = connect(proxy.addr()).await;
    let mut b = connect(proxy.addr()).await;
    roundtrip(&mut a, b"a").await;
    roundtrip(&mut b, b"b").await;

    proxy.control().drop_all();
    assert!(is_closed(&mut a).await);
    assert!(is_closed(&mut b).await);
    let mut fresh = connect(proxy.addr()).await;
    assert_eq!(roundtrip(&mut fresh, b"c").await, b"c");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_drop_close_everything() {
    let echo = support::echo().await;
    let proxy = proxy_to(echo.addr).await;
    let addr = proxy.addr();
    let mut live = connect(addr).await;
    roundtrip(&mut live, b"x").await;
    let control = proxy.control();
    within("stop", proxy.stop()).await;
    assert!(is_closed(&mut live).await);
    if within("connect after stop", TcpStream::connect(addr))
        .await
        .is_ok()
    {
        // The port may have been reused by another test's server; it must not be ours.
        assert_eq!(
            control.stats().connections_accepted,
            1,
            "a stopped proxy accepted"
        );
    }

    let proxy = proxy_to(echo.addr).await;
    let mut live = connect(proxy.addr()).await;
    roundtrip(&mut live, b"y").await;
    drop(proxy);
    assert!(is_closed(&mut live).await);
}
