//! The boundary over rust_socketio: one [`Connection`] per connection attempt, ready only after
//! the relay's CONNECT, events decoded once and forwarded into a channel, and at most one request
//! in flight. Anything that goes wrong marks the connection dead; it is never reused after that.

mod decode;

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use futures_util::FutureExt;
use natter_protocol::http::ConnectAuth;
use natter_protocol::{AckResult, ErrorCode, Request, WireError};
use rust_socketio::asynchronous::{Client as SioClient, ClientBuilder};
use rust_socketio::{Event as SioEvent, Payload, TransportType};
use tokio::sync::{mpsc, oneshot, watch, Mutex};

pub use decode::ServerEvent;
use decode::{connect_error_message, error_text, first_arg};

/// Where events of every connection go; unbounded because callbacks must never wait.
pub type EventSink = mpsc::UnboundedSender<ServerEvent>;

/// Which Engine.IO transport a connection runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// The default: one WebSocket.
    #[serde(rename = "websocket")]
    WebSocket,
    /// HTTP long-polling, used when the WebSocket handshake fails (e.g. a proxy refusing upgrades).
    Polling,
}

impl TransportKind {
    fn socketio(self) -> TransportType {
        match self {
            Self::WebSocket => TransportType::Websocket,
            Self::Polling => TransportType::Polling,
        }
    }
}

/// How long connecting and each request may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From opening the transport to the relay's CONNECT (or connect_error).
    pub connect: Duration,
    /// From writing a request to its ack.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The relay refused the token: log in again.
    #[error("the relay refused the token")]
    Unauthorized,
    #[error("the relay refused the connection: {0}")]
    Refused(String),
    #[error("no CONNECT from the relay within {0:?}")]
    Timeout(Duration),
    #[error("transport: {0}")]
    Transport(String),
    /// An https relay's certificate is not trusted (the user may pin it) or not the pinned one:
    /// retrying does not help.
    #[error("{0}")]
    Certificate(crate::trust::CertificateError),
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The relay answered with `{ok:false, error}`; the connection is fine.
    #[error("refused: {0}")]
    Refused(WireError),
    /// The connection is dead (now, or already before): reconnect and retry.
    #[error("connection dead: {0}")]
    Dead(String),
    /// The ack arrived but does not decode; the connection is fine.
    #[error("undecodable ack for {name}: {reason}")]
    Decode { name: &'static str, reason: String },
}

/// The life of one connection, as its callbacks and requests last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Connecting,
    Ready,
    Refused(String),
    Dead(String),
}

/// One authenticated Socket.IO connection. Drop it (or [`close`](Self::close) it) once dead.
pub struct Connection {
    socket: SioClient,
    kind: TransportKind,
    link: Arc<watch::Sender<Link>>,
    timeouts: Timeouts,
    /// rust_socketio's ack table is unsafe with several outstanding acks: one request at a time.
    turn: Mutex<()>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("kind", &self.kind)
            .field("link", &*self.link.borrow())
            .finish_non_exhaustive()
    }
}

/// Opens a fresh rust_socketio client to `url` with `auth: {token}` and resolves once the relay
/// sends CONNECT. Decoded events go to `events` from then on.
///
/// WebSocket first; if that fails short of a refusal or a timeout (e.g. a proxy that answers the
/// upgrade with 403), the same attempt is made again over HTTP long-polling.
/// [`Connection::kind`] says which one is in use.
pub async fn connect(
    url: &str,
    token: &str,
    timeouts: Timeouts,
    events: EventSink,
) -> Result<Connection, ConnectError> {
    match connect_via(
        TransportKind::WebSocket,
        url,
        token,
        timeouts,
        events.clone(),
    )
    .await
    {
        Err(ConnectError::Transport(reason)) => {
            tracing::debug!(%reason, "WebSocket connect failed; trying long-polling");
            connect_via(TransportKind::Polling, url, token, timeouts, events).await
        }
        other => other,
    }
}

