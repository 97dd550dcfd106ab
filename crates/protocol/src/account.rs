//! Self-service requests (client → relay): one's password, sessions, display name, and deleting
//! one's own account. Every account may send them, about itself only.

use serde::{Deserialize, Serialize};

use crate::ack::{Empty, WireError};
use crate::declare::request;
use crate::model::{Id, User};
use crate::validate;
use crate::{Event, Request};

/// `account:password` — needs the current password; every other session of the account ends
/// (this one stays signed in).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePassword {
    pub current: String,
    pub new: String,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePassword { <redacted> }")
    }
}

/// `account:sessions` — the account's sessions (signed-in devices), the one used last first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSessions {}

/// One session of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: Id,
    /// The device as its login named itself (its HTTP `User-Agent`, shortened); may be empty.
    pub device: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub last_used_at: String,
    /// The session this request came through.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsAck {
    pub sessions: Vec<SessionInfo>,
}

/// `account:session:end` — ends one of the account's sessions (its sockets disconnect);
/// `not_found` for an id that is not one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndSession {
    pub session_id: Id,
}

/// `account:display_name` — sets (or, empty, clears) the name shown beside the username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDisplayName {
    pub display_name: String,
}

/// The ack of `account:display_name`: the user as others now see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAck {
    pub user: User,
}

/// `account:delete` — deletes the sender's own account (needs its password); what stays of it
/// is in docs/protocol.md. The last admin cannot.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAccount {
    pub password: String,
}

impl std::fmt::Debug for DeleteAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeleteAccount { <redacted> }")
    }
}

request!(ChangePassword, "account:password", Empty, |s| {
    // The current one is checked against the hash; only its length is bounded here.
    if s.current.chars().count() > crate::limits::PASSWORD_MAX_CHARS {
        return Err(WireError::invalid("wrong password"));
    }
    validate::password(&s.new)
});
request!(ListSessions, "account:sessions", SessionsAck);
request!(EndSession, "account:session:end", Empty, |s| validate::id(
    &s.session_id
));
request!(SetDisplayName, "account:display_name", UserAck, |s| {
    validate::display_name(&s.display_name)
});
request!(DeleteAccount, "account:delete", Empty, |s| {
    if s.password.chars().count() > crate::limits::PASSWORD_MAX_CHARS {
        return Err(WireError::invalid("wrong password"));
    }
    Ok(())
});

/// Every self-service request's name.
pub const NAMES: [&str; 5] = [
    ChangePassword::NAME,
    ListSessions::NAME,
    EndSession::NAME,
    SetDisplayName::NAME,
    DeleteAccount::NAME,
];
