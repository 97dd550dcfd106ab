//! One step of the ladder: open it, order the senders, collect their tallies, wait (bounded)
//! for the deliveries, read the CPU used, and judge it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use natter_testkit::procfs;
use tokio::sync::{mpsc, watch};

use super::{FanoutOptions, Step, DRAIN_TIMEOUT};
use crate::scenarios::Error;
use crate::stats::Recorder;

/// How long a step waits for senders that missed their report time before giving up.
const LATE_TALLIES: Duration = Duration::from_secs(60);

/// Counters shared by every socket's task; swapped out at the end of each step.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) step: AtomicUsize,
    pub(super) base: Instant,
    pub(super) delivered: AtomicU64,
    pub(super) late: AtomicU64,
    pub(super) out_of_order: AtomicU64,
    pub(super) latency: Mutex<Recorder>,
}

/// What each sender is told: (step, sends/s for its room, until).
pub(super) type Order = Option<(usize, f64, Instant)>;

#[derive(Debug, Default)]
pub(super) struct SenderTally {
    pub(super) sends: u64,
    pub(super) acked_ok: u64,
    pub(super) errors: u64,
    /// Senders whose connection the server closed (e.g. engineioxide closes a socket whose
    /// outgoing queue is full when a ping is due, or whose ping went unanswered).
    pub(super) closed: u64,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    index: usize,
    offered: f64,
    sends_per_room: f64,
    opts: &FanoutOptions,
    pids: &[u32],
    shared: &Shared,
    orders: &watch::Sender<Order>,
    tallies: &mut mpsc::UnboundedReceiver<SenderTally>,
) -> Result<Step, Error> {
    let cpu = |pids: &[u32]| {
        pids.iter()
            .map(|&p| procfs::cpu_seconds(p).map_err(|e| Error::Setup(e.to_string())))
            .sum::<Result<f64, Error>>()
    };
    let own = || cpu(&[std::process::id()]);
    // Reset the counters, then open the step.
    shared.delivered.store(0, Ordering::SeqCst);
    shared.late.store(0, Ordering::SeqCst);
    shared.out_of_order.store(0, Ordering::SeqCst);
    *shared.latency.lock().unwrap_or_else(|e| e.into_inner()) = Recorder::new();
    shared.step.store(index, Ordering::SeqCst);
    let (server0, bench0, start) = (cpu(pids)?, own()?, Instant::now());
    let until = start + Duration::from_secs_f64(opts.step_seconds);
    let _ = orders.send(Some((index, sends_per_room, until)));
    let mut tally = SenderTally::default();
    // Each sender reports by the end of its step plus the drain; one that reports later was
    // starved by the bench's own saturated thread: the step fails rather than the scenario
    // (the next tallies must still be this step's, so wait for them, within a bound).
    let on_time = tokio::time::Instant::now()
        + Duration::from_secs_f64(opts.step_seconds)
        + DRAIN_TIMEOUT * 2;
    let mut senders_late = false;
    for _ in 0..opts.rooms {
        let t = match tokio::time::timeout_at(on_time, tallies.recv()).await {
            Ok(t) => t,
            Err(_) => {
                senders_late = true;
                tokio::time::timeout(LATE_TALLIES, tallies.recv())
                    .await
                    .map_err(|_| Error::Timeout("the fan-out senders"))?
            }
        }
        .ok_or_else(|| Error::Setup("a fan-out sender stopped".into()))?;
        tally.sends += t.sends;
        tally.acked_ok += t.acked_ok;
        tally.errors += t.errors;
        tally.closed += t.closed;
    }
    let expected = tally.acked_ok * opts.members as u64;
    let drain_until = Instant::now() + DRAIN_TIMEOUT;
    while shared.delivered.load(Ordering::SeqCst) < expected && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Close the step: later deliveries count as late.
    shared.step.store(usize::MAX - 1 - index, Ordering::SeqCst);
    let wall = start.elapsed().as_secs_f64();
    let (server1, bench1) = (cpu(pids)?, own()?);
    let delivered = shared.delivered.load(Ordering::SeqCst);
    let recorder = std::mem::take(&mut *shared.latency.lock().unwrap_or_else(|e| e.into_inner()));
    let latency = recorder.summary();
    let server_cpu = server1 - server0;
    let bench_cpu = bench1 - bench0;
    let bench_bound = bench_cpu >= 0.9 * wall;
    let p99_ok = latency.p99_us <= opts.p99_limit.as_secs_f64() * 1e6;
    let verdict = if tally.closed > 0 {
        format!("the server closed {} sender(s)", tally.closed)
    } else if senders_late {
        "the bench fell behind (senders reported late)".to_owned()
    } else if tally.errors > 0 {
        format!("{} sends refused", tally.errors)
    } else if tally.acked_ok < tally.sends {
        format!("{} sends not acked", tally.sends - tally.acked_ok)
    } else if (delivered as f64) < 0.99 * expected as f64 {
        format!("{delivered} of {expected} deliveries arrived")
    } else if !p99_ok {
        format!("p99 {:.1} ms over the limit", latency.p99_us / 1_000.0)
    } else {
        "pass".to_owned()
    };
    let delivered_f = delivered as f64;
    Ok(Step {
        offered,
        sends: tally.sends,
        acked_ok: tally.acked_ok,
        errors: tally.errors,
        expected_deliveries: expected,
        delivered,
        late: shared.late.load(Ordering::SeqCst),
        deliveries_per_second: delivered_f / opts.step_seconds,
        out_of_order: shared.out_of_order.load(Ordering::SeqCst),
        latency,
        latency_curve: recorder.curve(),
        server_cpu_seconds: server_cpu,
        bench_cpu_seconds: bench_cpu,
        wall_seconds: wall,
        cpu_per_million: if delivered > 0 {
            server_cpu / delivered_f * 1e6
        } else {
            0.0
        },
        bench_bound,
        senders_closed: tally.closed,
        pass: verdict == "pass",
        verdict,
    })
}
