//! What Linux says about a process and the machine (`/proc`): resident and proportional memory,
//! CPU time, open file descriptors and sockets, the TCP ports it listens on, the open-files
//! limit, kernel TCP memory and listen-queue overflows. For the reliability suite's "back to baseline" checks (`Option`s:
//! `None` once the process is gone) and the bench's measurements (values it cannot read are
//! errors, never guesses).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

fn proc_dir(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}"))
}

/// The value of a `Name:  123 kB` line of a /proc file, in KiB.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let value = text.lines().find_map(|l| l.strip_prefix(name))?;
    value.trim().trim_end_matches("kB").trim().parse().ok()
}

/// Resident set size of `pid` in KiB (`VmRSS`), or `None` once it is gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(proc_dir(pid).join("status")).ok()?;
    kib_field(&status, "VmRSS:")
}

/// The inodes of the sockets `pid` holds open (its descriptors `socket:[N]`), or `None` once
/// it is gone.
fn socket_inodes(pid: u32) -> Option<Vec<u64>> {
    let fds = std::fs::read_dir(proc_dir(pid).join("fd")).ok()?;
    let inode = |e: std::fs::DirEntry| {
        let target = std::fs::read_link(e.path()).ok()?;
        let target = target.to_string_lossy();
        target
            .strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    };
    Some(fds.filter_map(Result::ok).filter_map(inode).collect())
}

/// How many sockets `pid` holds open (file descriptors that are sockets), or `None` once it
/// is gone: not moved by a database pool opening another file.
pub fn socket_count(pid: u32) -> Option<usize> {
    socket_inodes(pid).map(|inodes| inodes.len())
}

/// The TCP ports `pid` listens on (IPv4 and IPv6), ascending, or `None` once it is gone: the
/// inodes of its socket descriptors matched against the LISTEN rows of its network
/// namespace's `/proc/<pid>/net/tcp` and `tcp6`.
pub fn listening_ports(pid: u32) -> Option<Vec<u16>> {
    let inodes: std::collections::HashSet<u64> = socket_inodes(pid)?.into_iter().collect();
    let mut ports = Vec::new();
    for table in ["tcp", "tcp6"] {
        // No tcp6 table on a kernel without IPv6.
        let Ok(text) = std::fs::read_to_string(proc_dir(pid).join("net").join(table)) else {
            continue;
        };
        // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ..."
        for row in text.lines().skip(1) {
            let fields: Vec<&str> = row.split_whitespace().collect();
            let listening = fields.get(3) == Some(&"0A");
            let ours = fields
                .get(9)
                .and_then(|i| i.parse::<u64>().ok())
                .is_some_and(|i| inodes.contains(&i));
            let port = fields
                .get(1)
                .and_then(|local| local.rsplit_once(':'))
                .and_then(|(_, port)| u16::from_str_radix(port, 16).ok());
            if let (true, true, Some(port)) = (listening, ours, port) {
                ports.push(port);
            }
        }
    }
    ports.sort_unstable();
    ports.dedup();
    Some(ports)
}

/// The hard `RLIMIT_NOFILE` of this process (from `/proc/self/limits`).
pub fn nofile_hard() -> Option<u64> {
    nofile(4)
}

/// Word `at` of the `Max open files <soft> <hard> files` line of `/proc/self/limits`.
fn nofile(at: usize) -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(at)?.parse().ok()
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
    nofile(3)
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("no {field} in {path}")]
    Missing { field: &'static str, path: String },
}

fn read(path: String) -> Result<(String, String), Error> {
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((text, path)),
        Err(source) => Err(Error::Read { path, source }),
    }
}

/// A process's memory, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    pub rss_kib: u64,
    pub pss_kib: u64,
}

/// Resident and proportional set size of `pid`, from /proc/PID/smaps_rollup.
pub fn memory(pid: u32) -> Result<Memory, Error> {
    let (text, path) = read(format!("/proc/{pid}/smaps_rollup"))?;
    let field = |name: &'static str| {
        kib_field(&text, name).ok_or(Error::Missing {
            field: name,
            path: path.clone(),
        })
    };
    Ok(Memory {
        rss_kib: field("Rss:")?,
        pss_kib: field("Pss:")?,
    })
}

