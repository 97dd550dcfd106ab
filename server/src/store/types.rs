//! What crosses the `Store` trait: errors, messages to append and their outcomes, sign-on and
//! credentials. Backend-neutral: no driver's type appears here.

use natter_protocol::admin::Role;
use natter_protocol::model::Seq;
use natter_protocol::{Attachment, Message, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name is already taken (usernames).
    #[error("already exists")]
    Conflict,
    /// The backend's own error (its driver's, a failed migration, …).
    #[error("database error: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
    /// A batch of messages failed and was rolled back (every send in it gets this).
    #[error("commit failed: {0}")]
    Commit(String),
    /// A thread or task of the backend could not start, or stopped.
    #[error("{0}")]
    Thread(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A membership write would put this user (id) in more rooms than allowed; nothing was
    /// written.
    #[error("user {0} is in too many rooms")]
    TooManyRooms(String),
    /// A registration's invite is unknown, revoked, expired or used up; nothing was written.
    #[error("invite refused")]
    InviteRefused,
    /// The change would leave the relay without an admin; nothing was written.
    #[error("the last admin")]
    LastAdmin,
    /// The account is disabled or deleted: no session is created for it.
    #[error("account inactive")]
    Inactive,
}

/// Why one message of a batch was refused (the rest of the batch still commits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppendRefusal {
    #[error("sender is not a member of the room")]
    NotMember,
    /// The message a change or reply names is not in the room, is itself a change, or (for a
    /// change) was deleted.
    #[error("no such message in the room")]
    NoSuchMessage,
    /// Only a message's sender edits or deletes it.
    #[error("not the message's sender")]
    NotSender,
    /// An attachment is not an upload of the sender's (unknown, or someone else's).
    #[error("no such file among the sender's uploads")]
    NoSuchFile,
}

/// An entry to append to a room; the store assigns id and seq.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room_id: String,
    pub sender: User,
    pub client_id: String,
    /// A message's text, or an edit's new text; empty for deletes and reactions.
    pub body: String,
    pub sent_at: String,
    pub entry: NewEntry,
    /// Members of the room the body mentions (a message's or an edit's).
    pub mentions: Vec<String>,
}

/// What the entry is. Targets are message ids in the same room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewEntry {
    Message {
        reply_to: Option<String>,
        /// Upload ids, each the sender's own; the message carries them in this order.
        attachments: Vec<String>,
    },
    Edit {
        target: String,
    },
    Delete {
        target: String,
    },
    Reaction {
        target: String,
        emoji: String,
        on: bool,
    },
}

/// Where a page of messages (change entries left out) starts: the newest below a seq (or the
/// newest of the room), or the oldest above one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFrom {
    Before(Option<Seq>),
    After(Seq),
}

/// What happened to one message of a batch.
pub type AppendOutcome = Result<Appended, AppendRefusal>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: Message,
    /// False when (sender, client_id) already existed and this is the original message.
    pub created: bool,
    /// Content hashes no upload uses any more (a delete let go of the message's files): the
    /// file store removes their bytes. Empty for everything but a new delete.
    pub freed_files: Vec<String>,
}

/// Who a token signs on as, and the rooms they are a member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOn {
    pub session_id: String,
    pub user: User,
    /// In id order.
    pub rooms: Vec<RoomSeq>,
}

/// A room and its last seq as it was read: what a socket joining the room then is synced up
/// to (a relay of several nodes starts the room's feed there, `broadcast/feed.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSeq {
    pub room_id: String,
    pub last_seq: Seq,
}

/// How long sessions live: one not used (logged in, or a socket connected with its token) for
/// `idle` is ended at its next use; past `per_user` a user's sessions end, the one used
/// longest ago first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: std::time::Duration,
    pub per_user: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: std::time::Duration::from_secs(crate::config::DEFAULT_SESSION_IDLE_SECS),
            per_user: crate::config::DEFAULT_SESSIONS_PER_USER,
        }
    }
}

/// A session just created, and the user's sessions it ended (over the cap), whose sockets must go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id: String,
    pub ended: Vec<String>,
}

/// A user with the stored password hash, for login only. Deleted accounts are never found.
#[derive(Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    /// An admin disabled the account: it may not sign in.
    pub disabled: bool,
}

/// How a registration is let in ([`Store::register`](super::Store::register)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// As `role`, no questions asked (open registration, the command line).
    Open(Role),
    /// With an invite, by the hash of its code, as the invite's role. The invite must be
    /// unrevoked, unexpired at `now` (RFC 3339) and have a use left; the use is spent in the
    /// same transaction as the user is created, so of registrations racing for its last use
    /// exactly one wins (the others get `InviteRefused`).
    Invite { code_hash: String, now: String },
    /// The relay's owner (the desktop's hosted relay): an admin when the relay has no users
    /// yet, else a member.
    FirstAdmin,
}

/// An invite to store; the code is kept only as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvite {
    pub code_hash: String,
    pub role: Role,
    pub uses: u32,
    /// RFC 3339, UTC.
    pub expires_at: Option<String>,
    /// The admin's user id (`None`: the relay itself or the command line).
    pub created_by: Option<String>,
}

/// One session of a user, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub created_at: String,
    pub last_used_at: String,
}

/// How a user stopped being a member of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// They left by themselves (`room:leave`).
    Left,
    /// The room's creator removed them (`room:remove`).
    Removed,
}

/// A user and when they were last seen online (`None`: never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub user: User,
    pub last_seen: Option<String>,
}

/// A search as the store runs it (issue 20): the terms split out of the query, the scope, and
/// where the page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Every one must occur in a message's current text, as a substring, ignoring case.
    pub terms: Vec<String>,
    /// Only this room (the caller checked membership); all of the user's rooms when `None`.
    pub room_id: Option<String>,
    /// A previous page's [`SearchPage::next`]: only messages older than it.
    pub before: Option<i64>,
    pub limit: u32,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// Newest first (commit order).
    pub messages: Vec<Message>,
    /// Where the next page starts (the backend's own position, positive), `None` after the
    /// last page.
    pub next: Option<i64>,
}

/// An upload to record: its bytes are already in the file store under `hash`.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub attachment: Attachment,
    pub uploader_id: String,
    /// SHA-256 of the bytes, lowercase hex: where the file store keeps them.
    pub hash: String,
    /// RFC 3339, UTC.
    pub uploaded_at: String,
}

/// An upload as stored: what messages show of it, and where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub attachment: Attachment,
    pub hash: String,
}
