//! `POST /api/files?name=…` with the bearer token: the body streamed from the file in chunks
//! (never whole in memory), its length announced (so the relay can refuse an oversize file before
//! reading it), progress reported per chunk, cancellable, and given up when no byte moves for
//! [`STALL`].

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use natter_protocol::http::{HttpError, FILES_PATH, FILE_NAME_PARAM};
use natter_protocol::Attachment;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::FileError;
use crate::http;

/// How much of the file is read at a time.
const CHUNK: usize = 256 * 1024;
/// How long a transfer may go without a byte moving (or, once sent, without an answer).
pub(crate) const STALL: Duration = Duration::from_secs(30);
/// How often the watchdog looks.
const TICK: Duration = Duration::from_millis(100);

/// What an upload tells its caller as it goes, and how it is told to stop.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    sent: Arc<AtomicU64>,
    cancelled: Arc<AtomicBool>,
}

impl Progress {
    /// Bytes handed to the connection so far.
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Stops the upload at its next chunk (or its watchdog's next look).
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// Uploads the file at `path` as `name`; answers the relay's [`Attachment`].
pub(crate) async fn upload(
    server_url: &str,
    token: &str,
    path: &Path,
    name: &str,
    content_type: Option<&str>,
    progress: Progress,
) -> Result<Attachment, FileError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(FileError::io(path))?;
    let size = file.metadata().await.map_err(FileError::io(path))?.len();
    let client = http::client(server_url, None).map_err(network)?;
    let chunks = progress.clone();
    let body = futures_util::stream::try_unfold(file, move |mut file| {
        let chunks = chunks.clone();
        async move {
            if chunks.is_cancelled() {
                return Err(std::io::Error::other("cancelled"));
            }
            let mut buf = vec![0; CHUNK];
            let n = file.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            buf.truncate(n);
            chunks.sent.fetch_add(n as u64, Ordering::Relaxed);
            Ok(Some((buf, file)))
        }
    });
    let mut request = client
        .post(http::endpoint(server_url, FILES_PATH))
        .query(&[(FILE_NAME_PARAM, name)])
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_LENGTH, size)
        .body(reqwest::Body::wrap_stream(body));
    if let Some(content_type) = content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    let response = tokio::select! {
        sent = request.send() => sent,
        stop = watchdog(&progress) => return Err(stop),
    };
    let response = match response {
        Ok(response) => response,
        Err(_) if progress.is_cancelled() => return Err(FileError::Cancelled),
        Err(e) => return Err(network(e)),
    };
    let status = response.status();
    if status == reqwest::StatusCode::CREATED {
        return response
            .json::<Attachment>()
            .await
            .map_err(|e| FileError::Unexpected {
                status: status.as_u16(),
                reason: e.to_string(),
            });
    }
    Err(relay_error(response).await)
}

/// Ends when the upload is cancelled or no byte has moved for [`STALL`].
async fn watchdog(progress: &Progress) -> FileError {
    let mut last = (progress.sent(), Instant::now());
    loop {
        tokio::time::sleep(TICK).await;
        if progress.is_cancelled() {
            return FileError::Cancelled;
        }
        let sent = progress.sent();
        if sent != last.0 {
            last = (sent, Instant::now());
        } else if last.1.elapsed() > STALL {
            return FileError::Stalled;
        }
    }
}

pub(super) fn network(e: reqwest::Error) -> FileError {
    FileError::Network(e.to_string())
}

/// A non-2xx answer as [`FileError::Relay`] (or `Unexpected` without a proper body).
pub(super) async fn relay_error(response: reqwest::Response) -> FileError {
    let status = response.status().as_u16();
    match response.json::<HttpError>().await {
        Ok(body) => FileError::Relay {
            status,
            error: body.error,
        },
        Err(e) => FileError::Unexpected {
            status,
            reason: e.to_string(),
        },
    }
}
