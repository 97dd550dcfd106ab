//! Membership with consent (issue 22 item 7): whom a user may put in a room, who may come back
//! by themselves, blocking, a creator removing a member, and the bound on how many rooms a user
//! can be in. Each rule is one function here; `rooms.rs` calls them.

use natter_protocol::limits::MAX_BLOCKED;
use natter_protocol::requests::{BlockUser, BlockedAck, RemoveFromRoom, UnblockUser};
use natter_protocol::{ErrorCode, Room, RoomKind, User, WireError, GENERAL_ROOM_ID};

use super::rooms::Membership;
use super::Chat;
use crate::error::{Error, Result};
use crate::store::{Departure, StoreError};

impl Chat {
    /// May `by` put `who` in a room (`room`: an existing one; `None`: a new room or a DM)?
    /// Not if `who` left `room` or was removed from it (only `who` could consent to coming
    /// back), nor if `who` has blocked `by`. The refusal does not say which: a block is not
    /// told to the blocked.
    pub(super) async fn may_add(&self, by: &User, who: &User, room: Option<&Room>) -> Result<()> {
        if let Some(room) = room {
            if self.store.departure(&room.id, &who.id).await?.is_some() {
                return Err(Error::forbidden(format!(
                    "{} left this room and cannot be added back by someone else",
                    who.username
                )));
            }
        }
        if self.store.has_blocked(&who.id, &by.id).await? {
            return Err(Error::forbidden(format!(
                "{} cannot be added by you",
                who.username
            )));
        }
        Ok(())
    }

    /// May `user`, not a member, come back to `room_id` by themselves? Only if they left it
    /// by themselves (their own consent); not if the creator removed them, and not into a room
    /// they were never in (answered like any room they are not a member of).
    pub(super) async fn may_rejoin(&self, user: &User, room_id: &str) -> Result<()> {
        match self.store.departure(room_id, &user.id).await? {
            Some(Departure::Left) => Ok(()),
            Some(Departure::Removed) => Err(Error::forbidden(
                "you were removed from this room and cannot come back",
            )),
            None => Err(super::not_member()),
        }
    }

    /// What a client is told when a membership write would put someone in more rooms than
    /// allowed; other store errors pass through.
    pub(super) fn too_many_rooms(&self, requester: &User, e: StoreError) -> Error {
        match e {
            StoreError::TooManyRooms(user_id) if user_id == requester.id => {
                Error::Client(WireError::new(
                    ErrorCode::TooLarge,
                    format!(
                        "you are in {} rooms, the most a user can be in",
                        self.max_rooms
                    ),
                ))
            }
            StoreError::TooManyRooms(_) => Error::Client(WireError::new(
                ErrorCode::TooLarge,
                "a user named is in as many rooms as a user can be",
            )),
            other => other.into(),
        }
    }

    /// The room's creator takes a member out of a group room: their sockets leave it, they are
    /// told `room:removed`, the members who remain get the room. Like leaving, nobody else can
    /// put them back.
    pub async fn remove_member(
        &self,
        user: &User,
        req: RemoveFromRoom,
    ) -> Result<(Room, Membership)> {
        self.allow_room_change(user).await?;
        let room = self.member_room(user, &req.room_id).await?;
        if room.kind == RoomKind::Direct || room.id == GENERAL_ROOM_ID {
            return Err(Error::forbidden("only group rooms have members to remove"));
        }
        if self.store.room_creator(&room.id).await?.as_deref() != Some(user.id.as_str()) {
            return Err(Error::forbidden(
                "only the room's creator can remove members",
            ));
        }
        let target = self
            .resolve_users(std::slice::from_ref(&req.username))
            .await?
            .remove(0);
        if target.id == user.id {
            return Err(Error::Client(WireError::invalid(
                "to take yourself out, leave the room",
            )));
        }
        let removed = self
            .store
            .remove_member(&room.id, &target.id, Departure::Removed)
            .await?;
        if !removed {
            return Err(Error::not_found(format!(
                "{} is not a member of this room",
                target.username
            )));
        }
        let remaining = self.store.member_ids(&room.id).await?;
        let room = self.member_room(user, &room.id).await?;
        Ok((
            room.clone(),
            Membership {
                tell: self.rooms_as_seen(&room.id, &remaining).await,
                leave: vec![target.id.clone()],
                removed: vec![target.id],
                room_id: room.id,
                ..Membership::default()
            },
        ))
    }

    /// Blocks a user; answers the whole list. Counts as a room change (each is a write).
    pub async fn block(&self, user: &User, req: BlockUser) -> Result<BlockedAck> {
        self.allow_room_change(user).await?;
        let target = self.other_user(user, &req.username).await?;
        let blocked = self.store.blocked_by(&user.id).await?;
        if blocked.len() >= MAX_BLOCKED as usize {
            return Err(Error::Client(WireError::new(
                ErrorCode::TooLarge,
                format!("at most {MAX_BLOCKED} blocked users"),
            )));
        }
        self.store.block(&user.id, &target.id).await?;
        self.blocked(user).await
    }

    pub async fn unblock(&self, user: &User, req: UnblockUser) -> Result<BlockedAck> {
        self.allow_room_change(user).await?;
        let target = self.other_user(user, &req.username).await?;
        self.store.unblock(&user.id, &target.id).await?;
        self.blocked(user).await
    }

    /// The users `user` has blocked, in name order.
    pub async fn blocked(&self, user: &User) -> Result<BlockedAck> {
        Ok(BlockedAck {
            blocked: self.store.blocked_by(&user.id).await?,
        })
    }

    /// Another user, by name: `not_found`, or `invalid` for oneself.
    async fn other_user(&self, user: &User, name: &str) -> Result<User> {
        let other = self.resolve_users(&[name.to_owned()]).await?.remove(0);
        if other.id == user.id {
            return Err(Error::Client(WireError::invalid("that is you")));
        }
        Ok(other)
    }
}
