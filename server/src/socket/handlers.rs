//! The request handlers: one dispatcher by event name, and one named function per request that
//! calls the chat service, hands what it returns to the broadcaster, and answers the ack.

use natter_protocol::requests::{
    self, BlockUser, BlockedAck, CreateRoom, DeleteMessage, EditMessage, History, InviteToRoom,
    LeaveRoom, ListBlocked, ListMembers, ListRooms, MarkRead, MembersAck, MessageAck, MessagesAck,
    OpenDm, React, RemoveFromRoom, RoomAck, RoomsAck, Search, SearchAck, SendMessage, SetTyping,
    SyncAck, UnblockUser,
};
use natter_protocol::{AckResult, Empty, Event, WireError};
use serde_json::Value;
use socketioxide::extract::{AckSender, Event as EventName, SocketRef, State, TryData};
use socketioxide::SocketIo;

use super::bounds::{self, Bounds};
use super::people;
use super::request::{serve, Ctx, Incoming, Outcome, People};
use crate::broadcast::{Broadcaster, Peers};
use crate::chat::rooms::Membership;
use crate::chat::Chat;
use crate::error::Result;
use crate::metrics::Metrics;

/// Every event of a socket goes through one handler that matches its name. socketioxide keeps
/// a map of named handlers per socket, which for our ten requests cost each idle connection
/// ~0.7 KB and each connect a few allocations; the match costs nothing per socket.
pub(super) fn register(s: &SocketRef) {
    s.on_fallback(dispatch);
}

#[expect(
    clippy::too_many_arguments,
    reason = "socketioxide hands a handler each extractor as an argument"
)]
async fn dispatch(
    socket: SocketRef,
    io: SocketIo,
    State(chat): State<Chat>,
    State(people): State<People>,
    State(bounds): State<Bounds>,
    State(metrics): State<Metrics>,
    State(peers): State<Peers>,
    EventName(name): EventName,
    TryData(data): TryData<Value>,
    ack: AckSender,
) {
    let event = Incoming {
        read: None,
        socket,
        broadcaster: Broadcaster::new(io, peers),
        chat,
        people,
        // A request sent with no argument at all is read as `{}`.
        data: data.unwrap_or_default(),
        ack,
    };
    let outcome = route(&name, event, &bounds).await;
    // Every answer passes here once; an unknown name is counted as `other`, never by name.
    metrics.request(&name, outcome);
}

/// Serves the request `name` names; what it was answered.
async fn route(name: &str, mut event: Incoming, bounds: &Bounds) -> Outcome {
    // A read holds its slot until its reply is handed to the socket (`serve` returns).
    if bounds::is_read(name) {
        match bounds.admit_read(&event.socket) {
            Ok(permit) => event.read = Some(permit),
            Err(refusal) => return refuse(event.ack, refusal),
        }
    }
    match name {
        ListRooms::NAME => serve(event, list_rooms).await,
        CreateRoom::NAME => serve(event, create_room).await,
        InviteToRoom::NAME => serve(event, invite).await,
        LeaveRoom::NAME => serve(event, leave).await,
        OpenDm::NAME => serve(event, open_dm).await,
        SendMessage::NAME => serve(event, send_message).await,
        EditMessage::NAME => serve(event, edit_message).await,
        DeleteMessage::NAME => serve(event, delete_message).await,
        React::NAME => serve(event, react).await,
        SetTyping::NAME => serve(event, set_typing).await,
        MarkRead::NAME => serve(event, mark_read).await,
        History::NAME => serve(event, history).await,
        requests::Sync::NAME => serve(event, sync).await,
        RemoveFromRoom::NAME => serve(event, remove_member).await,
        BlockUser::NAME => serve(event, block).await,
        UnblockUser::NAME => serve(event, unblock).await,
        ListBlocked::NAME => serve(event, list_blocked).await,
        Search::NAME => serve(event, search).await,
        ListMembers::NAME => serve(event, list_members).await,
        _ => match people::route(name, event).await {
            Ok(outcome) => outcome,
            Err(event) => unknown_event(&event.socket, name, event.ack),
        },
    }
}

async fn list_rooms(cx: Ctx, _: ListRooms) -> Result<RoomsAck> {
    let rooms = cx.chat.list_rooms(&cx.session.user).await?;
    Ok(RoomsAck { rooms })
}

async fn list_members(cx: Ctx, req: ListMembers) -> Result<MembersAck> {
    cx.chat.members(&cx.session.user, req).await
}

async fn create_room(cx: Ctx, req: CreateRoom) -> Result<RoomAck> {
    let change = cx.chat.create_room(&cx.session.user, req).await?;
    Ok(announce(&cx, change).await)
}

