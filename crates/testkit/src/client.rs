//! The relay tests' Socket.IO client: a [`crate::sio::Client`] owned by a task that answers
//! pings, buffers events and hands acks to their waiters, so a test holds `&Client` while events
//! queue up. `connect` waits for the relay's CONNECT (or connect_error); every wait is bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use natter_protocol::requests::ListRooms;
use natter_protocol::{AckResult, ErrorCode, Event, Request, WireError};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch, Mutex};

use crate::sio::{self, Incoming};

/// How long any single wait (connect, ack, event) may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(5);

type Acks = Arc<StdMutex<HashMap<u64, oneshot::Sender<Value>>>>;

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

/// One Socket.IO connection of one user. Dropping it closes the connection.
pub struct Client {
    pub username: String,
    /// Packets for the task to send; dropped, the task closes the socket.
    out: mpsc::UnboundedSender<String>,
    /// `Some(why)` once the connection is closed.
    closed: watch::Receiver<Option<String>>,
    inbox: Mutex<Inbox>,
    acks: Acks,
    next_ack: AtomicU64,
    task: tokio::task::JoinHandle<()>,
}

/// Where an event or ack goes: `(name, first argument)` to the inbox, an ack's first argument
/// to its waiter.
fn dispatch(incoming: &Incoming, events: &mpsc::UnboundedSender<(String, Value)>, acks: &Acks) {
    let Ok(values) = incoming.values() else {
        return;
    };
    let mut values = values.into_iter();
    match incoming.ack_id() {
        Some(id) => {
            let waiter = acks.lock().ok().and_then(|mut a| a.remove(&id));
            if let Some(tx) = waiter {
                let _ = tx.send(values.next().unwrap_or(Value::Null));
            }
        }
        None => {
            if let Some(Value::String(name)) = values.next() {
                let _ = events.send((name, values.next().unwrap_or(Value::Null)));
            }
        }
    }
}

/// Owns the socket until it closes or the [`Client`] is gone.
async fn run(
    mut socket: sio::Client,
    mut out: mpsc::UnboundedReceiver<String>,
    closed: watch::Sender<Option<String>>,
    events: mpsc::UnboundedSender<(String, Value)>,
    acks: Acks,
) {
    let why = loop {
        tokio::select! {
            packet = out.recv() => match packet {
                Some(text) => {
                    if let Err(e) = socket.send_text(text).await {
                        break e.to_string();
                    }
                }
                None => {
                    socket.close().await;
                    break "closed by the test".to_owned();
                }
            },
            incoming = socket.recv() => match incoming {
                Ok(incoming) => dispatch(&incoming, &events, &acks),
                Err(sio::Error::Unexpected(_)) => {}
                Err(sio::Error::Closed) => break "the relay disconnected us".to_owned(),
                Err(e) => break e.to_string(),
            },
        }
    };
    closed.send_replace(Some(why));
}

impl Client {
    /// Connects to `base` (an `http://host:port` URL) over WebSocket with `auth`, and waits
    /// until the relay confirms (Ok) or refuses (`Refused` with the connect_error message).
    pub async fn connect(
        base: &str,
        username: &str,
        auth: Option<Value>,
    ) -> Result<Self, ClientError> {
        Self::connect_from(base, username, auth, None).await
    }

