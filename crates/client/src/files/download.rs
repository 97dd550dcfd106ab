//! `GET /api/files/{id}` (or its thumbnail) with the bearer token, streamed to a temporary file
//! beside `to` and renamed into place when whole: a file in the cache is always complete. The
//! temporary file goes when the fetch fails or is dropped unfinished (a sign-out cuts it short).

use std::path::Path;

use tokio::io::AsyncWriteExt;

use super::upload::{network, relay_error, STALL};
use super::FileError;
use crate::http;

/// Fetches `relay_path` from the relay into `to`.
pub(crate) async fn fetch(
    server_url: &str,
    token: &str,
    relay_path: &str,
    to: &Path,
) -> Result<(), FileError> {
    let client = http::client(server_url, None).map_err(network)?;
    let answer = client
        .get(http::endpoint(server_url, relay_path))
        .bearer_auth(token)
        .send();
    let mut response = match tokio::time::timeout(STALL, answer).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => return Err(network(e)),
        Err(_) => return Err(FileError::Stalled),
    };
    if !response.status().is_success() {
        return Err(relay_error(response).await);
    }
    let dir = to.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(FileError::io(dir))?;
    let removed_unless_renamed = Part(dir.join(format!(".{}.part", uuid::Uuid::new_v4())));
    let part = &removed_unless_renamed.0;
    let written = async {
        let mut file = tokio::fs::File::create(part)
            .await
            .map_err(FileError::io(part))?;
        loop {
            let chunk = match tokio::time::timeout(STALL, response.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => return Err(network(e)),
                Err(_) => return Err(FileError::Stalled),
            };
            file.write_all(&chunk).await.map_err(FileError::io(part))?;
        }
        file.sync_all().await.map_err(FileError::io(part))?;
        tokio::fs::rename(part, to).await.map_err(FileError::io(to))
    };
    written.await
}

/// A temporary file, removed when this is dropped unless it was renamed into place.
struct Part(std::path::PathBuf);

impl Drop for Part {
    fn drop(&mut self) {
        // After the rename there is nothing there: that error is the expected one.
        let _ = std::fs::remove_file(&self.0);
    }
}
