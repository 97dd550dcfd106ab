//! What one invocation measured, as JSON and as the markdown tables of docs/benchmarks.md.

use std::fmt::Write as _;

use natter_testkit::procfs::Machine;
use serde::Serialize;

/// One catch-up after a relay restart.
#[derive(Debug, Clone, Serialize)]
pub struct CatchUpRun {
    /// Relay killed → the new one listening on the same port (not part of the catch-up time).
    pub relay_restart_ms: f64,
    /// `Session::start` → the first missed message announced.
    pub first_message_ms: f64,
    /// `Session::start` → the last missed message announced (all of them in the cache).
    pub all_messages_ms: f64,
    /// `Session::start` → `connected` announced (the catch-up loop finished: `more` is false).
    pub connected_ms: f64,
    /// Distinct seqs announced, each once and in order (= `messages`).
    pub received: u64,
    /// Messages of the room in the cache afterwards, seqs 1..=N (= `messages`).
    pub cached: usize,
}

/// Median, min and max over the runs, in ms.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.into_iter().collect();
        v.sort_by(f64::total_cmp);
        let median = match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Self {
            median,
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// The connected client at rest.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    pub seconds: f64,
    /// utime + stime of this process over the window (resolution: one clock tick).
    pub cpu_seconds: f64,
    pub cpu_seconds_per_minute: f64,
    /// The kernel's clock ticks per second (`AT_CLKTCK`), i.e. the resolution of `cpu_seconds`.
    pub clock_ticks_per_second: u64,
    /// The same window from the scheduler, per thread (`/proc/self/task/*/schedstat`, ns
    /// precision): on-CPU time of the threads alive at the end (a thread that exited during the
    /// window is not counted, see `threads_exited`).
    pub thread_cpu_ms: f64,
    pub thread_cpu_ms_per_minute: f64,
    /// Times a thread of the process was scheduled in: roughly its wakeups.
    pub thread_wakeups: u64,
    pub thread_wakeups_per_minute: f64,
    /// Threads at the start / the end of the window, and those gone by the end.
    pub threads_before: usize,
    pub threads_after: usize,
    pub threads_exited: usize,
    /// App events during the window (0 when nothing happened: no reconnects, no messages).
    pub events: u64,
    /// Whether the session was still connected at the end.
    pub connected_at_end: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientReport {
    pub messages: usize,
    pub runs: Vec<CatchUpRun>,
    pub all_messages_ms: Spread,
    pub connected_ms: Spread,
    pub first_message_ms: Spread,
    pub relay_restart_ms: Spread,
    pub idle: Option<IdleReport>,
}

impl ClientReport {
    pub fn new(messages: usize, runs: Vec<CatchUpRun>, idle: Option<IdleReport>) -> Self {
        let spread = |f: fn(&CatchUpRun) -> f64| Spread::of(runs.iter().map(f));
        Self {
            messages,
            all_messages_ms: spread(|r| r.all_messages_ms),
            connected_ms: spread(|r| r.connected_ms),
            first_message_ms: spread(|r| r.first_message_ms),
            relay_restart_ms: spread(|r| r.relay_restart_ms),
            runs,
            idle,
        }
    }

    /// The results as markdown tables.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| catch-up of {} missed messages after a relay restart ({} runs) | median | min | max |",
            self.messages,
            self.runs.len()
        );
        out.push_str("|---|---:|---:|---:|\n");
        let rows = [
            (
                "`Session::start` → last missed message in the cache",
                &self.all_messages_ms,
            ),
            (
                "`Session::start` → `connected` (catch-up done)",
                &self.connected_ms,
            ),
            (
                "`Session::start` → first missed message",
                &self.first_message_ms,
            ),
            (
                "relay killed → listening again (not counted above)",
                &self.relay_restart_ms,
            ),
        ];
        for (what, s) in rows {
            let _ = writeln!(
                out,
                "| {what} | {:.0} ms | {:.0} ms | {:.0} ms |",
                s.median, s.min, s.max
            );
        }
        let ok = self
            .runs
            .iter()
            .all(|r| r.received == self.messages as u64 && r.cached == self.messages);
        let _ = writeln!(
            out,
            "\nevery run: {} distinct seqs announced once, in order, and cached: {}",
            self.messages,
            if ok { "yes" } else { "NO" }
        );
        if let Some(idle) = &self.idle {
            out.push_str(
                "\n| idle, connected | window | CPU (utime+stime) | CPU-s per minute \
                 | threads' CPU (schedstat) | per minute | wakeups per minute | events \
                 | connected at end |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
            );
            let _ = writeln!(
                out,
                "| this process (the client) | {:.0} s | {:.2} s | {:.4} | {:.2} ms | {:.2} ms \
                 | {:.0} | {} | {} |",
                idle.seconds,
                idle.cpu_seconds,
                idle.cpu_seconds_per_minute,
                idle.thread_cpu_ms,
                idle.thread_cpu_ms_per_minute,
                idle.thread_wakeups_per_minute,
                idle.events,
                idle.connected_at_end
            );
        }
        out
    }
}

/// What a measuring run prints and writes.
#[derive(Debug, Serialize)]
pub struct ClientRun {
    pub machine: Machine,
    pub relay: String,
    pub threads: usize,
    pub client: ClientReport,
}
