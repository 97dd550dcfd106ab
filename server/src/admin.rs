//! The admin service: invites, the account list, disabling, password resets, roles and
//! deleting accounts. Every request is checked here, once: the sender must be an active admin
//! now (a demoted admin loses the power at once), within the admin rate limit; each action is
//! logged as one line that names who did what to whom, never a code or a password.

use std::sync::Arc;

use natter_protocol::admin::{
    Account, CreateInvite, Invite, InviteAck, ListUsers, RevokeInvite, Role, UsersAck,
};
use natter_protocol::invite::InviteLink;
use natter_protocol::limits::{INVITES_LIST_MAX, USERS_PAGE_MAX};
use natter_protocol::{validate, User};

use crate::accounts::{last_admin, Ended};
use crate::auth::{new_token, token_hash, Passwords};
use crate::config::Registration;
use crate::error::{Error, Result};
use crate::ratelimit::Limits;
use crate::store::{NewInvite, Store, StoreError};

#[derive(Clone)]
pub struct Admin {
    store: Arc<dyn Store>,
    limits: Limits,
    passwords: Passwords,
    registration: Registration,
    /// `--public-url`: the address invite strings carry.
    public_url: Option<String>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").finish_non_exhaustive()
    }
}

/// Makes an invite and answers it with its code (32 hex characters, 128 bits), which is stored
/// only as its hash. The one way invites are made: admins, the first-admin invite, the CLI.
pub async fn make_invite(
    store: &dyn Store,
    role: Role,
    uses: u32,
    expires_in_secs: Option<u64>,
    created_by: Option<&User>,
) -> Result<(Invite, String)> {
    let code: String = new_token().chars().take(32).collect();
    let expires_at = expires_in_secs.map(|secs| {
        let at = chrono::Utc::now() + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(0));
        at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    });
    let invite = store
        .create_invite(NewInvite {
            code_hash: token_hash(&code),
            role,
            uses,
            expires_at,
            created_by: created_by.map(|u| u.id.clone()),
        })
        .await?;
    Ok((invite, code))
}

impl Admin {
    pub fn new(
        store: Arc<dyn Store>,
        limits: Limits,
        passwords: Passwords,
        registration: Registration,
        public_url: Option<String>,
    ) -> Self {
        Self {
            store,
            limits,
            passwords,
            registration,
            public_url,
        }
    }

    /// The one gate of every admin request.
    async fn authorize(&self, admin: &User, action: &str) -> Result<()> {
        if self.store.active_role(&admin.id).await? != Some(Role::Admin) {
            tracing::info!(user = %admin.username, action, "admin request refused: not an admin");
            return Err(Error::forbidden("only an admin may do this"));
        }
        if !self.limits.allow_admin(&admin.id).await {
            tracing::info!(user = %admin.username, action, "admin request rate limited");
            return Err(Error::rate_limited());
        }
        Ok(())
    }

    /// An account by name, or `not_found` (admins may learn who exists).
    async fn target(&self, username: &str) -> Result<Account> {
        self.store
            .account(username)
            .await?
            .ok_or_else(|| Error::not_found("no such user"))
    }

    /// `admin:invite:create`; `server` is the address the admin reached the relay at, used
    /// when no `--public-url` is set.
    pub async fn create_invite(
        &self,
        admin: &User,
        req: CreateInvite,
        server: &str,
    ) -> Result<InviteAck> {
        self.authorize(admin, "create invite").await?;
        if self.registration == Registration::Closed {
            return Err(Error::forbidden(
                "registration is closed on this relay: invites would let nobody in",
            ));
        }
        let (invite, code) = make_invite(
            self.store.as_ref(),
            req.role,
            req.uses,
            req.expires_in_secs,
            Some(admin),
        )
        .await?;
        tracing::info!(admin = %admin.username, invite = %invite.id, role = invite.role.as_str(),
            uses = invite.uses, expires_at = ?invite.expires_at, "admin: invite created");
        let link = InviteLink {
            server: self.public_url.clone().unwrap_or_else(|| server.to_owned()),
            code: code.clone(),
        }
        .format();
        Ok(InviteAck { invite, code, link })
    }

