//! The files service (issue 20): uploads, who may read a file, thumbnails, and removing bytes
//! nobody uses (orphan uploads, deleted messages' files). Bytes live in a [`FileStore`] by
//! content hash; what a file is and who may read it lives in the [`Store`]. The HTTP side is
//! `file_routes.rs`.

pub mod blobs;
pub mod images;
pub mod kind;
pub mod upload;

use std::sync::Arc;
use std::time::Duration;

use natter_protocol::http::THUMBNAIL_PX;
use natter_protocol::{Attachment, User, WireError};
use tokio::sync::{Mutex, Semaphore};

pub use blobs::{FileStore, LocalDir, TempFile};
pub use upload::{Pace, ReceiveError};

use crate::auth::token_hash;
use crate::error::{Error, Result};
use crate::store::{NewFile, Store, StoredFile};
use crate::time::{now_rfc3339, rfc3339_ago};

/// Thumbnails decoded at once (each a CPU-bound job off the runtime, up to ~200 MiB).
const THUMBNAILS_AT_ONCE: usize = 2;
/// A temporary file untouched this long was left by a crash (uploads in progress write theirs
/// every few seconds at the slowest pace allowed).
const TEMP_IDLE: Duration = Duration::from_secs(60 * 60);

/// The file store, and the gate that keeps "are these bytes still used? then remove them"
/// from interleaving with "store these bytes and record an upload of them" (same content, same
/// name: an upload may reuse bytes a delete is about to remove). The gate is this process's: relay
/// nodes sharing one directory would need a lock in the shared store for the same guarantee.
#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn FileStore>,
    gate: Arc<Mutex<()>>,
}

impl Blobs {
    pub fn new(store: Arc<dyn FileStore>) -> Self {
        Self {
            store,
            gate: Arc::default(),
        }
    }

    /// Removes the bytes of each of `hashes` no upload uses any more (asked again behind the
    /// gate). Failures are logged: the bytes stay, nothing else is wrong.
    pub async fn release(&self, records: &dyn Store, hashes: &[String]) {
        let _gate = self.gate.lock().await;
        for hash in hashes {
            match records.file_hash_in_use(hash).await {
                Ok(false) => {
                    if let Err(e) = self.store.remove(hash).await {
                        tracing::warn!(%hash, error = %e, "could not remove a file nobody uses");
                    }
                }
                Ok(true) => {}
                Err(e) => tracing::warn!(%hash, error = %e, "could not check a file's use"),
            }
        }
    }
}

/// What an upload may be.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_bytes: u64,
    pub pace: Pace,
    /// How long an upload no message carries is kept.
    pub orphan_age: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Receive(#[from] ReceiveError),
    #[error(transparent)]
    Refused(#[from] Error),
}

impl From<std::io::Error> for UploadError {
    fn from(e: std::io::Error) -> Self {
        Self::Receive(ReceiveError::Disk(e))
    }
}

#[derive(Clone)]
pub struct Files {
    store: Arc<dyn Store>,
    blobs: Blobs,
    limits: UploadLimits,
    thumbnails: Arc<Semaphore>,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files").finish_non_exhaustive()
    }
}

impl Files {
    pub fn new(store: Arc<dyn Store>, blobs: Blobs, limits: UploadLimits) -> Self {
        Self {
            store,
            blobs,
            limits,
            thumbnails: Arc::new(Semaphore::new(THUMBNAILS_AT_ONCE)),
        }
    }

    pub fn limits(&self) -> &UploadLimits {
        &self.limits
    }

    /// The user behind a bearer token, as a socket's connect finds them.
    pub async fn user(&self, token: &str) -> Result<User> {
        let signed_on = self.store.sign_on(&token_hash(token)).await?;
        signed_on.map(|s| s.user).ok_or_else(Error::unauthorized)
    }

    /// Receives `body` into the file store and records the upload.
    pub async fn upload(
        &self,
        user: &User,
        name: String,
        claimed_type: Option<&str>,
        body: axum::body::Body,
    ) -> Result<Attachment, UploadError> {
        let mut temp = self.blobs.store.create_temp().await?;
        let got = upload::receive(
            body,
            &mut temp.file,
            self.limits.max_bytes,
            self.limits.pace,
        )
        .await?;
        let sniffed = kind::sniff(&got.head);
        let (width, height) = match sniffed {
            Some(mime) => self.dimensions(&temp, mime).await,
            None => (None, None),
        };
        let attachment = Attachment {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name,
            size: got.size,
            content_type: kind::recorded_type(sniffed, claimed_type),
            width,
            height,
        };
        let record = NewFile {
            attachment: attachment.clone(),
            uploader_id: user.id.clone(),
            hash: got.hash,
            uploaded_at: now_rfc3339(),
        };
        let hash = record.hash.clone();
        let _gate = self.blobs.gate.lock().await;
        self.blobs.store.keep(temp, &hash).await?;
        if let Err(e) = self.store.add_file(record).await {
            // Bytes no record names would stay for ever: take them back unless in use.
            if !self.store.file_hash_in_use(&hash).await.unwrap_or(true) {
                let _ = self.blobs.store.remove(&hash).await;
            }
            return Err(Error::from(e).into());
        }
        Ok(attachment)
    }

