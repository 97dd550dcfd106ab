//! Room fan-out: the options, the report and the ladder of steps; the method is
//! docs/benchmarks.md's (Scenarios: `fanout`). On several nodes the rooms' senders and their
//! sockets take the nodes in turn, so most deliveries cross nodes; server CPU is every node's,
//! not Redis's or PostgreSQL's. A step where the bench used its whole core measured the bench,
//! and is marked so. [`setup`] fills the rooms and starts a task per socket, [`step`] runs one
//! step, [`receive`] and [`send`] are the sockets' tasks.

mod receive;
mod send;
mod setup;
mod step;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::mix::ChangeMix;
use super::Error;
use crate::relay::Target;
use crate::stats::Summary;

/// Longest wait for a step's last deliveries after its senders stopped.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// Bodies of this scenario start so: `fo STEP NANOS N`.
const TAG: &str = "fo";

/// The fan-out's options, and their flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct FanoutOptions {
    /// Fan-out: rooms.
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    /// Fan-out: sockets per room (the sender included).
    #[arg(long, default_value_t = 100)]
    pub members: usize,
    /// Fan-out: sockets per user.
    #[arg(
        id = "fanout_sockets_per_user",
        long = "fanout-sockets-per-user",
        default_value_t = 10
    )]
    pub sockets_per_user: usize,
    /// Fan-out: seconds per load step.
    #[arg(long, default_value_t = 3.0)]
    pub step_seconds: f64,
    /// Fan-out: the first step's offered deliveries/s (then doubling).
    #[arg(long, default_value_t = 2_500.0)]
    pub start_rate: f64,
    /// Fan-out: doubling steps at most (two bisection steps come on top).
    #[arg(long, default_value_t = 9)]
    pub max_steps: usize,
    /// The share of sends that are edits (`--change-share`, set by the caller).
    #[arg(skip)]
    pub mix: ChangeMix,
    /// A step passes only with its delivery p99 at most this.
    #[arg(skip = Duration::from_millis(50))]
    pub p99_limit: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// Offered load: deliveries/s (sends/s × members).
    pub offered: f64,
    pub sends: u64,
    pub acked_ok: u64,
    pub errors: u64,
    /// acked_ok × members.
    pub expected_deliveries: u64,
    pub delivered: u64,
    /// Deliveries of this step read after its drain ended (not counted as delivered).
    pub late: u64,
    /// Delivered / step seconds.
    pub deliveries_per_second: f64,
    /// Broadcasts that arrived after one with a higher seq of the same room.
    pub out_of_order: u64,
    pub latency: Summary,
    pub latency_curve: Vec<(f64, f64)>,
    pub server_cpu_seconds: f64,
    pub bench_cpu_seconds: f64,
    pub wall_seconds: f64,
    /// Server CPU-seconds per million deliveries.
    pub cpu_per_million: f64,
    pub bench_bound: bool,
    /// Senders the server had closed by the end of this step (the step fails; they connect
    /// again before the next one).
    pub senders_closed: u64,
    pub pass: bool,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FanoutReport {
    pub rooms: usize,
    pub members: usize,
    pub users: usize,
    pub step_seconds: f64,
    pub p99_limit_ms: f64,
    pub steps: Vec<Step>,
    /// Index in `steps` of the highest delivered rate that passed.
    pub best: Option<usize>,
}

impl FanoutReport {
    pub fn best_step(&self) -> Option<&Step> {
        self.best.and_then(|i| self.steps.get(i))
    }

    /// The step at `offered` deliveries/s, if one ran.
    pub fn at(&self, offered: f64) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| (s.offered - offered).abs() < 0.5)
    }
}

/// Fills the rooms, then climbs the ladder of steps.
pub async fn run(
    target: &Target,
    pids: &[u32],
    opts: FanoutOptions,
) -> Result<FanoutReport, Error> {
    if pids.is_empty() {
        return Err(Error::Setup("the server's pid is unknown".into()));
    }
    if opts.rooms == 0 || opts.members == 0 || opts.sockets_per_user == 0 {
        return Err(Error::Setup(
            "rooms, members and sockets per user must be > 0".into(),
        ));
    }
    if !opts.members.is_multiple_of(opts.sockets_per_user) {
        return Err(Error::Setup(
            "members must be a multiple of sockets per user".into(),
        ));
    }
    let mut running = setup::start(target, &opts).await?;
    let mut steps: Vec<Step> = Vec::new();
    let mut rate = opts.start_rate;
    let mut pass_rate: Option<f64> = None;
    let mut fail_rate: Option<f64> = None;
    let mut bisections = 0;
    for index in 0..opts.max_steps + 2 {
        let sends_per_room = rate / opts.members as f64 / opts.rooms as f64;
        let step = step::run(
            index,
            rate,
            sends_per_room,
            &opts,
            pids,
            &running.shared,
            &running.orders,
            &mut running.tallies,
        )
        .await?;
        let passed = step.pass;
        steps.push(step);
        if passed {
            pass_rate = Some(rate);
        } else {
            fail_rate = Some(rate);
        }
        rate = match (pass_rate, fail_rate) {
            (Some(_), None) if index + 1 < opts.max_steps => rate * 2.0,
            (Some(p), Some(f)) if bisections < 2 && f > p * 1.15 => {
                bisections += 1;
                (p * f).sqrt()
            }
            _ => break,
        };
    }
    let users = running.users;
    running.finish().await?;
    let best = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.pass)
        .max_by(|a, b| {
            a.1.deliveries_per_second
                .total_cmp(&b.1.deliveries_per_second)
        })
        .map(|(i, _)| i);
    Ok(FanoutReport {
        rooms: opts.rooms,
        members: opts.members,
        users,
        step_seconds: opts.step_seconds,
        p99_limit_ms: opts.p99_limit.as_secs_f64() * 1_000.0,
        steps,
        best,
    })
}
