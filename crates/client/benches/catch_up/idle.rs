//! The connected client at rest: this process's CPU time over a quiet window, from the kernel's
//! clock ticks and, per thread, from the scheduler. The relay is another process (or, in the
//! self-check, idle too), so what is counted is the client session.

use std::time::{Duration, Instant};

use natter_client::session::{AppEvents, ConnectionView, Session};
use natter_testkit::procfs;

use crate::report::IdleReport;

/// Quiet time after the last catch-up before the window opens: the catch-up's tail (cache
/// writes, the first liveness tick) passes first.
const SETTLE: Duration = Duration::from_secs(1);

/// Counts events for `window` (or until the stream ends).
async fn drain(events: &mut AppEvents, window: Duration) -> u64 {
    let end = tokio::time::sleep(window);
    tokio::pin!(end);
    let mut count = 0;
    loop {
        tokio::select! {
            _ = &mut end => return count,
            event = events.recv() => match event {
                Some(_) => count += 1,
                None => return count,
            },
        }
    }
}

/// Leaves the connected session alone for `window` and counts the process's CPU time.
pub async fn measure(session: &Session, mut events: AppEvents, window: Duration) -> IdleReport {
    drain(&mut events, SETTLE).await;
    let ticks = procfs::clock_ticks_per_second();
    let threads_before = procfs::thread_schedstats();
    let before = procfs::cpu_ticks(std::process::id()).ok();
    let started = Instant::now();
    let count = drain(&mut events, window).await;
    let seconds = started.elapsed().as_secs_f64();
    let after = procfs::cpu_ticks(std::process::id()).ok();
    let threads_after = procfs::thread_schedstats();
    let (mut run_ns, mut wakeups) = (0u64, 0u64);
    for (tid, (ns, slices)) in &threads_after {
        let (ns0, slices0) = threads_before.get(tid).copied().unwrap_or_default();
        run_ns += ns.saturating_sub(ns0);
        wakeups += slices.saturating_sub(slices0);
    }
    let threads_exited = threads_before
        .keys()
        .filter(|tid| !threads_after.contains_key(*tid))
        .count();
    let thread_cpu_ms = run_ns as f64 / 1e6;
    let cpu_seconds = match (before, after) {
        (Some(b), Some(a)) => a.saturating_sub(b) as f64 / ticks as f64,
        _ => f64::NAN,
    };
    IdleReport {
        seconds,
        cpu_seconds,
        cpu_seconds_per_minute: cpu_seconds * 60.0 / seconds,
        clock_ticks_per_second: ticks,
        thread_cpu_ms,
        thread_cpu_ms_per_minute: thread_cpu_ms * 60.0 / seconds,
        thread_wakeups: wakeups,
        thread_wakeups_per_minute: wakeups as f64 * 60.0 / seconds,
        threads_before: threads_before.len(),
        threads_after: threads_after.len(),
        threads_exited,
        events: count,
        connected_at_end: matches!(session.connection_view(), ConnectionView::Connected { .. }),
    }
}
