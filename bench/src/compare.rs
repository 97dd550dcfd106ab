//! `natter-bench compare`: every scenario against every system, in one run on one machine.
//! Scenario by scenario, each system gets a fresh server process (so one scenario's heap or
//! database never weighs on the next), the systems taking turns so slow drifts of the machine
//! spread over all of them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::peers::{Programs, Server, System};
use crate::report::Machine;
use crate::scenarios::crowd::{self, CrowdOptions, DensityReport, StormReport};
use crate::scenarios::fanout::{self, FanoutOptions, FanoutReport};
use crate::scenarios::floor;
use crate::scenarios::latency::{self, LatencyOptions, LatencyReport};
use crate::scenarios::mix::ChangeMix;
use crate::scenarios::throughput::{self, ThroughputOptions, ThroughputReport};
use crate::scenarios::Error;
use crate::stats::Summary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Quiet round trip: one send at a time, emit → ack, beside the TCP floor.
    Quiet,
    /// Durable sends: C clients, one send in flight each, a room each.
    Durable,
    /// Room fan-out: a rising open-loop load until p99 > the limit.
    Fanout,
    /// Idle density, then the reconnect storm on the same crowd.
    Crowd,
}

impl Scenario {
    pub const ALL: [Self; 4] = [Self::Quiet, Self::Durable, Self::Fanout, Self::Crowd];
}

/// What to compare and how, and the flags of `natter-bench compare` that say so.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareOptions {
    /// Systems to measure (repeat the flag; default: all three).
    #[arg(long = "system", value_enum)]
    pub systems: Vec<System>,
    /// Scenarios to run (repeat the flag; default: all).
    #[arg(long = "scenario", value_enum)]
    pub scenarios: Vec<Scenario>,
    #[command(flatten)]
    pub quiet: LatencyOptions,
    #[command(flatten)]
    pub durable: ThroughputOptions,
    /// Durable sends: runs per system, the systems taking turns; the median run is the result
    /// (one 10 s window moves by ±5% with the machine's other load).
    #[arg(long, default_value_t = 3)]
    pub durable_runs: usize,
    #[command(flatten)]
    pub fanout: FanoutOptions,
    #[command(flatten)]
    pub crowd: CrowdOptions,
    /// Fan-out: the load (deliveries/s) at which latency under load is compared; one of the
    /// steps (start rate × 2^k).
    #[arg(long, default_value_t = 10_000.0)]
    pub load_rate: f64,
    /// Worker threads of the load generator (it shares the machine with the servers).
    #[arg(long = "threads", default_value_t = 1)]
    pub bench_threads: usize,
    #[command(flatten)]
    pub mix: ChangeMix,
}

impl CompareOptions {
    /// No `--system` or `--scenario` means all of them.
    fn or_all(mut self) -> Self {
        if self.systems.is_empty() {
            self.systems = System::ALL.to_vec();
        }
        if self.scenarios.is_empty() {
            self.scenarios = Scenario::ALL.to_vec();
        }
        self.durable.mix = self.mix;
        self.fanout.mix = self.mix;
        self
    }
}

/// One system's results; a scenario that failed leaves its error instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemResults {
    pub system: System,
    pub label: String,
    pub quiet: Option<LatencyReport>,
    /// Every durable-sends run, in the order they ran; [`SystemResults::durable`] picks one.
    pub durable_runs: Vec<ThroughputReport>,
    pub fanout: Option<FanoutReport>,
    pub density: Option<DensityReport>,
    pub storm: Option<StormReport>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub machine: Machine,
    /// UTC, RFC 3339.
    pub date: String,
    /// The 1-byte TCP echo floor measured in this run, before the quiet round trips.
    pub floor: Option<Summary>,
    pub floor_curve: Vec<(f64, f64)>,
    pub load_rate: f64,
    pub bench_threads: usize,
    /// /proc/loadavg (1, 5, 15 minutes) when the run began and ended: other work on the
    /// machine meanwhile shows here.
    pub load_average_before: String,
    pub load_average_after: String,
    pub systems: Vec<SystemResults>,
}

impl SystemResults {
    /// Nothing measured yet.
    pub fn new(system: System) -> Self {
        Self {
            system,
            label: system.label().to_owned(),
            quiet: None,
            durable_runs: Vec::new(),
            fanout: None,
            density: None,
            storm: None,
            errors: Vec::new(),
        }
    }

