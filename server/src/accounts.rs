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

    pub async fn register(&self, c: Credentials, peer: IpAddr) -> Result<AuthResponse> {
        validate::username(&c.username)?;
        validate::password(&c.password)?;
        if !self.limits.allow_login(&c.username, peer) {
            return Err(Error::rate_limited());
        }
        let hash = self.passwords.hash(c.password).await?;
        let user = match self.store.create_user(&c.username, &hash).await {
            Err(StoreError::Conflict) => return Err(Error::UsernameTaken),
            other => other?,
        };
        tracing::info!(user = %user.username, "registered");
        self.issue_token(user).await
    }

    pub async fn login(&self, c: Credentials, peer: IpAddr) -> Result<AuthResponse> {
        if !self.limits.allow_login(&c.username, peer) {
            tracing::info!(user = %c.username, %peer, "login rate limited");
            return Err(Error::rate_limited());
        }
        // Shapes that can never be valid still pay for a hash: the answer's timing says nothing.
        let found = if validate::username(&c.username).is_ok() {
            self.store.credentials(&c.username).await?
        } else {
            None
        };
        let (user, hash) = match found {
            Some(f) => (Some(f.user), Some(f.password_hash)),
            None => (None, None),
        };
        let ok = self.passwords.verify(c.password, hash).await?;
        match user {
            Some(user) if ok => self.issue_token(user).await,
            _ => {
                tracing::info!(user = %c.username, %peer, "login refused");
                Err(Error::Client(WireError::new(
                    ErrorCode::Unauthorized,
                    "wrong username or password",
                )))
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

    async fn issue_token(&self, user: User) -> Result<AuthResponse> {
        let token = new_token();
        self.store
            .create_session(&user.id, &token_hash(&token))
            .await?;
        Ok(AuthResponse { user, token })
    }
}
