//! Rooms and membership: listing, creating, inviting, leaving, direct rooms. A change of
//! membership answers with the room and a [`Membership`] for the broadcaster to carry out.

use natter_protocol::limits::MEMBERS_PAGE_DEFAULT;
use natter_protocol::requests::{
    CreateRoom, InviteToRoom, LeaveRoom, ListMembers, MembersAck, OpenDm,
};
use natter_protocol::{Member, Room, RoomKind, User, WireError, GENERAL_ROOM_ID};

use super::presence::PresenceNote;
use super::Chat;
use crate::error::{Error, Result};
use crate::store::Departure;

/// What a change of membership tells whom: whose sockets join or leave the room, then which
/// user is sent the room as they see it (their own read_seq).
#[derive(Debug, Default)]
pub struct Membership {
    pub room_id: String,
    /// Users whose sockets (every device) join the room.
    pub join: Vec<String>,
    /// Users whose sockets (every device) leave the room.
    pub leave: Vec<String>,
    /// (user id, the room as that user sees it).
    pub tell: Vec<(String, Room)>,
    /// Presence that people who now share the room are told of each other.
    pub presence: Vec<PresenceNote>,
    /// Users (ids) removed by the creator: told `room:removed`.
    pub removed: Vec<String>,
}

impl Chat {
    /// Every room `user` is a member of.
    pub async fn list_rooms(&self, user: &User) -> Result<Vec<Room>> {
        Ok(self.store.rooms_of(&user.id).await?)
    }

    /// One page of a room's members (`room:members`), for members only. Each comes with
    /// whether they are online, except in `general`, where presence is never told.
    pub async fn members(&self, user: &User, req: ListMembers) -> Result<MembersAck> {
        self.require_member(user, &req.room_id).await?;
        let limit = req.limit.unwrap_or(MEMBERS_PAGE_DEFAULT);
        // One more than asked says whether a next page exists.
        let mut users = self
            .store
            .members_page(&req.room_id, req.after.as_deref(), limit.saturating_add(1))
            .await?;
        let next = if users.len() > limit as usize {
            users.truncate(limit as usize);
            users.last().map(|u| u.username.clone())
        } else {
            None
        };
        let mut members = Vec::with_capacity(users.len());
        for u in users {
            let online = if req.room_id == GENERAL_ROOM_ID {
                None
            } else {
                Some(self.presence.is_online(&u.id).await)
            };
            members.push(Member {
                username: u.username,
                display_name: u.display_name,
                online,
            });
        }
        Ok(MembersAck { members, next })
    }

    pub async fn create_room(&self, user: &User, req: CreateRoom) -> Result<(Room, Membership)> {
        self.allow_room_change(user).await?;
        let members = self.resolve_users(&req.members).await?;
        for member in members.iter().filter(|m| m.id != user.id) {
            self.may_add(user, member, None).await?;
        }
        let room_id = self
            .store
            .create_group(req.name.trim(), user, &members, self.max_rooms)
            .await
            .map_err(|e| self.too_many_rooms(user, e))?;
        let room = self.member_room(user, &room_id).await?;
        let ids = self.store.member_ids(&room_id).await?;
        let tell = self.rooms_as_seen(&room_id, &ids).await;
        let presence = self.presence_notes(&room_id, &ids, &ids).await;
        Ok((
            room,
            Membership {
                room_id,
                join: ids,
                tell,
                presence,
                ..Membership::default()
            },
        ))
    }

    /// Adds a user to a group room; a user who left a room by themselves comes back by
    /// inviting themselves.
    pub async fn invite(&self, user: &User, req: InviteToRoom) -> Result<(Room, Membership)> {
        self.allow_room_change(user).await?;
        let comes_back = req.username.eq_ignore_ascii_case(&user.username)
            && !self.store.is_member(&req.room_id, &user.id).await?;
        if comes_back {
            self.may_rejoin(user, &req.room_id).await?;
            return self.join(user, user, &req.room_id).await;
        }
        let room = self.member_room(user, &req.room_id).await?;
        if room.kind == RoomKind::Direct || room.id == GENERAL_ROOM_ID {
            return Err(Error::forbidden("only group rooms take invitations"));
        }
        let invitee = self
            .resolve_users(std::slice::from_ref(&req.username))
            .await?
            .remove(0);
        self.may_add(user, &invitee, Some(&room)).await?;
        let (_, change) = self.join(user, &invitee, &room.id).await?;
        let room = self.member_room(user, &room.id).await?;
        Ok((room, change))
    }

