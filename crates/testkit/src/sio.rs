//! The one Socket.IO v5 / Engine.IO v4 client, over WebSocket only, written directly so a load
//! generator costs little next to the relay it measures (a full client library with reconnection,
//! callbacks and polling would be the bottleneck). The bench drives it with `&mut self`; the
//! relay tests' [`crate::client::Client`] runs it behind a reader task, and [`crate::raw`]'s
//! `RawWs` sends any frame through it.
//!
//! It speaks what the bench and the tests need, on the default namespace `/`:
//! `0{open}` → `40{auth}` → `40{sid}` (or `44{error}`), pings `2` answered with `3`,
//! events `42<id>["name",payload]` out, acks `43<id>[payload]` and events `42["name",payload]` in.
//! Frames are decoded into protocol types here, at the edge; callers never see raw JSON.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use natter_protocol::http::ConnectAuth;
use natter_protocol::{AckResult, Event, Request};
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// How long the Engine.IO handshake and the Socket.IO connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read per `read` call (a longer frame still arrives whole). tungstenite's default is
/// 128 KiB, allocated and zeroed per socket: 1.3 GB of memset and page faults for a crowd of
/// 10,000, a sixth of the load generator's CPU in a reconnect storm, taken from the server
/// under test on a 2-core machine. Bench frames are a few hundred bytes.
const READ_BUFFER: usize = 8 * 1024;
/// The query of an Engine.IO v4 WebSocket.
pub(crate) const WEBSOCKET_QUERY: &str = "EIO=4&transport=websocket";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot reach the relay: {0}")]
    Io(#[from] std::io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tungstenite::Error),
    #[error("connect refused: {0}")]
    Refused(String),
    #[error("the relay closed the connection")]
    Closed,
    #[error("unexpected packet: {0}")]
    Unexpected(String),
    #[error("bad JSON in {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
}

pub(crate) fn json_err(what: &'static str) -> impl FnOnce(serde_json::Error) -> Error {
    move |source| Error::Json { what, source }
}

/// The body of a refused connect (`44{...}`).
#[derive(Debug, Deserialize)]
pub(crate) struct ConnectError {
    pub(crate) message: String,
}

/// The Engine.IO open packet; only the fields the clients use.
#[derive(Debug, Deserialize)]
pub(crate) struct Open {
    pub(crate) sid: String,
}

/// Opens a TCP connection to `addr`, from `local` (any 127.x address) when given, Nagle off.
pub async fn tcp(addr: SocketAddr, local: Option<IpAddr>) -> Result<TcpStream, std::io::Error> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(ip) = local {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One Socket.IO packet received from the relay, with the instant it was read.
#[derive(Debug)]
pub struct Incoming {
    text: Utf8Bytes,
    kind: Kind,
    /// Where the JSON array starts in `text`.
    body: usize,
    /// When the frame came off the socket (monotonic).
    pub at: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Event,
    Ack(u64),
}

impl Incoming {
    /// The ack id, if this is an ack.
    pub fn ack_id(&self) -> Option<u64> {
        match self.kind {
            Kind::Ack(id) => Some(id),
            Kind::Event => None,
        }
    }

    /// The event name, if this is an event. Names are plain ASCII, so no unescaping is needed;
    /// a name with an escape in it is reported as unknown.
    pub fn event_name(&self) -> Option<&str> {
        if self.kind != Kind::Event {
            return None;
        }
        let rest = self.text.as_str().get(self.body..)?.strip_prefix("[\"")?;
        let name = &rest[..rest.find('"')?];
        (!name.contains('\\')).then_some(name)
    }

    /// The packet's JSON array: an event's name and arguments, or an ack's arguments.
    pub fn values(&self) -> Result<Vec<serde_json::Value>, Error> {
        serde_json::from_str(&self.text.as_str()[self.body..]).map_err(json_err("a packet"))
    }

    /// Decodes the payload as `E` when this is an `E::NAME` event; `None` for anything else.
    pub fn event<E: Event>(&self) -> Option<Result<E, Error>> {
        if self.event_name()? != E::NAME {
            return None;
        }
        let (_, payload): (serde::de::IgnoredAny, E) =
            match serde_json::from_str(&self.text.as_str()[self.body..]) {
                Ok(decoded) => decoded,
                Err(e) => return Some(Err(json_err(E::NAME)(e))),
            };
        Some(Ok(payload))
    }

    /// Decodes the payload as the ack of `R` (`[{ok:true, ...}]` or `[{ok:false, error}]`).
    pub fn ack<R: Request>(&self) -> Result<AckResult<R::Ack>, Error> {
        if self.ack_id().is_none() {
            return Err(Error::Unexpected(format!(
                "expected the ack of {}, got an event",
                R::NAME
            )));
        }
        let (ack,): (AckResult<R::Ack>,) =
            serde_json::from_str(&self.text.as_str()[self.body..]).map_err(json_err(R::NAME))?;
        Ok(ack)
    }
}

/// One Socket.IO connection to the relay.
pub struct Client {
    pub(crate) ws: WebSocketStream<TcpStream>,
    sid: String,
    next_ack: u64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("sid", &self.sid).finish()
    }
}

