//! The room calls that need the relay — create, invite, leave, open a DM, remove a member,
//! block and unblock, a page of members — and read positions.
//! They go straight to the current connection (taking turns with the worker's requests) and
//! fail with [`SessionError::Offline`] when there is none; nothing is queued for later.

use natter_protocol::model::Seq;
use natter_protocol::requests::{
    BlockUser, CreateRoom, InviteToRoom, LeaveRoom, ListBlocked, ListMembers, MarkRead, MembersAck,
    OpenDm, RemoveFromRoom, UnblockUser,
};
use natter_protocol::{validate, Request, Room};

use super::{AppEvent, Session, SessionError};
use crate::transport::RequestError;

impl Session {
    /// Creates a group room with us and `members` (usernames). The relay also sends a `room`
    /// event, which arrives as [`AppEvent::Room`](super::AppEvent::Room).
    pub async fn create_room(&self, name: &str, members: &[String]) -> Result<Room, SessionError> {
        let ack = self
            .ask(&CreateRoom {
                name: name.to_owned(),
                members: members.to_vec(),
            })
            .await?;
        self.cache.upsert_room(&ack.room).await?;
        Ok(ack.room)
    }

    /// Adds `username` to a group room; answers the room after the change.
    pub async fn invite(&self, room_id: &str, username: &str) -> Result<Room, SessionError> {
        let ack = self
            .ask(&InviteToRoom {
                room_id: room_id.to_owned(),
                username: username.to_owned(),
            })
            .await?;
        self.cache.upsert_room(&ack.room).await?;
        Ok(ack.room)
    }

    /// Leaves a group room (`general` and DMs answer `forbidden`). The room, its cached messages
    /// and cursor are forgotten at once; no event announces it (the caller knows).
    pub async fn leave(&self, room_id: &str) -> Result<(), SessionError> {
        self.ask(&LeaveRoom {
            room_id: room_id.to_owned(),
        })
        .await?;
        self.cache.remove_room(room_id).await?;
        Ok(())
    }

    /// The direct room with `username`: the same room every time.
    pub async fn open_dm(&self, username: &str) -> Result<Room, SessionError> {
        let ack = self
            .ask(&OpenDm {
                username: username.to_owned(),
            })
            .await?;
        self.cache.upsert_room(&ack.room).await?;
        Ok(ack.room)
    }

    /// Takes `username` out of a group room we created; answers the room after the change.
    /// They cannot be put back by anyone but themselves.
    pub async fn remove_member(&self, room_id: &str, username: &str) -> Result<Room, SessionError> {
        let ack = self
            .ask(&RemoveFromRoom {
                room_id: room_id.to_owned(),
                username: username.to_owned(),
            })
            .await?;
        self.cache.upsert_room(&ack.room).await?;
        Ok(ack.room)
    }

    /// One page of a room's members, in name order, after `after` (the previous page's `next`),
    /// at most `limit` (1–200; the relay's default when `None`). Not cached: a big room's
    /// members are asked for when they are shown.
    pub async fn members(
        &self,
        room_id: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<MembersAck, SessionError> {
        self.ask(&ListMembers {
            room_id: room_id.to_owned(),
            after: after.map(str::to_owned),
            limit,
        })
        .await
    }

    /// Blocks `username`: they can no longer put us in a room or open a DM with us. Answers
    /// everyone we have blocked, in name order.
    pub async fn block(&self, username: &str) -> Result<Vec<String>, SessionError> {
        let req = BlockUser {
            username: username.to_owned(),
        };
        Ok(self.ask(&req).await?.blocked)
    }

    /// Undoes [`block`](Self::block); answers everyone still blocked.
    pub async fn unblock(&self, username: &str) -> Result<Vec<String>, SessionError> {
        let req = UnblockUser {
            username: username.to_owned(),
        };
        Ok(self.ask(&req).await?.blocked)
    }

    /// Everyone we have blocked, in name order.
    pub async fn blocked(&self) -> Result<Vec<String>, SessionError> {
        Ok(self.ask(&ListBlocked {}).await?.blocked)
    }

    /// Moves our read position in a room forward to `seq` (never back, clamped to the room's last
    /// seq): in the cache at once, and on the relay when connected. Offline, the cache keeps it
    /// and the next catch-up tells the relay.
    pub async fn mark_read(&self, room_id: &str, seq: Seq) -> Result<(), SessionError> {
        validate::id(room_id).map_err(SessionError::Refused)?;
        validate::seq(seq).map_err(SessionError::Refused)?;
        self.cache.mark_read(room_id, seq).await?;
        if let Some(count) = self.cache.unread(room_id).await? {
            self.outlet.emit(AppEvent::Unread {
                room_id: room_id.to_owned(),
                count,
            });
        }
        match self
            .ask(&MarkRead {
                room_id: room_id.to_owned(),
                seq,
            })
            .await
        {
            Ok(_) | Err(SessionError::Offline) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Validates `req` locally, then asks the relay on the current connection.
    pub(super) async fn ask<R: Request>(&self, req: &R) -> Result<R::Ack, SessionError> {
        req.validate().map_err(SessionError::Refused)?;
        let conn = self.live_connection().ok_or(SessionError::Offline)?;
        conn.request(req).await.map_err(|e| match e {
            RequestError::Refused(error) => SessionError::Refused(error),
            RequestError::Dead(reason) => {
                tracing::debug!(%reason, name = R::NAME, "request on a dead connection");
                SessionError::Offline
            }
            RequestError::Decode { name, reason } => {
                SessionError::Protocol(format!("{name}: {reason}"))
            }
        })
    }
}
