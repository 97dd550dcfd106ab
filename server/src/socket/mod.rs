//! Socket.IO: the connect middleware (token check, rooms, handlers) and presence.

mod handlers;
mod notify;
mod presence;
pub mod rooms;

pub use presence::Presence;

use std::time::Duration;

use natter_protocol::events::MessageEvent;
use natter_protocol::http::ConnectAuth;
use natter_protocol::limits::MAX_PAYLOAD_BYTES;
use natter_protocol::{Event, Message, User};
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::DisconnectReason;
use socketioxide::SocketIo;
use tokio::sync::mpsc;

use crate::auth::token_hash;
use crate::state::AppState;
use crate::store::SignOn;
use crate::time::now_rfc3339;
use crate::Config;

/// Packets queued per socket before emits to it fail (a slow reader is not waited for).
const MAX_BUFFERED_PACKETS: usize = 1_024;
/// Each WebSocket's read buffer, allocated per connection (socketioxide's default is 4 KiB).
/// Chat frames are mostly far smaller; a larger frame is read in several chunks.
const WS_READ_BUFFER: usize = 1_024;

/// Who a socket belongs to; stored in the socket's extensions at connect.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: User,
}

/// The Socket.IO layer for the axum router, with every limit set explicitly.
/// The timeouts (CONNECT, pings) come from `config`.
pub fn layer(state: AppState, config: &Config) -> (SocketIoLayer, SocketIo) {
    let max = MAX_PAYLOAD_BYTES;
    let (layer, io) = SocketIo::builder()
        .max_payload(max as u64)
        .ws_max_message_size(max)
        .ws_max_frame_size(max)
        .ws_read_buffer_size(WS_READ_BUFFER)
        .max_buffer_size(MAX_BUFFERED_PACKETS)
        .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
        .ping_interval(Duration::from_secs(config.ping_interval_secs))
        .ping_timeout(Duration::from_secs(config.ping_timeout_secs))
        .with_state(state)
        .build_layer();
    io.ns("/", on_connect.with(authenticate));
    (layer, io)
}

/// The root namespace, to broadcast on; `None` once the server is closing. (socketioxide's
/// `io.to()` and friends panic when the namespace is gone, which disconnect handlers running
/// during shutdown would hit.)
pub fn root(io: &SocketIo) -> Option<BroadcastOperators> {
    io.of("/")
}

/// Sends every committed message to its room, one at a time in commit order, so each room
/// sees its messages in seq order. Ends when the committer stops.
pub async fn broadcast_committed(io: SocketIo, mut committed: mpsc::Receiver<Message>) {
    while let Some(message) = committed.recv().await {
        let room = rooms::chat(&message.room_id);
        let event = MessageEvent { message };
        let Some(ns) = root(&io) else {
            return; // shutting down
        };
        if let Err(e) = ns.to(room).emit(MessageEvent::NAME, &event).await {
            // A socket with a full buffer misses a live event; it catches up with `sync`.
            tracing::debug!(error = %e, "message broadcast incomplete");
        }
    }
}

/// Why a connect was refused; its text is the `connect_error` message the client sees.
#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Runs before the CONNECT ack: anything registered here sees the client's first event.
async fn authenticate(
    s: SocketRef,
    io: SocketIo,
    State(state): State<AppState>,
    TryData(auth): TryData<ConnectAuth>,
) -> Result<(), Refused> {
    let unauthorized = Refused(natter_protocol::ErrorCode::Unauthorized.as_str());
    let Ok(auth) = auth else {
        tracing::info!(sid = %s.id, "connect refused: no token");
        return Err(unauthorized);
    };
    let found = state.store.sign_on(&token_hash(&auth.token)).await;
    let SignOn {
        session_id,
        user,
        room_ids,
    } = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            tracing::info!(sid = %s.id, "connect refused: unknown token");
            return Err(unauthorized);
        }
        Err(e) => {
            tracing::error!(error = %e, "connect: sign-on lookup failed");
            return Err(Refused(natter_protocol::ErrorCode::Internal.as_str()));
        }
    };
    let chat_rooms: Vec<String> = room_ids.iter().map(|id| rooms::chat(id)).collect();
    let mut joined = chat_rooms.clone();
    joined.push(rooms::user(&user.id));
    joined.push(rooms::session(&session_id));
    s.join(joined);
    handlers::register(&s);
    // Counted before the CONNECT ack, so presence is settled by the time the client sees it
    // connected. The disconnect handler (registered with it) balances the count, or `settle`
    // does when the socket never gets connected.
    s.on_disconnect(on_disconnect);
    if state.presence.add(&user.id, s.id) {
        presence::announce(&io, chat_rooms, &user, true, Some(now_rfc3339())).await;
    }
    tokio::spawn(settle(s.clone(), io, state, user.clone()));
    s.extensions.insert(Session {
        id: session_id,
        user,
    });
    Ok(())
}

/// How long after its middleware a socket must be connected. (What follows the middleware in
/// socketioxide is synchronous: the socket is connected or dropped within microseconds.)
const CONNECT_SETTLE: Duration = Duration::from_secs(1);

/// Undoes the presence count of a socket that never got connected: when its transport closes
/// while [`authenticate`] awaits the store, socketioxide drops it without calling its
/// disconnect handler, and its user would stay "online" for good.
async fn settle(s: SocketRef, io: SocketIo, state: AppState, user: User) {
    tokio::time::sleep(CONNECT_SETTLE).await;
    // A socket connected and already closed again went through `on_disconnect`, which removed
    // its count: `remove` then finds nothing and this does nothing.
    if !s.connected() && state.presence.remove(&user.id, s.id) {
        tracing::debug!(sid = %s.id, user = %user.username, "closed before its CONNECT ack");
        went_offline(&io, &state, &user).await;
    }
}

async fn on_connect(s: SocketRef) {
    let Some(session) = s.extensions.get::<Session>() else {
        return;
    };
    tracing::debug!(sid = %s.id, user = %session.user.username, transport = ?s.transport_type(), "connected");
    presence::snapshot(&s, &session.user);
}

async fn on_disconnect(
    s: SocketRef,
    io: SocketIo,
    State(state): State<AppState>,
    reason: DisconnectReason,
) {
    let Some(session) = s.extensions.get::<Session>() else {
        return;
    };
    let user = &session.user;
    tracing::debug!(sid = %s.id, user = %user.username, ?reason, "disconnected");
    if state.presence.remove(&user.id, s.id) {
        went_offline(&io, &state, user).await;
    }
}

/// `user`'s last socket is gone: stores `last_seen` and tells their rooms.
async fn went_offline(io: &SocketIo, state: &AppState, user: &User) {
    let now = now_rfc3339();
    if let Err(e) = state.store.set_last_seen(&user.id, &now).await {
        tracing::warn!(error = %e, "could not store last_seen");
    }
    // The socket may already be out of its rooms; the store knows which rooms to tell.
    let chat_rooms = match state.store.room_ids_of(&user.id).await {
        Ok(ids) => ids.iter().map(|id| rooms::chat(id)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "presence: could not load rooms");
            return;
        }
    };
    if state.presence.is_online(&user.id) {
        return; // back online meanwhile: "offline" would now be false
    }
    presence::announce(io, chat_rooms, user, false, Some(now)).await;
}
