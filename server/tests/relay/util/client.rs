//! The Socket.IO test client over rust_socketio 0.6 (async), shaped around its quirks: callbacks
//! only decode and forward into channels, `connect` waits for the relay's CONNECT (or
//! connect_error), one request is in flight per client, and every wait is bounded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use futures_util::FutureExt;
use natter_protocol::requests::ListRooms;
use natter_protocol::{AckResult, ErrorCode, Event, Request, WireError};
use rust_socketio::asynchronous::{Client as SioClient, ClientBuilder};
use rust_socketio::{Event as SioEvent, Payload, TransportType};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch, Mutex};

/// How long any single wait (connect, ack, event) may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(5);
/// What rust_socketio prefixes a CONNECT_ERROR payload with when it reports it as `Event::Error`.
const CONNECT_ERROR: &str = "Received an ConnectError frame: ";

/// Where the connection stands, as the callbacks last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    Connecting,
    Connected,
    /// The relay answered CONNECT with connect_error; its `message`.
    Refused(String),
    /// The relay sent DISCONNECT, or the transport failed.
    Closed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect refused: {0}")]
    Refused(String),
    #[error("connection closed: {0}")]
    Closed(String),
    #[error("timed out waiting for {0}")]
    Timeout(String),
    #[error("transport: {0}")]
    Transport(String),
    #[error("undecodable {0}")]
    Decode(String),
    #[error("unexpected {0}")]
    Unexpected(String),
}

/// Events received and not yet taken by the test, in arrival order.
struct Inbox {
    rx: mpsc::UnboundedReceiver<(String, Value)>,
    buffered: VecDeque<(String, Value)>,
}

impl Inbox {
    fn drain(&mut self) {
        while let Ok(ev) = self.rx.try_recv() {
            self.buffered.push_back(ev);
        }
    }

    /// Removes and returns the first buffered event named `name` that `pick` accepts.
    fn take(&mut self, name: &str, pick: &mut dyn FnMut(&Value) -> bool) -> Option<Value> {
        let at = self
            .buffered
            .iter()
            .position(|(n, v)| n == name && pick(v))?;
        self.buffered.remove(at).map(|(_, v)| v)
    }
}

/// One Socket.IO connection of one user.
pub struct Client {
    pub username: String,
    socket: SioClient,
    conn: watch::Receiver<Conn>,
    inbox: Mutex<Inbox>,
    /// rust_socketio's ack ids are random in 0..999 and its ack table misbehaves with several
    /// outstanding acks: one request at a time.
    turn: Mutex<()>,
}

/// The first argument of an event or ack payload. rust_socketio hands an ack's data as one
/// JSON array (`[{ok,...}]`) wrapped in `Payload::Text`.
fn first_arg(payload: Payload, is_ack: bool) -> Value {
    #[allow(deprecated)]
    let mut args = match payload {
        Payload::Text(args) => args,
        Payload::String(s) => vec![serde_json::from_str(&s).unwrap_or(Value::String(s))],
        Payload::Binary(_) => vec![Value::Null],
    };
    if is_ack && args.len() == 1 {
        if let Value::Array(inner) = &mut args[0] {
            args = std::mem::take(inner);
        }
    }
    args.into_iter().next().unwrap_or(Value::Null)
}

/// The `message` of a connect_error reported through `Event::Error`, if it is one.
fn connect_error_message(text: &str) -> Option<String> {
    let raw = text.strip_prefix(CONNECT_ERROR)?;
    let message = serde_json::from_str::<Value>(raw)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned));
    Some(message.unwrap_or_else(|| raw.to_owned()))
}

