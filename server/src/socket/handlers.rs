//! Thin socket adapters: decode once, call the rule in `chat`, ack, then tell the room.

use std::future::Future;

use natter_protocol::events::{ReceiptEvent, TypingEvent};
use natter_protocol::requests::{
    self, CreateRoom, History, InviteToRoom, LeaveRoom, ListRooms, MarkRead, MessageAck,
    MessagesAck, OpenDm, RoomAck, RoomsAck, SendMessage, SetTyping,
};
use natter_protocol::{AckResult, Empty, ErrorCode, Event, Request, WireError};
use serde_json::Value;
use socketioxide::extract::{AckSender, Event as EventName, SocketRef, State, TryData};
use socketioxide::SocketIo;

use super::{notify, rooms, Session};
use crate::chat;
use crate::error::Result;
use crate::state::AppState;

/// What a request handler gets besides its payload.
pub(super) struct Ctx {
    pub state: AppState,
    pub io: SocketIo,
    pub session: Session,
}

/// Every event of a socket goes through one handler that matches its name. socketioxide keeps
/// a map of named handlers per socket, which for our ten requests cost each idle connection
/// ~0.7 KB and each connect a few allocations; the match costs nothing per socket.
pub(super) fn register(s: &SocketRef) {
    s.on_fallback(dispatch);
}

/// One incoming event, before its payload is decoded.
struct Incoming {
    socket: SocketRef,
    io: SocketIo,
    state: AppState,
    data: Value,
    ack: AckSender,
}

async fn dispatch(
    socket: SocketRef,
    io: SocketIo,
    State(state): State<AppState>,
    EventName(name): EventName,
    TryData(data): TryData<Value>,
    ack: AckSender,
) {
    let event = Incoming {
        socket,
        io,
        state,
        // A request sent with no argument at all is read as `{}`.
        data: data.unwrap_or_default(),
        ack,
    };
    match name.as_str() {
        ListRooms::NAME => {
            serve::<ListRooms, _, _>(event, |cx, _| async move {
                let rooms = cx.state.store.rooms_of(&cx.session.user.id).await?;
                Ok(RoomsAck { rooms })
            })
            .await;
        }
        CreateRoom::NAME => {
            serve::<CreateRoom, _, _>(event, |cx, req| async move {
                let change = chat::create_room(&cx.state, &cx.session.user, req).await?;
                Ok(announce(&cx, change).await)
            })
            .await;
        }
        InviteToRoom::NAME => {
            serve::<InviteToRoom, _, _>(event, |cx, req| async move {
                let change = chat::invite(&cx.state, &cx.session.user, req).await?;
                Ok(announce(&cx, change).await)
            })
            .await;
        }
        LeaveRoom::NAME => {
            serve::<LeaveRoom, _, _>(event, |cx, req| async move {
                let room_id = req.room_id.clone();
                let remaining = chat::leave(&cx.state, &cx.session.user, req).await?;
                notify::left(&cx, &room_id, &remaining).await;
                Ok(Empty {})
            })
            .await;
        }
        OpenDm::NAME => {
            serve::<OpenDm, _, _>(event, |cx, req| async move {
                let change = chat::open_dm(&cx.state, &cx.session.user, req).await?;
                Ok(announce(&cx, change).await)
            })
            .await;
        }
        SendMessage::NAME => {
            serve::<SendMessage, _, _>(event, |cx, req| async move {
                // The broadcast to the room is `broadcast_committed`'s, in commit order.
                let appended = chat::post_message(&cx.state, &cx.session.user, req).await?;
                Ok(MessageAck {
                    message: appended.message,
                })
            })
            .await;
        }
        SetTyping::NAME => {
            serve::<SetTyping, _, _>(event, |cx, req| async move {
                chat::typing(&cx.state, &cx.session.user, &req.room_id).await?;
                let event = TypingEvent {
                    room_id: req.room_id,
                    user: cx.session.user.username.clone(),
                    typing: req.typing,
                };
                let except = rooms::user(&cx.session.user.id);
                emit(&cx, rooms::chat(&event.room_id), Some(except), &event).await;
                Ok(Empty {})
            })
            .await;
        }
        MarkRead::NAME => {
            serve::<MarkRead, _, _>(event, |cx, req| async move {
                let room_id = req.room_id.clone();
                if let Some(seq) = chat::mark_read(&cx.state, &cx.session.user, req).await? {
                    let event = ReceiptEvent {
                        room_id,
                        user: cx.session.user.username.clone(),
                        seq,
                    };
                    emit(&cx, rooms::chat(&event.room_id), None, &event).await;
                }
                Ok(Empty {})
            })
            .await;
        }
        History::NAME => {
            serve::<History, _, _>(event, |cx, req| async move {
                let messages = chat::history(&cx.state, &cx.session.user, req).await?;
                Ok(MessagesAck { messages })
            })
            .await;
        }
        requests::Sync::NAME => {
            serve::<requests::Sync, _, _>(event, |cx, req| async move {
                chat::sync(&cx.state, &cx.session.user, req).await
            })
            .await;
        }
        _ => unknown_event(&event.socket, &name, event.ack),
    }
}

/// Serves one request: decode and validate the payload, run `handle`, ack the result.
async fn serve<R, F, Fut>(event: Incoming, handle: F)
where
    R: Request,
    F: FnOnce(Ctx, R) -> Fut,
    Fut: Future<Output = Result<R::Ack>>,
{
    let Incoming {
        socket,
        io,
        state,
        data,
        ack,
    } = event;
    let Some(session) = socket.extensions.get::<Session>() else {
        return;
    };
    let user = session.user.username.clone();
    let result = match natter_protocol::decode_request::<R>(data) {
        Ok(req) => {
            let cx = Ctx { state, io, session };
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
        tracing::info!(event = R::NAME, %user, code = %e.code, reason, "request refused");
    }
    // Without an ack id the client asked for no answer; nothing to do then.
    let _ = ack.send(&AckResult::from(result));
}

/// Tells those a room change concerns, and gives the requester its answer: the room.
async fn announce(cx: &Ctx, change: chat::RoomChange) -> RoomAck {
    notify::room_changed(cx, &change.room.id, &change.joined, &change.notify).await;
    RoomAck { room: change.room }
}

async fn emit<E: Event>(cx: &Ctx, room: String, except: Option<String>, event: &E) {
    let Some(ns) = super::root(&cx.io) else {
        return;
    };
    let mut to = ns.to(room);
    if let Some(except) = except {
        to = to.except(except);
    }
    if let Err(e) = to.emit(E::NAME, event).await {
        // A socket with a full buffer misses a live event; it catches up with `sync`.
        tracing::debug!(event = E::NAME, error = %e, "broadcast incomplete");
    }
}

fn unknown_event(s: &SocketRef, name: &str, ack: AckSender) {
    let name: String = name.chars().take(64).collect();
    tracing::info!(sid = %s.id, event = %name, "unknown event");
    let error = WireError::invalid("unknown event");
    let _ = ack.send(&AckResult::<Empty>::Err(error));
}