/// [`connect`] over one transport only, without fallback.
pub async fn connect_via(
    kind: TransportKind,
    url: &str,
    token: &str,
    timeouts: Timeouts,
    events: EventSink,
) -> Result<Connection, ConnectError> {
    match connect_once(kind, url, token, timeouts, events).await {
        Err(ConnectError::Transport(reason)) => match crate::trust::diagnose(url).await {
            Some(problem) => Err(ConnectError::Certificate(problem)),
            None => Err(ConnectError::Transport(reason)),
        },
        other => other,
    }
}

async fn connect_once(
    kind: TransportKind,
    url: &str,
    token: &str,
    timeouts: Timeouts,
    events: EventSink,
) -> Result<Connection, ConnectError> {
    let (link, mut watching) = watch::channel(Link::Connecting);
    let link = Arc::new(link);
    let (on_connect, on_close, on_error) = (link.clone(), link.clone(), link.clone());
    let auth = serde_json::to_value(ConnectAuth {
        token: token.to_owned(),
    })
    .map_err(|e| ConnectError::Transport(e.to_string()))?;
    let mut builder = ClientBuilder::new(url);
    if crate::trust::origin(url).is_some() {
        let tls =
            crate::trust::connector(url).map_err(|e| ConnectError::Transport(e.to_string()))?;
        builder = builder.tls_config(tls);
    }
    let builder = builder
        .transport_type(kind.socketio())
        .reconnect(false)
        .reconnect_on_disconnect(false)
        .auth(auth)
        .on(SioEvent::Connect, move |_, _| {
            on_connect.send_if_modified(|l| set(l, Link::Ready));
            async {}.boxed()
        })
        .on(SioEvent::Close, move |_, _| {
            on_close.send_if_modified(|l| set(l, Link::Dead("the relay disconnected".into())));
            async {}.boxed()
        })
        .on(SioEvent::Error, move |payload, _| {
            let text = error_text(payload);
            let next = match connect_error_message(&text) {
                Some(message) => Link::Refused(message),
                None => Link::Dead(text),
            };
            on_error.send_if_modified(|l| set(l, next));
            async {}.boxed()
        })
        .on_any(move |event, payload, _| {
            let name = event.as_str();
            match ServerEvent::decode(name, first_arg(payload, false)) {
                Some(Ok(ev)) => {
                    let _ = events.send(ev);
                }
                Some(Err(e)) => tracing::warn!(event = name, error = %e, "undecodable event"),
                None => tracing::debug!(event = name, "unknown event ignored"),
            }
            async {}.boxed()
        });

    let deadline = tokio::time::Instant::now() + timeouts.connect;
    let socket = match tokio::time::timeout_at(deadline, builder.connect()).await {
        Ok(Ok(socket)) => socket,
        Ok(Err(e)) => return Err(ConnectError::Transport(e.to_string())),
        Err(_) => return Err(ConnectError::Timeout(timeouts.connect)),
    };
    // From here on `conn` owns the socket: dropping it on any error stops rust_socketio's task.
    let conn = Connection {
        socket,
        kind,
        link,
        timeouts,
        turn: Mutex::new(()),
    };
    let settled = match tokio::time::timeout_at(
        deadline,
        watching.wait_for(|l| *l != Link::Connecting),
    )
    .await
    {
        Ok(Ok(link)) => link.clone(),
        Ok(Err(_)) => Link::Dead("callbacks dropped".into()),
        Err(_) => return Err(ConnectError::Timeout(timeouts.connect)),
    };
    match settled {
        Link::Ready => Ok(conn),
        Link::Refused(message) if message == ErrorCode::Unauthorized.as_str() => {
            Err(ConnectError::Unauthorized)
        }
        Link::Refused(message) => Err(ConnectError::Refused(message)),
        Link::Dead(reason) => Err(ConnectError::Transport(reason)),
        Link::Connecting => Err(ConnectError::Transport("still connecting".into())),
    }
}