impl Client {
    /// Opens a WebSocket to `addr` (`host:port`) and connects to namespace `/` with `token`.
    pub async fn connect(addr: &str, token: &str) -> Result<Self, Error> {
        Self::connect_from(addr, token, None).await
    }

    /// [`Self::connect`] from the local address `source` (port chosen by the kernel): spreading
    /// many connections over 127.0.0.x passes the limit of ephemeral ports per source address.
    pub async fn connect_from(
        addr: &str,
        token: &str,
        source: Option<IpAddr>,
    ) -> Result<Self, Error> {
        let auth = serde_json::to_string(&ConnectAuth {
            token: token.to_owned(),
        })
        .map_err(json_err("the connect auth"))?;
        // An event can come before the CONNECT ack: socketioxide makes a socket reachable by
        // broadcasts just before it queues the ack (`Namespace::connect`), so a `presence` sent
        // to `general` at that moment overtakes it. Nothing the bench counts is sent that early.
        let (client, _early) = Self::open(addr, Some(&auth), source, true).await?;
        Ok(client)
    }

    /// Opens the WebSocket and connects to namespace `/` with `auth` (JSON; none: a bare
    /// `40`), within [`CONNECT_TIMEOUT`]; returns the events that came before the CONNECT ack.
    /// With `zero_linger` the socket closes with a reset: no socket of ours lingers in
    /// TIME_WAIT (20,000 of them from one system's crowd made binding the next system's sources
    /// slow, as the kernel scans the ports they hold, and its reconnect storm took 5.2 s, not 2.1).
    pub(crate) async fn open(
        addr: &str,
        auth: Option<&str>,
        source: Option<IpAddr>,
        zero_linger: bool,
    ) -> Result<(Self, Vec<Incoming>), Error> {
        let open = async {
            let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
            let mut client =
                Self::handshake(addr, source, WEBSOCKET_QUERY, config, zero_linger).await?;
            client.read_open().await?;
            let early = client.join(auth.unwrap_or("")).await?;
            Ok((client, early))
        };
        tokio::time::timeout(CONNECT_TIMEOUT, open)
            .await
            .map_err(|_| Error::Timeout("the Socket.IO connect"))?
    }