    /// The median durable-sends run by sends/s (of an even count, the lower of the middle two).
    pub fn durable(&self) -> Option<&ThroughputReport> {
        let mut runs: Vec<&ThroughputReport> = self.durable_runs.iter().collect();
        runs.sort_by(|a, b| a.sends_per_second.total_cmp(&b.sends_per_second));
        runs.get(runs.len().saturating_sub(1) / 2).copied()
    }
}

impl Comparison {
    pub fn get(&self, system: System) -> Option<&SystemResults> {
        self.systems.iter().find(|s| s.system == system)
    }
}

/// Runs `opts.scenarios` against `opts.systems`; a scenario that fails for one system is
/// recorded as an error and the run goes on.
pub async fn run(programs: &Programs, opts: &CompareOptions) -> Result<Comparison, Error> {
    let opts = &opts.clone().or_all();
    let mut systems: Vec<SystemResults> = opts
        .systems
        .iter()
        .map(|&s| SystemResults::new(s))
        .collect();
    let load_average_before = load_average();
    let mut floor_summary = None;
    let mut floor_curve = Vec::new();
    for &scenario in &opts.scenarios {
        if scenario == Scenario::Quiet {
            let rec = floor::tcp_echo_recorded(opts.quiet.messages, opts.quiet.warmup)
                .await
                .map_err(|e| Error::Setup(format!("TCP floor: {e}")))?;
            floor_summary = Some(rec.summary());
            floor_curve = rec.curve();
        }
        let rounds = match scenario {
            Scenario::Durable => opts.durable_runs.max(1),
            _ => 1,
        };
        for _ in 0..rounds {
            for results in &mut systems {
                eprintln!("natter-bench: {scenario:?} against {}", results.label);
                if let Err(e) = one(programs, opts, scenario, results).await {
                    eprintln!(
                        "natter-bench: {scenario:?} against {} failed: {e}",
                        results.label
                    );
                    results.errors.push(format!("{scenario:?}: {e}"));
                }
                // Let the closed sockets leave TIME_WAIT accounting and the machine settle.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    Ok(Comparison {
        machine: Machine::detect(),
        date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        floor: floor_summary,
        floor_curve,
        load_rate: opts.load_rate,
        bench_threads: opts.bench_threads,
        load_average_before,
        load_average_after: load_average(),
        systems,
    })
}

/// The first three fields of /proc/loadavg, or "unknown".
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

async fn one(
    programs: &Programs,
    opts: &CompareOptions,
    scenario: Scenario,
    results: &mut SystemResults,
) -> Result<(), Error> {
    let mixed = matches!(scenario, Scenario::Durable | Scenario::Fanout);
    let natter = matches!(results.system, System::Natter | System::NatterCluster);
    if opts.mix.percent > 0 && mixed && !natter {
        return Err(Error::Setup(
            "--change-share: only Natter's relay knows reactions and edits".into(),
        ));
    }
    let server = Server::start(results.system, programs)
        .await
        .map_err(|e| Error::Setup(e.to_string()))?;
    let target = server.target().clone();
    let pids = server.pids();
    let outcome = async {
        match scenario {
            Scenario::Quiet => results.quiet = Some(latency::run(&target, opts.quiet).await?),
            Scenario::Durable => {
                let report = throughput::run(&target, opts.durable).await?;
                results.durable_runs.push(report);
            }
            Scenario::Fanout => {
                results.fanout = Some(fanout::run(&target, &pids, opts.fanout).await?);
            }
            Scenario::Crowd => {
                let (density, storm) = crowd::run(&target, &pids, opts.crowd).await?;
                results.density = Some(density);
                results.storm = Some(storm);
            }
        }
        Ok::<_, Error>(())
    }
    .await;
    server.stop().await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(sends_per_second: f64) -> ThroughputReport {
        ThroughputReport {
            sends_per_second,
            ..ThroughputReport::default()
        }
    }

    fn results(runs: &[f64]) -> SystemResults {
        SystemResults {
            durable_runs: runs.iter().map(|&r| run_of(r)).collect(),
            ..SystemResults::new(System::Natter)
        }
    }

    fn median(runs: &[f64]) -> Option<f64> {
        results(runs).durable().map(|d| d.sends_per_second)
    }

    #[test]
    fn the_durable_result_is_the_median_run() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[21.0, 19.0, 20.0]), Some(20.0));
        // An even count takes the lower of the middle two, never a better number than ran.
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.0));
    }
}
