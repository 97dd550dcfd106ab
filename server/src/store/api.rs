//! The `Store` trait. Backend-neutral: no driver's type appears here.

use async_trait::async_trait;
use natter_protocol::model::Seq;
use natter_protocol::{Message, Room, User};
use tokio::sync::mpsc;

use super::commit::Commits;
use super::types::{
    Credentials, Departure, NewFile, NewSession, Seen, SignOn, StoreError, StoredFile,
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
    ///
    /// Files (migration 0009 on SQLite): the stage checks a message's
    /// [`NewEntry::Message`](super::NewEntry)`.attachments` (each an upload of the sender's,
    /// else [`AppendRefusal::NoSuchFile`](super::AppendRefusal) and nothing written), links them
    /// to the message in the same transaction and answers the message with its `attachments`.
    /// A delete unlinks the target's files, deletes each upload no other message carries, and
    /// reports in [`Appended::freed_files`](super::Appended) the hashes no upload uses any more.
    /// A plain message (no reply, no files) keeps its one-statement path.
    fn commits(&self) -> Commits;
    /// Every message the commit stage creates from now on (not repeats, not refusals), after
    /// its commit and in commit order. One subscriber: a later call replaces an earlier one.
    fn committed(&self) -> mpsc::Receiver<Message>;
    /// Up to `limit` messages with seq < `before` (or the newest), oldest first, each with its
    /// reactions and files (`attachments`, in the sender's order).
    async fn history(
        &self,
        room_id: &str,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// Up to `limit` messages with seq > `after`, oldest first, filled in like `history`.
    async fn messages_after(
        &self,
        room_id: &str,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// Moves a member's read position forward, clamped to the room's last seq.
    /// Returns the new position if it moved.
    async fn mark_read(
        &self,
        room_id: &str,
        user_id: &str,
        seq: Seq,
    ) -> Result<Option<Seq>, StoreError>;

    /// Records an upload whose bytes the file store already holds under `file.hash`.
    async fn add_file(&self, file: NewFile) -> Result<(), StoreError>;
    /// The upload `file_id` if `user_id` may read it: they uploaded it, or they are a member of
    /// a room where a message carries it. `None` alike for no such file and for not allowed.
    async fn file_for(
        &self,
        file_id: &str,
        user_id: &str,
    ) -> Result<Option<StoredFile>, StoreError>;
    /// Whether any upload (attached or not) still uses the bytes of `hash`.
    async fn file_hash_in_use(&self, hash: &str) -> Result<bool, StoreError>;
    /// Deletes the uploads made before `before` (RFC 3339) that no message carries; returns the
    /// content hashes no upload uses any more, for the file store to remove.
    async fn remove_orphan_files(&self, before: &str) -> Result<Vec<String>, StoreError>;
}
