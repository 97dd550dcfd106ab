//! natter-bench: parse flags, start (or reach) the relay, run the scenarios, print the table.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use natter_bench::relay::{ChildRelay, Target};
use natter_bench::report::{Machine, Report};
use natter_bench::scenarios::client::{self, ChildRelays, ClientOptions, ClientReport};
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
    /// Measure the desktop client core (natter-client): catch-up after a relay restart, and
    /// its CPU use while connected and idle.
    Client(ClientArgs),
}

#[derive(Debug, clap::Args)]
struct ClientArgs {
    /// Messages sent while the client is away, caught up after the relay restart.
    #[arg(long, default_value_t = 1_000)]
    messages: usize,
    /// Catch-up runs, each with a fresh relay database and a fresh profile.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// The idle window after the last run, in seconds (0: skip).
    #[arg(long, default_value_t = 30.0)]
    idle_seconds: f64,
    /// The relay binary to start (default: natter-relay next to this binary).
    #[arg(long)]
    relay_bin: Option<PathBuf>,
    /// Write the raw results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Worker threads of the runtime the client session runs on.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

/// What `natter-bench client` prints and writes.
#[derive(Debug, serde::Serialize)]
struct ClientRun {
    machine: Machine,
    relay: String,
    threads: usize,
    client: ClientReport,
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
    match Cli::parse().command {
        Command::Relay(args) => runtime(args.threads)?.block_on(relay(args)),
        Command::Client(args) => runtime(args.threads)?.block_on(client(args)),
    }
}

fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
}

/// The relay binary to start: `--relay-bin`, or natter-relay next to this binary.
fn relay_bin(given: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(bin) => Ok(bin.clone()),
        None => Ok(std::env::current_exe()
            .context("cannot find this binary")?
            .with_file_name("natter-relay")),
    }
}

async fn client(args: ClientArgs) -> anyhow::Result<()> {
    let bin = relay_bin(args.relay_bin.as_ref())?;
    let opts = ClientOptions {
        messages: args.messages,
        runs: args.runs,
        idle: if args.idle_seconds == 0.0 {
            Duration::ZERO
        } else {
            seconds(args.idle_seconds, "--idle-seconds")?
        },
    };
    let mut relays = ChildRelays::new(&bin);
    let report = client::run(&mut relays, opts).await.context("client")?;
    let run = ClientRun {
        machine: Machine::detect(),
        relay: bin.display().to_string(),
        threads: args.threads,
        client: report,
    };
    let m = &run.machine;
    println!("relay: {}  ", run.relay);
    println!(
        "machine: {} × {}, Linux {}; client runtime: {} worker threads\n",
        m.nproc, m.cpu, m.kernel, run.threads
    );
    println!("{}", run.client.markdown());
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&run)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

async fn relay(args: RelayArgs) -> anyhow::Result<()> {
    let (child, target, relay) = match &args.url {
        Some(url) => (None, Target::new(url), url.clone()),
        None => {
            let bin = relay_bin(args.relay_bin.as_ref())?;
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
