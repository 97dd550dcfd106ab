//! The rules of chat, free of sockets: who may do what, and what the store does about it.
//! Socket handlers call these, then join rooms and broadcast whatever they return.

use natter_protocol::limits::{
    HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, SYNC_PAGE_BYTES, SYNC_PAGE_MESSAGES,
};
use natter_protocol::model::Seq;
use natter_protocol::requests::{
    self, CreateRoom, History, InviteToRoom, LeaveRoom, MarkRead, OpenDm, SendMessage, SyncAck,
};
use natter_protocol::{Message, Room, RoomKind, User, GENERAL_ROOM_ID};

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{AppendRefusal, Appended, NewMessage};
use crate::time::now_rfc3339;

fn not_member() -> Error {
    // The same answer for a room that does not exist, so room ids cannot be probed.
    Error::forbidden("not a member of this room")
}

/// The room as `user` sees it, or `forbidden`.
pub async fn member_room(state: &AppState, user: &User, room_id: &str) -> Result<Room> {
    state
        .store
        .room_for(room_id, &user.id)
        .await?
        .ok_or_else(not_member)
}

pub async fn require_member(state: &AppState, user: &User, room_id: &str) -> Result<()> {
    if state.store.is_member(room_id, &user.id).await? {
        Ok(())
    } else {
        Err(not_member())
    }
}

/// Every other user named, resolved; `not_found` names the first unknown one.
async fn resolve_users(state: &AppState, names: &[String]) -> Result<Vec<User>> {
    let users = state.store.users_by_name(names).await?;
    if let Some(missing) = names
        .iter()
        .find(|n| !users.iter().any(|u| u.username.eq_ignore_ascii_case(n)))
    {
        return Err(Error::not_found(format!("no such user: {missing}")));
    }
    Ok(users)
}

/// A change of membership: the room as the actor sees it, and whom to tell.
#[derive(Debug)]
pub struct RoomChange {
    pub room: Room,
    /// Users who must learn about the room (each is sent the room with their own read_seq).
    pub notify: Vec<String>,
    /// Users whose sockets join the room.
    pub joined: Vec<String>,
}

pub async fn create_room(state: &AppState, user: &User, req: CreateRoom) -> Result<RoomChange> {
    allow_room_change(state, user)?;
    let members = resolve_users(state, &req.members).await?;
    let room_id = state
        .store
        .create_group(req.name.trim(), user, &members)
        .await?;
    let room = member_room(state, user, &room_id).await?;
    let ids = state.store.member_ids(&room_id).await?;
    Ok(RoomChange {
        room,
        notify: ids.clone(),
        joined: ids,
    })
}

pub async fn invite(state: &AppState, user: &User, req: InviteToRoom) -> Result<RoomChange> {
    allow_room_change(state, user)?;
    let room = member_room(state, user, &req.room_id).await?;
    if room.kind == RoomKind::Direct || room.id == GENERAL_ROOM_ID {
        return Err(Error::forbidden("only group rooms take invitations"));
    }
    let invitee = resolve_users(state, std::slice::from_ref(&req.username))
        .await?
        .remove(0);
    let added = state.store.add_member(&room.id, &invitee.id).await?;
    let room = member_room(state, user, &room.id).await?;
    let (notify, joined) = if added {
        (state.store.member_ids(&room.id).await?, vec![invitee.id])
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(RoomChange {
        room,
        notify,
        joined,
    })
}

/// Leaves a group room; returns the ids of the members who remain.
pub async fn leave(state: &AppState, user: &User, req: LeaveRoom) -> Result<Vec<String>> {
    let room = member_room(state, user, &req.room_id).await?;
    if room.kind == RoomKind::Direct || room.id == GENERAL_ROOM_ID {
        return Err(Error::forbidden("general and direct rooms cannot be left"));
    }
    state.store.remove_member(&room.id, &user.id).await?;
    Ok(state.store.member_ids(&room.id).await?)
}

pub async fn open_dm(state: &AppState, user: &User, req: OpenDm) -> Result<RoomChange> {
    allow_room_change(state, user)?;
    let peer = resolve_users(state, std::slice::from_ref(&req.username))
        .await?
        .remove(0);
    if peer.id == user.id {
        return Err(Error::Client(natter_protocol::WireError::invalid(
            "a direct room needs another user",
        )));
    }
    let (room_id, created) = state.store.open_direct(user, &peer).await?;
    let room = member_room(state, user, &room_id).await?;
    let ids = if created {
        vec![user.id.clone(), peer.id]
    } else {
        Vec::new()
    };
    Ok(RoomChange {
        room,
        notify: ids.clone(),
        joined: ids,
    })
}

/// Counts one room change against the user's limit.
fn allow_room_change(state: &AppState, user: &User) -> Result<()> {
    if state.limits.allow_room_change(&user.id) {
        Ok(())
    } else {
        Err(Error::rate_limited())
    }
}

/// Commits a message (or finds the original of a repeated client_id).
pub async fn post_message(state: &AppState, user: &User, req: SendMessage) -> Result<Appended> {
    if !state.limits.allow_send(&user.id) {
        return Err(Error::rate_limited());
    }
    let outcome = state
        .committer
        .append(NewMessage {
            room_id: req.room_id,
            sender: user.clone(),
            client_id: req.client_id,
            body: req.body,
            sent_at: now_rfc3339(),
        })
        .await?;
    outcome.map_err(|refusal| match refusal {
        AppendRefusal::NotMember => not_member(),
    })
}

/// Moves the read position; returns the new seq if it moved (then a receipt is due).
pub async fn mark_read(state: &AppState, user: &User, req: MarkRead) -> Result<Option<Seq>> {
    require_member(state, user, &req.room_id).await?;
    Ok(state
        .store
        .mark_read(&req.room_id, &user.id, req.seq)
        .await?)
}

pub async fn typing(state: &AppState, user: &User, room_id: &str) -> Result<()> {
    if !state.limits.allow_typing(&user.id) {
        return Err(Error::rate_limited());
    }
    require_member(state, user, room_id).await
}

pub async fn history(state: &AppState, user: &User, req: History) -> Result<Vec<Message>> {
    require_member(state, user, &req.room_id).await?;
    let limit = req
        .limit
        .unwrap_or(HISTORY_DEFAULT_LIMIT)
        .min(HISTORY_MAX_LIMIT);
    if limit == 0 {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .history(&req.room_id, req.before_seq, limit)
        .await?)
}

/// One page of catch-up: messages after each cursor, bounded in count and bytes.
pub async fn sync(state: &AppState, user: &User, req: requests::Sync) -> Result<SyncAck> {
    let rooms = state.store.rooms_of(&user.id).await?;
    let mut messages = Vec::new();
    let mut bytes = 0usize;
    let mut more = false;
    for room in &rooms {
        let Some(&cursor) = req.cursors.get(&room.id) else {
            continue;
        };
        if room.last_seq <= cursor {
            continue;
        }
        let room_left = SYNC_PAGE_MESSAGES.saturating_sub(messages.len());
        if room_left == 0 || bytes >= SYNC_PAGE_BYTES {
            more = true;
            break;
        }
        let limit = u32::try_from(room_left).unwrap_or(u32::MAX);
        let page = state.store.messages_after(&room.id, cursor, limit).await?;
        let mut last = cursor;
        for m in page {
            if bytes + m.body.len() > SYNC_PAGE_BYTES && !messages.is_empty() {
                break;
            }
            bytes += m.body.len();
            last = m.seq;
            messages.push(m);
        }
        if last < room.last_seq {
            more = true;
        }
    }
    Ok(SyncAck {
        rooms,
        messages,
        more,
    })
}
