//! A size-limited tmpfs mounted on a fresh directory, for "disk full" tests. Needs root (or
//! CAP_SYS_ADMIN); [`Tmpfs::mount`] returns an error instead of panicking, and tells "not
//! permitted here" apart from every other failure, so a test can decide which one it may skip.
//! Unmounted on drop, on every path.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum TmpfsError {
    #[error("cannot create the mount point: {0}")]
    Dir(std::io::Error),
    #[error("cannot run mount(8): {0}")]
    NoMountCommand(std::io::Error),
    /// Not root, no CAP_SYS_ADMIN, or a container that forbids mounts.
    #[error("mount -t tmpfs is not permitted here: {0}")]
    NotPermitted(String),
    /// mount(8) ran and failed for another reason (bad option, no tmpfs support, ...).
    #[error("mount -t tmpfs failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
}

impl TmpfsError {
    /// Whether this says only that mounting is not permitted to this process.
    pub fn is_not_permitted(&self) -> bool {
        matches!(self, Self::NotPermitted(_))
    }
}

/// What mount(8) and the kernel print when the caller may not mount.
const NOT_PERMITTED: [&str; 4] = [
    "permission denied",
    "operation not permitted",
    "must be superuser",
    "only root",
];

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
        let failed = match out {
            Ok(o) if o.status.success() => return Ok(Self { dir }),
            Ok(o) => {
                let stderr = String::from_utf8_lossy(&o.stderr).trim().to_owned();
                let lower = stderr.to_lowercase();
                if NOT_PERMITTED.iter().any(|p| lower.contains(p)) {
                    TmpfsError::NotPermitted(stderr)
                } else {
                    TmpfsError::Failed {
                        status: o.status.to_string(),
                        stderr,
                    }
                }
            }
            Err(e) => TmpfsError::NoMountCommand(e),
        };
        let _ = std::fs::remove_dir(&dir);
        Err(failed)
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