impl Client {
    /// Connects to `base` (an `http://` URL) over WebSocket with `auth`, and waits until the relay
    /// confirms (Ok) or refuses (`Refused` with the connect_error message).
    pub async fn connect(
        base: &str,
        username: &str,
        auth: Option<Value>,
    ) -> Result<Self, ClientError> {
        let (conn_tx, conn) = watch::channel(Conn::Connecting);
        let conn_tx = Arc::new(conn_tx);
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let on_connect = conn_tx.clone();
        let on_close = conn_tx.clone();
        let on_error = conn_tx;
        let mut builder = ClientBuilder::new(base)
            .transport_type(TransportType::Websocket)
            .reconnect(false)
            .on(SioEvent::Connect, move |_, _| {
                on_connect.send_replace(Conn::Connected);
                async {}.boxed()
            })
            .on(SioEvent::Close, move |_, _| {
                on_close.send_replace(Conn::Closed("the relay disconnected us".into()));
                async {}.boxed()
            })
            .on(SioEvent::Error, move |payload, _| {
                let text = match first_arg(payload, false) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                on_error.send_replace(match connect_error_message(&text) {
                    Some(message) => Conn::Refused(message),
                    None => Conn::Closed(text),
                });
                async {}.boxed()
            })
            .on_any(move |event, payload, _| {
                let _ = ev_tx.send((event.as_str().to_owned(), first_arg(payload, false)));
                async {}.boxed()
            });
        if let Some(auth) = auth {
            builder = builder.auth(auth);
        }
        let socket = tokio::time::timeout(WAIT, builder.connect())
            .await
            .map_err(|_| ClientError::Timeout("the transport to open".into()))?
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let mut watching = conn.clone();
        let settled = tokio::time::timeout(WAIT, watching.wait_for(|c| *c != Conn::Connecting))
            .await
            .map_err(|_| ClientError::Timeout("CONNECT or connect_error".into()))?
            .map(|c| c.clone())
            .map_err(|_| ClientError::Closed("callbacks dropped".into()))?;
        match settled {
            Conn::Connected => Ok(Self {
                username: username.to_owned(),
                socket,
                conn,
                inbox: Mutex::new(Inbox {
                    rx: ev_rx,
                    buffered: VecDeque::new(),
                }),
                turn: Mutex::new(()),
            }),
            Conn::Refused(message) => Err(ClientError::Refused(message)),
            Conn::Closed(reason) => Err(ClientError::Closed(reason)),
            Conn::Connecting => Err(ClientError::Closed("still connecting".into())),
        }
    }

    /// Waits (bounded) until the relay has closed this connection.
    pub async fn wait_closed(&self) -> Result<String, ClientError> {
        let mut watching = self.conn.clone();
        let closed =
            tokio::time::timeout(WAIT, watching.wait_for(|c| matches!(c, Conn::Closed(_))))
                .await
                .map_err(|_| {
                    ClientError::Timeout(format!("{}'s connection to close", self.username))
                })?
                .map(|c| c.clone());
        // The callbacks gone without reporting a close is the client failing, not the relay
        // closing: an error, so a test waiting for the relay's close cannot pass on it.
        match closed {
            Ok(Conn::Closed(reason)) => Ok(reason),
            Ok(other) => Err(ClientError::Unexpected(format!(
                "connection state {other:?}"
            ))),
            Err(_) => Err(ClientError::Closed(
                "the client's callbacks dropped before any close was reported".into(),
            )),
        }
    }

    /// Sends DISCONNECT and closes the transport.
    pub async fn close(self) {
        let _ = tokio::time::timeout(WAIT, self.socket.disconnect()).await;
    }

    /// Emits `name` with `payload` (no argument when `None`) and waits for the ack, decoded as
    /// `AckResult<A>`. Errors of the client or transport are the outer `Err`.
    pub async fn raw_request<A: DeserializeOwned>(
        &self,
        name: &str,
        payload: Option<Value>,
        within: Duration,
    ) -> Result<Result<A, WireError>, ClientError> {
        let _turn = self.turn.lock().await;
        let (ack_tx, ack_rx) = oneshot::channel::<Value>();
        let ack_tx = StdMutex::new(Some(ack_tx));
        let args = Payload::Text(payload.into_iter().collect());
        let emitted = self
            .socket
            .emit_with_ack(name, args, within, move |payload, _| {
                if let Some(tx) = ack_tx.lock().ok().and_then(|mut slot| slot.take()) {
                    let _ = tx.send(first_arg(payload, true));
                }
                async {}.boxed()
            });
        tokio::time::timeout(within, emitted)
            .await
            .map_err(|_| ClientError::Timeout(format!("{name} to be written")))?
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let mut watching = self.conn.clone();
        let value = tokio::select! {
            ack = ack_rx => ack.map_err(|_| ClientError::Closed("ack callback dropped".into()))?,
            closed = watching.wait_for(|c| matches!(c, Conn::Closed(_))) => {
                let reason = closed.map(|c| format!("{:?}", *c)).unwrap_or_default();
                return Err(ClientError::Closed(format!("while waiting for the {name} ack: {reason}")));
            }
            () = tokio::time::sleep(within) => {
                return Err(ClientError::Timeout(format!("the {name} ack")));
            }
        };
        let ack: AckResult<A> = serde_json::from_value(value.clone())
            .map_err(|e| ClientError::Decode(format!("{name} ack {value}: {e}")))?;
        Ok(ack.into())
    }

