//! Files (issue 20) on this side: the profile's `files/` folder (copies waiting to upload, files
//! and thumbnails fetched or uploaded, each under a name made from its id), and the two HTTP
//! transfers, both streamed from and to disk: `upload.rs` (`POST /api/files`) and `download.rs`
//! (`GET /api/files/{id}` and its thumbnail). The session (`session/files.rs`) ties them to the
//! outbox.

mod download;
mod upload;

use std::path::{Path, PathBuf};

use natter_protocol::limits::MAX_FILE_NAME_CHARS;
use natter_protocol::{ErrorCode, WireError};
use sha2::{Digest, Sha256};

use crate::cache::OutboxFile;

pub(crate) use download::fetch;
pub(crate) use upload::{upload, Progress};

/// The profile's folder of files (the cache forgets it with the account's data).
pub use crate::cache::FILES_DIR;
/// Copies of files to upload, until uploaded.
const OUTBOX_DIR: &str = "outbox";
/// Whole files, fetched or uploaded from here, by id.
const CACHE_DIR: &str = "cache";
/// Thumbnails as the relay made them, by id.
const THUMBS_DIR: &str = "thumbs";

/// A file the user attaches: a file on disk (copied, never read whole into memory) or bytes
/// (a pasted image).
#[derive(Debug, Clone)]
pub struct NewFile {
    /// The name shown to the room (only its last path component is kept).
    pub name: String,
    /// The type the system claims, if any.
    pub content_type: Option<String>,
    pub source: FileSource,
}

#[derive(Debug, Clone)]
pub enum FileSource {
    Path(PathBuf),
    Bytes(Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The relay answered with an error (`too_large` is 413, `not_found` 404, …).
    #[error("{error} (HTTP {status})")]
    Relay { status: u16, error: WireError },
    #[error("network: {0}")]
    Network(String),
    /// No byte moved for too long.
    #[error("the transfer stalled")]
    Stalled,
    #[error("cancelled")]
    Cancelled,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unexpected answer (HTTP {status}): {reason}")]
    Unexpected { status: u16, reason: String },
}

impl FileError {
    /// An upload that can never succeed as it is: the relay refused the file itself (too large,
    /// a bad name), also when the refusal is not the relay's JSON (a reverse proxy's own 413
    /// page, an answer cut short), or our copy of it is gone. Everything else is worth another
    /// try.
    pub fn permanent(&self) -> Option<WireError> {
        match self {
            Self::Relay {
                status: 400 | 413 | 415,
                error,
            } => Some(error.clone()),
            Self::Unexpected { status: 413, .. } => Some(WireError::new(
                ErrorCode::TooLarge,
                "the relay refuses files this large (HTTP 413)",
            )),
            Self::Unexpected {
                status: status @ (400 | 415),
                ..
            } => Some(WireError::new(
                ErrorCode::Invalid,
                format!("the relay refused this file (HTTP {status})"),
            )),
            Self::Io { source, .. } => Some(WireError::new(
                ErrorCode::Invalid,
                format!("the file's copy in this profile cannot be read: {source}"),
            )),
            _ => None,
        }
    }

    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Where a profile keeps its files.
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    profile: PathBuf,
}

impl Folder {
    pub(crate) fn new(profile: &Path) -> Self {
        Self {
            profile: profile.to_owned(),
        }
    }

    /// A path the outbox recorded (relative to the profile) as a full path.
    pub(crate) fn resolve(&self, local_path: &str) -> PathBuf {
        self.profile.join(local_path)
    }

    /// Where the whole file `id` is (or will be) kept.
    pub(crate) fn cached(&self, id: &str) -> PathBuf {
        self.profile.join(cache_path(CACHE_DIR, id))
    }

    /// Where the thumbnail of `id` is (or will be) kept.
    pub(crate) fn thumbnail(&self, id: &str) -> PathBuf {
        self.profile.join(cache_path(THUMBS_DIR, id))
    }

    /// Moves an uploaded copy to the cache under its id (so our own files show without a
    /// fetch); answers its new path, relative to the profile, or the old one if it could not.
    pub(crate) async fn keep_uploaded(&self, local_path: &str, id: &str) -> String {
        let to = cache_path(CACHE_DIR, id);
        let moved = async {
            tokio::fs::create_dir_all(self.profile.join(FILES_DIR).join(CACHE_DIR)).await?;
            tokio::fs::rename(self.resolve(local_path), self.profile.join(&to)).await
        };
        match moved.await {
            Ok(()) => to,
            Err(e) => {
                tracing::warn!(error = %e, "an uploaded file's copy stays in the outbox folder");
                local_path.to_owned()
            }
        }
    }

