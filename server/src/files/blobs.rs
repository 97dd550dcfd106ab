//! Where uploaded bytes live: the [`FileStore`] trait, keyed by content hash (SHA-256 hex), and
//! its local-directory backend [`LocalDir`]. Bytes arrive in a temporary file beside the stored
//! ones and become a stored file by one rename, so a stored file is always whole; the same
//! bytes always get the same name, so a directory several relay nodes share stays consistent.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

/// Stored bytes by content hash. Every method takes a hash that [`is_hash`] accepts.
#[async_trait]
pub trait FileStore: Send + Sync + std::fmt::Debug + 'static {
    /// A new, empty temporary file on the same filesystem as the stored ones.
    async fn create_temp(&self) -> io::Result<TempFile>;
    /// Makes `temp`'s bytes (flushed and synced by the caller) the stored file of `hash`, in
    /// one atomic step; the temporary file is gone afterwards.
    async fn keep(&self, temp: TempFile, hash: &str) -> io::Result<()>;
    async fn open(&self, hash: &str) -> io::Result<tokio::fs::File>;
    /// Removes the stored file and its thumbnail; a missing one is not an error.
    async fn remove(&self, hash: &str) -> io::Result<()>;
    async fn thumbnail(&self, hash: &str) -> io::Result<Option<Vec<u8>>>;
    async fn put_thumbnail(&self, hash: &str, bytes: Vec<u8>) -> io::Result<()>;
    /// Removes temporary files untouched for `idle` (left by a crash); returns how many.
    async fn sweep_temps(&self, idle: Duration) -> io::Result<usize>;
}

/// SHA-256 in lowercase hex: the only names that reach a path.
pub fn is_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn bad_hash() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "not a content hash")
}

/// A temporary file being written; removed when dropped unless kept.
#[derive(Debug)]
pub struct TempFile {
    pub file: tokio::fs::File,
    path: PathBuf,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // An aborted or refused upload leaves nothing behind. Missing already: it was kept.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Files under one directory: `ab/cdef…` (the hash split after two characters, so no
/// directory holds more than a 256th), `thumbs/ab/cdef…`, and `tmp/` for uploads in progress.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: Arc<Path>,
}

impl LocalDir {
    /// Uses (creating if missing, private) `root`.
    pub fn open(root: &Path) -> io::Result<Self> {
        let mut dirs = std::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
        dirs.create(root.join("tmp"))?;
        dirs.create(root.join("thumbs"))?;
        Ok(Self { root: root.into() })
    }

    fn path(&self, under: Option<&str>, hash: &str) -> io::Result<PathBuf> {
        if !is_hash(hash) {
            return Err(bad_hash());
        }
        let mut path = self.root.to_path_buf();
        path.extend(under);
        Ok(path.join(&hash[..2]).join(&hash[2..]))
    }
}

/// Makes `path`'s directory, then syncs it after `step` so a rename in it survives power loss.
async fn in_dir<T>(
    path: &Path,
    step: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    let dir = path.parent().ok_or_else(bad_hash)?;
    tokio::fs::create_dir_all(dir).await?;
    let done = step.await?;
    tokio::fs::File::open(dir).await?.sync_all().await?;
    Ok(done)
}

#[async_trait]
impl FileStore for LocalDir {
    async fn create_temp(&self) -> io::Result<TempFile> {
        let path = self
            .root
            .join("tmp")
            .join(format!("upload-{}", uuid::Uuid::new_v4().simple()));
        // Read too: an image's size is read from it before it is kept.
        let mut options = tokio::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        // Private like the database (the data directory is 0700 as well).
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&path).await?;
        Ok(TempFile { file, path })
    }

    async fn keep(&self, temp: TempFile, hash: &str) -> io::Result<()> {
        let path = self.path(None, hash)?;
        // Same name, same bytes: replacing a file already there changes nothing a reader sees.
        in_dir(&path, tokio::fs::rename(&temp.path, &path)).await
    }

    async fn open(&self, hash: &str) -> io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.path(None, hash)?).await
    }

    async fn remove(&self, hash: &str) -> io::Result<()> {
        for under in [None, Some("thumbs")] {
            match tokio::fs::remove_file(self.path(under, hash)?).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    async fn thumbnail(&self, hash: &str) -> io::Result<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(Some("thumbs"), hash)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put_thumbnail(&self, hash: &str, bytes: Vec<u8>) -> io::Result<()> {
        let path = self.path(Some("thumbs"), hash)?;
        let mut temp = self.create_temp().await?;
        tokio::io::AsyncWriteExt::write_all(&mut temp.file, &bytes).await?;
        in_dir(&path, tokio::fs::rename(&temp.path, &path)).await
    }

    async fn sweep_temps(&self, idle: Duration) -> io::Result<usize> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(self.root.join("tmp")).await?;
        while let Some(entry) = entries.next_entry().await? {
            let modified = entry.metadata().await?.modified()?;
            let age = SystemTime::now()
                .duration_since(modified)
                .unwrap_or_default();
            // Uploads in progress keep theirs fresh, on this node or another sharing the dir.
            if age > idle && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    const HASH: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[tokio::test]
    async fn a_kept_file_is_whole_and_a_dropped_temp_leaves_nothing() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = LocalDir::open(dir.path())?;
        let mut temp = store.create_temp().await?;
        temp.file.write_all(b"hello").await?;
        temp.file.sync_all().await?;
        store.keep(temp, HASH).await?;
        assert_eq!(
            std::fs::read(dir.path().join("2c").join(&HASH[2..]))?,
            b"hello"
        );
        let temp = store.create_temp().await?;
        drop(temp);
        assert_eq!(std::fs::read_dir(dir.path().join("tmp"))?.count(), 0);
        store.remove(HASH).await?;
        assert!(store.open(HASH).await.is_err());
        // A path is never made of anything but a hash.
        assert!(store.open("../../etc/passwd").await.is_err());
        Ok(())
    }
}
