//! Signing in and out: `register` (with an invite, read from what was pasted by
//! `read_invite`) / `login` over HTTP (natter_client::account), then the
//! sign-in is saved in the profile (token in a 0600 file; another account's local data is
//! forgotten) and the session starts, so `resume` picks it up at the next start (hosting the
//! relay again first, if the sign-in is to the relay this profile hosts). Signing out forgets
//! the account's local data too. The token never goes to the webview. An https relay whose
//! certificate the system does not trust can be pinned (`trust_certificate`).

use natter_client::account;
use natter_client::session::SessionError;
use natter_client::{Cache, SignIn};
use natter_protocol::http::AuthResponse;
use natter_protocol::invite::{self, InviteLink};
use natter_protocol::User;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

use crate::commands::{checked_url, host, hosted, start_session};
use crate::embedded::{self, Hosted};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Who this profile is signed in as, and where: what `resume` answers.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    pub server_url: String,
    pub username: String,
}

/// Creates an account on the relay at `server_url`, signs in and connects. `invite` is an
/// invite's code or the whole invite string; a relay that needs one and got none (or a bad
/// one) answers `forbidden`.
#[tauri::command(rename_all = "snake_case")]
pub async fn register<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    server_url: String,
    username: String,
    password: String,
    invite: Option<String>,
) -> Result<User> {
    let server_url = checked_url(&server_url)?;
    let invite = invite
        .map(|text| invite::code_of(&text))
        .filter(|code| !code.is_empty());
    let auth =
        account::register_invited(&server_url, &username, &password, invite.as_deref()).await?;
    sign_in(app, &state, server_url, auth).await
}

/// What the sign-in screen got pasted: an invite string (`natter://invite?…`, parsed by
/// `natter_protocol::invite`, the one parser) gives the server and the code; a bare code gives
/// the code alone. Anything else is `invalid`, with what an invite looks like.
#[derive(Debug, Serialize)]
pub struct PastedInvite {
    pub server_url: Option<String>,
    pub code: String,
}

#[tauri::command(rename_all = "snake_case")]
pub fn read_invite(text: String) -> Result<PastedInvite> {
    if let Some(link) = InviteLink::parse(&text) {
        return Ok(PastedInvite {
            server_url: Some(checked_url(&link.server)?),
            code: link.code,
        });
    }
    let code = text.trim();
    if code.starts_with(invite::PREFIX) || invite::code_shape(code).is_err() {
        return Err(Error::Invalid(format!(
            "not an invite: paste the whole invite ({}server=…&code=…) or its code",
            invite::PREFIX
        )));
    }
    Ok(PastedInvite {
        server_url: None,
        code: code.to_owned(),
    })
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

/// Trusts the certificate the relay at `server_url` shows, if its SHA-256 `fingerprint` is the
/// one the user was shown (a `certificate_untrusted` error) and accepted: saved in the profile
/// for that relay, and the only certificate accepted from it from then on. Kept across
/// sign-outs: it is the relay's, not an account's.
#[tauri::command(rename_all = "snake_case")]
pub async fn trust_certificate(
    state: State<'_, AppState>,
    server_url: String,
    fingerprint: String,
) -> Result<()> {
    let server_url = checked_url(&server_url)?;
    if natter_client::trust::origin(&server_url).is_none() {
        return Err(Error::Invalid(
            "only an https:// relay has a certificate".to_owned(),
        ));
    }
    let shown = natter_client::trust::fetch(&server_url)
        .await
        .map_err(|e| Error::Account(account::AccountError::Network(e)))?;
    if !shown.fingerprint.eq_ignore_ascii_case(fingerprint.trim()) {
        return Err(Error::Invalid(format!(
            "the relay now shows another certificate ({}) than the one you accepted ({}); \
             nothing was trusted",
            shown.fingerprint,
            fingerprint.trim()
        )));
    }
    natter_client::trust::save_pin(&state.profile_dir, &server_url, shown).map_err(Error::Host)
}

/// What the app does at start: connects with the saved sign-in, if there is one (`null`
/// otherwise), hosting the relay again first when that sign-in is to this profile's own relay.
/// Signed in nowhere, it hosts on this computer (where it last did, or 127.0.0.1, port 7447 or a
/// free one), so a new user can register there with zero setup. A relay this profile hosted
/// but is no longer signed in to is not started: it would cost every start and idle memory.
#[tauri::command(rename_all = "snake_case")]
pub async fn resume<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<SignedIn>> {
    let last = embedded::remembered(&state.profile_dir);
    let cache = Cache::open(&state.profile_dir)
        .await
        .map_err(SessionError::from)?;
    let saved = cache.sign_in().await;
    cache.close().await;
    let Some(mut saved) = saved.map_err(SessionError::from)? else {
        // Signed in nowhere: offer this computer's relay. `host_locally` says where.
        let (ip, port) = last.map_or((embedded::DEFAULT_ADDRESS, embedded::DEFAULT_PORT), |at| {
            (at.ip(), at.port())
        });
        host(&state, ip, port).await?;
        return Ok(None);
    };
    let mut moved = false;
    if let Some(at) = last.filter(|at| saved.server_url == Hosted::of(*at).url) {
        let now = host(&state, at.ip(), at.port()).await?;
        // It had to take another port this time: the sign-in and the memory follow it.
        if now.address != at {
            moved = true;
            saved.server_url.clone_from(&now.url);
            embedded::remember(&state.profile_dir, now.address)?;
        }
    }
    let signed_in = SignedIn {
        server_url: saved.server_url.clone(),
        username: saved.username.clone(),
    };
    start_session(app, &state, saved.clone()).await?;
    if moved {
        let session = state.session().await?;
        session
            .cache()
            .move_sign_in(&saved.server_url)
            .await
            .map_err(SessionError::from)?;
    }
    Ok(Some(signed_in))
}

/// Signs out: stops the session, forgets the saved sign-in and the account's local data (rooms,
/// messages, read state, outbox), then revokes the token on the relay (the local part happens
/// even when the relay cannot be reached; that error is still returned).
#[tauri::command(rename_all = "snake_case")]
pub async fn logout(state: State<'_, AppState>) -> Result<()> {
    let Some(sign_in) = forget_sign_in(&state).await? else {
        return Ok(());
    };
    account::logout(&sign_in.server_url, &sign_in.token).await?;
    Ok(())
}

/// The local part of signing out: the session stops and the saved sign-in and the account's
/// local data are forgotten. Answers the sign-in that ran, if one did.
pub(crate) async fn forget_sign_in(state: &AppState) -> Result<Option<SignIn>> {
    let signed_in = state.disconnect().await;
    let cache = Cache::open(&state.profile_dir)
        .await
        .map_err(SessionError::from)?;
    let cleared = cache.clear_sign_in().await;
    cache.close().await;
    cleared.map_err(SessionError::from)?;
    Ok(signed_in)
}

/// Saves a fresh sign-in in the profile and starts its session.
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
    // Saved before the session starts, with no session running: saving another account's
    // sign-in forgets the last account's data, and the new session must not show it even once.
    state.disconnect().await;
    let cache = Cache::open(&state.profile_dir)
        .await
        .map_err(SessionError::from)?;
    let saved = cache.save_sign_in(&sign_in).await;
    cache.close().await;
    saved.map_err(SessionError::from)?;
    start_session(app, state, sign_in.clone()).await?;
    // Signed in to the relay hosted here: host it again at the next start.
    if let Some(ours) = hosted(state).await.filter(|h| h.url == sign_in.server_url) {
        embedded::remember(&state.profile_dir, ours.address)?;
    }
    Ok(auth.user)
}
