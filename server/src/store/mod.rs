//! The `Store` trait: everything the relay keeps durably, behind one async interface.
//!
//! Backends must keep the delivery promises: a message is committed before its `append_messages`
//! outcome resolves, `seq` is gap-free per room, and (sender, client_id) is unique across all
//! rooms.
//! The conformance suite in `tests/store_conformance.rs` runs against every backend.

mod appender;
mod reader;
mod sql;
mod sqlite;

pub use sqlite::SqliteStore;

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use natter_protocol::model::Seq;
use natter_protocol::{Message, Room, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name is already taken (usernames).
    #[error("already exists")]
    Conflict,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A transaction of messages failed and was rolled back (the appender's own error, which
    /// every batch in it shares).
    #[error("commit failed: {0}")]
    Commit(String),
    /// The appender or sign-on thread could not start, or stopped.
    #[error("{0}")]
    Thread(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Why one message of a batch was refused (the rest of the batch still commits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppendRefusal {
    #[error("sender is not a member of the room")]
    NotMember,
}

/// A message to append; the store assigns id and seq.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room_id: String,
    pub sender: User,
    pub client_id: String,
    pub body: String,
    pub sent_at: String,
}

/// What happened to one message of a batch.
pub type AppendOutcome = Result<Appended, AppendRefusal>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: Message,
    /// False when (sender, client_id) already existed and this is the original message.
    pub created: bool,
}

/// The outcome of a queued batch, to be awaited; see [`Store::append_messages`].
pub type PendingAppend =
    Pin<Box<dyn Future<Output = Result<Vec<AppendOutcome>, StoreError>> + Send + 'static>>;

/// Who a token signs on as, and the rooms they are a member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOn {
    pub session_id: String,
    pub user: User,
    /// In id order.
    pub room_ids: Vec<String>,
}

/// A user with the stored password hash, for login only.
#[derive(Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates the user and makes them a member of `general`. `Conflict` if the name is taken
    /// (ignoring case).
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError>;
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError>;
    /// Users by name, ignoring case; unknown names are left out.
    async fn users_by_name(&self, usernames: &[String]) -> Result<Vec<User>, StoreError>;
    async fn last_seen(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    async fn set_last_seen(&self, user_id: &str, at: &str) -> Result<(), StoreError>;

    /// Stores a session by the hash of its token; returns the session id.
    async fn create_session(&self, user_id: &str, token_hash: &str) -> Result<String, StoreError>;
    /// The session, user and room ids behind a token hash: what a socket needs to connect.
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
    /// A new group room with the creator and `members` (duplicates ignored).
    async fn create_group(
        &self,
        name: &str,
        creator: &User,
        members: &[User],
    ) -> Result<String, StoreError>;
    /// The direct room of two users, created if missing; returns (room id, created).
    async fn open_direct(&self, a: &User, b: &User) -> Result<(String, bool), StoreError>;
    /// Adds a member; returns false if they already were one.
    async fn add_member(&self, room_id: &str, user_id: &str) -> Result<bool, StoreError>;
    /// Removes a member; returns false if they were not one.
    async fn remove_member(&self, room_id: &str, user_id: &str) -> Result<bool, StoreError>;

    /// Queues a batch for commit and returns its outcome to await. Batches commit in the order
    /// of these calls, which is fixed when the call returns: the committer keeps several in
    /// flight and still broadcasts in seq order. A batch commits in one transaction, alone or
    /// with batches queued beside it (group commit): all or nothing on a database error, one
    /// outcome per input, in order.
    fn append_messages(&self, batch: Vec<NewMessage>) -> PendingAppend;
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
    /// Moves a member's read position forward, clamped to the room's last seq.
    /// Returns the new position if it moved.
    async fn mark_read(
        &self,
        room_id: &str,
        user_id: &str,
        seq: Seq,
    ) -> Result<Option<Seq>, StoreError>;
}