async fn invite(cx: Ctx, req: InviteToRoom) -> Result<RoomAck> {
    let change = cx.chat.invite(&cx.session.user, req).await?;
    Ok(announce(&cx, change).await)
}

async fn leave(cx: Ctx, req: LeaveRoom) -> Result<Empty> {
    let change = cx.chat.leave(&cx.session.user, req).await?;
    cx.broadcaster.membership(change).await;
    Ok(Empty {})
}

async fn open_dm(cx: Ctx, req: OpenDm) -> Result<RoomAck> {
    let change = cx.chat.open_dm(&cx.session.user, req).await?;
    Ok(announce(&cx, change).await)
}

async fn remove_member(cx: Ctx, req: RemoveFromRoom) -> Result<RoomAck> {
    let change = cx.chat.remove_member(&cx.session.user, req).await?;
    Ok(announce(&cx, change).await)
}

async fn block(cx: Ctx, req: BlockUser) -> Result<BlockedAck> {
    cx.chat.block(&cx.session.user, req).await
}

async fn unblock(cx: Ctx, req: UnblockUser) -> Result<BlockedAck> {
    cx.chat.unblock(&cx.session.user, req).await
}

async fn list_blocked(cx: Ctx, _: ListBlocked) -> Result<BlockedAck> {
    cx.chat.blocked(&cx.session.user).await
}

/// The room hears of the message from the broadcaster's stream of committed messages.
async fn send_message(cx: Ctx, req: SendMessage) -> Result<MessageAck> {
    let appended = cx.chat.send_message(&cx.session.user, req).await?;
    Ok(MessageAck {
        message: appended.message,
    })
}

/// Like a send: the room hears of the entry from the committed stream.
async fn edit_message(cx: Ctx, req: EditMessage) -> Result<MessageAck> {
    let appended = cx.chat.edit_message(&cx.session.user, req).await?;
    Ok(MessageAck {
        message: appended.message,
    })
}

async fn delete_message(cx: Ctx, req: DeleteMessage) -> Result<MessageAck> {
    let appended = cx.chat.delete_message(&cx.session.user, req).await?;
    Ok(MessageAck {
        message: appended.message,
    })
}

async fn react(cx: Ctx, req: React) -> Result<MessageAck> {
    let appended = cx.chat.react(&cx.session.user, req).await?;
    Ok(MessageAck {
        message: appended.message,
    })
}

async fn set_typing(cx: Ctx, req: SetTyping) -> Result<Empty> {
    let event = cx.chat.set_typing(&cx.session.user, req).await?;
    cx.broadcaster.typing(&cx.session.user.id, &event).await;
    Ok(Empty {})
}

async fn mark_read(cx: Ctx, req: MarkRead) -> Result<Empty> {
    if let Some(receipt) = cx.chat.mark_read(&cx.session.user, req).await? {
        cx.broadcaster.receipt(&receipt).await;
    }
    Ok(Empty {})
}

async fn search(cx: Ctx, req: Search) -> Result<SearchAck> {
    cx.chat.search(&cx.session.user, req).await
}

async fn history(cx: Ctx, req: History) -> Result<MessagesAck> {
    let messages = cx.chat.history(&cx.session.user, req).await?;
    Ok(MessagesAck { messages })
}

async fn sync(cx: Ctx, req: requests::Sync) -> Result<SyncAck> {
    cx.chat.sync(&cx.session.user, req).await
}

/// Tells those a room change concerns, and gives the requester its answer: the room.
async fn announce(cx: &Ctx, (room, change): (natter_protocol::Room, Membership)) -> RoomAck {
    cx.broadcaster.membership(change).await;
    RoomAck { room }
}

/// Answers a request that its bounds refused, unread.
fn refuse(ack: AckSender, error: WireError) -> Outcome {
    let code = error.code;
    let _ = ack.send(&AckResult::<Empty>::Err(error));
    Err(code)
}

/// The most of an unknown event's name that is logged.
const LOGGED_NAME_CHARS: usize = 64;

/// An unknown event's name is the client's string: logged cut to [`LOGGED_NAME_CHARS`] and
/// escaped (`?`), so it can neither flood the log nor forge lines in it (newlines, ESC).
fn unknown_event(s: &SocketRef, name: &str, ack: AckSender) -> Outcome {
    let name: String = name.chars().take(LOGGED_NAME_CHARS).collect();
    tracing::info!(sid = %s.id, event = ?name, "unknown event");
    refuse(ack, WireError::invalid("unknown event"))
}