/// The clock ticks per second of /proc/PID/stat (USER_HZ): the kernel's `AT_CLKTCK` from this
/// process's auxiliary vector (64-bit entries), or the usual 100.
pub fn clock_ticks_per_second() -> u64 {
    const AT_CLKTCK: u64 = 17;
    std::fs::read("/proc/self/auxv")
        .ok()
        .and_then(|auxv| {
            auxv.chunks_exact(16).find_map(|entry| {
                let (key, value) = entry.split_at(8);
                let key = u64::from_ne_bytes(key.try_into().ok()?);
                let value = u64::from_ne_bytes(value.try_into().ok()?);
                (key == AT_CLKTCK && value > 0).then_some(value)
            })
        })
        .unwrap_or(100)
}

/// User + system CPU seconds used by `pid` (all its threads) so far.
pub fn cpu_seconds(pid: u32) -> Result<f64, Error> {
    Ok(cpu_ticks(pid)? as f64 / clock_ticks_per_second() as f64)
}

/// User + system CPU time used by `pid` (all its threads, live and exited), in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64, Error> {
    let (text, path) = read(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after its `)` are fixed.
    let after = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or(Error::Missing {
            field: "comm",
            path: path.clone(),
        })?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After `)`: state is index 0, utime is field 14 overall → index 11, stime → 12.
    let tick = |i: usize, field| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or(Error::Missing {
                field,
                path: path.clone(),
            })
    };
    Ok(tick(11, "utime")? + tick(12, "stime")?)
}

/// Per thread of this process: (on-CPU ns, times scheduled in), from
/// `/proc/self/task/*/schedstat`; empty off Linux.
pub fn thread_schedstats() -> std::collections::HashMap<u64, (u64, u64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Default::default();
    };
    tasks
        .filter_map(|task| {
            let task = task.ok()?;
            let tid: u64 = task.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let mut fields = stat.split_whitespace();
            let run_ns: u64 = fields.next()?.parse().ok()?;
            let slices: u64 = fields.nth(1)?.parse().ok()?;
            Some((tid, (run_ns, slices)))
        })
        .collect()
}

/// TCP sockets in use and kernel memory held by TCP buffers, machine-wide (/proc/net/sockstat).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SockStat {
    pub tcp_inuse: u64,
    /// `mem` of the TCP line, in KiB (the kernel counts pages; 4 KiB here).
    pub tcp_mem_kib: u64,
}

pub fn sockstat() -> Result<SockStat, Error> {
    let (text, path) = read("/proc/net/sockstat".to_owned())?;
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("TCP:"))
        .ok_or(Error::Missing {
            field: "TCP",
            path: path.clone(),
        })?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let value = |name: &'static str| {
        words
            .iter()
            .position(|w| *w == name)
            .and_then(|i| words.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or(Error::Missing {
                field: name,
                path: path.clone(),
            })
    };
    Ok(SockStat {
        tcp_inuse: value("inuse")?,
        tcp_mem_kib: value("mem")? * 4,
    })
}

/// Connections the kernel dropped because a listener's accept queue was full, machine-wide
/// since boot (`TcpExt: ListenOverflows` of /proc/net/netstat).
pub fn listen_overflows() -> Result<u64, Error> {
    let (text, path) = read("/proc/net/netstat".to_owned())?;
    let mut tcp_ext = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (tcp_ext.next(), tcp_ext.next()) else {
        return Err(Error::Missing {
            field: "TcpExt",
            path,
        });
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "ListenOverflows")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or(Error::Missing {
            field: "ListenOverflows",
            path,
        })
}

/// The machine the numbers came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu: String,
    pub kernel: String,
}

impl Machine {
    /// Reads what Linux tells; fields it cannot read are "unknown".
    pub fn detect() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        Self {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            kernel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() -> Result<(), Error> {
        let me = std::process::id();
        let mem = memory(me)?;
        assert!(mem.rss_kib > 0 && mem.pss_kib > 0, "{mem:?}");
        assert!(cpu_seconds(me)? >= 0.0);
        assert!(clock_ticks_per_second() > 0);
        let _ = sockstat()?;
        let _ = listen_overflows()?;
        Ok(())
    }
}
