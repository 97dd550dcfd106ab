//! The Tauri commands: the whole API the webview has. Each is a thin adapter over
//! `natter_client` (or the hosted relay); arguments and answers use the wire's snake_case names,
//! errors are [`Error`] (`{code, message}`). Live updates come as events (`ui_event.rs`).

use std::collections::HashMap;
use std::net::IpAddr;

use natter_client::cache::Draft;
use natter_client::session::{ConnectionView, SearchResults, SessionError};
use natter_protocol::model::Seq;
use natter_protocol::requests::MembersAck;
use natter_protocol::{Message, Room};
use tauri::{AppHandle, Runtime, State};

use crate::accounts;
use crate::alerts::Level;
use crate::embedded::{self, Hosted};
use crate::error::{Error, Result};
use crate::state::{signed_out, AppState};

/// Cached messages per page when the UI names no limit.
const DEFAULT_PAGE: u32 = 50;

/// Starts the relay in this process (if not already running) and says where it listens.
/// `address` defaults to loopback, `port` to 7447 (a taken port falls back to a free one).
/// `let_others_connect` is the sign-in screen's checkbox, required and separate: without it a
/// non-loopback address is refused (`invalid`). A relay already running on another address is
/// moved (same port) while no one is signed in, so the checkbox can be changed before signing in.
#[tauri::command(rename_all = "snake_case")]
pub async fn host_locally(
    state: State<'_, AppState>,
    address: Option<String>,
    port: Option<u16>,
    let_others_connect: bool,
) -> Result<Hosted> {
    let ip = embedded::bind_address(address.as_deref(), let_others_connect)?;
    let moving = match state.relay.lock().await.as_ref() {
        Some(running) if running.addr().ip() != ip => Some(running.addr().port()),
        _ => None,
    };
    if let Some(running_port) = moving {
        if state.session().await.is_ok() {
            return Err(Error::Invalid(
                "sign out before changing who can connect to this computer's relay".to_owned(),
            ));
        }
        tracing::info!(%ip, "moving the hosted relay");
        state.stop_hosting().await?;
        return host(&state, ip, port.unwrap_or(running_port)).await;
    }
    host(&state, ip, port.unwrap_or(embedded::DEFAULT_PORT)).await
}

/// Starts the hosted relay on `ip:port` unless one runs, and says where it listens. Not
/// remembered here: hosting is kept for the next start only once the user signs in to it
/// (`account::sign_in`), so a relay offered at first run does not outlive a sign-in elsewhere.
pub(crate) async fn host(state: &AppState, ip: IpAddr, port: u16) -> Result<Hosted> {
    let mut relay = state.relay.lock().await;
    if let Some(running) = relay.as_ref() {
        return Ok(Hosted::of(running.addr()));
    }
    let started = embedded::start(&state.profile_dir, ip, port).await?;
    let hosted = Hosted::of(started.addr());
    *relay = Some(started);
    Ok(hosted)
}

/// Where the relay hosted in this process listens, if one runs.
pub(crate) async fn hosted(state: &AppState) -> Option<Hosted> {
    state
        .relay
        .lock()
        .await
        .as_ref()
        .map(|running| Hosted::of(running.addr()))
}

/// The server address without trailing slashes, if it is an http(s) URL.
pub(crate) fn checked_url(server_url: &str) -> Result<String> {
    let url = server_url.trim().trim_end_matches('/');
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_owned())
    } else {
        Err(Error::Invalid(
            "the server address starts with http:// or https://".to_owned(),
        ))
    }
}

/// The connection state the active account's session last announced on `natter://event` (read
/// from the session, never a copy); `offline` with reason `signed_out` when none is signed in.
#[tauri::command(rename_all = "snake_case")]
pub async fn connection_state(state: State<'_, AppState>) -> Result<ConnectionView> {
    let view = match state.session().await {
        Ok(session) => session.connection_view(),
        Err(_) => signed_out(),
    };
    // The first call a page makes: in the log, it shows the UI loaded under the CSP and the ACL.
    tracing::debug!(?view, "connection_state");
    Ok(view)
}

/// Every cached room, by name.
#[tauri::command(rename_all = "snake_case")]
pub async fn rooms(state: State<'_, AppState>) -> Result<Vec<Room>> {
    Ok(state.session().await?.rooms().await?)
}

/// Cached messages of a room before `before_seq` (the newest when absent), oldest first; change
/// entries are folded into them, never among them.
#[tauri::command(rename_all = "snake_case")]
pub async fn messages(
    state: State<'_, AppState>,
    room_id: String,
    before_seq: Option<Seq>,
    limit: Option<u32>,
) -> Result<Vec<Message>> {
    let session = state.session().await?;
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    Ok(session.messages(&room_id, before_seq, limit).await?)
}

