//! Sends with files, durable like a text send (issue 20): each file is copied into the profile
//! and the send written to the outbox with them before any network; the uploader task uploads
//! them in outbox order, across restarts of the app and of the relay (an upload cut off starts
//! again), and nudges the worker, which sends `message:send` with the files' ids once all are
//! up. Also a file's or thumbnail's bytes, fetched once into the profile's cache.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use natter_protocol::http::{file_path, thumbnail_path};
use natter_protocol::limits::MAX_ATTACHMENTS;
use natter_protocol::{validate, ErrorCode, WireError};
use tokio::sync::{mpsc, oneshot, watch};

use super::event::{AppEvent, DeliveryState};
use super::outlet::Outlet;
use super::{Session, SessionError};
use crate::cache::{Cache, OutboxItem, UploadJob};
use crate::files::{self, FileError, Folder, NewFile, Progress};
use crate::supervisor::ConnectionState;

/// How often an upload's progress is told to the app (when it moved).
const REPORT_EVERY: Duration = Duration::from_millis(200);
/// The longest wait between two tries of a failing upload.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The upload running now, so a cancel can stop it at once.
pub(super) type Current = Arc<StdMutex<Option<(String, Progress)>>>;

/// Where the relay is, for HTTP.
#[derive(Clone)]
pub(super) struct Relay {
    pub(super) url: String,
    pub(super) token: String,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Session {
    /// Queues a message with files: each copied into the profile, then the send written to the
    /// outbox with them and announced as pending (with the files' names and sizes); the files
    /// are uploaded and the message sent as soon as the relay can be reached, now or after a
    /// restart. `body` may be empty. Without files this is [`reply`](Self::reply).
    pub async fn send_files(
        &self,
        room_id: &str,
        body: &str,
        reply_to: Option<&str>,
        files: Vec<NewFile>,
    ) -> Result<OutboxItem, SessionError> {
        if files.is_empty() {
            return self.reply(room_id, body, reply_to).await;
        }
        validate::id(room_id).map_err(SessionError::Refused)?;
        validate::caption(body).map_err(SessionError::Refused)?;
        if let Some(target) = reply_to {
            validate::id(target).map_err(SessionError::Refused)?;
        }
        if files.len() > MAX_ATTACHMENTS {
            return Err(SessionError::Refused(WireError::new(
                ErrorCode::TooLarge,
                format!("at most {MAX_ATTACHMENTS} files in one message"),
            )));
        }
        let mut copies = Vec::with_capacity(files.len());
        for file in files {
            match self.folder.copy_in(file).await {
                Ok(copy) => copies.push(copy),
                Err(e) => {
                    self.folder.remove_copies(&copies).await;
                    return Err(SessionError::File(e));
                }
            }
        }
        let written = {
            let _outbox = self.outbox_lock.lock().await;
            let written = self
                .cache
                .enqueue_with_files(room_id, body, reply_to, copies.clone())
                .await;
            if let Ok(item) = &written {
                self.outlet.emit(AppEvent::pending(item));
            }
            written
        };
        let item = match written {
            Ok(item) => item,
            Err(e) => {
                self.folder.remove_copies(&copies).await;
                return Err(e.into());
            }
        };
        let _ = self.upload_nudge.send(());
        self.stop_typing_in_background(room_id);
        Ok(item)
    }

    /// Takes back a pending send whose files are not all uploaded yet: the upload stops, the
    /// send and the files' copies are removed. Answers whether there was one (after its last
    /// upload, the send may be on its way and cannot be taken back).
    pub async fn cancel_upload(&self, client_id: &str) -> Result<bool, SessionError> {
        let _outbox = self.outbox_lock.lock().await;
        let Some(files) = self.cache.cancel_upload(client_id).await? else {
            return Ok(false);
        };
        if let Ok(current) = self.current_upload.lock() {
            if let Some((_, progress)) = current.as_ref().filter(|(id, _)| id == client_id) {
                progress.cancel();
            }
        }
        self.folder.remove_copies(&files).await;
        Ok(true)
    }

    /// Forgets one of our sends that the relay refused (`failed`), and its files' copies;
    /// answers whether there was one. A pending send cannot be taken back: it may already be
    /// committed (see [`cancel_upload`](Self::cancel_upload) for one still uploading).
    pub async fn discard_failed(&self, client_id: &str) -> Result<bool, SessionError> {
        let _outbox = self.outbox_lock.lock().await;
        let Some(files) = self.cache.discard_failed_with_files(client_id).await? else {
            return Ok(false);
        };
        self.folder.remove_copies(&files).await;
        Ok(true)
    }

    /// The file `id` of a message, from the profile's cache, fetched first if missing (needs
    /// the relay then). Answers where it is.
    pub async fn file(&self, id: &str) -> Result<PathBuf, SessionError> {
        validate::id(id).map_err(SessionError::Refused)?;
        let to = self.folder.cached(id);
        self.cached_or_fetched(&file_path(id), to).await
    }

    /// [`file`](Self::file) for an image's thumbnail.
    pub async fn thumbnail(&self, id: &str) -> Result<PathBuf, SessionError> {
        validate::id(id).map_err(SessionError::Refused)?;
        let to = self.folder.thumbnail(id);
        self.cached_or_fetched(&thumbnail_path(id), to).await
    }

    async fn cached_or_fetched(
        &self,
        relay_path: &str,
        to: PathBuf,
    ) -> Result<PathBuf, SessionError> {
        if tokio::fs::metadata(&to).await.is_ok_and(|m| m.is_file()) {
            return Ok(to);
        }
        let mut stopping = self.stopping.subscribe();
        tokio::select! {
            // Dropping the fetch removes its partial file (`files::fetch`).
            _ = stopping.wait_for(|stopping| *stopping) => Err(SessionError::Stopped),
            fetched = files::fetch(&self.relay.url, &self.relay.token, relay_path, &to) => {
                fetched.map_err(SessionError::File)?;
                Ok(to)
            }
        }
    }
}

/// What one step of the uploader came to.
enum Step {
    /// Nothing to upload: wait for a nudge.
    Idle,
    /// Done with one file (or it went away): look for the next at once.
    Again,
    /// A transient failure: try again after a while, or when the relay is back.
    Later,
}

/// The session's upload task: one file at a time, in outbox order.
pub(super) struct Uploader {
    pub(super) cache: Cache,
    pub(super) outlet: Outlet,
    pub(super) folder: Folder,
    pub(super) relay: Relay,
    /// Nudges the worker to send a message whose files are all up.
    pub(super) worker: mpsc::UnboundedSender<()>,
    pub(super) current: Current,
    pub(super) connection: watch::Receiver<ConnectionState>,
    pub(super) retry_after: Duration,
}

impl Uploader {
    pub(super) async fn run(
        mut self,
        mut nudges: mpsc::UnboundedReceiver<()>,
        mut stopped: oneshot::Receiver<()>,
    ) {
        let mut wait = self.retry_after;
        loop {
            let step = tokio::select! {
                biased;
                _ = &mut stopped => return,
                step = self.step() => step,
            };
            let woken = match step {
                Step::Again => {
                    wait = self.retry_after;
                    continue;
                }
                Step::Idle => tokio::select! {
                    biased;
                    _ = &mut stopped => return,
                    nudge = nudges.recv() => nudge.is_some(),
                },
                Step::Later => {
                    let woken = tokio::select! {
                        biased;
                        _ = &mut stopped => return,
                        nudge = nudges.recv() => nudge.is_some(),
                        () = tokio::time::sleep(wait) => true,
                        () = reconnected(&mut self.connection) => true,
                    };
                    wait = (wait * 2).min(MAX_WAIT);
                    woken
                }
            };
            if !woken {
                return; // the session is gone
            }
        }
    }

