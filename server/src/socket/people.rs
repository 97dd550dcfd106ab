//! The admin and self-service requests (issue 18): one named function each, like
//! `handlers.rs`'s, over the `Admin` and `Accounts` services. Sessions an action ended have
//! their sockets disconnected here, through the broadcaster, before the ack (the asking
//! socket's own after it: `Ctx::after_ack`).

use natter_protocol::account::{
    ChangePassword, DeleteAccount, EndSession, ListSessions, OwnAccount, SessionsAck,
    SetDisplayName, UserAck,
};
use natter_protocol::admin::{
    AccountAck, CreateInvite, DeleteUser, DemoteUser, DisableUser, EnableUser, InviteAck,
    InvitesAck, ListInvites, ListUsers, PasswordAck, PromoteUser, ResetPassword, RevokeInvite,
    Role, UsersAck,
};
use natter_protocol::{Empty, Event};

use super::request::{serve, Ctx, Incoming, Outcome};
use crate::error::Result;

/// Serves `name` if it is one of these requests; gives the event back if not.
pub(super) async fn route(name: &str, event: Incoming) -> std::result::Result<Outcome, Incoming> {
    Ok(match name {
        CreateInvite::NAME => serve(event, create_invite).await,
        ListInvites::NAME => serve(event, list_invites).await,
        RevokeInvite::NAME => serve(event, revoke_invite).await,
        ListUsers::NAME => serve(event, list_users).await,
        DisableUser::NAME => serve(event, disable).await,
        EnableUser::NAME => serve(event, enable).await,
        PromoteUser::NAME => serve(event, promote).await,
        DemoteUser::NAME => serve(event, demote).await,
        ResetPassword::NAME => serve(event, reset_password).await,
        DeleteUser::NAME => serve(event, delete_user).await,
        OwnAccount::NAME => serve(event, own_account).await,
        ChangePassword::NAME => serve(event, change_password).await,
        ListSessions::NAME => serve(event, list_sessions).await,
        EndSession::NAME => serve(event, end_session).await,
        SetDisplayName::NAME => serve(event, set_display_name).await,
        DeleteAccount::NAME => serve(event, delete_account).await,
        _ => return Err(event),
    })
}

/// The address the admin's own connection came to (`Host`), for invite strings when no
/// `--public-url` is set.
fn reached_at(cx: &Ctx) -> String {
    let parts = cx.socket.req_parts();
    let host = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if cx.people.tls { "https" } else { "http" };
    format!("{scheme}://{host}")
}

async fn create_invite(cx: Ctx, req: CreateInvite) -> Result<InviteAck> {
    let server = reached_at(&cx);
    let admin = &cx.session.user;
    cx.people.admin.create_invite(admin, req, &server).await
}

async fn list_invites(cx: Ctx, _: ListInvites) -> Result<InvitesAck> {
    let invites = cx.people.admin.invites(&cx.session.user).await?;
    Ok(InvitesAck { invites })
}

async fn revoke_invite(cx: Ctx, req: RevokeInvite) -> Result<Empty> {
    cx.people.admin.revoke_invite(&cx.session.user, req).await?;
    Ok(Empty {})
}

async fn list_users(cx: Ctx, req: ListUsers) -> Result<UsersAck> {
    cx.people.admin.users(&cx.session.user, req).await
}

async fn disable(cx: Ctx, req: DisableUser) -> Result<AccountAck> {
    let (account, ended) = cx
        .people
        .admin
        .set_disabled(&cx.session.user, &req.0.username, true)
        .await?;
    cx.broadcaster.disconnect_sessions(&ended).await;
    cx.broadcaster.disconnect_user(&account.user.id).await;
    Ok(AccountAck { account })
}

async fn enable(cx: Ctx, req: EnableUser) -> Result<AccountAck> {
    let (account, _) = cx
        .people
        .admin
        .set_disabled(&cx.session.user, &req.0.username, false)
        .await?;
    Ok(AccountAck { account })
}

async fn promote(cx: Ctx, req: PromoteUser) -> Result<AccountAck> {
    let admin = &cx.session.user;
    let account = cx
        .people
        .admin
        .set_role(admin, &req.0.username, Role::Admin)
        .await?;
    Ok(AccountAck { account })
}

async fn demote(cx: Ctx, req: DemoteUser) -> Result<AccountAck> {
    let admin = &cx.session.user;
    let account = cx
        .people
        .admin
        .set_role(admin, &req.0.username, Role::Member)
        .await?;
    Ok(AccountAck { account })
}

async fn reset_password(cx: Ctx, req: ResetPassword) -> Result<PasswordAck> {
    let admin = &cx.session.user;
    let (password, ended) = cx
        .people
        .admin
        .reset_password(admin, &req.username, req.password)
        .await?;
    cx.broadcaster.disconnect_sessions(&ended).await;
    Ok(PasswordAck { password })
}

async fn delete_user(cx: Ctx, req: DeleteUser) -> Result<Empty> {
    let admin = &cx.session.user;
    let ended = cx.people.admin.delete(admin, &req.0.username).await?;
    cx.broadcaster.disconnect_sessions(&ended).await;
    Ok(Empty {})
}

async fn own_account(cx: Ctx, _: OwnAccount) -> Result<AccountAck> {
    let account = cx.people.accounts.own(&cx.session.user).await?;
    Ok(AccountAck { account })
}

async fn change_password(cx: Ctx, req: ChangePassword) -> Result<Empty> {
    let s = &cx.session;
    let ended = cx
        .people
        .accounts
        .change_password(&s.user, &s.id, req)
        .await?;
    cx.broadcaster.disconnect_sessions(&ended).await;
    Ok(Empty {})
}

async fn list_sessions(cx: Ctx, _: ListSessions) -> Result<SessionsAck> {
    let s = &cx.session;
    let sessions = cx.people.accounts.sessions(&s.user, &s.id).await?;
    Ok(SessionsAck { sessions })
}

async fn end_session(cx: Ctx, req: EndSession) -> Result<Empty> {
    let ended = cx
        .people
        .accounts
        .end_session(&cx.session.user, req)
        .await?;
    if ended == cx.session.id {
        // This socket's own: the ack goes first.
        defer(&cx, vec![ended]);
    } else {
        cx.broadcaster.disconnect_session(&ended).await;
    }
    Ok(Empty {})
}

async fn set_display_name(cx: Ctx, req: SetDisplayName) -> Result<UserAck> {
    let user = cx
        .people
        .accounts
        .set_display_name(&cx.session.user, req)
        .await?;
    Ok(UserAck { user })
}

async fn delete_account(cx: Ctx, req: DeleteAccount) -> Result<Empty> {
    let ended = cx.people.accounts.delete_own(&cx.session.user, req).await?;
    // This socket's own session is among them: the ack goes first, then the disconnect.
    defer(&cx, ended);
    Ok(Empty {})
}

/// Disconnects these sessions' sockets once the ack is sent (`request::serve`).
fn defer(cx: &Ctx, sessions: Vec<String>) {
    if let Ok(mut later) = cx.after_ack.lock() {
        later.extend(sessions);
    }
}
