//! What the kernel says about a process (Linux `/proc`): resident memory, open file
//! descriptors, and the open-files limit, for the suite's "back to baseline" checks.

use std::path::PathBuf;

fn proc_dir(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}"))
}

/// Resident set size of `pid` in KiB (`VmRSS`), or `None` once it is gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(proc_dir(pid).join("status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// How many file descriptors `pid` holds open, or `None` once it is gone.
pub fn fd_count(pid: u32) -> Option<usize> {
    std::fs::read_dir(proc_dir(pid).join("fd"))
        .ok()
        .map(|d| d.count())
}

/// How many sockets `pid` holds open (file descriptors that are sockets), or `None` once it
/// is gone. Unlike [`fd_count`], not moved by a database pool opening another file.
pub fn socket_count(pid: u32) -> Option<usize> {
    let dir = std::fs::read_dir(proc_dir(pid).join("fd")).ok()?;
    Some(
        dir.filter_map(Result::ok)
            .filter(|e| {
                std::fs::read_link(e.path())
                    .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
            })
            .count(),
    )
}

/// The hard `RLIMIT_NOFILE` of this process (from `/proc/self/limits`).
pub fn nofile_hard() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    // "Max open files <soft> <hard> files"
    fields.get(4).and_then(|h| h.parse().ok())
}

/// The soft `RLIMIT_NOFILE` of this process.
pub fn nofile_soft() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3).and_then(|s| s.parse().ok())
}

/// Raises this process's soft open-files limit to its hard limit, with `prlimit(1)` (the
/// workspace forbids `unsafe`, so no direct `setrlimit`). Returns the soft limit now in effect.
pub fn raise_nofile() -> Option<u64> {
    let hard = nofile_hard()?;
    let status = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={hard}:{hard}"))
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        tracing::warn!("prlimit could not raise RLIMIT_NOFILE");
    }
    nofile_soft()
}
