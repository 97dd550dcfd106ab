//! The headless session of one profile: owns the cache and the connection supervisor, keeps the
//! delivery promises (outbox first, catch-up on every connect, each (room, seq) once, in order)
//! and tells the app what happened through one stream of [`AppEvent`]s.
//!
//! The network side runs in one worker task (`worker.rs`: catch-up, live events, outbox drain in
//! `catch_up.rs`); the methods here read the cache or write the outbox, so they answer at once,
//! online or not. Only [`Session::history`] (`history.rs`) asks the relay, for what the cache
//! lacks below a room's cursor, and [`Session::search`] (`search.rs`), after the cache; sends
//! with files are uploaded by a second task (`files.rs`), which also fetches files; the room calls (`rooms.rs`: create, invite, leave, DM, read) and
//! typing (`typing.rs`) need the connection and say so with [`SessionError::Offline`].

mod catch_up;
mod changes;
mod event;
mod files;
mod history;
mod outlet;
mod people;
mod rooms;
mod search;
mod typing;
mod worker;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use natter_protocol::model::Seq;
use natter_protocol::{validate, Message, Room, WireError};
use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tokio::task::JoinHandle;

use crate::cache::{Cache, CacheError, OutboxItem};
use crate::files::Folder;
use crate::supervisor::{ConnectionState, Supervisor, SupervisorConfig};
use crate::transport::Connection;
use outlet::Outlet;

pub use event::{AppEvent, ConnectionView, DeliveryState};
pub use search::{merge as merge_search_results, SearchResults, RELAY_SEARCH_WAIT};

/// How long [`Session::stop`] lets the worker finish its current step.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The app's end of the event stream.
pub type AppEvents = mpsc::UnboundedReceiver<AppEvent>;

/// What a session needs to start.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The profile directory holding the cache.
    pub profile_dir: PathBuf,
    /// Who is signed in, when known: receipts about this user move the cached read position.
    pub username: Option<String>,
    /// Relay URL, token and connection tuning.
    pub supervisor: SupervisorConfig,
    /// How long to wait before retrying after a transient refusal (`rate_limited`, `internal`).
    pub retry_after: Duration,
    /// How long a remote `typing: true` holds without a refresh before the session announces
    /// `typing: false` for that user itself (~5 s).
    pub typing_expiry: Duration,
}