    async fn step(&mut self) -> Step {
        let job = match self.cache.next_upload().await {
            Ok(Some(job)) => job,
            Ok(None) => return Step::Idle,
            Err(e) => {
                tracing::error!(error = %e, "the outbox's files cannot be read");
                return Step::Later;
            }
        };
        let progress = Progress::default();
        if let Ok(mut current) = self.current.lock() {
            *current = Some((job.client_id.clone(), progress.clone()));
        }
        let path = self.folder.resolve(&job.file.local_path);
        let uploaded = tokio::select! {
            uploaded = files::upload(
                &self.relay.url,
                &self.relay.token,
                &path,
                &job.file.name,
                job.file.content_type.as_deref(),
                progress.clone(),
            ) => uploaded,
            never = self.report(&job, &progress) => match never {},
        };
        if let Ok(mut current) = self.current.lock() {
            *current = None;
        }
        match uploaded {
            Ok(attachment) => {
                let local = self
                    .folder
                    .keep_uploaded(&job.file.local_path, &attachment.id)
                    .await;
                let recorded = self
                    .cache
                    .set_uploaded(&job.client_id, job.position, &attachment, &local)
                    .await;
                match recorded {
                    Ok(Some(all_up)) => {
                        self.outlet.emit(upload_event(&job, job.file.size));
                        if all_up {
                            let _ = self.worker.send(());
                        }
                        Step::Again
                    }
                    Ok(None) => Step::Again, // cancelled meanwhile
                    Err(e) => {
                        tracing::error!(error = %e, "an upload could not be recorded");
                        Step::Later
                    }
                }
            }
            Err(FileError::Cancelled) => Step::Again,
            Err(e) => match e.permanent() {
                Some(error) => {
                    tracing::info!(client_id = job.client_id, %error, "a file was refused for good");
                    self.fail(&job, error).await
                }
                None => {
                    tracing::info!(client_id = job.client_id, error = %e, "upload failed; retrying later");
                    Step::Later
                }
            },
        }
    }

