//! Tiny upstream servers for the proxy tests: echo, a byte sink, and a minimal HTTP responder.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::{JoinHandle, JoinSet},
    time::timeout,
};

/// How long any single step of a test may take before it fails.
pub const STEP: Duration = Duration::from_secs(5);

/// Await `fut`, failing the test with `what` if it takes longer than [`STEP`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    timeout(STEP, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A server on loopback; its tasks are aborted when this is dropped.
pub struct Upstream {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Upstream {
    /// Connections this server has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve<F, Fut>(handler: F) -> Upstream
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("listener has an address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            conns.spawn(handler(socket));
            while conns.try_join_next().is_some() {}
        }
    });
    Upstream {
        addr,
        accepted,
        task,
    }
}

/// Echoes every byte back until the peer closes.
pub async fn echo() -> Upstream {
    serve(|mut socket| async move {
        let (mut r, mut w) = socket.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    })
    .await
}

/// What a [`sink`] connection received, and whether it ended in EOF (`Ok`) or an error.
pub type Received = (Vec<u8>, std::io::Result<usize>);

/// Reads each connection to EOF (or error) and reports everything it received.
pub async fn sink() -> (Upstream, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let upstream = serve(move |mut socket| {
        let tx = tx.clone();
        async move {
            let mut got = Vec::new();
            let ended = socket.read_to_end(&mut got).await;
            let _ = tx.send((got, ended));
        }
    })
    .await;
    (upstream, rx)
}

/// Answers any request head with `200 OK` and body `ok`, then closes.
pub async fn http_ok() -> Upstream {
    serve(|mut socket| async move {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            .await;
        let _ = socket.shutdown().await;
    })
    .await
}

/// Connect to `addr`, bounded.
pub async fn connect(addr: SocketAddr) -> TcpStream {
    within("connect", TcpStream::connect(addr))
        .await
        .expect("connect to the proxy")
}

/// Write `msg` and read the same number of bytes back, bounded; returns what came back.
pub async fn roundtrip(socket: &mut TcpStream, msg: &[u8]) -> Vec<u8> {
    within("write", socket.write_all(msg))
        .await
        .expect("write through the proxy");
    let mut back = vec![0u8; msg.len()];
    within("read echo", socket.read_exact(&mut back))
        .await
        .expect("read the echo through the proxy");
    back
}

/// Read to EOF, bounded; `Err` if the connection was reset instead.
pub async fn read_until_closed(socket: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut got = Vec::new();
    within("read to EOF", socket.read_to_end(&mut got)).await?;
    Ok(got)
}

/// Send one raw HTTP request and read the whole answer (the responders close after it).
pub async fn http_request(addr: SocketAddr, request: &str) -> String {
    let mut socket = connect(addr).await;
    within("send request", socket.write_all(request.as_bytes()))
        .await
        .expect("send the request");
    let answer = read_until_closed(&mut socket)
        .await
        .expect("read the answer");
    String::from_utf8(answer).expect("the answer is text")
}