impl SessionConfig {
    pub fn new(
        profile_dir: impl Into<PathBuf>,
        url: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        Self {
            profile_dir: profile_dir.into(),
            username: None,
            supervisor: SupervisorConfig::new(url, token),
            retry_after: Duration::from_secs(1),
            typing_expiry: typing::REMOTE_TYPING_EXPIRY,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// Refused, locally before anything was written or sent (e.g. a blank or too long body), or
    /// by the relay (e.g. `forbidden`, `not_found`).
    #[error("refused: {0}")]
    Refused(WireError),
    /// The call needs the relay and there is no usable connection (or it died during the call).
    /// Nothing was queued: try again once connected.
    #[error("offline: not connected to the relay")]
    Offline,
    /// The relay answered something this client does not understand.
    #[error("unexpected answer from the relay: {0}")]
    Protocol(String),
    /// A file could not be copied into the profile, or fetched from the relay.
    #[error("file: {0}")]
    File(#[from] crate::files::FileError),
    /// The session is stopping (a sign-out): a file fetch was cut short, or not begun.
    #[error("stopped: the session is signing out")]
    Stopped,
}

/// A running session. Stop it with [`stop`](Self::stop) (dropping it stops it too, unbounded).
#[derive(Debug)]
pub struct Session {
    cache: Cache,
    outlet: Outlet,
    /// The connection state as last announced (`outlet.rs` writes it).
    view: watch::Receiver<ConnectionView>,
    nudge: mpsc::UnboundedSender<()>,
    /// Held while a send is written and announced, and while the worker reads the outbox, so the
    /// app always hears "pending" before "sent".
    outbox_lock: Arc<Mutex<()>>,
    connection: watch::Receiver<ConnectionState>,
    /// Rooms where we told the relay `typing: true`, and when (the throttle and the "clear" state).
    typing: Arc<StdMutex<HashMap<String, tokio::time::Instant>>>,
    supervisor: Option<Supervisor>,
    stop: Option<oneshot::Sender<()>>,
    worker: Option<JoinHandle<()>>,
    /// The profile's files (`files.rs`), the relay for their HTTP calls, and the upload task.
    folder: Folder,
    relay: files::Relay,
    upload_nudge: mpsc::UnboundedSender<()>,
    current_upload: files::Current,
    stop_uploads: Option<oneshot::Sender<()>>,
    uploader: Option<JoinHandle<()>>,
    /// True once the session is stopping ([`interrupt`](Self::interrupt)): file fetches end.
    stopping: watch::Sender<bool>,
}

impl Session {
    /// Opens the profile's cache (readable at once, before any network) and starts connecting.
    /// The stream starts with a `pending` event for each send an earlier run left unacked.
    pub async fn start(config: SessionConfig) -> Result<(Self, AppEvents), SessionError> {
        let cache = Cache::open(&config.profile_dir).await?;
        let (outlet, app_events, view) = Outlet::new();
        let left = match cache.pending().await {
            Ok(left) => left,
            Err(error) => {
                cache.close().await;
                return Err(error.into());
            }
        };
        for item in &left {
            outlet.emit(AppEvent::pending(item));
        }
        let (nudge, nudges) = mpsc::unbounded_channel();
        let (server_tx, server_rx) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel();
        let outbox_lock = Arc::new(Mutex::new(()));
        let supervisor = Supervisor::start(config.supervisor.clone(), server_tx);
        let connection = supervisor.state();
        let (upload_nudge, upload_nudges) = mpsc::unbounded_channel();
        let worker = worker::Worker {
            cache: cache.clone(),
            outlet: outlet.clone(),
            username: config.username.clone(),
            retry_after: config.retry_after,
            outbox_lock: outbox_lock.clone(),
            state: supervisor.state(),
            caught_up: None,
            retry_at: None,
            remote_typing: typing::RemoteTyping::new(config.typing_expiry),
            uploads: upload_nudge.clone(),
        };
        let uploader = files::Uploader {
            cache: cache.clone(),
            outlet: outlet.clone(),
            folder: Folder::new(&config.profile_dir),
            relay: files::Relay {
                url: config.supervisor.url.clone(),
                token: config.supervisor.token.clone(),
            },
            worker: nudge.clone(),
            current: files::Current::default(),
            connection: supervisor.state(),
            retry_after: config.retry_after,
        };
        let (folder, relay, current_upload) = (
            uploader.folder.clone(),
            uploader.relay.clone(),
            uploader.current.clone(),
        );
        let (stop_uploads, uploads_stopped) = oneshot::channel();
        let uploader = tokio::spawn(uploader.run(upload_nudges, uploads_stopped));
        let worker = tokio::spawn(worker.run(server_rx, nudges, stopped));
        Ok((
            Self {
                cache,
                outlet,
                view,
                nudge,
                outbox_lock,
                connection,
                typing: Arc::default(),
                supervisor: Some(supervisor),
                stop: Some(stop),
                worker: Some(worker),
                folder,
                relay,
                upload_nudge,
                current_upload,
                stop_uploads: Some(stop_uploads),
                uploader: Some(uploader),
                stopping: watch::Sender::new(false),
            },
            app_events,
        ))
    }

    /// Queues a message: validated, written to the outbox before any network I/O, announced as
    /// pending, then sent by the worker as soon as it can (now, or after the next connect).
    /// If we were typing in that room, `typing: false` goes out too (best effort, not awaited).
    pub async fn send(&self, room_id: &str, body: &str) -> Result<OutboxItem, SessionError> {
        self.reply(room_id, body, None).await
    }

    /// [`send`](Self::send) answering the message `reply_to` of the same room, when given.
    pub async fn reply(
        &self,
        room_id: &str,
        body: &str,
        reply_to: Option<&str>,
    ) -> Result<OutboxItem, SessionError> {
        validate::id(room_id).map_err(SessionError::Refused)?;
        validate::body(body).map_err(SessionError::Refused)?;
        if let Some(target) = reply_to {
            validate::id(target).map_err(SessionError::Refused)?;
        }
        let item = {
            let _outbox = self.outbox_lock.lock().await;
            let item = self.cache.enqueue_reply(room_id, body, reply_to).await?;
            self.outlet.emit(AppEvent::pending(&item));
            item
        };
        let _ = self.nudge.send(());
        self.stop_typing_in_background(room_id);
        Ok(item)
    }

    /// Every cached room, by name.
    pub async fn rooms(&self) -> Result<Vec<Room>, SessionError> {
        Ok(self.cache.rooms().await?)
    }

    /// Up to `limit` cached messages of a room before `before_seq` (the newest when `None`),
    /// oldest first.
    pub async fn messages(
        &self,
        room_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<Message>, SessionError> {
        Ok(self.cache.messages(room_id, before_seq, limit).await?)
    }

    /// The connection state as last announced on the event stream (`connected` only once
    /// caught up; `offline` with reason `stopped` once stopped).
    pub fn connection_view(&self) -> ConnectionView {
        self.view.borrow().clone()
    }

    /// The current connection, if it is usable.
    fn live_connection(&self) -> Option<Arc<Connection>> {
        match &*self.connection.borrow() {
            ConnectionState::Connected { transport } if transport.is_alive() => {
                Some(transport.clone())
            }
            _ => None,
        }
    }

    /// Cuts a reconnect's wait short ("Retry now"): the next attempt starts at once.
    pub fn retry_now(&self) {
        if let Some(supervisor) = &self.supervisor {
            supervisor.retry_now();
        }
    }

    /// The profile's cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Tells the session it is stopping, through a shared reference: a file fetch in flight
    /// ends at once (its partial file removed) and later ones are refused
    /// ([`SessionError::Stopped`]). [`stop`](Self::stop) does it too; an app whose commands
    /// hold the session while they run calls this first, so that taking the session to stop
    /// it does not wait for a download.
    pub fn interrupt(&self) {
        self.stopping.send_replace(true);
    }

    /// Stops the uploader, the worker and the supervisor (bounded), then closes the cache.
    pub async fn stop(mut self) {
        self.interrupt();
        if let Some(stop) = self.stop_uploads.take() {
            let _ = stop.send(());
        }
        if let Some(uploader) = self.uploader.take() {
            // An upload cut off here starts again at the next start: the outbox keeps it.
            uploader.abort();
            let _ = uploader.await;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut worker) = self.worker.take() {
            // The worker notices the stop between steps; a step stuck on the network is cut short
            // (safe: an unacked send stays pending and is retried with the same client_id).
            if tokio::time::timeout(STOP_GRACE, &mut worker).await.is_err() {
                worker.abort();
                let _ = worker.await;
            }
        }
        if let Some(supervisor) = self.supervisor.take() {
            supervisor.stop().await;
        }
        // The worker, which announces the supervisor's states, is gone: say it here.
        self.outlet.emit(AppEvent::Connection {
            state: ConnectionView::Offline {
                reason: ConnectionView::STOPPED.to_owned(),
                certificate: None,
            },
        });
        self.cache.close().await;
    }
}
