//! The account settings and the admin panel (issue 18): one thin command per request of the
//! running session (`natter_client::session::people`), so the token stays in Rust. The relay
//! decides who may (a member's admin request is refused `forbidden`); the role the UI shows
//! comes from `own_account`, asked again whenever the connection comes back.

use natter_protocol::account::SessionInfo;
use natter_protocol::admin::{Account, Invite, InviteAck, Role, UsersAck};
use natter_protocol::User;
use tauri::{AppHandle, Runtime, State};

use crate::account::forget_sign_in;
use crate::error::Result;
use crate::state::AppState;

/// Our own account as the relay has it now: user, display name and role.
#[tauri::command(rename_all = "snake_case")]
pub async fn own_account(state: State<'_, AppState>) -> Result<Account> {
    Ok(state.session().await?.own_account().await?)
}

/// Sets ("" clears) the name shown beside our username.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_display_name(state: State<'_, AppState>, display_name: String) -> Result<User> {
    Ok(state
        .session()
        .await?
        .set_display_name(display_name.trim())
        .await?)
}

/// Changes our password (the current one is needed); our other sessions end, this one stays.
#[tauri::command(rename_all = "snake_case")]
pub async fn change_password(
    state: State<'_, AppState>,
    current: String,
    new: String,
) -> Result<()> {
    Ok(state
        .session()
        .await?
        .change_password(&current, &new)
        .await?)
}

/// Our sessions (signed-in devices), the one used last first; `current` marks this one.
#[tauri::command(rename_all = "snake_case")]
pub async fn sessions(state: State<'_, AppState>) -> Result<Vec<SessionInfo>> {
    Ok(state.session().await?.sessions().await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn end_session(state: State<'_, AppState>, session_id: String) -> Result<()> {
    Ok(state.session().await?.end_session(&session_id).await?)
}

/// Deletes the active account (its password confirms), then signs out of it here as `logout`
/// does, without the relay call: the relay already ended every session of the account. The
/// other signed-in accounts stay.
#[tauri::command(rename_all = "snake_case")]
pub async fn delete_account<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    password: String,
) -> Result<()> {
    let id = {
        let active = state.active().await?;
        active.session.delete_account(&password).await?;
        active.id.clone()
    };
    forget_sign_in(&app, &state, Some(id)).await?;
    Ok(())
}

/// A new invite for `uses` accounts of `role`, valid `expires_in_secs` (absent: no expiry):
/// the code and the invite string to paste, shown this once.
#[tauri::command(rename_all = "snake_case")]
pub async fn create_invite(
    state: State<'_, AppState>,
    uses: u32,
    expires_in_secs: Option<u64>,
    role: Option<Role>,
) -> Result<InviteAck> {
    let role = role.unwrap_or_default();
    Ok(state
        .session()
        .await?
        .create_invite(uses, expires_in_secs, role)
        .await?)
}

/// The newest invites, newest first (never their codes).
#[tauri::command(rename_all = "snake_case")]
pub async fn invites(state: State<'_, AppState>) -> Result<Vec<Invite>> {
    Ok(state.session().await?.invites().await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn revoke_invite(state: State<'_, AppState>, invite_id: String) -> Result<()> {
    Ok(state.session().await?.revoke_invite(&invite_id).await?)
}

/// A page of accounts in name order after the username `after` (absent: the first page).
#[tauri::command(rename_all = "snake_case")]
pub async fn users(
    state: State<'_, AppState>,
    after: Option<String>,
    limit: Option<u32>,
) -> Result<UsersAck> {
    Ok(state
        .session()
        .await?
        .users(after.as_deref(), limit)
        .await?)
}

/// Disables (its sockets drop, it cannot sign in) or enables an account.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_disabled(
    state: State<'_, AppState>,
    username: String,
    disabled: bool,
) -> Result<Account> {
    Ok(state
        .session()
        .await?
        .set_disabled(&username, disabled)
        .await?)
}

/// Promotes (`admin`) or demotes (`member`) an account.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_role(state: State<'_, AppState>, username: String, role: Role) -> Result<Account> {
    Ok(state.session().await?.set_role(&username, role).await?)
}

/// A new password for the account, answered this once; its sessions end. `password`: the
/// admin's choice (held to a registration's rules); absent or empty, a random one.
#[tauri::command(rename_all = "snake_case")]
pub async fn reset_password(
    state: State<'_, AppState>,
    username: String,
    password: Option<String>,
) -> Result<String> {
    let chosen = password.filter(|p| !p.is_empty());
    Ok(state
        .session()
        .await?
        .reset_password(&username, chosen.as_deref())
        .await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn delete_user(state: State<'_, AppState>, username: String) -> Result<()> {
    Ok(state.session().await?.delete_user(&username).await?)
}
