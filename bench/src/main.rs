//! natter-bench: parse flags, start (or reach) the relay, run the scenarios, print the table.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use natter_bench::relay::{ChildRelay, Target};
use natter_bench::report::{Machine, Report};
use natter_bench::scenarios::floor;
use natter_bench::scenarios::latency::{self, LatencyOptions};
use natter_bench::scenarios::throughput::{self, ThroughputOptions};

#[derive(Debug, Parser)]
#[command(
    name = "natter-bench",
    version,
    about = "Load generator for the Natter relay"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure the Natter relay: send latency and durable sends per second.
    Relay(RelayArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Latency,
    Throughput,
    All,
}

#[derive(Debug, clap::Args)]
struct RelayArgs {
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    scenario: Scenario,
    /// Throughput: concurrent clients, each with one send in flight.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Throughput: the measured window, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Throughput: sending before the window opens, in seconds.
    #[arg(long, default_value_t = 2.0)]
    warmup_seconds: f64,
    /// Throughput: all clients in one room (every send fans out to every client).
    #[arg(long)]
    shared_room: bool,
    /// Latency: measured sends.
    #[arg(long, default_value_t = 2_000)]
    messages: usize,
    /// Latency: sends before measuring.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// The relay binary to start (default: natter-relay next to this binary).
    #[arg(long, conflicts_with = "url")]
    relay_bin: Option<PathBuf>,
    /// A running relay to measure instead (host:port or http://host:port); its rate limits
    /// must allow the load.
    #[arg(long)]
    url: Option<String>,
    /// Write the raw results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Worker threads of the load generator (it shares the machine with the relay).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> anyhow::Result<()> {
    let Command::Relay(args) = Cli::parse().command;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(relay(args))
}

async fn relay(args: RelayArgs) -> anyhow::Result<()> {
    let (child, target, relay) = match &args.url {
        Some(url) => (None, Target::new(url), url.clone()),
        None => {
            let bin = match &args.relay_bin {
                Some(bin) => bin.clone(),
                None => std::env::current_exe()
                    .context("cannot find this binary")?
                    .with_file_name("natter-relay"),
            };
            let child = ChildRelay::start(&bin)
                .await
                .with_context(|| format!("cannot start {}", bin.display()))?;
            let target = child.target().clone();
            (Some(child), target, bin.display().to_string())
        }
    };
    let result = measure(&args, &target, relay).await;
    if let Some(child) = child {
        child.stop().await;
    }
    let report = result?;
    println!("{}", report.markdown());
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(t) = &report.throughput {
        if t.errors > 0 {
            bail!(
                "{} sends were refused; first: {}",
                t.errors,
                t.first_error.as_deref().unwrap_or("?")
            );
        }
    }
    Ok(())
}

async fn measure(args: &RelayArgs, target: &Target, relay: String) -> anyhow::Result<Report> {
    let mut report = Report {
        machine: Machine::detect(),
        relay,
        floor: None,
        latency: None,
        throughput: None,
    };
    if matches!(args.scenario, Scenario::Latency | Scenario::All) {
        report.floor = Some(
            floor::tcp_echo(args.messages, args.warmup)
                .await
                .context("TCP echo floor")?,
        );
        let opts = LatencyOptions {
            messages: args.messages,
            warmup: args.warmup,
        };
        report.latency = Some(latency::run(target, opts).await.context("latency")?);
    }
    if matches!(args.scenario, Scenario::Throughput | Scenario::All) {
        let opts = ThroughputOptions {
            clients: args.clients,
            seconds: seconds(args.seconds, "--seconds")?,
            warmup: seconds(args.warmup_seconds, "--warmup-seconds")?,
            shared_room: args.shared_room,
        };
        report.throughput = Some(throughput::run(target, opts).await.context("throughput")?);
    }
    Ok(report)
}

fn seconds(s: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).with_context(|| format!("{flag} must be a positive number"))
}