    /// The WebSocket handshake on `ws://{addr}/socket.io/?{query}` (`addr` is `host:port`),
    /// from `source` when given, with Nagle off (small frames must leave at once; Nagle would
    /// add up to 40 ms to a round trip); nothing is read yet.
    pub(crate) async fn handshake(
        addr: &str,
        source: Option<IpAddr>,
        query: &str,
        config: WebSocketConfig,
        zero_linger: bool,
    ) -> Result<Self, Error> {
        let stream = match source {
            None => TcpStream::connect(addr).await?,
            Some(ip) => {
                let peer: SocketAddr = addr.parse().map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("not an IP address and port: {addr}"),
                    )
                })?;
                tcp(peer, Some(ip)).await?
            }
        };
        stream.set_nodelay(true)?;
        if zero_linger {
            stream.set_zero_linger()?;
        }
        let url = format!("ws://{addr}/socket.io/?{query}");
        let config = Some(config);
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, config).await?;
        Ok(Self {
            ws,
            sid: String::new(),
            next_ack: 1,
        })
    }

    /// Reads the Engine.IO open packet (`0{"sid":…}`).
    pub(crate) async fn read_open(&mut self) -> Result<(), Error> {
        let open = self.next_text().await?;
        let json = open
            .strip_prefix('0')
            .ok_or_else(|| Error::Unexpected(open.to_string()))?;
        let open: Open = serde_json::from_str(json).map_err(json_err("the open packet"))?;
        self.sid = open.sid;
        Ok(())
    }

    /// Sends the Socket.IO CONNECT with `auth` and waits for its `40` (or `44` → `Refused`);
    /// returns the events that came before it.
    pub(crate) async fn join(&mut self, auth: &str) -> Result<Vec<Incoming>, Error> {
        self.send_text(format!("40{auth}")).await?;
        let mut early = Vec::new();
        loop {
            let text = self.next_packet().await?;
            if text.starts_with("40") {
                return Ok(early);
            }
            if let Some(json) = text.strip_prefix("44") {
                let refused: ConnectError =
                    serde_json::from_str(json).map_err(json_err("connect_error"))?;
                return Err(Error::Refused(refused.message));
            }
            if !text.starts_with("42") {
                return Err(Error::Unexpected(text.to_string()));
            }
            early.push(parse_message(text, Instant::now())?);
        }
    }

    /// The next ack id.
    pub(crate) fn ack_id(&mut self) -> u64 {
        self.next_ack += 1;
        self.next_ack - 1
    }

    /// Sends `req` with an ack id and returns that id; the ack arrives through [`Self::recv`].
    pub async fn emit<R: Request>(&mut self, req: &R) -> Result<u64, Error> {
        let id = self.ack_id();
        let mut frame = Vec::with_capacity(128);
        write!(frame, "42{id}[")?;
        serde_json::to_writer(&mut frame, R::NAME).map_err(json_err(R::NAME))?;
        frame.push(b',');
        serde_json::to_writer(&mut frame, req).map_err(json_err(R::NAME))?;
        frame.push(b']');
        let text = String::from_utf8(frame)
            .map_err(|_| Error::Unexpected("serde_json wrote invalid UTF-8".into()))?;
        self.send_text(text).await?;
        Ok(id)
    }

    /// Sends `req` and waits (at most `timeout`) for its ack, skipping events meanwhile.
    pub async fn request<R: Request>(
        &mut self,
        req: &R,
        timeout: Duration,
    ) -> Result<AckResult<R::Ack>, Error> {
        let id = self.emit(req).await?;
        tokio::time::timeout(timeout, async {
            loop {
                let incoming = self.recv().await?;
                if incoming.ack_id() == Some(id) {
                    return incoming.ack::<R>();
                }
            }
        })
        .await
        .map_err(|_| Error::Timeout(R::NAME))?
    }

    /// The next event or ack from the relay. Engine.IO pings are answered on the way.
    pub async fn recv(&mut self) -> Result<Incoming, Error> {
        let text = self.next_packet().await?;
        match text.as_bytes().first() {
            Some(b'4') => parse_message(text, Instant::now()),
            _ => Err(Error::Unexpected(text.to_string())),
        }
    }

    /// The next packet that is not an Engine.IO ping, pong or noop; pings are answered on the
    /// way (engineioxide pings as soon as the session opens, often before the CONNECT ack, and
    /// a ping left unanswered closes the socket 20 s later); `1` (close) is [`Error::Closed`].
    pub(crate) async fn next_packet(&mut self) -> Result<Utf8Bytes, Error> {
        loop {
            let text = self.next_text().await?;
            match text.as_bytes().first() {
                Some(b'2') => self.send_text("3".to_owned()).await?,
                Some(b'3' | b'6') => {}
                Some(b'1') => return Err(Error::Closed),
                _ => return Ok(text),
            }
        }
    }

    /// Closes the WebSocket politely; errors are irrelevant at this point.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Sends one Engine.IO text packet as it is.
    pub(crate) async fn send_text(&mut self, text: String) -> Result<(), Error> {
        Ok(self.ws.send(Message::text(text)).await?)
    }

    /// The next text frame; WebSocket control frames are handled by tungstenite.
    async fn next_text(&mut self) -> Result<Utf8Bytes, Error> {
        loop {
            match self.ws.next().await {
                None => return Err(Error::Closed),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Message::Text(text))) => return Ok(text),
                Some(Ok(Message::Close(_))) => return Err(Error::Closed),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Binary(_))) => {
                    return Err(Error::Unexpected("a binary frame".into()))
                }
            }
        }
    }
}

