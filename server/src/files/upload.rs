//! Receiving an upload's body: streamed to a temporary file through a small buffer (never held
//! whole), hashed as it comes, cut off at the size limit and when it comes too slowly.

use std::time::{Duration, Instant};

use axum::body::Body;
use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;

use super::kind::SNIFF_BYTES;

/// Bytes buffered before a write to disk.
const WRITE_BUFFER: usize = 256 * 1024;

/// How slowly a body may come: each piece within `idle`, and after `grace`, on average at
/// least `min_bytes_per_sec` since the start (a trickle that beats the idle timeout still ends).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub idle: Duration,
    pub grace: Duration,
    pub min_bytes_per_sec: u64,
}

/// A body that was received whole.
#[derive(Debug)]
pub struct Received {
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub hash: String,
    /// The first bytes, for sniffing.
    pub head: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("over the limit of {0} bytes")]
    TooLarge(u64),
    #[error("the body came too slowly")]
    TooSlow,
    #[error("the client broke off the body: {0}")]
    Broken(String),
    #[error("writing the file: {0}")]
    Disk(#[from] std::io::Error),
}

/// Reads `body` into `file` (synced before this returns), at most `limit` bytes, at `pace`.
pub async fn receive(
    body: Body,
    file: &mut tokio::fs::File,
    limit: u64,
    pace: Pace,
) -> Result<Received, ReceiveError> {
    let started = Instant::now();
    let mut stream = body.into_data_stream();
    let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, &mut *file);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    loop {
        let next = tokio::time::timeout(pace.idle, stream.next())
            .await
            .map_err(|_| ReceiveError::TooSlow)?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| ReceiveError::Broken(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(ReceiveError::TooLarge(limit));
        }
        let elapsed = started.elapsed();
        if elapsed > pace.grace && size < pace.min_bytes_per_sec * elapsed.as_secs() {
            return Err(ReceiveError::TooSlow);
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    drop(out);
    // Durable before anything names it.
    file.sync_all().await?;
    Ok(Received {
        size,
        hash: hex::encode(hasher.finalize()),
        head,
    })
}
