//! Telling members about room changes: sockets join or leave, each member gets `room`.

use natter_protocol::events::RoomEvent;
use natter_protocol::Event;

use super::handlers::Ctx;
use super::{rooms, root};

/// Makes `joined` users' sockets (on every node) join the room, then sends each of `notify`
/// the room as they see it.
pub(super) async fn room_changed(cx: &Ctx, room_id: &str, joined: &[String], notify: &[String]) {
    for user_id in joined {
        let Some(ns) = root(&cx.io) else {
            return;
        };
        if let Err(e) = ns
            .within(rooms::user(user_id))
            .join(rooms::chat(room_id))
            .await
        {
            tracing::warn!(error = %e, "could not join sockets to a room");
        }
    }
    for user_id in notify {
        send_room(cx, room_id, user_id).await;
    }
}

/// After `cx`'s user left: their sockets (every device) leave, the remaining members hear.
pub(super) async fn left(cx: &Ctx, room_id: &str, remaining: &[String]) {
    let me = &cx.session.user;
    let Some(ns) = root(&cx.io) else {
        return;
    };
    if let Err(e) = ns
        .within(rooms::user(&me.id))
        .leave(rooms::chat(room_id))
        .await
    {
        tracing::warn!(error = %e, "could not remove sockets from a room");
    }
    for user_id in remaining {
        send_room(cx, room_id, user_id).await;
    }
}

async fn send_room(cx: &Ctx, room_id: &str, user_id: &str) {
    let room = match cx.state.store.room_for(room_id, user_id).await {
        Ok(Some(room)) => room,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not load a room to announce");
            return;
        }
    };
    let event = RoomEvent { room };
    let Some(ns) = root(&cx.io) else {
        return;
    };
    if let Err(e) = ns
        .to(rooms::user(user_id))
        .emit(RoomEvent::NAME, &event)
        .await
    {
        tracing::debug!(error = %e, "room event incomplete");
    }
}
