//! The `Store` trait. Backend-neutral: no driver's type appears here.

use async_trait::async_trait;
use natter_protocol::admin::{Account, Invite, Role};
use natter_protocol::model::Seq;
use natter_protocol::{Message, Room, User};
use tokio::sync::mpsc;

use super::commit::Commits;
use super::types::{
    Admission, Credentials, Departure, NewFile, NewInvite, NewSession, PageFrom, SearchPage,
    SearchQuery, Seen, SessionRow, SignOn, StoreError, StoredFile,
};

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates the user and makes them a member of `general`. `Conflict` if the name is taken
    /// (ignoring case).
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError>;
    /// The user of that name (ignoring case) with their password hash; never a deleted one.
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError>;
    /// Users by name, ignoring case; unknown and deleted names are left out.
    async fn users_by_name(&self, usernames: &[String]) -> Result<Vec<User>, StoreError>;
    async fn last_seen(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// These users (by id; unknown ids left out) with their `last_seen`.
    async fn seen(&self, user_ids: &[String]) -> Result<Vec<Seen>, StoreError>;
    /// Up to `limit` users who share a room other than `general` with `user_id` (not the user),
    /// in name order, with their `last_seen`: whose presence the user is shown.
    async fn peers_of(&self, user_id: &str, limit: u32) -> Result<Vec<Seen>, StoreError>;
    async fn set_last_seen(&self, user_id: &str, at: &str) -> Result<(), StoreError>;

    /// Stores a session by the hash of its token, from `device` (a label, may be empty), and
    /// ends the user's sessions past the backend's [`SessionPolicy`](super::SessionPolicy) cap,
    /// the one used longest ago first (never the new one). `Inactive` (nothing written) when
    /// the user is disabled or deleted, checked atomically with the insert.
    async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
        device: &str,
    ) -> Result<NewSession, StoreError>;
    /// The session, user and room ids behind a token hash: what a socket needs to connect
    /// (never a disabled or deleted user's).
    /// A session idle past the [`SessionPolicy`](super::SessionPolicy) is deleted and found as `None`; one found
    /// counts as used now.
    async fn sign_on(&self, token_hash: &str) -> Result<Option<SignOn>, StoreError>;
    /// Revokes a session; returns its id if it existed.
    async fn delete_session(&self, token_hash: &str) -> Result<Option<String>, StoreError>;

    // Who may come in (issue 18): registration, invites, roles, account changes. Every method
    // that ends sessions answers their ids: the caller disconnects their sockets.

    /// Creates the user as [`Admission`] says, a member of `general`, in one transaction with
    /// the invite's use: `Conflict` if the name is taken (ignoring case, deleted accounts
    /// included), `InviteRefused` if the invite does not let them in; nothing written then.
    async fn register(
        &self,
        username: &str,
        password_hash: &str,
        admission: Admission,
    ) -> Result<User, StoreError>;
    /// Accounts that are not deleted.
    async fn user_count(&self) -> Result<u64, StoreError>;
    async fn create_invite(&self, invite: NewInvite) -> Result<Invite, StoreError>;
    /// The newest `limit` invites, newest first.
    async fn invites(&self, limit: u32) -> Result<Vec<Invite>, StoreError>;
    /// Revokes an invite; false if there is no such invite.
    async fn revoke_invite(&self, invite_id: &str) -> Result<bool, StoreError>;
    /// Up to `limit` accounts (not deleted) whose name sorts after `after` (ignoring case), in
    /// name order.
    async fn accounts(&self, after: Option<&str>, limit: u32) -> Result<Vec<Account>, StoreError>;
    /// The account of that name (ignoring case), if not deleted.
    async fn account(&self, username: &str) -> Result<Option<Account>, StoreError>;
    /// The role of an account that is active (not disabled, not deleted).
    async fn active_role(&self, user_id: &str) -> Result<Option<Role>, StoreError>;
    /// Disables (ending every session) or enables the account.
    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<Vec<String>, StoreError>;
    /// `LastAdmin` (nothing written) if this would leave no active admin.
    async fn set_role(&self, user_id: &str, role: Role) -> Result<(), StoreError>;
    /// A new password hash; every session of the user ends but `keep` (the one asking).
    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError>;
    /// The stored password hash of an active account.
    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// The user's sessions, the one used last first.
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError>;
    /// Ends one session if it is the user's; false otherwise.
    async fn end_session_of(&self, user_id: &str, session_id: &str) -> Result<bool, StoreError>;
    async fn set_display_name(&self, user_id: &str, display_name: &str) -> Result<(), StoreError>;
    /// Deletes the account: the row stays as a tombstone keeping the username (no password,
    /// role member, no display name), its sessions, room memberships and blocks go; the
    /// messages it sent stay. `LastAdmin` (nothing written) for the last active admin.
    async fn delete_user(&self, user_id: &str) -> Result<Vec<String>, StoreError>;

    /// Every room the user is a member of, as that user sees it.
    async fn rooms_of(&self, user_id: &str) -> Result<Vec<Room>, StoreError>;
    /// Ids of every room the user is a member of (cheaper than `rooms_of`).
    async fn room_ids_of(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
    /// The room as this user sees it, or `None` if it does not exist or they are not a member.
    async fn room_for(&self, room_id: &str, user_id: &str) -> Result<Option<Room>, StoreError>;
    async fn is_member(&self, room_id: &str, user_id: &str) -> Result<bool, StoreError>;
    /// Ids of the room's members.
    async fn member_ids(&self, room_id: &str) -> Result<Vec<String>, StoreError>;
    /// One page of the room's members, in name order ignoring case: those whose name comes
    /// after `after` (a username), at most `limit`. Reads about `limit` rows, not the room.
    async fn members_page(
        &self,
        room_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError>;
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
    /// Up to `limit` messages of a room, change entries left out, oldest first, filled in like
    /// `history` (each as it is now): what a client showing the room pages through, however
    /// many reactions and edits lie between its messages.
    async fn messages_page(
        &self,
        room_id: &str,
        from: PageFrom,
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