    pub async fn invites(&self, admin: &User) -> Result<Vec<Invite>> {
        self.authorize(admin, "list invites").await?;
        Ok(self.store.invites(INVITES_LIST_MAX).await?)
    }

    pub async fn revoke_invite(&self, admin: &User, req: RevokeInvite) -> Result<()> {
        self.authorize(admin, "revoke invite").await?;
        if !self.store.revoke_invite(&req.invite_id).await? {
            return Err(Error::not_found("no such invite"));
        }
        tracing::info!(admin = %admin.username, invite = %req.invite_id, "admin: invite revoked");
        Ok(())
    }

    pub async fn users(&self, admin: &User, req: ListUsers) -> Result<UsersAck> {
        self.authorize(admin, "list users").await?;
        let limit = req.limit.unwrap_or(USERS_PAGE_MAX).clamp(1, USERS_PAGE_MAX);
        // One more than asked says whether there is more.
        let mut users = self.store.accounts(req.after.as_deref(), limit + 1).await?;
        let more = users.len() > limit as usize;
        users.truncate(limit as usize);
        Ok(UsersAck { users, more })
    }

    /// `admin:user:disable` / `enable`: the account now, and the sessions that ended.
    pub async fn set_disabled(
        &self,
        admin: &User,
        username: &str,
        disabled: bool,
    ) -> Result<(Account, Ended)> {
        let action = if disabled { "disable" } else { "enable" };
        self.authorize(admin, action).await?;
        let target = self.target(username).await?;
        let ended = match self.store.set_disabled(&target.user.id, disabled).await {
            Err(StoreError::LastAdmin) => return Err(last_admin()),
            other => other?,
        };
        tracing::info!(admin = %admin.username, user = %target.user.username, action,
            ended = ended.len(), "admin: account disabled or enabled");
        Ok((self.target(username).await?, ended))
    }

    /// `admin:user:promote` / `demote`.
    pub async fn set_role(&self, admin: &User, username: &str, role: Role) -> Result<Account> {
        self.authorize(admin, "set role").await?;
        let target = self.target(username).await?;
        match self.store.set_role(&target.user.id, role).await {
            Err(StoreError::LastAdmin) => return Err(last_admin()),
            other => other?,
        }
        tracing::info!(admin = %admin.username, user = %target.user.username,
            role = role.as_str(), "admin: role set");
        self.target(username).await
    }

    /// `admin:user:reset_password`: the new password — `chosen` (checked like a registration's)
    /// or a random one — answered once, and the sessions that ended (all of the user's).
    pub async fn reset_password(
        &self,
        admin: &User,
        username: &str,
        chosen: Option<String>,
    ) -> Result<(String, Ended)> {
        self.authorize(admin, "reset password").await?;
        if let Some(password) = &chosen {
            validate::password(password)?;
        }
        let target = self.target(username).await?;
        let chosen_here = chosen.is_some();
        let password = chosen.unwrap_or_else(new_password);
        let hash = self.passwords.hash(password.clone()).await?;
        let ended = self
            .store
            .set_password(&target.user.id, &hash, None)
            .await?;
        tracing::info!(admin = %admin.username, user = %target.user.username,
            ended = ended.len(), chosen = chosen_here, "admin: password reset");
        Ok((password, ended))
    }

    /// `admin:user:delete`: the sessions that ended.
    pub async fn delete(&self, admin: &User, username: &str) -> Result<Ended> {
        self.authorize(admin, "delete user").await?;
        let target = self.target(username).await?;
        let ended = match self.store.delete_user(&target.user.id).await {
            Err(StoreError::LastAdmin) => return Err(last_admin()),
            other => other?,
        };
        tracing::info!(admin = %admin.username, user = %target.user.username, "admin: account deleted");
        Ok(ended)
    }
}

/// A random password of 20 hex characters (80 bits), for resets.
pub fn new_password() -> String {
    new_token().chars().take(20).collect()
}
