//! R2's evidence that a fault took effect: `GET /healthz` exchanges on connections of their own
//! through the fault proxy, timed and counted (a latency delays the answer, a bandwidth cap
//! stretches it, a blackhole swallows it, a reset or a close-after ends the connection early),
//! and, for slicing, the proxy's own write counts. A proxy that injects nothing fails here.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use natter_testkit::raw::tcp;
use natter_testkit::{Direction, Fault, ProxyControl, Stats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);
/// How long a blackholed exchange must stay unanswered.
const SWALLOWED: Duration = Duration::from_millis(700);
/// Well under the relay's 10 s idle timeout: a held connection that ends this soon was reset.
const RESET_WITHIN: Duration = Duration::from_secs(2);
/// A counting window inside the fault's hold.
const WINDOW: Duration = Duration::from_millis(800);

/// One health check; `pad` bytes of header make it longer, `close` asks for the close after.
fn request(pad: usize, close: bool) -> Vec<u8> {
    let mut r = String::from("GET /healthz HTTP/1.1\r\nHost: natter\r\n");
    if pad > 0 {
        r.push_str(&format!("X-Pad: {}\r\n", "p".repeat(pad)));
    }
    if close {
        r.push_str("Connection: close\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// `n` health checks in one write (HTTP/1.1 pipelining), the last asking for the close.
fn pipelined(n: usize) -> Vec<u8> {
    let mut all = Vec::new();
    for i in 0..n {
        all.extend(request(0, i + 1 == n));
    }
    all
}

/// How many responses `got` holds.
fn responses(got: &[u8]) -> usize {
    got.windows(9).filter(|w| w == b"HTTP/1.1 ").count()
}

/// Writes `bytes`, then reads until the relay (or the proxy) closes; the bytes read, how long
/// that took, and whether it ended in an error (a reset) rather than a clean close.
async fn exchange(stream: &mut TcpStream, bytes: &[u8]) -> (Vec<u8>, Duration, bool) {
    let started = Instant::now();
    let run = async {
        let mut got = Vec::new();
        if stream.write_all(bytes).await.is_err() {
            return (got, true);
        }
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return (got, false),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => return (got, true),
            }
        }
    };
    let (got, reset) = tokio::time::timeout(WAIT, run)
        .await
        .unwrap_or_else(|_| panic!("a probe through the proxy still open after {WAIT:?}"));
    (got, started.elapsed(), reset)
}

/// A connection through the proxy opened before a fault is set, one exchange done on it.
pub struct Held(TcpStream);

impl Held {
    pub async fn open(proxy: SocketAddr) -> Self {
        let mut s = tcp(proxy, None)
            .await
            .expect("a probe connects to the proxy");
        s.write_all(&request(0, false))
            .await
            .expect("a probe writes");
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !complete(&got) {
            let n = tokio::time::timeout(WAIT, s.read(&mut buf))
                .await
                .expect("the probe's first answer in time")
                .expect("the probe reads");
            assert!(n > 0, "the probe's first exchange was cut off");
            got.extend_from_slice(&buf[..n]);
        }
        Self(s)
    }
}

/// One response with its whole Content-Length body.
fn complete(got: &[u8]) -> bool {
    let text = String::from_utf8_lossy(got).to_lowercase();
    let Some(head_end) = text.find("\r\n\r\n") else {
        return false;
    };
    let len = text[..head_end]
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    got.len() >= head_end + 4 + len
}

fn dir_bytes(s: &Stats, d: Direction) -> (u64, u64) {
    match d {
        Direction::Upstream => (s.bytes_upstream, s.writes_upstream),
        Direction::Downstream => (s.bytes_downstream, s.writes_downstream),
        Direction::Both => (
            s.bytes_upstream + s.bytes_downstream,
            s.writes_upstream + s.writes_downstream,
        ),
    }
}

/// Asserts that `fault`, set in `direction` a moment ago, acts on traffic through `proxy_addr`;
/// `held` is a connection opened before it was set. Returns what was seen, for the log.
pub async fn fault_acts(
    proxy_addr: SocketAddr,
    proxy: &ProxyControl,
    direction: Direction,
    fault: Fault,
    mut held: Held,
) -> String {
    let downstream = direction != Direction::Upstream;
    match fault {
        Fault::Latency(delay) => {
            let mut s = tcp(proxy_addr, None).await.expect("connect");
            let (got, took, _) = exchange(&mut s, &request(0, true)).await;
            assert_eq!(responses(&got), 1, "{fault:?}: the health check answered");
            assert!(took >= delay, "{fault:?}: answered after {took:?}");
            format!("a health check took {took:?}")
        }
        Fault::Bandwidth(rate) => {
            // At least half a second's worth of bytes in the capped direction.
            let want = (rate / 2).max(200) as usize;
            let bytes = if downstream {
                pipelined(want / 80 + 2) // every answer is over 80 bytes
            } else {
                request(want, true)
            };
            let mut s = tcp(proxy_addr, None).await.expect("connect");
            let (got, took, _) = exchange(&mut s, &bytes).await;
            let capped = if downstream { got.len() } else { bytes.len() };
            // The proxy writes a twentieth of a second's bytes, then waits for them.
            let least =
                Duration::from_secs_f64((capped as f64 / rate as f64 * 0.8 - 0.05).max(0.0));
            assert!(
                took >= least,
                "{fault:?}: {capped} bytes through in {took:?}, not under {least:?}"
            );
            format!("{capped} bytes took {took:?}")
        }
        Fault::Blackhole => {
            let mut s = tcp(proxy_addr, None).await.expect("connect");
            s.write_all(&request(0, true)).await.expect("write");
            let mut buf = [0u8; 256];
            let read = tokio::time::timeout(SWALLOWED, s.read(&mut buf)).await;
            assert!(
                read.is_err(),
                "{fault:?}: a health check got {read:?} instead of silence"
            );
            let before = proxy.stats();
            tokio::time::sleep(WINDOW).await;
            let after = proxy.stats();
            let moved = dir_bytes(&after, direction).0 - dir_bytes(&before, direction).0;
            assert_eq!(moved, 0, "{fault:?}: bytes went through a blackhole");
            format!("a health check unanswered for {SWALLOWED:?}, 0 bytes in {WINDOW:?}")
        }
        Fault::Reset => {
            let (got, took, _) = exchange(&mut held.0, &[]).await;
            assert!(
                got.is_empty() && took < RESET_WITHIN,
                "{fault:?}: the held connection ended after {took:?}, having read {got:?}"
            );
            format!("a held connection ended after {took:?}")
        }
        Fault::Slice1 => {
            let before = proxy.stats();
            tokio::time::sleep(WINDOW).await;
            let after = proxy.stats();
            let (b0, w0) = dir_bytes(&before, direction);
            let (b1, w1) = dir_bytes(&after, direction);
            assert!(b1 > b0, "{fault:?}: no traffic in {WINDOW:?}");
            assert_eq!(w1 - w0, b1 - b0, "{fault:?}: one write per byte");
            format!("{} bytes in as many writes", b1 - b0)
        }
        Fault::CloseAfter(limit) => {
            // More than `limit` bytes each way: 38-byte requests, answers over 80 bytes.
            let n = limit as usize / 30 + 4;
            let mut s = tcp(proxy_addr, None).await.expect("connect");
            let (got, took, _) = exchange(&mut s, &pipelined(n)).await;
            assert!(
                responses(&got) < n,
                "{fault:?}: all {n} answers came through"
            );
            if downstream {
                assert!(
                    got.len() as u64 <= limit,
                    "{fault:?}: {} bytes came through",
                    got.len()
                );
            }
            format!("closed after {} bytes, {took:?}", got.len())
        }
        Fault::RefuseNew | Fault::RejectWebSocketUpgrade => panic!("R2 does not set {fault:?}"),
    }
}
