//! Several accounts signed in at once, on one relay or several (issue 18). Each account has its
//! own folder in the profile (`folders.rs`: its own cache and token), its own `natter_client`
//! session (its own connection), its own event forwarder and notifier; one of them is active:
//! the one the window shows and the commands act on (`AppState::session`). The roster
//! (`roster.rs`) keeps which one that is and each account's unread total and connection, from
//! its own events, so the others' news counts in the tray and the title and on the switcher
//! without being painted into the active account's view.
//!
//! Commands: `accounts` (the list), `switch_account`. Signing in (`account.rs`) adds an account
//! and makes it active; `logout` signs out of one. Every change of the list is also announced to
//! the webview as [`EVENT`], under the roster's lock, so the UI hears "now B" after the last
//! batch of A's events and before the first of B's.

pub mod folders;
pub mod roster;
mod sends;

use std::collections::HashMap;

use natter_client::session::{AppEvent, Session, SessionConfig, SessionError};
use natter_client::{Cache, SignIn};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::{Error, Result};
use crate::notifier::{self, Owner};
use crate::shell::window_title;
use crate::state::{AppState, Connected};
use crate::ui_event::{self, Tap};
use crate::{tray, window};
use roster::{AccountView, Joining};

/// The event carrying the account list (`AccountView[]`) whenever it changes: an account signed
/// in or out, the active one switched, an account's unread total or connection moved.
pub const EVENT: &str = "natter://accounts";

/// Starts the session of account `id` (its folder, signed in as `sign_in`) and adds it to the
/// signed-in accounts, replacing a running one of the same id. Not made active here.
pub(crate) async fn start<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    id: &str,
    sign_in: SignIn,
) -> Result<()> {
    // One writer per cache: a running session of this folder stops before the new one opens it.
    if let Some(old) = state.disconnect(id).await {
        tracing::debug!(account = id, ?old, "replaced");
    }
    let mut config = SessionConfig::new(
        folders::dir(&state.profile_dir, id),
        sign_in.server_url.clone(),
        sign_in.token.clone(),
    );
    config.username = Some(sign_in.username.clone()).filter(|name| !name.is_empty());
    let (session, events) = Session::start(config).await?;
    let unread: HashMap<String, u32> = match session.rooms().await {
        Ok(rooms) => rooms
            .into_iter()
            .map(|room| (room.id, room.unread.unwrap_or(0)))
            .collect(),
        Err(error) => {
            // Counted from the events that follow instead.
            tracing::warn!(%error, account = id, "cannot read the cached unread counts");
            HashMap::new()
        }
    };
    state.roster.join(
        id,
        Joining {
            username: sign_in.username.clone(),
            server_url: sign_in.server_url.clone(),
            unread,
            connection: session.connection_view(),
            levels: state.levels.of(&sign_in.server_url, &sign_in.username),
        },
    );
    let notifier = notifier::spawn(
        app.clone(),
        Owner {
            account: id.to_owned(),
            username: sign_in.username.clone(),
            shell: state.shell.clone(),
            roster: state.roster.clone(),
        },
    );
    let handle = app.clone();
    let tap = Tap {
        account: id.to_owned(),
        roster: state.roster.clone(),
        changed: Box::new(move || changed(&handle)),
    };
    let forwarder = ui_event::forward(app.clone(), events, notifier, tap);
    state.accounts.write().await.push(Connected {
        id: id.to_owned(),
        session,
        sign_in,
        forwarder,
    });
    Ok(())
}

/// Makes account `id` the active one: the webview hears the new list (with `active` moved) at
/// once, then only that account's events; it is remembered for the next start.
pub(crate) fn activate<R: Runtime>(app: &AppHandle<R>, state: &AppState, id: &str) -> Result<()> {
    // Until the UI counts the new account's unread itself, the roster's count stands for it.
    state.shell.set_unread_total(state.roster.unread(id));
    let known = state
        .roster
        .activate(id, |list, replay| emit(app, list, replay));
    if !known {
        return Err(Error::Invalid(format!("no signed-in account {id}")));
    }
    folders::remember_active(&state.profile_dir, Some(id));
    show_unread(app);
    Ok(())
}

/// Signs account `id` out here: its session stops, it leaves the roster (another account
/// becomes active if it was) and its folder (cache, token) is deleted. Answers how it was
/// signed in, if it was.
pub(crate) async fn remove<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    id: &str,
) -> Result<Option<SignIn>> {
    let sign_in = state.disconnect(id).await;
    let active = state
        .roster
        .leave(id, |list, replay| emit(app, list, replay));
    if let Some(next) = &active {
        state.shell.set_unread_total(state.roster.unread(next));
    } else {
        state.shell.set_unread_total(0);
    }
    folders::remember_active(&state.profile_dir, active.as_deref());
    show_unread(app);
    // Its data forgotten first (the cache's own way: rows, then the token file), then the
    // folder; a folder that will not go holds nothing of the account any more.
    let cache = Cache::open(&folders::dir(&state.profile_dir, id))
        .await
        .map_err(SessionError::from)?;
    let cleared = cache.clear_sign_in().await;
    cache.close().await;
    cleared.map_err(SessionError::from)?;
    if let Err(error) = folders::remove(&state.profile_dir, id) {
        tracing::warn!(%error, account = id, "cannot delete a signed-out account's folder");
    }
    Ok(sign_in)
}

/// Every signed-in account, in the order they were signed in.
#[tauri::command(rename_all = "snake_case")]
pub fn accounts(state: State<'_, AppState>) -> Vec<AccountView> {
    state.roster.list()
}

/// Switches the window to account `account` (an `id` of `accounts`); answers it. The webview
/// repaints on the `natter://accounts` event this sends, not on this answer (see the module).
#[tauri::command(rename_all = "snake_case")]
pub fn switch_account<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    account: String,
) -> Result<AccountView> {
    activate(&app, &state, &account)?;
    state
        .roster
        .list()
        .into_iter()
        .find(|view| view.id == account)
        .ok_or(Error::NotConnected)
}

/// A forwarder's account changed its unread total or connection: the list and the totals again.
fn changed<R: Runtime>(app: &AppHandle<R>) {
    app.state::<AppState>()
        .roster
        .announce(|list| emit(app, list, &[]));
    show_unread(app);
}

/// The account list, then (after a switch) what the webview must hear again of the account now
/// shown, on the one event stream.
fn emit<R: Runtime>(app: &AppHandle<R>, list: &[AccountView], replay: &[AppEvent]) {
    if let Err(error) = app.emit(EVENT, list) {
        tracing::warn!(%error, "could not announce the accounts");
    }
    if !replay.is_empty() {
        if let Err(error) = app.emit(ui_event::EVENT, replay) {
            tracing::warn!(%error, "could not replay the shown account's presence");
        }
    }
}

/// What the window title and the tray count: the active account's unread total as the UI
/// counts it (`set_view`), plus every other signed-in account's.
pub fn unread_total(state: &AppState) -> u32 {
    state
        .shell
        .unread_total()
        .saturating_add(state.roster.inactive_unread())
}

/// Shows [`unread_total`] in the window title and the tray.
pub(crate) fn show_unread<R: Runtime>(app: &AppHandle<R>) {
    let total = unread_total(&app.state::<AppState>());
    if let Some(main) = app.get_webview_window(window::MAIN) {
        if let Err(error) = main.set_title(&window_title(total)) {
            tracing::warn!(%error, "could not set the window title");
        }
    }
    tray::show_unread(app, total);
}