    /// Puts `who` in the room at `requester`'s request (every rule already checked): the room
    /// as `who` sees it, and the change to announce (nothing if they already were a member).
    async fn join(
        &self,
        requester: &User,
        who: &User,
        room_id: &str,
    ) -> Result<(Room, Membership)> {
        let added = self
            .store
            .add_member(room_id, &who.id, self.max_rooms)
            .await
            .map_err(|e| self.too_many_rooms(requester, e))?;
        let room = self.member_room(who, room_id).await?;
        let mut change = Membership {
            room_id: room.id.clone(),
            ..Membership::default()
        };
        if added {
            let ids = self.store.member_ids(&room.id).await?;
            change.tell = self.rooms_as_seen(&room.id, &ids).await;
            change.join = vec![who.id.clone()];
            change.presence = self.presence_notes(&room.id, &change.join, &ids).await;
        }
        Ok((room, change))
    }

    /// Leaves a group room: the leaver's sockets leave it, the members who remain are told.
    pub async fn leave(&self, user: &User, req: LeaveRoom) -> Result<Membership> {
        let room = self.member_room(user, &req.room_id).await?;
        if room.kind == RoomKind::Direct || room.id == GENERAL_ROOM_ID {
            return Err(Error::forbidden("general and direct rooms cannot be left"));
        }
        self.store
            .remove_member(&room.id, &user.id, Departure::Left)
            .await?;
        let remaining = self.store.member_ids(&room.id).await?;
        Ok(Membership {
            tell: self.rooms_as_seen(&room.id, &remaining).await,
            leave: vec![user.id.clone()],
            room_id: room.id,
            ..Membership::default()
        })
    }

    pub async fn open_dm(&self, user: &User, req: OpenDm) -> Result<(Room, Membership)> {
        self.allow_room_change(user).await?;
        let peer = self
            .resolve_users(std::slice::from_ref(&req.username))
            .await?
            .remove(0);
        if peer.id == user.id {
            return Err(Error::Client(WireError::invalid(
                "a direct room needs another user",
            )));
        }
        self.may_add(user, &peer, None).await?;
        let (room_id, created) = self
            .store
            .open_direct(user, &peer, self.max_rooms)
            .await
            .map_err(|e| self.too_many_rooms(user, e))?;
        let room = self.member_room(user, &room_id).await?;
        let mut change = Membership {
            room_id,
            ..Membership::default()
        };
        if created {
            let ids = vec![user.id.clone(), peer.id];
            change.tell = self.rooms_as_seen(&change.room_id, &ids).await;
            change.presence = self.presence_notes(&change.room_id, &ids, &ids).await;
            change.join = ids;
        }
        Ok((room, change))
    }

    /// Each user's own view of the room; a user who is no longer a member is left out. The
    /// change is committed by now: a view that cannot be loaded is logged and left out, not
    /// turned into an error the requester would retry.
    pub(super) async fn rooms_as_seen(
        &self,
        room_id: &str,
        user_ids: &[String],
    ) -> Vec<(String, Room)> {
        let mut rooms = Vec::with_capacity(user_ids.len());
        for user_id in user_ids {
            match self.store.room_for(room_id, user_id).await {
                Ok(Some(room)) => rooms.push((user_id.clone(), room)),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not load a room to announce"),
            }
        }
        rooms
    }

    /// Every other user named, resolved; `not_found` names the first unknown one.
    pub(super) async fn resolve_users(&self, names: &[String]) -> Result<Vec<User>> {
        let users = self.store.users_by_name(names).await?;
        if let Some(missing) = names
            .iter()
            .find(|n| !users.iter().any(|u| u.username.eq_ignore_ascii_case(n)))
        {
            return Err(Error::not_found(format!("no such user: {missing}")));
        }
        Ok(users)
    }

    /// Counts one room change against the user's limit.
    pub(super) async fn allow_room_change(&self, user: &User) -> Result<()> {
        if self.limits.allow_room_change(&user.id).await {
            Ok(())
        } else {
            Err(Error::rate_limited())
        }
    }
}
