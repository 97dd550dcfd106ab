//! The frame layer: a WebSocket to the relay's `/socket.io/` endpoint ([`websocket`], which the
//! Socket.IO clients of [`crate::sio`] and [`crate::client`] open too), and a raw Engine.IO v4 /
//! Socket.IO v5 peer over it and plain HTTP that sends whatever bytes a test gives it: well-formed
//! packets for the "control" side, malformed or oversized ones for the attack side. No retries,
//! no reconnects; every wait is bounded by the caller.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tungstenite::Error),
    #[error("closed by the relay")]
    Closed,
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("unexpected packet {0:?}")]
    Unexpected(String),
    #[error("connect refused: {0}")]
    Refused(String),
}

/// What a raw WebSocket sends: text, binary, or a text frame with bytes that are not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFrame {
    Text(String),
    Binary(Vec<u8>),
    BadUtf8Text(Vec<u8>),
}

/// Opens a TCP connection to `addr`, from `local` (any 127.x address) when given.
pub async fn tcp(addr: SocketAddr, local: Option<IpAddr>) -> Result<TcpStream, RawError> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = local {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens a WebSocket to `ws://{addr}/socket.io/?{query}` (`addr` is `host:port`), from `local`
/// when given, with Nagle off (small frames must leave at once; Nagle would add up to 40 ms to a
/// round trip). With `zero_linger` the socket closes with a reset, leaving no TIME_WAIT behind.
pub async fn websocket(
    addr: &str,
    local: Option<IpAddr>,
    query: &str,
    config: WebSocketConfig,
    zero_linger: bool,
) -> Result<WebSocketStream<TcpStream>, tungstenite::Error> {
    let stream = match local {
        None => TcpStream::connect(addr).await?,
        Some(ip) => {
            let peer: SocketAddr = addr.parse().map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("not an IP address and port: {addr}"),
                )
            })?;
            let socket = match ip {
                IpAddr::V4(_) => TcpSocket::new_v4()?,
                IpAddr::V6(_) => TcpSocket::new_v6()?,
            };
            socket.bind(SocketAddr::new(ip, 0))?;
            socket.connect(peer).await?
        }
    };
    stream.set_nodelay(true)?;
    if zero_linger {
        stream.set_zero_linger()?;
    }
    let url = format!("ws://{addr}/socket.io/?{query}");
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    Ok(ws)
}

/// One raw WebSocket to the relay's `/socket.io/` endpoint.
pub struct RawWs {
    ws: WebSocketStream<TcpStream>,
    /// The Engine.IO sid from the open packet, once read.
    pub sid: Option<String>,
    next_ack: u64,
    /// With [`record`](Self::record): every text packet received (pings aside), in order.
    pub transcript: Option<Vec<String>>,
}

impl std::fmt::Debug for RawWs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawWs").field("sid", &self.sid).finish()
    }
}

impl RawWs {
    /// The WebSocket handshake on `/socket.io/?{query}` (e.g. `EIO=4&transport=websocket`);
    /// nothing is read yet. Our own outgoing size limit is lifted so oversize frames can leave.
    pub async fn handshake(
        addr: SocketAddr,
        query: &str,
        local: Option<IpAddr>,
    ) -> Result<Self, RawError> {
        // Small read buffers: a soak holds 10,000 of these in one process.
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .max_message_size(None)
            .max_frame_size(None);
        let ws = websocket(&addr.to_string(), local, query, config, false).await?;
        Ok(Self {
            ws,
            sid: None,
            next_ack: 1,
            transcript: None,
        })
    }

    /// Handshake plus the Engine.IO open packet (`0{...}`).
    pub async fn open(
        addr: SocketAddr,
        local: Option<IpAddr>,
        within: Duration,
    ) -> Result<Self, RawError> {
        let mut ws = Self::handshake(addr, "EIO=4&transport=websocket", local).await?;
        let open = ws.next_text(within).await?;
        let json = open
            .strip_prefix('0')
            .ok_or_else(|| RawError::Unexpected(open.clone()))?;
        ws.sid = open_sid(json);
        Ok(ws)
    }

    /// Open plus the Socket.IO CONNECT with `{token}`; waits for `40` (or `44` → `Refused`).
    pub async fn connect(
        addr: SocketAddr,
        token: &str,
        local: Option<IpAddr>,
        within: Duration,
    ) -> Result<Self, RawError> {
        let mut ws = Self::open(addr, local, within).await?;
        ws.send_text(format!("40{{\"token\":{}}}", json_string(token)))
            .await?;
        ws.first(within, |text| match text.strip_prefix("44") {
            Some(err) => Some(Err(RawError::Refused(err.to_owned()))),
            None => text.starts_with("40").then_some(Ok(())),
        })
        .await?;
        Ok(ws)
    }

    /// Keeps every text packet received from now on in [`transcript`](Self::transcript).
    pub fn record(&mut self) {
        self.transcript.get_or_insert_with(Vec::new);
    }

    /// One text message in several WebSocket frames (a first frame and continuations).
    pub async fn send_fragments(&mut self, parts: Vec<Vec<u8>>) -> Result<(), RawError> {
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.into_iter().enumerate() {
            let opcode = if i == 0 {
                OpCode::Data(Data::Text)
            } else {
                OpCode::Data(Data::Continue)
            };
            self.ws
                .feed(Message::Frame(Frame::message(part, opcode, i == last)))
                .await?;
        }
        Ok(self.ws.flush().await?)
    }

    pub async fn send_text(&mut self, text: String) -> Result<(), RawError> {
        Ok(self.ws.send(Message::text(text)).await?)
    }

