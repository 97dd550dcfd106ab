//! A size-limited tmpfs mounted on a fresh directory, for "disk full" tests. Needs root (or
//! CAP_SYS_ADMIN); [`Tmpfs::mount`] says so with an error instead of panicking, so a test can skip
//! loudly where mounting is not permitted. Unmounted on drop, on every path.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum TmpfsError {
    #[error("cannot create the mount point: {0}")]
    Dir(std::io::Error),
    #[error("mount -t tmpfs is not permitted here: {0}")]
    NotPermitted(String),
}

/// A mounted tmpfs; `path()` is its root.
#[derive(Debug)]
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_bytes` on a new directory under the system temp dir.
    pub fn mount(size_bytes: u64) -> Result<Self, TmpfsError> {
        let dir = std::env::temp_dir().join(format!(
            "natter-tmpfs-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).map_err(TmpfsError::Dir)?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size_bytes},mode=0700"))
            .arg("natter-test")
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(Self { dir }),
            Ok(o) => {
                let _ = std::fs::remove_dir(&dir);
                Err(TmpfsError::NotPermitted(
                    String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                ))
            }
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(TmpfsError::NotPermitted(e.to_string()))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Fills the file system with a ballast file until the kernel says ENOSPC; returns the
    /// ballast's path (delete it to give the space back) and how many bytes it took.
    pub fn fill(&self, name: &str) -> std::io::Result<(PathBuf, u64)> {
        use std::io::Write as _;
        let path = self.dir.join(name);
        let mut f = std::fs::File::create(&path)?;
        let mut written = 0u64;
        // Big pieces first, then smaller ones to take the last partial pages. Bounded: a
        // tmpfs is finite; stop at 64 GiB in case the limit is not enforced.
        for size in [64 * 1024, 4096, 512, 1] {
            let chunk = vec![0x55u8; size];
            while written < 64 << 30 {
                match f.write(&chunk) {
                    Ok(0) => break,
                    Ok(n) => written += n as u64,
                    Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                    Err(e) => return Err(e),
                }
            }
        }
        Ok((path, written))
    }
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a process that still holds a file in it must not keep the mount alive forever.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}
