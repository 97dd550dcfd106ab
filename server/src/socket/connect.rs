//! The connect middleware (token → session, rooms joined, handlers registered, presence
//! counted) and the matching disconnect.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use natter_protocol::http::ConnectAuth;
use natter_protocol::{ErrorCode, User};
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::socket::DisconnectReason;
use socketioxide::SocketIo;

use super::bounds::{Bounds, Held};
use super::handlers;
use super::session::Session;
use crate::broadcast::{rooms, Broadcaster, Peers};
use crate::chat::Chat;
use crate::store::SignOn;

/// How long after its middleware a socket must be connected. (What follows the middleware in
/// socketioxide is synchronous: the socket is connected or dropped within microseconds.)
const CONNECT_SETTLE: Duration = Duration::from_secs(1);

/// Why a connect was refused; its text is the `connect_error` message the client sees.
#[derive(Debug)]
pub(super) struct Refused(std::borrow::Cow<'static, str>);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs before the CONNECT ack: anything registered here sees the client's first event.
pub(super) async fn authenticate(
    s: SocketRef,
    io: SocketIo,
    State(chat): State<Chat>,
    State(bounds): State<Bounds>,
    State(peers): State<Peers>,
    TryData(auth): TryData<ConnectAuth>,
) -> Result<(), Refused> {
    let broadcaster = Broadcaster::new(io, peers);
    let unauthorized = Refused(ErrorCode::Unauthorized.as_str().into());
    let Ok(auth) = auth else {
        tracing::info!(sid = %s.id, "connect refused: no token");
        return Err(unauthorized);
    };
    let from = bounds
        .client_addr(&s)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let SignOn {
        session_id,
        user,
        rooms: synced,
    } = match chat.sign_on(&auth.token, from).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            tracing::info!(sid = %s.id, "connect refused: unknown token");
            return Err(unauthorized);
        }
        Err(e) => {
            let code = e.to_wire().code;
            if code == ErrorCode::RateLimited {
                tracing::info!(sid = %s.id, peer = %from, "connect refused: too many connects");
            } else {
                tracing::error!(error = %e, "connect: sign-on failed");
            }
            return Err(Refused(code.as_str().into()));
        }
    };
    // Counted until its disconnect (or its drop, if it never connects): see `bounds::Held`.
    let held = bounds
        .admit_socket(&s, &user)
        .map_err(|reason| Refused(reason.into()))?;
    s.extensions.insert(held);
    let room_ids: Vec<String> = synced.iter().map(|r| r.room_id.clone()).collect();
    let mut joined: Vec<String> = room_ids.iter().map(|id| rooms::chat(id)).collect();
    joined.push(rooms::user(&user.id));
    joined.push(rooms::session(&session_id));
    s.join(joined);
    // Its rooms' last seqs were read before it joined them, and its client syncs up to them
    // after the CONNECT ack: the feed owes it what comes above (with other nodes only).
    broadcaster.joined(synced).await;
    handlers::register(&s);
    // Counted before the CONNECT ack, so presence is settled by the time the client sees it
    // connected. The disconnect handler (registered with it) balances the count, or `settle`
    // does when the socket never gets connected.
    s.on_disconnect(on_disconnect);
    if let Some(online) = chat.socket_opened(&user, s.id, &room_ids).await {
        broadcaster.presence(&online).await;
    }
    tokio::spawn(settle(s.clone(), broadcaster, chat, user.clone()));
    s.extensions.insert(Session {
        id: session_id,
        user,
    });
    Ok(())
}

/// Undoes the presence count of a socket that never got connected: when its transport closes
/// while [`authenticate`] awaits the store, socketioxide drops it without calling its
/// disconnect handler, and its user would stay "online" for good.
async fn settle(s: SocketRef, broadcaster: Broadcaster, chat: Chat, user: User) {
    tokio::time::sleep(CONNECT_SETTLE).await;
    if s.connected() {
        return;
    }
    // A socket connected and already closed again went through `on_disconnect`, which removed
    // its count: `socket_closed` then finds nothing and this does nothing.
    if let Some(offline) = chat.socket_closed(&user, s.id, false).await {
        tracing::debug!(sid = %s.id, user = %user.username, "closed before its CONNECT ack");
        broadcaster.presence(&offline).await;
    }
}

pub(super) async fn on_connect(s: SocketRef, State(chat): State<Chat>) {
    let Some(session) = s.extensions.get::<Session>() else {
        return;
    };
    tracing::debug!(sid = %s.id, user = %session.user.username, transport = ?s.transport_type(), "connected");
    let snapshot = chat.presence_snapshot(&session.user).await;
    Broadcaster::presence_snapshot(&s, &snapshot);
}

async fn on_disconnect(
    s: SocketRef,
    io: SocketIo,
    State(chat): State<Chat>,
    State(peers): State<Peers>,
    reason: DisconnectReason,
) {
    let broadcaster = Broadcaster::new(io, peers);
    if let Some(held) = s.extensions.get::<Held>() {
        held.release();
    }
    let Some(session) = s.extensions.get::<Session>() else {
        return;
    };
    let user = session.user.clone();
    tracing::debug!(sid = %s.id, user = %user.username, ?reason, "disconnected");
    // Ended by the relay (logout, shutdown): no reconnect is coming, so no grace, and done
    // here, before a shutdown can drop a waiting task and with it `last_seen`.
    let by_relay = matches!(
        reason,
        DisconnectReason::ServerNSDisconnect | DisconnectReason::ClosingServer
    );
    if by_relay {
        if let Some(offline) = chat.socket_closed(&user, s.id, true).await {
            broadcaster.presence(&offline).await;
        }
        return;
    }
    // Otherwise "offline" waits out the presence grace period: not in the handler's time.
    let sid = s.id;
    tokio::spawn(async move {
        if let Some(offline) = chat.socket_closed(&user, sid, false).await {
            broadcaster.presence(&offline).await;
        }
    });
}