    /// Sends any frame, including a text frame that is not UTF-8.
    pub async fn send(&mut self, frame: RawFrame) -> Result<(), RawError> {
        let msg = match frame {
            RawFrame::Text(t) => Message::text(t),
            RawFrame::Binary(b) => Message::binary(b),
            RawFrame::BadUtf8Text(b) => {
                Message::Frame(Frame::message(b, OpCode::Data(Data::Text), true))
            }
        };
        Ok(self.ws.send(msg).await?)
    }

    /// Emits `42<id>["name",payload_json]` and returns the ack id.
    pub async fn emit(&mut self, name: &str, payload_json: &str) -> Result<u64, RawError> {
        let id = self.next_ack;
        self.next_ack += 1;
        self.send_text(format!("42{id}[{},{payload_json}]", json_string(name)))
            .await?;
        Ok(id)
    }

    /// Emits and waits for the ack's JSON (`[...]`), answering pings and skipping events.
    pub async fn request(
        &mut self,
        name: &str,
        payload_json: &str,
        within: Duration,
    ) -> Result<String, RawError> {
        let id = self.emit(name, payload_json).await?;
        self.ack(id, within).await
    }

    /// Waits for the ack `id` (`43<id>[...]`), skipping everything else; returns its JSON.
    pub async fn ack(&mut self, id: u64, within: Duration) -> Result<String, RawError> {
        let prefix = format!("43{id}");
        self.first(within, |text| {
            let json = text.strip_prefix(&prefix)?;
            json.starts_with('[').then(|| Ok(json.to_owned()))
        })
        .await
    }

    /// Reads packets until `pick` gives an answer, within `within` in all; skips the rest.
    async fn first<T>(
        &mut self,
        within: Duration,
        mut pick: impl FnMut(&str) -> Option<Result<T, RawError>>,
    ) -> Result<T, RawError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if let Some(answer) = pick(&self.next_text(left).await?) {
                return answer;
            }
        }
    }

    /// The next Socket.IO text packet (Engine.IO pings answered on the way, `1` = closed).
    pub async fn next_text(&mut self, within: Duration) -> Result<String, RawError> {
        let wait = async {
            loop {
                match self.ws.next().await {
                    None | Some(Ok(Message::Close(_))) => return Err(RawError::Closed),
                    Some(Err(e)) => return Err(RawError::Ws(e)),
                    Some(Ok(Message::Text(t))) => {
                        let t = t.as_str();
                        if t == "2" {
                            self.ws.send(Message::text("3")).await?;
                        } else if t == "1" {
                            return Err(RawError::Closed);
                        } else if t != "3" && t != "6" {
                            if let Some(log) = &mut self.transcript {
                                log.push(t.to_owned());
                            }
                            return Ok(t.to_owned());
                        }
                    }
                    Some(Ok(_)) => {}
                }
            }
        };
        tokio::time::timeout(within, wait)
            .await
            .map_err(|_| RawError::Timeout("a packet"))?
    }

    /// Reads (and drops) everything until the relay closes, without answering pings; `true`
    /// if it closed within `within`.
    pub async fn closed_within(&mut self, within: Duration) -> bool {
        let wait = async {
            loop {
                match self.ws.next().await {
                    None | Some(Ok(Message::Close(_))) | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
        };
        tokio::time::timeout(within, wait).await.is_ok()
    }

    /// A polite close; errors do not matter here.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}

/// `"text"` as a JSON string literal.
pub fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The Engine.IO open packet; only the fields the clients use.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Open {
    pub(crate) sid: String,
}

/// The `sid` of an Engine.IO open packet's JSON (`{"sid":"…",…}`).
fn open_sid(json: &str) -> Option<String> {
    serde_json::from_str::<Open>(json).ok().map(|open| open.sid)
}

/// One HTTP/1.1 exchange on a fresh connection: writes `request` as is, reads the answer until
/// the relay closes or `within` passes (at most `max` bytes kept). For polling and bad requests.
pub async fn http_exchange(
    addr: SocketAddr,
    request: &[u8],
    within: Duration,
    max: usize,
) -> Result<Vec<u8>, RawError> {
    let mut stream = tcp(addr, None).await?;
    let exchange = async {
        stream.write_all(request).await?;
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(got);
            }
            if got.len() < max {
                got.extend_from_slice(&buf[..n.min(max - got.len())]);
            }
            // One response with a Content-Length is complete once its body is in.
            if let Some(done) = complete_len(&got) {
                if got.len() >= done {
                    return Ok(got);
                }
            }
        }
    };
    match tokio::time::timeout(within, exchange).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(RawError::Timeout("an HTTP answer")),
    }
}

/// Header length + Content-Length of a buffered response, once its head is complete.
fn complete_len(got: &[u8]) -> Option<usize> {
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&got[..head_end])
        .ok()?
        .to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))?
        .trim()
        .parse::<usize>()
        .ok()?;
    Some(head_end + len)
}

/// The status code of a raw HTTP response, if it has a status line.
pub fn http_status(response: &[u8]) -> Option<u16> {
    let line = response.split(|b| *b == b'\r').next()?;
    std::str::from_utf8(line)
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The body of a raw HTTP response (after the blank line).
pub fn http_body(response: &[u8]) -> &[u8] {
    response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(&[][..], |at| &response[at + 4..])
}

/// Opens an Engine.IO long-polling session and returns its sid, or `None` when the answer
/// carries none (the open packet is `0{"sid":"…",…}`).
pub async fn polling_sid(addr: SocketAddr, within: Duration) -> Result<Option<String>, RawError> {
    let open = http_exchange(
        addr,
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
        within,
        4096,
    )
    .await?;
    let body = String::from_utf8_lossy(http_body(&open));
    Ok(body.strip_prefix('0').and_then(open_sid))
}