    /// An image's size from its header; none if it cannot be read (it is still a file).
    async fn dimensions(&self, temp: &TempFile, mime: &'static str) -> (Option<u32>, Option<u32>) {
        let file = match temp.file.try_clone().await {
            Ok(file) => file.into_std().await,
            Err(e) => {
                tracing::warn!(error = %e, "cannot reopen an upload to read its size");
                return (None, None);
            }
        };
        let read = tokio::task::spawn_blocking(move || {
            use std::io::Seek as _;
            let mut file = file;
            file.rewind()?;
            images::dimensions(file, mime)
        })
        .await;
        match read {
            Ok(Ok((w, h))) => (Some(w), Some(h)),
            Ok(Err(e)) => {
                tracing::info!(error = %e, "an upload that looks like an image has no readable size");
                (None, None)
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading an image's size stopped");
                (None, None)
            }
        }
    }

    /// The upload if `user` may read it. One answer for "no such file" and "not yours to read",
    /// so ids cannot be probed.
    pub async fn readable(&self, user: &User, id: &str) -> Result<StoredFile> {
        let no_such_file = || Error::not_found("no such file");
        if id.is_empty() || id.len() > natter_protocol::limits::MAX_ID_CHARS {
            return Err(no_such_file());
        }
        self.store
            .file_for(id, &user.id)
            .await?
            .ok_or_else(no_such_file)
    }

    /// The upload's bytes, if `user` may read them.
    pub async fn open(&self, user: &User, id: &str) -> Result<(StoredFile, tokio::fs::File)> {
        let file = self.readable(user, id).await?;
        match self.blobs.store.open(&file.hash).await {
            Ok(bytes) => Ok((file, bytes)),
            Err(e) => {
                tracing::error!(id, hash = %file.hash, error = %e, "a recorded file's bytes are missing");
                Err(Error::not_found("no such file"))
            }
        }
    }

    /// A thumbnail of an image `user` may read (made once, then kept beside the file).
    pub async fn thumbnail(&self, user: &User, id: &str) -> Result<Vec<u8>> {
        let file = self.readable(user, id).await?;
        let a = &file.attachment;
        let not_image = || Error::not_found("this file has no thumbnail: it is not an image");
        if !kind::INLINE_TYPES.contains(&a.content_type.as_str()) {
            return Err(not_image());
        }
        let (Some(width), Some(height)) = (a.width, a.height) else {
            return Err(not_image());
        };
        let cached = self.blobs.store.thumbnail(&file.hash).await;
        if let Ok(Some(bytes)) = cached {
            return Ok(bytes);
        }
        let _permit = self
            .thumbnails
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let source = self.open(user, id).await?.1.into_std().await;
        let mime = a.content_type.clone();
        let made = tokio::task::spawn_blocking(move || {
            images::thumbnail(source, &mime, (width, height), THUMBNAIL_PX)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        let bytes = made.map_err(|e| match e {
            images::ImageError::TooLarge { .. } => {
                tracing::info!(id, error = %e, "refused a thumbnail");
                Error::Client(WireError::new(
                    natter_protocol::ErrorCode::TooLarge,
                    e.to_string(),
                ))
            }
            images::ImageError::Unsupported => Error::not_found(e.to_string()),
            e => {
                tracing::info!(id, error = %e, "no thumbnail");
                Error::Client(WireError::invalid(e.to_string()))
            }
        })?;
        if let Err(e) = self
            .blobs
            .store
            .put_thumbnail(&file.hash, bytes.clone())
            .await
        {
            tracing::warn!(id, error = %e, "could not keep a thumbnail");
        }
        Ok(bytes)
    }

    /// Removes uploads older than the orphan age that no message carries, their bytes if
    /// nobody else's upload uses them, and temporary files a crash left.
    pub async fn sweep(&self) {
        match self
            .store
            .remove_orphan_files(&rfc3339_ago(self.limits.orphan_age))
            .await
        {
            Ok(freed) => {
                if !freed.is_empty() {
                    tracing::info!(files = freed.len(), "removed uploads no message carries");
                }
                self.blobs.release(&*self.store, &freed).await;
            }
            Err(e) => tracing::warn!(error = %e, "orphan uploads: the sweep failed"),
        }
        match self.blobs.store.sweep_temps(TEMP_IDLE).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "removed unfinished uploads"),
            Err(e) => tracing::warn!(error = %e, "unfinished uploads: the sweep failed"),
        }
    }

    /// How often [`sweep`](Self::sweep) runs: a quarter of the orphan age, between a second
    /// and an hour.
    pub fn sweep_every(&self) -> Duration {
        (self.limits.orphan_age / 4).clamp(Duration::from_secs(1), Duration::from_secs(60 * 60))
    }
}
