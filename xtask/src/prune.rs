//! Keeps the shared build cache from filling the disk. Every fresh clone at a new path builds
//! its own copies of the workspace's crates (cargo's hashes include the source path), so the
//! shared target dir grew to 69 GB over two days and a CI run failed with "No space left on
//! device". When free space runs low, debug artifacts untouched for a day go; cargo rebuilds
//! whatever it still needs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::Workspace;

/// Below this much free space (GiB) on the target dir's disk, stale artifacts are removed.
const LOW_SPACE_GIB: u64 = 20;
/// Artifacts not modified for this long count as stale.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Removes stale debug artifacts when the disk is low. Never fails the run: a cache it cannot
/// measure or prune is left as it is.
pub fn if_low_on_space(ws: &Workspace) {
    let Some(free) = free_kib(&ws.target_dir) else {
        return;
    };
    if free >= LOW_SPACE_GIB * 1024 * 1024 {
        return;
    }
    println!(
        "==> {} GiB free: removing debug artifacts untouched for a day",
        free / (1024 * 1024)
    );
    let debug = ws.target_dir.join("debug");
    let _ = std::fs::remove_dir_all(debug.join("incremental"));
    let removed: usize = ["deps", "build", ".fingerprint"]
        .iter()
        .map(|dir| remove_stale(&debug.join(dir)))
        .sum();
    let after = free_kib(&ws.target_dir).unwrap_or(free);
    println!(
        "    removed {removed} entries; {} GiB free",
        after / (1024 * 1024)
    );
}

/// Free space on the disk holding `dir`, from `df -Pk` (POSIX output).
fn free_kib(dir: &Path) -> Option<u64> {
    let out = Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    available_kib(&String::from_utf8_lossy(&out.stdout))
}

/// The "Available" column of `df -Pk`'s one filesystem line.
fn available_kib(df: &str) -> Option<u64> {
    df.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

/// Removes the entries of `dir` not modified within [`STALE_AFTER`]; returns how many.
fn remove_stale(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| now.duration_since(at).unwrap_or_default() > STALE_AFTER);
        if !stale {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed += usize::from(gone.is_ok());
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::{available_kib, remove_stale, STALE_AFTER};
    use std::fs::File;
    use std::time::{Duration, SystemTime};

    #[test]
    fn removes_only_entries_older_than_a_day() -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("xtask-prune-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("old-dir"))?;
        let long_ago = SystemTime::now() - STALE_AFTER - Duration::from_secs(60);
        File::create(dir.join("old"))?.set_modified(long_ago)?;
        File::create(dir.join("new"))?;
        File::open(dir.join("old-dir"))?.set_modified(long_ago)?;
        let removed = remove_stale(&dir);
        let left: Vec<_> = std::fs::read_dir(&dir)?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        std::fs::remove_dir_all(&dir)?;
        assert_eq!(removed, 2);
        assert_eq!(left, ["new"]);
        Ok(())
    }

    #[test]
    fn reads_the_available_column_of_df() {
        let df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                  /dev/vda         263174212 41943040  54525952      44% /\n";
        assert_eq!(available_kib(df), Some(54_525_952));
        assert_eq!(
            available_kib("Filesystem 1024-blocks Used Available\n"),
            None
        );
        assert_eq!(available_kib(""), None);
    }
}