/// Like `messages`, but asks the relay for what the cache lacks (when online); with
/// `after_seq`, the oldest messages above it instead (a window scrolled back down). Pages hold
/// messages only, each as it is now.
#[tauri::command(rename_all = "snake_case")]
pub async fn history(
    state: State<'_, AppState>,
    room_id: String,
    before_seq: Option<Seq>,
    after_seq: Option<Seq>,
    limit: Option<u32>,
) -> Result<Vec<Message>> {
    let session = state.session().await?;
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    Ok(match after_seq {
        Some(after) => session.history_after(&room_id, after, limit).await?,
        None => session.history(&room_id, before_seq, limit).await?,
    })
}

/// Messages whose current text holds every term of `query` (only in `room_id` if given),
/// newest first. `cached_only`: the cache's first page at once (`online` false), which the UI
/// shows while it asks again without it: the cache's and the relay's results merged, or the
/// cache's alone when the relay does not answer in time. `cursor` (a previous `next_cursor`)
/// pages on at the relay.
#[tauri::command(rename_all = "snake_case")]
pub async fn search(
    state: State<'_, AppState>,
    query: String,
    room_id: Option<String>,
    cursor: Option<String>,
    cached_only: Option<bool>,
) -> Result<SearchResults> {
    let session = state.session().await?;
    let room_id = room_id.as_deref();
    if cached_only.unwrap_or(false) {
        return Ok(session.search_cache(&query, room_id, None).await?);
    }
    Ok(session
        .search(&query, room_id, cursor.as_deref(), None)
        .await?)
}

/// Queues a message (written to the outbox first, so it survives restarts) and answers its
/// `client_id` only: everything about the send, from `pending` on, comes as `message_state`
/// events on `natter://event`, the one place the UI learns it.
#[tauri::command(rename_all = "snake_case")]
pub async fn send_message(
    state: State<'_, AppState>,
    room_id: String,
    body: String,
    reply_to: Option<String>,
) -> Result<String> {
    Ok(state
        .session()
        .await?
        .reply(&room_id, &body, reply_to.as_deref())
        .await?
        .client_id)
}

/// Replaces the body of one of our messages (online only). The room, this window included,
/// hears the change as `message` + `message_changed` events.
#[tauri::command(rename_all = "snake_case")]
pub async fn edit_message(
    state: State<'_, AppState>,
    room_id: String,
    message_id: String,
    body: String,
) -> Result<()> {
    state
        .session()
        .await?
        .edit(&room_id, &message_id, &body)
        .await?;
    Ok(())
}

/// Takes one of our messages back (online only): its text leaves the relay and the caches.
#[tauri::command(rename_all = "snake_case")]
pub async fn delete_message(
    state: State<'_, AppState>,
    room_id: String,
    message_id: String,
) -> Result<()> {
    state.session().await?.delete(&room_id, &message_id).await?;
    Ok(())
}

/// Adds (`on`) or takes back one emoji on a message (online only).
#[tauri::command(rename_all = "snake_case")]
pub async fn react(
    state: State<'_, AppState>,
    room_id: String,
    message_id: String,
    emoji: String,
    on: bool,
) -> Result<()> {
    state
        .session()
        .await?
        .react(&room_id, &message_id, &emoji, on)
        .await?;
    Ok(())
}

/// Creates a group room with us and `members` (usernames).
#[tauri::command(rename_all = "snake_case")]
pub async fn create_room(
    state: State<'_, AppState>,
    name: String,
    members: Vec<String>,
) -> Result<Room> {
    Ok(state.session().await?.create_room(&name, &members).await?)
}

/// Adds `username` to a group room; answers the room after the change.
#[tauri::command(rename_all = "snake_case")]
pub async fn invite(state: State<'_, AppState>, room_id: String, username: String) -> Result<Room> {
    Ok(state.session().await?.invite(&room_id, &username).await?)
}

/// One page of a room's members, in name order, after `after` (the previous page's `next`):
/// what the members panel shows of a room too big to list its names (issue 17).
#[tauri::command(rename_all = "snake_case")]
pub async fn room_members(
    state: State<'_, AppState>,
    room_id: String,
    after: Option<String>,
    limit: Option<u32>,
) -> Result<MembersAck> {
    let session = state.session().await?;
    Ok(session.members(&room_id, after.as_deref(), limit).await?)
}

/// Leaves a group room (`general` and DMs answer `forbidden`).
#[tauri::command(rename_all = "snake_case")]
pub async fn leave(state: State<'_, AppState>, room_id: String) -> Result<()> {
    Ok(state.session().await?.leave(&room_id).await?)
}

