//! The admin and self-service requests (issue 18): thin calls over the live connection, each
//! one request and its ack (docs/protocol.md, "Accounts: admins and self-service"). Refusals
//! come back as [`SessionError::Refused`] (`forbidden` for a member asking an admin request).

use natter_protocol::account::{
    ChangePassword, DeleteAccount, EndSession, ListSessions, OwnAccount, SessionInfo,
    SetDisplayName,
};
use natter_protocol::admin::{
    Account, CreateInvite, DeleteUser, DemoteUser, DisableUser, EnableUser, Invite, InviteAck,
    ListInvites, ListUsers, PromoteUser, ResetPassword, RevokeInvite, Role, Target, UsersAck,
};
use natter_protocol::User;

use super::{Session, SessionError};

fn target(username: &str) -> Target {
    Target {
        username: username.to_owned(),
    }
}

impl Session {
    /// Makes an invite for `uses` accounts of `role`, valid `expires_in_secs` (none: no
    /// expiry); the ack carries the code and the invite string to hand over.
    pub async fn create_invite(
        &self,
        uses: u32,
        expires_in_secs: Option<u64>,
        role: Role,
    ) -> Result<InviteAck, SessionError> {
        self.ask(&CreateInvite {
            uses,
            expires_in_secs,
            role,
        })
        .await
    }

    /// The newest invites, newest first.
    pub async fn invites(&self) -> Result<Vec<Invite>, SessionError> {
        Ok(self.ask(&ListInvites {}).await?.invites)
    }

    pub async fn revoke_invite(&self, invite_id: &str) -> Result<(), SessionError> {
        let req = RevokeInvite {
            invite_id: invite_id.to_owned(),
        };
        self.ask(&req).await.map(drop)
    }

    /// A page of accounts after `after` (a username; `None`: the first page).
    pub async fn users(
        &self,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<UsersAck, SessionError> {
        self.ask(&ListUsers {
            after: after.map(str::to_owned),
            limit,
        })
        .await
    }

    /// Disables (`true`) or enables an account; the account as it is now.
    pub async fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<Account, SessionError> {
        let ack = if disabled {
            self.ask(&DisableUser(target(username))).await?
        } else {
            self.ask(&EnableUser(target(username))).await?
        };
        Ok(ack.account)
    }

    /// Promotes (`Admin`) or demotes (`Member`) an account.
    pub async fn set_role(&self, username: &str, role: Role) -> Result<Account, SessionError> {
        let ack = match role {
            Role::Admin => self.ask(&PromoteUser(target(username))).await?,
            Role::Member => self.ask(&DemoteUser(target(username))).await?,
        };
        Ok(ack.account)
    }

    /// A new password for the account (every session of it ends): `chosen`, or a random one
    /// when `None`; answered, to show once.
    pub async fn reset_password(
        &self,
        username: &str,
        chosen: Option<&str>,
    ) -> Result<String, SessionError> {
        let request = ResetPassword {
            username: username.to_owned(),
            password: chosen.map(str::to_owned),
        };
        Ok(self.ask(&request).await?.password)
    }

    pub async fn delete_user(&self, username: &str) -> Result<(), SessionError> {
        self.ask(&DeleteUser(target(username))).await.map(drop)
    }

    /// Our own account as the relay has it now, role included (`account:me`): ask at each
    /// connect, the role may have changed while we were away.
    pub async fn own_account(&self) -> Result<Account, SessionError> {
        Ok(self.ask(&OwnAccount {}).await?.account)
    }

    /// Changes our password (needs the current one); our other sessions end.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<(), SessionError> {
        let req = ChangePassword {
            current: current.to_owned(),
            new: new.to_owned(),
        };
        self.ask(&req).await.map(drop)
    }

    /// Our sessions (signed-in devices), the one used last first.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, SessionError> {
        Ok(self.ask(&ListSessions {}).await?.sessions)
    }

    /// Ends one of our sessions (its sockets disconnect).
    pub async fn end_session(&self, session_id: &str) -> Result<(), SessionError> {
        let req = EndSession {
            session_id: session_id.to_owned(),
        };
        self.ask(&req).await.map(drop)
    }

    /// Sets ("" clears) the name shown beside our username; us as others now see us.
    pub async fn set_display_name(&self, display_name: &str) -> Result<User, SessionError> {
        let req = SetDisplayName {
            display_name: display_name.to_owned(),
        };
        Ok(self.ask(&req).await?.user)
    }

    /// Deletes our account (needs our password). The relay then ends this session too.
    pub async fn delete_account(&self, password: &str) -> Result<(), SessionError> {
        let req = DeleteAccount {
            password: password.to_owned(),
        };
        self.ask(&req).await.map(drop)
    }
}