/// A connection only moves forward: Connecting → Ready → Dead (or Refused); never back.
fn set(link: &mut Link, next: Link) -> bool {
    let allowed = matches!(
        (&*link, &next),
        (Link::Connecting, _) | (Link::Ready, Link::Dead(_) | Link::Refused(_))
    );
    if allowed {
        *link = next;
    }
    allowed
}

impl Connection {
    /// The transport this connection runs over.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// Whether the connection is still usable.
    pub fn is_alive(&self) -> bool {
        *self.link.borrow() == Link::Ready
    }

    /// Resolves once the connection is dead, with the reason.
    pub async fn dead(&self) -> String {
        let mut watching = self.link.subscribe();
        let last = watching
            .wait_for(|l| !matches!(l, Link::Ready | Link::Connecting))
            .await
            .map(|l| l.clone());
        match last {
            Ok(Link::Dead(reason) | Link::Refused(reason)) => reason,
            _ => "callbacks dropped".into(),
        }
    }

    /// Declares the connection dead (e.g. a liveness check gave up on it); requests fail from now.
    pub fn kill(&self, reason: &str) {
        self.mark_dead(reason.to_owned());
    }

    fn mark_dead(&self, reason: String) -> RequestError {
        self.link
            .send_if_modified(|l| set(l, Link::Dead(reason.clone())));
        RequestError::Dead(reason)
    }

    /// Sends one request and waits for its ack, with [`Timeouts::request`]. Requests take turns;
    /// a send error or a timeout marks the connection dead.
    pub async fn request<R: Request>(&self, req: &R) -> Result<R::Ack, RequestError> {
        let value = serde_json::to_value(req).map_err(|e| RequestError::Decode {
            name: R::NAME,
            reason: e.to_string(),
        })?;
        let _turn = self.turn.lock().await;
        if !self.is_alive() {
            return Err(RequestError::Dead(self.dead().await));
        }
        let within = self.timeouts.request;
        let (ack_tx, ack_rx) = oneshot::channel();
        let ack_tx = StdMutex::new(Some(ack_tx));
        let emitted = self.socket.emit_with_ack(
            R::NAME,
            Payload::Text(vec![value]),
            within,
            move |payload, _| {
                if let Some(tx) = ack_tx.lock().ok().and_then(|mut slot| slot.take()) {
                    let _ = tx.send(first_arg(payload, true));
                }
                async {}.boxed()
            },
        );
        match tokio::time::timeout(within, emitted).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.mark_dead(format!("sending {}: {e}", R::NAME))),
            Err(_) => return Err(self.mark_dead(format!("sending {} timed out", R::NAME))),
        }
        let value = tokio::select! {
            // An ack that came before the relay closed the connection (as after `account:delete`)
            // is the answer: it is taken first, not raced against the close.
            biased;
            ack = ack_rx => match ack {
                Ok(value) => value,
                Err(_) => return Err(self.mark_dead(format!("the {} ack was dropped", R::NAME))),
            },
            reason = self.dead() => return Err(RequestError::Dead(reason)),
            () = tokio::time::sleep(within) => {
                return Err(self.mark_dead(format!("no {} ack within {within:?}", R::NAME)));
            }
        };
        let ack: AckResult<R::Ack> =
            serde_json::from_value(value).map_err(|e| RequestError::Decode {
                name: R::NAME,
                reason: e.to_string(),
            })?;
        Result::from(ack).map_err(RequestError::Refused)
    }

    /// Sends DISCONNECT and closes the transport (bounded); the connection is dead afterwards.
    pub async fn close(self) {
        self.mark_dead("closed by the client".into());
        let _ = tokio::time::timeout(self.timeouts.request, self.socket.disconnect()).await;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Stop rust_socketio's receive task too; the relay would otherwise wait for a ping timeout.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let socket = self.socket.clone();
            let grace = self.timeouts.request;
            runtime.spawn(async move {
                let _ = tokio::time::timeout(grace, socket.disconnect()).await;
            });
        }
    }
}
