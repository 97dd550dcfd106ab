//! The accounts service: register, log in, log out. The HTTP API's rules, free of HTTP.

use std::net::IpAddr;
use std::sync::Arc;

use natter_protocol::http::{AuthResponse, Credentials};
use natter_protocol::{validate, ErrorCode, User, WireError};

use crate::auth::{new_token, token_hash, Passwords};
use crate::error::{Error, Result};
use crate::ratelimit::Limits;
use crate::store::{Store, StoreError};

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    limits: Limits,
    passwords: Passwords,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    pub fn new(store: Arc<dyn Store>, limits: Limits, passwords: Passwords) -> Self {
        Self {
            store,
            limits,
            passwords,
        }
    }

    pub async fn register(
        &self,
        c: Credentials,
        peer: IpAddr,
    ) -> Result<(AuthResponse, Vec<String>)> {
        if !self.limits.allow_login_from(peer) {
            tracing::info!(%peer, "register rate limited");
            return Err(Error::rate_limited());
        }
        validate::username(&c.username)?;
        validate::password(&c.password)?;
        let hash = self.passwords.hash(c.password).await?;
        let user = match self.store.create_user(&c.username, &hash).await {
            Err(StoreError::Conflict) => return Err(Error::UsernameTaken),
            other => other?,
        };
        tracing::info!(user = %user.username, "registered");
        self.issue_token(user).await
    }

    /// The limits' order and why: `crate::ratelimit`. Nothing the caller typed is logged unless
    /// it names a real user (people type passwords into the username field), and a string that
    /// cannot be a username never becomes a limiter key or a log field.
    /// Answers the session's token, and the user's sessions it ended (over the cap).
    pub async fn login(&self, c: Credentials, peer: IpAddr) -> Result<(AuthResponse, Vec<String>)> {
        if !self.limits.allow_login_from(peer) {
            tracing::info!(%peer, "login rate limited (address)");
            return Err(Error::rate_limited());
        }
        // The shape rules are public, so refusing a shape that can never be valid without
        // paying for a hash tells a caller nothing about who exists.
        if validate::username(&c.username).is_err() {
            let chars = c.username.chars().count();
            tracing::info!(%peer, chars, "login refused: not a username");
            return Err(wrong_credentials());
        }
        if !self.limits.allow_login_as(&c.username, peer) {
            tracing::info!(%peer, "login rate limited (username)");
            return Err(Error::rate_limited());
        }
        let found = self.store.credentials(&c.username).await?;
        let (user, hash) = match found {
            Some(f) => (Some(f.user), Some(f.password_hash)),
            None => (None, None),
        };
        // Unknown users are verified against a dummy: the answer's timing says nothing.
        let ok = self.passwords.verify(c.password, hash).await?;
        match user {
            Some(user) if ok => self.issue_token(user).await,
            user => {
                self.limits.login_failed(&c.username, peer);
                match user {
                    // A stored username passed `validate::username`: plain characters only.
                    Some(user) => tracing::info!(user = %user.username, %peer, "login refused"),
                    None => tracing::info!(%peer, "login refused: no such user"),
                }
                Err(wrong_credentials())
            }
        }
    }

    /// Revokes the session behind `token`; returns its id, whose sockets must now go.
    pub async fn logout(&self, token: &str) -> Result<String> {
        self.store
            .delete_session(&token_hash(token))
            .await?
            .ok_or_else(Error::unauthorized)
    }

    /// A new session and its token; the answer, and the user's sessions it ended (over the
    /// cap), whose sockets must now go.
    async fn issue_token(&self, user: User) -> Result<(AuthResponse, Vec<String>)> {
        let token = new_token();
        let session = self
            .store
            .create_session(&user.id, &token_hash(&token))
            .await?;
        if !session.ended.is_empty() {
            tracing::info!(user = %user.username, ended = session.ended.len(), "sessions over the cap ended");
        }
        Ok((AuthResponse { user, token }, session.ended))
    }
}

fn wrong_credentials() -> Error {
    Error::Client(WireError::new(
        ErrorCode::Unauthorized,
        "wrong username or password",
    ))
}
