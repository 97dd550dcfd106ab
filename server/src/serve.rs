//! The accept loop: HTTP/1.1 with upgrades (Socket.IO's WebSocket), TCP_NODELAY, a bound on
//! reading request headers, a cap on connections open at once per client address, TLS when
//! configured (`tls.rs`), and graceful shutdown.
//!
//! `axum::serve` builds its connections without a timer, so hyper's header-read timeout never
//! applies there: a client that opens a socket and dribbles (or never sends) its request head
//! would hold a task and a file descriptor for as long as it likes. Hence this loop.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::config::Cidr;
use crate::metrics::{Limit, Metrics, OpenConnection};
use crate::ratelimit::address_key;
use crate::tls;

/// Connections the kernel queues for `accept` (capped by `net.core.somaxconn`). Tokio's
/// `TcpListener::bind` uses 1,024: when thousands of clients reconnect at once after an outage,
/// the rest are dropped and must retry after a second or more.
const LISTEN_BACKLOG: u32 = 8_192;

/// Binds `addr` with address reuse and a deep accept queue.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Bytes the kernel has taken from the relay on one connection so far: in every request's
/// extensions, so a WebSocket's Socket.IO session can tell whether its client reads
/// (`socket::bounds`). Writes after an upgrade go through the same stream.
#[derive(Debug, Clone, Default)]
pub struct Written(Arc<AtomicU64>);

impl Written {
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Counts `n` more bytes (a long-polling session's responses: `socket::polls`).
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::AcqRel);
    }
}

/// A TCP stream that counts what it writes into [`Written`], and counts as open in the
/// metrics while it lives: after a WebSocket upgrade it lives on in the upgraded connection,
/// while the connection's task here has ended. Under TLS it is the stream below the
/// encryption: what the kernel took, records' overhead included.
struct Counted {
    tcp: TcpStream,
    written: Written,
    _open: OpenConnection,
}

impl Counted {
    fn count(&self, done: &Poll<std::io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = done {
            self.written.0.fetch_add(*n as u64, Ordering::AcqRel);
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let done = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.count(&done);
        done
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let done = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.count(&done);
        done
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// How many connections one client address may have open at once. A trusted proxy's are not
/// counted (all its clients share its address; the per-address limits behind it use
/// `X-Forwarded-For`), and neither is loopback when it is the trusted proxy.
#[derive(Debug, Clone)]
pub struct ConnectionCap {
    pub per_address: usize,
    pub exempt: Arc<[Cidr]>,
}

/// Connections open now, per address key.
type Open = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// A connection's place in [`Open`], given back when its task ends.
struct Place {
    open: Open,
    key: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(n) = open.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.key);
                }
            }
        }
    }
}

/// Counts a new connection from `peer`; `None` if its address is at the cap (then it is closed
/// unanswered), `Some(None)` if it is not counted (a trusted proxy).
fn admit(cap: &ConnectionCap, open: &Open, peer: IpAddr) -> Option<Option<Place>> {
    if cap.exempt.iter().any(|c| c.contains(peer)) {
        return Some(None);
    }
    let key = address_key(peer);
    let mut map = open.lock().ok()?;
    let n = map.entry(key).or_default();
    if *n >= cap.per_address {
        return None;
    }
    *n += 1;
    Some(Some(Place {
        open: open.clone(),
        key,
    }))
}

/// Serves `app` on `listener` until `signal` resolves; then stops accepting, asks every
/// connection to finish its current request and close, and returns once all have.
/// (Long-lived Socket.IO connections must be closed by the caller, e.g. `io.close()`.)
///
/// Every request carries [`ConnectInfo<SocketAddr>`] of its peer. `header_read_timeout` bounds
/// how long a request head (the first one, or the next one on an idle keep-alive connection)
/// may take to arrive in full; the connection is closed when it runs out. `cap` bounds the
/// connections of one client address. `metrics` counts the connections open and those the
/// cap refused. With `tls`, each connection is a TLS one before any HTTP is read; its handshake
/// is bounded by `header_read_timeout` as well (real clients need a few round trips; a silent
/// one is closed as one that sends no request head would be).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    cap: ConnectionCap,
    metrics: Metrics,
    tls: Option<Arc<tls::Acceptor>>,
    signal: impl Future<Output = ()> + Send + 'static,
) {
    let open = Open::default();
    // Dropping `signal_rx` tells the loop and every connection that shutdown began.
    let (signal_tx, signal_rx) = watch::channel(());
    tokio::spawn(async move {
        signal.await;
        drop(signal_rx);
    });
    // Each connection holds a receiver; `close_tx.closed()` resolves when all have ended.
    let (close_tx, close_rx) = watch::channel(());

    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);

    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = signal_tx.closed() => break,
        };
        let Some(place) = admit(&cap, &open, remote.ip()) else {
            metrics.refused(Limit::ConnectionsPerAddress);
            // Closed unanswered: cheaper than an answer, and a flood of them is the client's
            // doing. Debug only, so the flood does not reach the log.
            tracing::debug!(%remote, "connection refused: its address has too many open");
            drop(tcp);
            continue;
        };
        // Acks and broadcasts are small frames written back to back: Nagle would hold the
        // second one for ~40 ms.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let app = app.clone();
        let written = Written::default();
        let counted = Counted {
            tcp,
            written: written.clone(),
            _open: metrics.connection_opened(),
        };
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(remote));
            req.extensions_mut().insert(written.clone());
            app.clone().oneshot(req)
        });
        let builder = builder.clone();
        let signal_tx = signal_tx.clone();
        let close_rx = close_rx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let result = match tls {
                None => drive(&builder, counted, service, &signal_tx).await,
                Some(tls) => {
                    let handshake = tokio::select! {
                        r = tls.accept(counted, header_read_timeout) => r,
                        () = signal_tx.closed() => Err(std::io::ErrorKind::Interrupted.into()),
                    };
                    match handshake {
                        Ok(stream) => drive(&builder, stream, service, &signal_tx).await,
                        Err(e) => {
                            // Timeouts, plain HTTP on the TLS port, a client that refused our
                            // certificate: the client's problem, and a flood must not reach
                            // the log.
                            tracing::debug!(%remote, error = %e, "TLS handshake failed");
                            Ok(())
                        }
                    }
                }
            };
            if let Err(e) = result {
                // Header timeouts, resets, malformed requests: the client's problem.
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
            drop(close_rx);
            drop(place);
        });
    }

    drop(close_rx);
    drop(listener);
    close_tx.closed().await;
}

/// Serves HTTP/1.1 (with upgrades) on one connection until it ends, or finishes its current
/// request and closes once shutdown begins.
async fn drive<IO, S>(
    builder: &http1::Builder,
    io: IO,
    service: S,
    signal_tx: &watch::Sender<()>,
) -> hyper::Result<()>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming> + Send,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = pin!(conn);
    tokio::select! {
        r = conn.as_mut() => r,
        () = signal_tx.closed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    }
}