/// Parses an Engine.IO message (`4…`) holding a Socket.IO event or ack.
pub(crate) fn parse_message(text: Utf8Bytes, at: Instant) -> Result<Incoming, Error> {
    let bytes = text.as_bytes();
    let packet_type = bytes.get(1).copied();
    let mut i = 2;
    // A namespace other than `/` would be written `/name,` here; the relay uses only `/`.
    if bytes.get(i) == Some(&b'/') {
        match bytes[i..].iter().position(|&b| b == b',') {
            Some(comma) => i += comma + 1,
            None => return Err(Error::Unexpected(text.to_string())),
        }
    }
    let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let id = match digits {
        0 => None,
        _ => text.as_str()[i..i + digits].parse::<u64>().ok(),
    };
    let body = i + digits;
    let kind = match (packet_type, id) {
        (Some(b'2'), None) => Kind::Event,
        (Some(b'3'), Some(id)) => Kind::Ack(id),
        (Some(b'1'), _) => return Err(Error::Closed),
        _ => return Err(Error::Unexpected(text.to_string())),
    };
    Ok(Incoming {
        text,
        kind,
        body,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_protocol::events::MessageEvent;
    use natter_protocol::requests::SendMessage;

    fn parse(text: &str) -> Result<Incoming, Error> {
        parse_message(Utf8Bytes::from(text.to_owned()), Instant::now())
    }

    #[test]
    fn parses_an_event() -> Result<(), Error> {
        let incoming = parse(concat!(
            r#"42["message",{"message":{"id":"m","room_id":"r","seq":7,"sender":"ann","#,
            r#""body":"hi","client_id":"c","sent_at":"2026-01-01T00:00:00Z"}}]"#
        ))?;
        assert_eq!(incoming.ack_id(), None);
        assert_eq!(incoming.event_name(), Some(MessageEvent::NAME));
        let event = incoming.event::<MessageEvent>().ok_or(Error::Closed)??;
        assert_eq!(event.message.seq, 7);
        Ok(())
    }

    #[test]
    fn parses_an_ack_ok_and_err() -> Result<(), Error> {
        let ok = parse(concat!(
            r#"4312[{"ok":true,"message":{"id":"m","room_id":"r","seq":1,"sender":"ann","#,
            r#""body":"hi","client_id":"c","sent_at":"2026-01-01T00:00:00Z"}}]"#
        ))?;
        assert_eq!(ok.ack_id(), Some(12));
        assert!(matches!(ok.ack::<SendMessage>()?, AckResult::Ok(_)));
        let err = parse(r#"433[{"ok":false,"error":{"code":"forbidden","message":"no"}}]"#)?;
        assert_eq!(err.ack_id(), Some(3));
        assert!(matches!(err.ack::<SendMessage>()?, AckResult::Err(_)));
        Ok(())
    }

    #[test]
    fn other_events_are_not_decoded() -> Result<(), Error> {
        let incoming = parse(r#"42["presence",{"user":"bob","online":true,"last_seen":null}]"#)?;
        assert!(incoming.event::<MessageEvent>().is_none());
        Ok(())
    }

    #[test]
    fn refuses_binary_packets() {
        assert!(parse(r#"451-["message",{"_placeholder":true,"num":0}]"#).is_err());
    }

    /// A scripted Engine.IO server: pings right after the open packet, as engineioxide does,
    /// before it acks the CONNECT; the client must answer that ping too.
    #[tokio::test]
    async fn a_ping_before_the_connect_ack_is_answered() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address").to_string();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
            ws.send(Message::text(r#"0{"sid":"s1"}"#))
                .await
                .expect("open");
            ws.send(Message::text("2")).await.expect("ping");
            let mut texts = Vec::new();
            while texts.len() < 2 {
                match ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        if text.starts_with("40") {
                            ws.send(Message::text(r#"40{"sid":"n1"}"#))
                                .await
                                .expect("ack");
                        }
                        texts.push(text.to_string());
                    }
                    Some(Ok(_)) => {}
                    other => panic!("the client went away: {other:?}"),
                }
            }
            texts
        });
        let client = tokio::time::timeout(Duration::from_secs(5), Client::connect(&addr, "t"))
            .await
            .expect("connect in time")
            .expect("connected");
        let texts = tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("server in time")
            .expect("server");
        assert!(texts[0].starts_with("40{"), "{texts:?}");
        assert_eq!(texts[1], "3", "the ping got its pong");
        client.close().await;
    }
}
