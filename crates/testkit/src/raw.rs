//! The raw side of the Socket.IO client: [`RawWs`], a [`sio::Client`]'s WebSocket that also
//! sends whatever bytes a test gives it (well-formed packets for the "control" side, malformed,
//! fragmented or oversized ones for the attack side), and plain HTTP exchanges (polling, bad
//! requests). No retries, no reconnects; every wait is bounded by the caller.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::http::head_end;
use crate::sio::{self, Open, WEBSOCKET_QUERY};

pub use crate::sio::{tcp, Error as RawError};

/// What a raw WebSocket sends: text, binary, or a text frame with bytes that are not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFrame {
    Text(String),
    Binary(Vec<u8>),
    BadUtf8Text(Vec<u8>),
}

/// One raw WebSocket to the relay's `/socket.io/` endpoint: Engine.IO pings are answered only
/// while it reads.
#[derive(Debug)]
pub struct RawWs {
    socket: sio::Client,
    /// With [`record`](Self::record): every text packet received (pings aside), in order.
    pub transcript: Option<Vec<String>>,
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
        let addr = addr.to_string();
        let socket = sio::Client::handshake(&addr, local, query, config, false).await?;
        Ok(Self {
            socket,
            transcript: None,
        })
    }

    /// Handshake plus the Engine.IO open packet (`0{...}`).
    pub async fn open(
        addr: SocketAddr,
        local: Option<IpAddr>,
        within: Duration,
    ) -> Result<Self, RawError> {
        let mut ws = Self::handshake(addr, WEBSOCKET_QUERY, local).await?;
        bounded(within, "the open packet", ws.socket.read_open()).await?;
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
        let auth = format!("{{\"token\":{}}}", json_string(token));
        bounded(within, "the CONNECT ack", ws.socket.join(&auth)).await?;
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
            let frame = Frame::message(part, opcode, i == last);
            self.socket.ws.feed(Message::Frame(frame)).await?;
        }
        Ok(self.socket.ws.flush().await?)
    }

    pub async fn send_text(&mut self, text: String) -> Result<(), RawError> {
        self.socket.send_text(text).await
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
        Ok(self.socket.ws.send(msg).await?)
    }

    /// Emits `42<id>["name",payload_json]` and returns the ack id.
    pub async fn emit(&mut self, name: &str, payload_json: &str) -> Result<u64, RawError> {
        let id = self.socket.ack_id();
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
        let prefix = format!("43{id}[");
        let ack = async {
            loop {
                let text = self.read().await?;
                if text.starts_with(&prefix) {
                    return Ok(text[prefix.len() - 1..].to_owned());
                }
            }
        };
        bounded(within, "an ack", ack).await
    }

    /// The next Socket.IO text packet (Engine.IO pings answered on the way, `1` = closed).
    pub async fn next_text(&mut self, within: Duration) -> Result<String, RawError> {
        bounded(within, "a packet", self.read()).await
    }

    async fn read(&mut self) -> Result<String, RawError> {
        let text = self.socket.next_packet().await?.to_string();
        if let Some(log) = &mut self.transcript {
            log.push(text.clone());
        }
        Ok(text)
    }

    /// Reads (and drops) everything until the relay closes, without answering pings; `true`
    /// if it closed within `within`.
    pub async fn closed_within(&mut self, within: Duration) -> bool {
        let wait = async {
            loop {
                match self.socket.ws.next().await {
                    None | Some(Ok(Message::Close(_))) | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
        };
        tokio::time::timeout(within, wait).await.is_ok()
    }

    /// A polite close; errors do not matter here.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.socket.close()).await;
    }
}

/// `fut` within `within`, or [`RawError::Timeout`] for `what`.
async fn bounded<T>(
    within: Duration,
    what: &'static str,
    fut: impl std::future::Future<Output = Result<T, RawError>>,
) -> Result<T, RawError> {
    tokio::time::timeout(within, fut)
        .await
        .map_err(|_| RawError::Timeout(what))?
}

/// `"text"` as a JSON string literal.
pub fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
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
    let head_end = head_end(got)? + 4;
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
    head_end(response).map_or(&[][..], |at| &response[at + 4..])
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
    let open = body.strip_prefix('0').map(serde_json::from_str::<Open>);
    Ok(open.and_then(Result::ok).map(|open| open.sid))
}
