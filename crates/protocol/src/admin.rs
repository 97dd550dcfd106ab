//! Admin requests (client → relay, acknowledged like every request): invites, the user list,
//! disabling, password resets, roles and deleting accounts. A member sending any of them is
//! answered `forbidden`; [`NAMES`] lists them all.

use serde::{Deserialize, Serialize};

use crate::ack::{Empty, WireError};
use crate::declare::request;
use crate::limits::{INVITE_MAX_EXPIRY_SECS, INVITE_MAX_USES};
use crate::model::{Id, User};
use crate::validate;
use crate::{Event, Request};

/// What an account may do: admins run the requests of this module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Member,
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(Self::Member),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// An invite as admins see it (never its code: only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub id: Id,
    /// The role of the accounts it creates.
    pub role: Role,
    /// How many accounts it may create in all, and has.
    pub uses: u32,
    pub used: u32,
    /// RFC 3339, UTC; absent: never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub created_at: String,
    /// The admin who made it (absent: the relay itself, or the command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
}

/// A user as admins see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub user: User,
    pub role: Role,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// `admin:invite:create` — an invite for `uses` accounts (default 1), valid for
/// `expires_in_secs` (default: no expiry), creating accounts of `role` (default member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateInvite {
    #[serde(default = "one")]
    pub uses: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_secs: Option<u64>,
    #[serde(default)]
    pub role: Role,
}

fn one() -> u32 {
    1
}

/// The ack of `admin:invite:create`: the code, shown this once, and the invite string to paste
/// (`crate::invite`), which carries the relay's address too.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteAck {
    pub invite: Invite,
    pub code: String,
    pub link: String,
}

impl std::fmt::Debug for InviteAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteAck")
            .field("invite", &self.invite)
            .field("code", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// `admin:invites:list` — the newest invites (at most `limits::INVITES_LIST_MAX`), newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInvites {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitesAck {
    pub invites: Vec<Invite>,
}

/// `admin:invite:revoke` — the invite creates no more accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeInvite {
    pub invite_id: Id,
}

/// `admin:users:list` — users in name order after the username `after` (first page when
/// absent), at most `limit` (default and cap `limits::USERS_PAGE_MAX`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListUsers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersAck {
    pub users: Vec<Account>,
    /// Ask again with `after` = the last username when true.
    pub more: bool,
}

/// The ack of a request that changes one account: the account as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAck {
    pub account: Account,
}

/// One account, by username; the payload of every `admin:user:*` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub username: String,
}

/// `admin:user:disable` — the account's sockets are disconnected at once, its sessions end and
/// it cannot sign in until enabled again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisableUser(pub Target);
/// `admin:user:enable` — undoes `admin:user:disable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnableUser(pub Target);
/// `admin:user:promote` — the account becomes an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoteUser(pub Target);
/// `admin:user:demote` — an admin becomes a member; never the last admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoteUser(pub Target);
/// `admin:user:reset_password` — a new password, every session ends: the admin's chosen
/// `password` (validated like a registration's), or, when absent (as older clients send it), a
/// random one. Either way the ack answers it, once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPassword {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

// Keep a chosen password out of every Debug print and log line.
impl std::fmt::Debug for ResetPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetPassword")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
/// `admin:user:delete` — deletes the account (what stays: docs/protocol.md); never the last admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteUser(pub Target);

/// The ack of `admin:user:reset_password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordAck {
    pub password: String,
}

impl std::fmt::Debug for PasswordAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordAck { password: <redacted> }")
    }
}

request!(CreateInvite, "admin:invite:create", InviteAck, |s| {
    if !(1..=INVITE_MAX_USES).contains(&s.uses) {
        return Err(WireError::invalid(format!(
            "an invite's uses must be 1-{INVITE_MAX_USES}"
        )));
    }
    match s.expires_in_secs {
        Some(secs) if !(1..=INVITE_MAX_EXPIRY_SECS).contains(&secs) => Err(WireError::invalid(
            format!("an invite expires within 1-{INVITE_MAX_EXPIRY_SECS} seconds"),
        )),
        _ => Ok(()),
    }
});
request!(ListInvites, "admin:invites:list", InvitesAck);
request!(
    RevokeInvite,
    "admin:invite:revoke",
    Empty,
    |s| validate::id(&s.invite_id)
);
request!(ListUsers, "admin:users:list", UsersAck, |s| s
    .after
    .as_deref()
    .map_or(Ok(()), validate::username_shape));
request!(DisableUser, "admin:user:disable", AccountAck, |s| {
    validate::username_shape(&s.0.username)
});
request!(EnableUser, "admin:user:enable", AccountAck, |s| {
    validate::username_shape(&s.0.username)
});
request!(PromoteUser, "admin:user:promote", AccountAck, |s| {
    validate::username_shape(&s.0.username)
});
request!(DemoteUser, "admin:user:demote", AccountAck, |s| {
    validate::username_shape(&s.0.username)
});
request!(
    ResetPassword,
    "admin:user:reset_password",
    PasswordAck,
    |s| {
        validate::username_shape(&s.username)?;
        s.password.as_deref().map_or(Ok(()), validate::password)
    }
);
request!(DeleteUser, "admin:user:delete", Empty, |s| {
    validate::username_shape(&s.0.username)
});

/// Every admin request's name: what a member is refused, each one (`forbidden`).
pub const NAMES: [&str; 10] = [
    CreateInvite::NAME,
    ListInvites::NAME,
    RevokeInvite::NAME,
    ListUsers::NAME,
    DisableUser::NAME,
    EnableUser::NAME,
    PromoteUser::NAME,
    DemoteUser::NAME,
    ResetPassword::NAME,
    DeleteUser::NAME,
];