    /// [`connect`](Self::connect) from the local address `source` (e.g. 127.0.0.2).
    pub async fn connect_from(
        base: &str,
        username: &str,
        auth: Option<Value>,
        source: Option<std::net::IpAddr>,
    ) -> Result<Self, ClientError> {
        let addr = base.trim_start_matches("http://").trim_end_matches('/');
        let auth = auth.map(|a| a.to_string());
        let opened = tokio::time::timeout(
            WAIT,
            sio::Client::open(addr, auth.as_deref(), source, false),
        );
        let (socket, early) = match opened.await {
            Err(_) => return Err(ClientError::Timeout("CONNECT or connect_error".into())),
            Ok(Err(sio::Error::Refused(message))) => return Err(ClientError::Refused(message)),
            Ok(Err(sio::Error::Closed)) => return Err(ClientError::Closed("at connect".into())),
            Ok(Err(e)) => return Err(ClientError::Transport(e.to_string())),
            Ok(Ok(opened)) => opened,
        };
        let (out, out_rx) = mpsc::unbounded_channel();
        let (closed_tx, closed) = watch::channel(None);
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let acks = Acks::default();
        for incoming in &early {
            dispatch(incoming, &ev_tx, &acks);
        }
        let task = tokio::spawn(run(socket, out_rx, closed_tx, ev_tx, acks.clone()));
        Ok(Self {
            username: username.to_owned(),
            out,
            closed,
            inbox: Mutex::new(Inbox {
                rx: ev_rx,
                buffered: VecDeque::new(),
            }),
            acks,
            next_ack: AtomicU64::new(0),
            task,
        })
    }

    /// Queues one packet for the task to send.
    fn send(&self, text: String) -> Result<(), ClientError> {
        self.out
            .send(text)
            .map_err(|_| ClientError::Closed("the connection is gone".into()))
    }

    /// Waits (bounded) until the relay has closed this connection; why it closed.
    pub async fn wait_closed(&self) -> Result<String, ClientError> {
        let mut watching = self.closed.clone();
        let closed = tokio::time::timeout(WAIT, watching.wait_for(Option::is_some))
            .await
            .map_err(|_| ClientError::Timeout(format!("{}'s connection to close", self.username)))?
            .map(|why| why.clone().unwrap_or_default());
        // The task gone without reporting a close is the client failing, not the relay
        // closing: an error, so a test waiting for the relay's close cannot pass on it.
        closed.map_err(|_| {
            ClientError::Closed("the client's task ended before any close was reported".into())
        })
    }

    /// Sends DISCONNECT and closes the transport.
    pub async fn close(self) {
        let _ = self.send("41".to_owned());
        drop(self.out);
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }

    /// Emits `name` with `payload` (no argument when `None`) and waits for the ack, decoded as
    /// `AckResult<A>`. Errors of the client or transport are the outer `Err`.
    pub async fn raw_request<A: DeserializeOwned>(
        &self,
        name: &str,
        payload: Option<Value>,
        within: Duration,
    ) -> Result<Result<A, WireError>, ClientError> {
        let id = self.next_ack.fetch_add(1, Ordering::Relaxed);
        let (ack_tx, ack_rx) = oneshot::channel::<Value>();
        if let Ok(mut acks) = self.acks.lock() {
            acks.insert(id, ack_tx);
        }
        let mut args = vec![Value::String(name.to_owned())];
        args.extend(payload);
        self.send(format!("42{id}{}", Value::Array(args)))?;
        let mut watching = self.closed.clone();
        // An ack that came before the relay closed the connection is the answer (a request
        // that ends the asking socket's own session is acked, then disconnected).
        let value = tokio::select! {
            biased;
            ack = ack_rx => ack.map_err(|_| ClientError::Closed("the task ended".into()))?,
            closed = watching.wait_for(Option::is_some) => {
                let why = closed.map(|c| format!("{:?}", *c)).unwrap_or_default();
                return Err(ClientError::Closed(format!("while waiting for the {name} ack: {why}")));
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
        self.send(format!("42{}", Value::Array(vec![R::NAME.into(), value])))
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

    /// Makes sure every event queued before now has arrived (a [`barrier`](Self::barrier)),
    /// then drops every `E` received and not yet taken; how many.
    pub async fn discard<E: Event>(&self) -> Result<usize, ClientError> {
        self.barrier().await?;
        let mut inbox = self.inbox.lock().await;
        let before = inbox.buffered.len();
        inbox.buffered.retain(|(n, _)| n != E::NAME);
        Ok(before - inbox.buffered.len())
    }

    pub async fn expect_no_event<E: Event>(&self) -> Result<(), ClientError> {
        self.expect_no_event_where::<E>(|_| true).await
    }
}
