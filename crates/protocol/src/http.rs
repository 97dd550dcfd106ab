//! The HTTP side of the protocol: register (with an invite), login, logout, health.

use serde::{Deserialize, Serialize};

use crate::ack::WireError;
use crate::model::User;

pub const REGISTER_PATH: &str = "/api/register";
pub const LOGIN_PATH: &str = "/api/login";
pub const LOGOUT_PATH: &str = "/api/logout";
pub const HEALTH_PATH: &str = "/healthz";

/// Body of `POST /api/register` and `POST /api/login`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

// Keep passwords out of every Debug print and log line.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Body of `POST /api/register`: credentials and, unless the relay's registration is `open`,
/// an invite (its code, or the whole invite string, `crate::invite`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("invite", &self.invite.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Answer of a successful register (201) or login (200).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub user: User,
    pub token: String,
}

impl std::fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthResponse")
            .field("user", &self.user)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The Socket.IO handshake `auth` payload.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectAuth {
    pub token: String,
}

/// Body of every HTTP error: `{error:{code, message}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpError {
    pub error: WireError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}
