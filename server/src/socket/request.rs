//! One request's way through the relay: what a handler gets (`Ctx`), the event before its
//! payload is decoded (`Incoming`), and `serve`, which decodes, runs a handler and acks. Shared by
//! `handlers.rs` (chat requests) and `people.rs` (admin and self-service requests).

use std::future::Future;

use natter_protocol::{AckResult, ErrorCode, Request};
use serde_json::Value;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::SocketIo;

use super::bounds::ReadPermit;
use super::session::Session;
use crate::accounts::Accounts;
use crate::admin::Admin;
use crate::broadcast::Broadcaster;
use crate::chat::Chat;
use crate::error::Result;

/// The services the admin and self-service requests need (socketioxide state).
#[derive(Clone, Debug)]
pub struct People {
    pub accounts: Accounts,
    pub admin: Admin,
    /// Whether the relay serves TLS: the scheme of the address an invite string carries.
    pub tls: bool,
}

/// What a request was answered: `ok`, or the error code of its ack.
pub(super) type Outcome = std::result::Result<(), ErrorCode>;

/// What a request handler gets besides its payload.
pub(super) struct Ctx {
    pub(super) chat: Chat,
    pub(super) people: People,
    pub(super) broadcaster: Broadcaster,
    pub(super) session: Session,
    pub(super) socket: SocketRef,
    /// Sessions whose sockets go once the ack is sent: the asking socket's own (deleting
    /// one's account, ending one's own session), which would otherwise never see its answer.
    pub(super) after_ack: AfterAck,
}

/// See [`Ctx::after_ack`].
pub(super) type AfterAck = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// One incoming event, before its payload is decoded.
pub(super) struct Incoming {
    /// A read request's slot (`bounds`), counted until the reply is handed over.
    pub(super) read: Option<ReadPermit>,
    pub(super) socket: SocketRef,
    pub(super) io: SocketIo,
    pub(super) chat: Chat,
    pub(super) people: People,
    pub(super) data: Value,
    pub(super) ack: AckSender,
}

/// Serves one request: decode and validate the payload, run `handle`, ack the result.
pub(super) async fn serve<R, F, Fut>(event: Incoming, handle: F) -> Outcome
where
    R: Request,
    F: FnOnce(Ctx, R) -> Fut,
    Fut: Future<Output = Result<R::Ack>>,
{
    let Incoming {
        read,
        socket,
        io,
        chat,
        people,
        data,
        ack,
    } = event;
    let Some(session) = socket.extensions.get::<Session>() else {
        // Cannot happen (the session is set before the CONNECT ack); nothing is answered.
        return Err(ErrorCode::Internal);
    };
    let user = session.user.username.clone();
    let broadcaster = Broadcaster::new(io);
    let after_ack = AfterAck::default();
    let result = match natter_protocol::decode_request::<R>(data) {
        Ok(req) => {
            let cx = Ctx {
                after_ack: after_ack.clone(),
                chat,
                people,
                broadcaster: broadcaster.clone(),
                session,
                socket: socket.clone(),
            };
            handle(cx, req).await.map_err(|e| e.to_wire())
        }
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        // A decode error can quote the payload (user text): log only its code then.
        let reason = if e.code == ErrorCode::Invalid {
            ""
        } else {
            e.message.as_str()
        };
        tracing::info!(event = R::NAME, %user, code = %e.code, reason = ?reason, "request refused");
    }
    let outcome = result.as_ref().map(|_| ()).map_err(|e| e.code);
    let answer = AckResult::from(result);
    if let Some(read) = &read {
        read.sent(&answer);
    }
    // Without an ack id the client asked for no answer; nothing to do then.
    let _ = ack.send(&answer);
    let ending: Vec<String> = after_ack
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default();
    if !ending.is_empty() {
        broadcaster.disconnect_sessions(&ending).await;
    }
    outcome
}
