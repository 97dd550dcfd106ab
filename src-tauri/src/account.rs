//! Signing in and out: `register` / `login` over HTTP (natter_client::account), then the
//! session starts and the sign-in is saved in the profile (token in a 0600 file), so `resume`
//! picks it up at the next start (hosting the relay again first, if this profile hosts). The
//! token never goes to the webview.

use std::net::IpAddr;

use natter_client::account;
use natter_client::session::SessionError;
use natter_client::{Cache, Session as SignIn};
use natter_protocol::http::AuthResponse;
use natter_protocol::User;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

use crate::commands::{checked_url, host, start_session};
use crate::embedded::{self, Hosted};
use crate::error::Result;
use crate::state::AppState;

/// Who this profile is signed in as, and where: what `resume` answers.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    pub server_url: String,
    pub username: String,
}

/// Creates an account on the relay at `server_url`, signs in and connects.
#[tauri::command(rename_all = "snake_case")]
pub async fn register<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    server_url: String,
    username: String,
    password: String,
) -> Result<User> {
    let server_url = checked_url(&server_url)?;
    let auth = account::register(&server_url, &username, &password).await?;
    sign_in(app, &state, server_url, auth).await
}

/// Signs in to the relay at `server_url` and connects.
#[tauri::command(rename_all = "snake_case")]
pub async fn login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    server_url: String,
    username: String,
    password: String,
) -> Result<User> {
    let server_url = checked_url(&server_url)?;
    let auth = account::login(&server_url, &username, &password).await?;
    sign_in(app, &state, server_url, auth).await
}

/// What the app does at start: hosts the relay again if this profile hosted when it last ran,
/// then connects with the saved sign-in, if there is one (`null` otherwise). On a first run —
/// nothing saved, nothing hosted — it starts hosting on this computer (127.0.0.1, port 7447 or
/// a free one), so a new user can register there with zero setup.
#[tauri::command(rename_all = "snake_case")]
pub async fn resume<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<SignedIn>> {
    let hosted = match embedded::remembered(&state.profile_dir) {
        Some(last) => Some((last, host(&state, last.ip(), last.port()).await?)),
        None => None,
    };
    let cache = Cache::open(&state.profile_dir)
        .await
        .map_err(SessionError::from)?;
    let saved = cache.session().await;
    cache.close().await;
    let Some(mut saved) = saved.map_err(SessionError::from)? else {
        if hosted.is_none() {
            // First run (no server configured): host on this computer, on loopback, so a new
            // user can register and chat with zero setup. `host_locally` says where.
            let loopback = IpAddr::from([127, 0, 0, 1]);
            host(&state, loopback, embedded::DEFAULT_PORT).await?;
        }
        return Ok(None);
    };
    // Signed in to our own relay, which had to take another port this time: follow it.
    let moved = hosted.filter(|(last, now)| {
        saved.server_url == Hosted::of(*last).url && saved.server_url != now.url
    });
    let signed_in = SignedIn {
        server_url: moved
            .as_ref()
            .map_or_else(|| saved.server_url.clone(), |(_, now)| now.url.clone()),
        username: saved.username.clone(),
    };
    saved.server_url.clone_from(&signed_in.server_url);
    start_session(app, &state, saved.clone()).await?;
    if moved.is_some() {
        let session = state.session().await?;
        session
            .cache()
            .save_session(&saved)
            .await
            .map_err(SessionError::from)?;
    }
    Ok(Some(signed_in))
}

/// Signs out: forgets the saved sign-in, stops the session and revokes the token on the relay
/// (the local part happens even when the relay cannot be reached; that error is still returned).
#[tauri::command(rename_all = "snake_case")]
pub async fn logout(state: State<'_, AppState>) -> Result<()> {
    if let Ok(session) = state.session().await {
        session
            .cache()
            .clear_session()
            .await
            .map_err(SessionError::from)?;
    }
    let Some(sign_in) = state.disconnect().await else {
        return Ok(());
    };
    account::logout(&sign_in.server_url, &sign_in.token).await?;
    Ok(())
}

/// Starts the session for a fresh sign-in and saves it in the profile.
async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: &AppState,
    server_url: String,
    auth: AuthResponse,
) -> Result<User> {
    let sign_in = SignIn {
        server_url,
        username: auth.user.username.clone(),
        token: auth.token,
    };
    start_session(app, state, sign_in.clone()).await?;
    let session = state.session().await?;
    session
        .cache()
        .save_session(&sign_in)
        .await
        .map_err(SessionError::from)?;
    Ok(auth.user)
}
