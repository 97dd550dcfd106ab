//! The `Store` trait. Backend-neutral: no driver's type appears here.

use async_trait::async_trait;
use natter_protocol::model::Seq;
use natter_protocol::{Message, Room, User};
use tokio::sync::mpsc;

use super::commit::Commits;
use super::types::{
    Credentials, Departure, NewSession, SearchPage, SearchQuery, Seen, SignOn, StoreError,
};

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates the user and makes them a member of `general`. `Conflict` if the name is taken
    /// (ignoring case).
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError>;
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError>;
    /// Users by name, ignoring case; unknown names are left out.
    async fn users_by_name(&self, usernames: &[String]) -> Result<Vec<User>, StoreError>;
    async fn last_seen(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// These users (by id; unknown ids left out) with their `last_seen`.
    async fn seen(&self, user_ids: &[String]) -> Result<Vec<Seen>, StoreError>;
    /// Up to `limit` users who share a room other than `general` with `user_id` (not the user),
    /// in name order, with their `last_seen`: whose presence the user is shown.
    async fn peers_of(&self, user_id: &str, limit: u32) -> Result<Vec<Seen>, StoreError>;
    async fn set_last_seen(&self, user_id: &str, at: &str) -> Result<(), StoreError>;

    /// Stores a session by the hash of its token, and ends the user's sessions past the
    /// backend's [`SessionPolicy`](super::SessionPolicy) cap, the one used longest ago first (never the new one).
    async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
    ) -> Result<NewSession, StoreError>;
    /// The session, user and room ids behind a token hash: what a socket needs to connect.
    /// A session idle past the [`SessionPolicy`](super::SessionPolicy) is deleted and found as `None`; one found
    /// counts as used now.
    async fn sign_on(&self, token_hash: &str) -> Result<Option<SignOn>, StoreError>;
    /// Revokes a session; returns its id if it existed.
    async fn delete_session(&self, token_hash: &str) -> Result<Option<String>, StoreError>;

    /// Every room the user is a member of, as that user sees it.
    async fn rooms_of(&self, user_id: &str) -> Result<Vec<Room>, StoreError>;
    /// Ids of every room the user is a member of (cheaper than `rooms_of`).
    async fn room_ids_of(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
    /// The room as this user sees it, or `None` if it does not exist or they are not a member.
    async fn room_for(&self, room_id: &str, user_id: &str) -> Result<Option<Room>, StoreError>;
    async fn is_member(&self, room_id: &str, user_id: &str) -> Result<bool, StoreError>;
    /// Ids of the room's members.
    async fn member_ids(&self, room_id: &str) -> Result<Vec<String>, StoreError>;
    /// A new group room made by `creator`, with them and `members` (duplicates ignored).
    /// `TooManyRooms` (nothing written) if anyone would be in more than `max_rooms` rooms.
    async fn create_group(
        &self,
        name: &str,
        creator: &User,
        members: &[User],
        max_rooms: u32,
    ) -> Result<String, StoreError>;
    /// The direct room of two users, created if missing; returns (room id, created).
    /// `TooManyRooms` as for [`create_group`](Self::create_group).
    async fn open_direct(
        &self,
        a: &User,
        b: &User,
        max_rooms: u32,
    ) -> Result<(String, bool), StoreError>;
    /// Adds a member (forgetting any departure of theirs from the room); returns false if they
    /// already were one. `TooManyRooms` as above.
    async fn add_member(
        &self,
        room_id: &str,
        user_id: &str,
        max_rooms: u32,
    ) -> Result<bool, StoreError>;
    /// Removes a member and remembers how (`how`); returns false if they were not one.
    async fn remove_member(
        &self,
        room_id: &str,
        user_id: &str,
        how: Departure,
    ) -> Result<bool, StoreError>;
    /// How the user stopped being a member of the room, if they ever did (and are not back).
    async fn departure(
        &self,
        room_id: &str,
        user_id: &str,
    ) -> Result<Option<Departure>, StoreError>;
    /// Who made a group room (`None`: `general`, a direct room, or a creator gone).
    async fn room_creator(&self, room_id: &str) -> Result<Option<String>, StoreError>;

    /// `blocker_id` blocks `blocked_id`; returns false if they already had.
    async fn block(&self, blocker_id: &str, blocked_id: &str) -> Result<bool, StoreError>;
    async fn unblock(&self, blocker_id: &str, blocked_id: &str) -> Result<(), StoreError>;
    /// Usernames `blocker_id` has blocked, in name order.
    async fn blocked_by(&self, blocker_id: &str) -> Result<Vec<String>, StoreError>;
    /// Whether `blocker_id` has blocked `blocked_id`.
    async fn has_blocked(&self, blocker_id: &str, blocked_id: &str) -> Result<bool, StoreError>;

    /// The entrance of the backend's commit stage, where sends queue; see [`commit`].
    fn commits(&self) -> Commits;
    /// Every message the commit stage creates from now on (not repeats, not refusals), after
    /// its commit and in commit order. One subscriber: a later call replaces an earlier one.
    fn committed(&self) -> mpsc::Receiver<Message>;
    /// Up to `limit` messages with seq < `before` (or the newest), oldest first.
    async fn history(
        &self,
        room_id: &str,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// Up to `limit` messages with seq > `after`, oldest first.
    async fn messages_after(
        &self,
        room_id: &str,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// Up to `query.limit` messages whose current text contains every one of `query.terms` as
    /// a substring, ignoring case, from the rooms `user_id` is a member of now (only
    /// `query.room_id` if given, and only if a member), newest first in commit order, older
    /// than `query.before`. Never change entries, deleted messages or text from before an edit:
    /// the index must change in the transaction that edits or deletes (a delete erases the text
    /// from the index's storage too). Messages carry their reactions, like `history`.
    ///
    /// `next` is where the next page starts: a position of the backend's own (SQLite: the
    /// message's rowid), positive. A backend may scan a bounded range of messages per page when
    /// no term is long enough for its index (SQLite: 3 characters), so a page may be short, or
    /// empty, and still have a `next`.
    async fn search(&self, user_id: &str, query: &SearchQuery) -> Result<SearchPage, StoreError>;
    /// Moves a member's read position forward, clamped to the room's last seq.
    /// Returns the new position if it moved.
    async fn mark_read(
        &self,
        room_id: &str,
        user_id: &str,
        seq: Seq,
    ) -> Result<Option<Seq>, StoreError>;
}