/// The direct room with `username` (the same one every time).
#[tauri::command(rename_all = "snake_case")]
pub async fn open_dm(state: State<'_, AppState>, username: String) -> Result<Room> {
    Ok(state.session().await?.open_dm(&username).await?)
}

/// Moves our read position in a room forward to `seq`.
#[tauri::command(rename_all = "snake_case")]
pub async fn mark_read(state: State<'_, AppState>, room_id: String, seq: Seq) -> Result<()> {
    Ok(state.session().await?.mark_read(&room_id, seq).await?)
}

/// Every room's unsent composer text (kept in the account's cache, so it survives restarts).
#[tauri::command(rename_all = "snake_case")]
pub async fn drafts(state: State<'_, AppState>) -> Result<Vec<Draft>> {
    Ok(state
        .session()
        .await?
        .cache()
        .drafts()
        .await
        .map_err(SessionError::from)?)
}

/// Keeps a room's composer text; an empty `body` drops the draft.
#[tauri::command(rename_all = "snake_case")]
pub async fn save_draft(state: State<'_, AppState>, room_id: String, body: String) -> Result<()> {
    Ok(state
        .session()
        .await?
        .cache()
        .save_draft(&room_id, &body)
        .await
        .map_err(SessionError::from)?)
}

/// Deletes one of our messages the relay refused (a `failed` send), so it leaves the list; to
/// retry it the UI sends its text again. Anything but a failed send is refused (`invalid`).
#[tauri::command(rename_all = "snake_case")]
pub async fn discard_failed(state: State<'_, AppState>, client_id: String) -> Result<()> {
    let active = state.active().await?;
    if active.session.discard_failed(&client_id).await? {
        state.roster.discarded(&active.id, &client_id);
        Ok(())
    } else {
        Err(Error::Invalid(
            "only a message that failed to send can be deleted".to_owned(),
        ))
    }
}

/// The room open last (kept in the account's cache), to open again at start; `null` if none.
#[tauri::command(rename_all = "snake_case")]
pub async fn last_room(state: State<'_, AppState>) -> Result<Option<String>> {
    let session = state.session().await?;
    Ok(session
        .cache()
        .last_room()
        .await
        .map_err(SessionError::from)?)
}

/// Remembers the room open now (the UI calls it whenever it opens one).
#[tauri::command(rename_all = "snake_case")]
pub async fn keep_last_room(state: State<'_, AppState>, room_id: String) -> Result<()> {
    let session = state.session().await?;
    Ok(session
        .cache()
        .save_last_room(&room_id)
        .await
        .map_err(SessionError::from)?)
}

/// "Retry now" on the reconnect banner: the session's next connect attempt starts at once.
#[tauri::command(rename_all = "snake_case")]
pub async fn retry_now(state: State<'_, AppState>) -> Result<()> {
    state.session().await?.retry_now();
    Ok(())
}

/// A link in a message, clicked: opened in the system browser (http, https and mailto only).
#[tauri::command(rename_all = "snake_case")]
pub async fn open_link(url: String) -> Result<()> {
    crate::links::open(&url)
}

/// The active account's notification level of each room not at `all`.
#[tauri::command(rename_all = "snake_case")]
pub async fn notification_levels(state: State<'_, AppState>) -> Result<HashMap<String, Level>> {
    let connected = state.active().await?;
    Ok(state
        .levels
        .of(&connected.sign_in.server_url, &connected.sign_in.username))
}

/// Sets a room's notification level for the active account (kept in the profile); its
/// notifier applies it at once.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_notification_level(
    state: State<'_, AppState>,
    room_id: String,
    level: Level,
) -> Result<()> {
    natter_protocol::validate::id(&room_id).map_err(|e| Error::Invalid(e.message))?;
    let connected = state.active().await?;
    let now = state.levels.set(
        &connected.sign_in.server_url,
        &connected.sign_in.username,
        &room_id,
        level,
    )?;
    state.roster.set_levels(&connected.id, now);
    Ok(())
}

/// Call on every keystroke (`true`) and when the composer is cleared (`false`); the session
/// decides what reaches the relay.
#[tauri::command(rename_all = "snake_case")]
pub async fn typing(state: State<'_, AppState>, room_id: String, typing: bool) -> Result<()> {
    Ok(state.session().await?.typing(&room_id, typing).await?)
}

/// The UI reports the room in view (`null`: none) and the active account's unread total
/// whenever either changes (JS: `invoke("set_view", { activeRoom, unreadTotal })`). Updates the
/// window title and the tray (adding the other accounts' unread), and tells the active
/// account's notifier which room needs no notification while the window has focus.
#[tauri::command]
pub fn set_view<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    active_room: Option<String>,
    unread_total: u32,
) {
    state.shell.set_view(active_room, unread_total);
    accounts::show_unread(&app);
}