    /// Sends a request and waits for its ack; a client-side failure (timeout, closed) is the outer
    /// `Err`, a refusal by the relay the inner one.
    pub async fn try_request<R: Request>(
        &self,
        req: &R,
    ) -> Result<Result<R::Ack, WireError>, ClientError> {
        let value = serde_json::to_value(req).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.raw_request::<R::Ack>(R::NAME, Some(value), WAIT).await
    }

    /// Sends a request and waits for its ack. A client-side failure is reported as an `internal`
    /// error whose message starts with "test client:", so assertions on codes print it.
    pub async fn request<R: Request>(&self, req: &R) -> Result<R::Ack, WireError> {
        self.try_request(req).await.unwrap_or_else(|e| {
            Err(WireError::new(
                ErrorCode::Internal,
                format!("test client: {e}"),
            ))
        })
    }

    /// Emits without asking for an ack (the relay then answers nothing).
    pub async fn emit<R: Request>(&self, req: &R) -> Result<(), ClientError> {
        let value = serde_json::to_value(req).map_err(|e| ClientError::Decode(e.to_string()))?;
        let _turn = self.turn.lock().await;
        self.socket
            .emit(R::NAME, Payload::Text(vec![value]))
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))
    }

    /// The next `E` event (buffered or still to come) that `pick` accepts; others stay buffered.
    pub async fn next_event_where<E: Event>(
        &self,
        within: Duration,
        mut pick: impl FnMut(&E) -> bool,
    ) -> Result<E, ClientError> {
        let mut inbox = self.inbox.lock().await;
        inbox.drain();
        let mut accept = |v: &Value| serde_json::from_value::<E>(v.clone()).is_ok_and(|e| pick(&e));
        let wait = async {
            loop {
                if let Some(v) = inbox.take(E::NAME, &mut accept) {
                    return Ok(v);
                }
                match inbox.rx.recv().await {
                    Some(ev) => inbox.buffered.push_back(ev),
                    None => return Err(ClientError::Closed("event channel ended".into())),
                }
            }
        };
        let value = tokio::time::timeout(within, wait).await.map_err(|_| {
            ClientError::Timeout(format!("a `{}` event at {}", E::NAME, self.username))
        })??;
        serde_json::from_value(value)
            .map_err(|e| ClientError::Decode(format!("{} event: {e}", E::NAME)))
    }

    /// The next `E` event within [`WAIT`].
    pub async fn next_event<E: Event>(&self) -> Result<E, ClientError> {
        self.next_event_where::<E>(WAIT, |_| true).await
    }

    /// Makes sure every event the relay queued for this socket before now has been received:
    /// a request's ack travels behind them on the same connection.
    pub async fn barrier(&self) -> Result<(), ClientError> {
        self.try_request(&ListRooms {})
            .await?
            .map_err(|e| ClientError::Unexpected(format!("barrier refused: {e}")))?;
        self.inbox.lock().await.drain();
        Ok(())
    }

    /// After a [`barrier`](Self::barrier): no `E` that `pick` accepts was received (and not taken).
    /// Whatever should have caused it must already be complete (acked, or seen by someone else).
    pub async fn expect_no_event_where<E: Event>(
        &self,
        mut pick: impl FnMut(&E) -> bool,
    ) -> Result<(), ClientError> {
        self.barrier().await?;
        let inbox = self.inbox.lock().await;
        let found = inbox.buffered.iter().find(|(n, v)| {
            n == E::NAME && serde_json::from_value::<E>(v.clone()).is_ok_and(|e| pick(&e))
        });
        match found {
            Some((name, value)) => Err(ClientError::Unexpected(format!(
                "`{name}` event at {}: {value}",
                self.username
            ))),
            None => Ok(()),
        }
    }

    pub async fn expect_no_event<E: Event>(&self) -> Result<(), ClientError> {
        self.expect_no_event_where::<E>(|_| true).await
    }
}