    /// The send will never go as it is: failed, like a send the relay refused.
    async fn fail(&self, job: &UploadJob, error: WireError) -> Step {
        match self.cache.mark_failed(&job.client_id, &error).await {
            Ok(()) => {
                self.outlet.emit(AppEvent::MessageState {
                    client_id: job.client_id.clone(),
                    room_id: job.room_id.clone(),
                    state: DeliveryState::Failed { error },
                });
                Step::Again
            }
            // Cancelled meanwhile (its copy was removed under the upload).
            Err(crate::CacheError::UnknownOutboxItem(_)) => Step::Again,
            Err(e) => {
                tracing::error!(error = %e, "a refused upload could not be recorded");
                Step::Later
            }
        }
    }

    /// Tells the app how far the upload is, whenever it moved; never ends.
    async fn report(&self, job: &UploadJob, progress: &Progress) -> Infallible {
        let mut told = None;
        loop {
            let sent = progress.sent().min(job.file.size);
            if told != Some(sent) {
                self.outlet.emit(upload_event(job, sent));
                told = Some(sent);
            }
            tokio::time::sleep(REPORT_EVERY).await;
        }
    }
}

fn upload_event(job: &UploadJob, sent_of_file: u64) -> AppEvent {
    AppEvent::Upload {
        client_id: job.client_id.clone(),
        room_id: job.room_id.clone(),
        sent: job.done + sent_of_file,
        total: job.total,
    }
}

/// Ends when the connection (re)connects: the relay is reachable again.
async fn reconnected(connection: &mut watch::Receiver<ConnectionState>) {
    loop {
        if connection.changed().await.is_err() {
            return std::future::pending().await;
        }
        if matches!(
            &*connection.borrow_and_update(),
            ConnectionState::Connected { .. }
        ) {
            return;
        }
    }
}
