//! Signing in and out: `register` (with an invite, read from what was pasted by
//! `read_invite`) / `login` over HTTP (natter_client::account), then the sign-in is saved in the
//! account's own folder (`accounts/folders.rs`; token in a 0600 file) and its session starts
//! beside the accounts already signed in, as the active one, so `resume` picks every one up at
//! the next start (hosting the relay again first, if one is signed in to the relay this profile
//! hosts). Signing out of an account forgets its local data (its folder) and keeps the others.
//! The token never goes to the webview. An https relay whose certificate the system does not
//! trust can be pinned (`trust_certificate`).

use natter_client::account;
use natter_client::session::SessionError;
use natter_client::{Cache, SignIn};
use natter_protocol::http::AuthResponse;
use natter_protocol::invite::{self, InviteLink};
use natter_protocol::User;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

use crate::accounts::{self, folders};
use crate::commands::{checked_url, host, hosted};
use crate::embedded::{self, Hosted};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Who the active account is, and where: what `resume` answers.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    pub server_url: String,
    pub username: String,
    /// Its id in `accounts`.
    pub account: String,
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

/// What the app does at start: connects every account with a saved sign-in (`null` when there
/// is none) and shows the one shown last, hosting the relay again first when one of them is
/// signed in to this profile's own relay. Signed in nowhere, it hosts on this computer (where it
/// last did, or 127.0.0.1, port 7447 or a free one), so a new user can register there with zero
/// setup. A relay this profile hosted but is no longer signed in to is not started: it would
/// cost every start and idle memory.
#[tauri::command(rename_all = "snake_case")]
pub async fn resume<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<SignedIn>> {
    let last = embedded::remembered(&state.profile_dir);
    folders::adopt_legacy(&state.profile_dir).await?;
    let mut saved = Vec::new();
    for id in folders::list(&state.profile_dir) {
        let dir = folders::dir(&state.profile_dir, &id);
        let cache = Cache::open(&dir).await.map_err(SessionError::from)?;
        let sign_in = cache.sign_in().await;
        cache.close().await;
        match sign_in.map_err(SessionError::from)? {
            Some(sign_in) => saved.push((id, sign_in)),
            // A sign-in cut short, or its token file lost: nothing to resume.
            None => folders::remove(&state.profile_dir, &id)?,
        }
    }
    if saved.is_empty() {
        // Signed in nowhere: offer this computer's relay. `host_locally` says where.
        let (ip, port) = last.map_or((embedded::DEFAULT_ADDRESS, embedded::DEFAULT_PORT), |at| {
            (at.ip(), at.port())
        });
        host(&state, ip, port).await?;
        return Ok(None);
    }
    if let Some(at) = last {
        let ours = Hosted::of(at).url;
        if saved.iter().any(|(_, sign_in)| sign_in.server_url == ours) {
            let now = host(&state, at.ip(), at.port()).await?;
            // It had to take another port this time: the sign-ins and the memory follow it.
            if now.address != at {
                embedded::remember(&state.profile_dir, now.address)?;
                for (id, sign_in) in saved.iter_mut().filter(|(_, s)| s.server_url == ours) {
                    let cache = Cache::open(&folders::dir(&state.profile_dir, id))
                        .await
                        .map_err(SessionError::from)?;
                    let moved = cache.move_sign_in(&now.url).await;
                    cache.close().await;
                    moved.map_err(SessionError::from)?;
                    sign_in.server_url.clone_from(&now.url);
                }
            }
        }
    }
    // One account that cannot start (its cache unreadable) does not keep the others out.
    let mut failed = None;
    let mut started = Vec::new();
    for (id, sign_in) in saved {
        match accounts::start(&app, &state, &id, sign_in.clone()).await {
            Ok(()) => started.push((id, sign_in)),
            Err(error) => {
                tracing::error!(%error, account = id, "cannot resume an account");
                failed = Some(error);
            }
        }
    }
    let remembered = folders::remembered_active(&state.profile_dir);
    let Some((id, sign_in)) = started
        .iter()
        .find(|(id, _)| Some(id) == remembered.as_ref())
        .or(started.first())
    else {
        return Err(failed.unwrap_or(Error::NotConnected));
    };
    accounts::activate(&app, &state, id)?;
    Ok(Some(SignedIn {
        server_url: sign_in.server_url.clone(),
        username: sign_in.username.clone(),
        account: id.clone(),
    }))
}

/// Signs out of `account` (an id of `accounts`; absent: the active one): its session stops, its
/// saved sign-in and local data (rooms, messages, read state, outbox) are forgotten, then its
/// token is revoked on the relay (the local part happens even when the relay cannot be reached;
/// that error is still returned). The other accounts stay signed in; if it was the active one,
/// the first of them becomes active (`natter://accounts` says which).
#[tauri::command(rename_all = "snake_case")]
pub async fn logout<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    account: Option<String>,
) -> Result<()> {
    let Some(sign_in) = forget_sign_in(&app, &state, account).await? else {
        return Ok(());
    };
    account::logout(&sign_in.server_url, &sign_in.token).await?;
    Ok(())
}

/// The local part of signing out of `account` (absent: the active one). Answers the sign-in
/// that ran, if one did.
pub(crate) async fn forget_sign_in<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    account: Option<String>,
) -> Result<Option<SignIn>> {
    let Some(id) = account.or_else(|| state.roster.active()) else {
        return Ok(None);
    };
    if !folders::list(&state.profile_dir).contains(&id) {
        return Err(Error::Invalid(format!("no signed-in account {id}")));
    }
    accounts::remove(app, state, &id).await
}

/// Saves a fresh sign-in in its account's folder (the one of this same account if it is signed
/// in already, a new one otherwise), starts its session and makes it the active account.
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
    let same = state
        .accounts
        .read()
        .await
        .iter()
        .find(|c| {
            c.sign_in.server_url == sign_in.server_url
                && c.sign_in.username.eq_ignore_ascii_case(&sign_in.username)
        })
        .map(|c| c.id.clone());
    let id = match &same {
        Some(id) => id.clone(),
        None => folders::create(&state.profile_dir)?,
    };
    // Saved with no session of this account running: one writer per cache.
    state.disconnect(&id).await;
    let cache = Cache::open(&folders::dir(&state.profile_dir, &id))
        .await
        .map_err(SessionError::from)?;
    let saved = cache.save_sign_in(&sign_in).await;
    cache.close().await;
    if let Err(error) = saved {
        if same.is_none() {
            let _ = folders::remove(&state.profile_dir, &id);
        }
        return Err(SessionError::from(error).into());
    }
    accounts::start(&app, state, &id, sign_in.clone()).await?;
    accounts::activate(&app, state, &id)?;
    // Signed in to the relay hosted here: host it again at the next start.
    if let Some(ours) = hosted(state).await.filter(|h| h.url == sign_in.server_url) {
        embedded::remember(&state.profile_dir, ours.address)?;
    }
    Ok(auth.user)
}
