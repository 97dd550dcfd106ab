//! The accounts service: register (by the registration policy and invites), log in, log out,
//! and what every account does for itself (password, sessions, display name, deleting it).
//! The HTTP API's and the self-service requests' rules, free of HTTP and sockets.

use std::net::IpAddr;
use std::sync::Arc;

use natter_protocol::account::{
    ChangePassword, DeleteAccount, EndSession, SessionInfo, SetDisplayName,
};
use natter_protocol::http::{AuthResponse, Credentials, Registration as Register};
use natter_protocol::{invite, validate, ErrorCode, User, WireError};

use crate::auth::{new_token, token_hash, Passwords};
use crate::config::Registration;
use crate::error::{Error, Result};
use crate::ratelimit::Limits;
use crate::store::{Admission, Store, StoreError};
use crate::time::now_rfc3339;

/// Who may register, as configured.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub registration: Registration,
    /// The hosted relay's owner: the first account becomes an admin (`Config`).
    pub first_account_admin: bool,
}

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    limits: Limits,
    passwords: Passwords,
    policy: Policy,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

/// What a change to an account ended: sessions whose sockets must go now.
pub type Ended = Vec<String>;

impl Accounts {
    pub fn new(
        store: Arc<dyn Store>,
        limits: Limits,
        passwords: Passwords,
        policy: Policy,
    ) -> Self {
        Self {
            store,
            limits,
            passwords,
            policy,
        }
    }

    /// Registers by the policy. Without an invite that lets them in the answer is the same
    /// whether the username exists or not: the invite is checked (and spent) before the name.
    pub async fn register(
        &self,
        r: Register,
        peer: IpAddr,
        device: &str,
    ) -> Result<(AuthResponse, Ended)> {
        if !self.limits.allow_login_from(peer) {
            tracing::info!(%peer, "register rate limited");
            return Err(Error::rate_limited());
        }
        validate::username(&r.username)?;
        validate::password(&r.password)?;
        let admission = match (r.invite.as_deref(), self.policy.registration) {
            (Some(text), _) => {
                let code = invite::code_of(text);
                if invite::code_shape(&code).is_err() {
                    tracing::info!(%peer, "register refused: not an invite code");
                    return Err(invite_refused());
                }
                Admission::Invite {
                    code_hash: token_hash(&code),
                    now: now_rfc3339(),
                }
            }
            (None, Registration::Open) if self.policy.first_account_admin => Admission::FirstAdmin,
            (None, Registration::Open) => Admission::Open(Default::default()),
            (None, _) => {
                tracing::info!(%peer, "register refused: no invite");
                return Err(Error::forbidden(
                    "registering on this relay needs an invite: ask one of its admins",
                ));
            }
        };
        if self.policy.registration == Registration::Closed && self.store.user_count().await? > 0 {
            tracing::info!(%peer, "register refused: registration is closed");
            return Err(Error::forbidden("registration is closed on this relay"));
        }
        let hash = self.passwords.hash(r.password).await?;
        let user = match self.store.register(&r.username, &hash, admission).await {
            Err(StoreError::Conflict) => return Err(Error::UsernameTaken),
            Err(StoreError::InviteRefused) => {
                tracing::info!(%peer, "register refused: invite not valid");
                return Err(invite_refused());
            }
            other => other?,
        };
        tracing::info!(user = %user.username, "registered");
        self.issue_token(user, device).await
    }

    /// The limits' order and why: `crate::ratelimit`. Nothing the caller typed is logged unless
    /// it names a real user (people type passwords into the username field), and a string that
    /// cannot be a username never becomes a limiter key or a log field.
    /// Answers the session's token, and the user's sessions it ended (over the cap).
    pub async fn login(
        &self,
        c: Credentials,
        peer: IpAddr,
        device: &str,
    ) -> Result<(AuthResponse, Ended)> {
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
        let (user, hash, disabled) = match found {
            Some(f) => (Some(f.user), Some(f.password_hash), f.disabled),
            None => (None, None, false),
        };
        // Unknown users are verified against a dummy: the answer's timing says nothing.
        let ok = self.passwords.verify(c.password, hash).await?;
        match user {
            // Told only to whoever knows the password.
            Some(user) if ok && disabled => {
                tracing::info!(user = %user.username, %peer, "login refused: disabled");
                Err(disabled_account())
            }
            Some(user) if ok => self.issue_token(user, device).await,
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

    /// `account:password`: needs the current password; every other session ends.
    pub async fn change_password(
        &self,
        user: &User,
        session_id: &str,
        req: ChangePassword,
    ) -> Result<Ended> {
        self.check_password(user, req.current).await?;
        let hash = self.passwords.hash(req.new).await?;
        let ended = self
            .store
            .set_password(&user.id, &hash, Some(session_id))
            .await?;
        tracing::info!(user = %user.username, ended = ended.len(), "password changed");
        Ok(ended)
    }

    /// `account:sessions`.
    pub async fn sessions(&self, user: &User, session_id: &str) -> Result<Vec<SessionInfo>> {
        let rows = self.store.sessions_of(&user.id).await?;
        Ok(rows
            .into_iter()
            .map(|s| SessionInfo {
                current: s.id == session_id,
                id: s.id,
                device: s.device,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
            })
            .collect())
    }

    /// `account:session:end`: the session's id, whose sockets must go.
    pub async fn end_session(&self, user: &User, req: EndSession) -> Result<String> {
        if !self.store.end_session_of(&user.id, &req.session_id).await? {
            return Err(Error::not_found("no such session"));
        }
        tracing::info!(user = %user.username, "ended one of their sessions");
        Ok(req.session_id)
    }

    /// `account:display_name`: the user as others see them now.
    pub async fn set_display_name(&self, user: &User, req: SetDisplayName) -> Result<User> {
        self.store
            .set_display_name(&user.id, &req.display_name)
            .await?;
        Ok(User {
            display_name: req.display_name,
            ..user.clone()
        })
    }

    /// `account:delete`: needs the password; the last admin cannot.
    pub async fn delete_own(&self, user: &User, req: DeleteAccount) -> Result<Ended> {
        self.check_password(user, req.password).await?;
        let ended = match self.store.delete_user(&user.id).await {
            Err(StoreError::LastAdmin) => return Err(last_admin()),
            other => other?,
        };
        tracing::info!(user = %user.username, "deleted their account");
        Ok(ended)
    }

    /// Refuses (`forbidden`) a wrong password of a signed-in user.
    async fn check_password(&self, user: &User, password: String) -> Result<()> {
        let hash = self.store.password_hash(&user.id).await?;
        if !self.passwords.verify(password, hash).await? {
            tracing::info!(user = %user.username, "wrong current password");
            return Err(Error::forbidden("wrong password"));
        }
        Ok(())
    }

    /// A new session and its token; the answer, and the user's sessions it ended (over the
    /// cap), whose sockets must now go.
    async fn issue_token(&self, user: User, device: &str) -> Result<(AuthResponse, Ended)> {
        let token = new_token();
        let session = match self
            .store
            .create_session(&user.id, &token_hash(&token), device)
            .await
        {
            // Disabled between the password check and now.
            Err(StoreError::Inactive) => return Err(disabled_account()),
            other => other?,
        };
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

fn invite_refused() -> Error {
    Error::forbidden("this invite is not valid: unknown, used up, expired or revoked")
}

fn disabled_account() -> Error {
    Error::forbidden("this account is disabled: ask an admin")
}

/// Refusal of a change that would leave the relay without an admin.
pub(crate) fn last_admin() -> Error {
    Error::forbidden("the relay must keep at least one admin: promote another first")
}