    /// Removes the outbox copies of a send that will not go (cancelled, discarded).
    pub(crate) async fn remove_copies(&self, files: &[OutboxFile]) {
        let outbox = Path::new(FILES_DIR).join(OUTBOX_DIR);
        for file in files
            .iter()
            .filter(|f| Path::new(&f.local_path).starts_with(&outbox))
        {
            if let Err(e) = tokio::fs::remove_file(self.resolve(&file.local_path)).await {
                tracing::warn!(error = %e, "could not remove a file's copy");
            }
        }
    }

    /// Copies `file` into the outbox folder (streamed by the OS, or the bytes written).
    pub(crate) async fn copy_in(&self, file: NewFile) -> Result<OutboxFile, FileError> {
        let dir = self.profile.join(FILES_DIR).join(OUTBOX_DIR);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(FileError::io(&dir))?;
        let relative = Path::new(FILES_DIR)
            .join(OUTBOX_DIR)
            .join(uuid::Uuid::new_v4().to_string());
        let to = self.profile.join(&relative);
        let size = match &file.source {
            FileSource::Path(from) => {
                let meta = tokio::fs::metadata(from)
                    .await
                    .map_err(FileError::io(from))?;
                if !meta.is_file() {
                    return Err(FileError::Io {
                        path: from.clone(),
                        source: std::io::Error::other("not a file"),
                    });
                }
                tokio::fs::copy(from, &to)
                    .await
                    .map_err(FileError::io(from))?
            }
            FileSource::Bytes(bytes) => {
                tokio::fs::write(&to, bytes)
                    .await
                    .map_err(FileError::io(&to))?;
                bytes.len() as u64
            }
        };
        Ok(OutboxFile {
            name: file_name(&file.name),
            content_type: file.content_type,
            size,
            local_path: relative.to_string_lossy().into_owned(),
            attachment: None,
        })
    }
}

/// `files/<kind>/<hex SHA-256 of the id>`: an id is the relay's opaque string, never a path.
fn cache_path(kind: &str, id: &str) -> String {
    let name = hex::encode(Sha256::digest(id.as_bytes()));
    format!("{FILES_DIR}/{kind}/{name}")
}

/// A name the relay takes: the last path component, control characters replaced, at most
/// [`MAX_FILE_NAME_CHARS`] characters; `file` when nothing is left.
pub fn file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let clean: String = last
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let clean = clean.trim().to_owned();
    if clean.is_empty() || clean == "." || clean == ".." {
        "file".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_last_component_and_no_control_characters() {
        assert_eq!(file_name("/home/a/cat.png"), "cat.png");
        assert_eq!(file_name("C:\\x\\ünï.txt"), "ünï.txt");
        assert_eq!(file_name("a\nb"), "a_b");
        assert_eq!(file_name("dir/"), "file");
        assert_eq!(file_name(".."), "file");
        assert_eq!(file_name(&"x".repeat(300)).chars().count(), 255);
    }

    #[test]
    fn a_refusal_of_the_file_is_permanent_even_without_the_relays_json() {
        let proxy_page = FileError::Unexpected {
            status: 413,
            reason: "expected value at line 1 column 1".to_owned(),
        };
        let error = proxy_page.permanent().expect("permanent");
        assert_eq!(error.code, ErrorCode::TooLarge);
        assert!(error.message.contains("413"), "{error}");
        let bad = FileError::Unexpected {
            status: 415,
            reason: String::new(),
        };
        assert_eq!(bad.permanent().map(|e| e.code), Some(ErrorCode::Invalid));
        // Worth another try: the relay or a proxy failing, the network, a stall.
        for transient in [
            FileError::Unexpected {
                status: 502,
                reason: String::new(),
            },
            FileError::Relay {
                status: 503,
                error: WireError::new(ErrorCode::Internal, "busy"),
            },
            FileError::Network("connection refused".to_owned()),
            FileError::Stalled,
        ] {
            assert_eq!(transient.permanent(), None, "{transient}");
        }
    }

    #[test]
    fn cached_names_are_hashes_not_paths() {
        let folder = Folder::new(Path::new("/p"));
        let path = folder.cached("../../etc/passwd");
        assert!(path.starts_with("/p/files/cache"), "{path:?}");
        assert_eq!(path.components().count(), 5);
    }
}
