//! natter-bench: parse flags, start (or reach) the relay, run the scenarios, print the table.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use natter_bench::compare::{self, CompareOptions, Scenario as CompareScenario};
use natter_bench::docs;
use natter_bench::peers::{Programs, System};
use natter_bench::relay::{ChildRelay, Target};
use natter_bench::report::{Machine, Report};
use natter_bench::scenarios::client::{self, ChildRelays, ClientOptions, ClientReport};
use natter_bench::scenarios::crowd::CrowdOptions;
use natter_bench::scenarios::fanout::FanoutOptions;
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
    /// Every scenario against the Natter relay, Node socket.io and bare socketioxide, side by
    /// side in one run; optionally regenerates docs/benchmarks.md and its plots.
    Compare(CompareArgs),
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

#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// Systems to measure (repeat the flag; default: all three).
    #[arg(long = "system", value_enum)]
    systems: Vec<System>,
    /// Scenarios to run (repeat the flag; default: all).
    #[arg(long = "scenario", value_enum)]
    scenarios: Vec<CompareScenario>,
    /// Quiet round trip: measured sends (after a tenth as many warm-up sends).
    #[arg(long, default_value_t = 2_000)]
    messages: usize,
    /// Durable sends: clients, one send in flight each.
    #[arg(long, default_value_t = 50)]
    durable_clients: usize,
    /// Durable sends: measured window, seconds (after a 2 s warm-up).
    #[arg(long, default_value_t = 10.0)]
    durable_seconds: f64,
    /// Durable sends: runs per system, the systems taking turns; the median run is reported.
    #[arg(long, default_value_t = 3)]
    durable_runs: usize,
    /// Fan-out: rooms.
    #[arg(long, default_value_t = 10)]
    rooms: usize,
    /// Fan-out: sockets per room.
    #[arg(long, default_value_t = 100)]
    members: usize,
    /// Fan-out: sockets per user.
    #[arg(long, default_value_t = 10)]
    fanout_sockets_per_user: usize,
    /// Fan-out: seconds per load step.
    #[arg(long, default_value_t = 3.0)]
    step_seconds: f64,
    /// Fan-out: the first step's deliveries/s (then doubling).
    #[arg(long, default_value_t = 2_500.0)]
    start_rate: f64,
    /// Fan-out: doubling steps at most.
    #[arg(long, default_value_t = 9)]
    max_steps: usize,
    /// Fan-out: the load (deliveries/s) at which latency under load is compared; one of the
    /// steps (start rate × 2^k).
    #[arg(long, default_value_t = 10_000.0)]
    load_rate: f64,
    /// Density and storm: idle connections.
    #[arg(long, default_value_t = 5_000)]
    connections: usize,
    /// Density and storm: sockets per user.
    #[arg(long, default_value_t = 100)]
    crowd_sockets_per_user: usize,
    /// Storm: each client reconnects after a random delay below this, in ms.
    #[arg(long, default_value_t = 500)]
    storm_jitter_ms: u64,
    /// Storm: clients not re-joined this many seconds after the drop are lost.
    #[arg(long, default_value_t = 30)]
    storm_deadline_seconds: u64,
    /// The relay binary (default: natter-relay next to this binary).
    #[arg(long)]
    relay_bin: Option<PathBuf>,
    /// The socketioxide peer (default: natter-peer-socketioxide next to this binary).
    #[arg(long)]
    sioxide_bin: Option<PathBuf>,
    /// The Node peer's directory (default: bench/peers/node of this source tree).
    #[arg(long)]
    node_dir: Option<PathBuf>,
    /// Write the raw results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Regenerate the results section of this docs/benchmarks.md, with the JSON and the SVG
    /// plots in the bench/ directory beside it.
    #[arg(long)]
    docs: Option<PathBuf>,
    /// Worker threads of the load generator (it shares the machine with the servers).
    #[arg(long, default_value_t = 1)]
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
        Command::Compare(args) => runtime(args.threads)?.block_on(compare(args)),
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

async fn compare(args: CompareArgs) -> anyhow::Result<()> {
    // Many sockets: the soft open-file limit up to the hard one (the servers inherit it).
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("natter-bench: cannot raise the open-file limit: {e}");
    }
    let exe = std::env::current_exe().context("cannot find this binary")?;
    let mut programs = Programs::beside(&exe);
    if let Some(bin) = args.relay_bin {
        programs.relay = bin;
    }
    if let Some(bin) = args.sioxide_bin {
        programs.sioxide = bin;
    }
    if let Some(dir) = args.node_dir {
        programs.node_dir = dir;
    }
    let opts = CompareOptions {
        systems: if args.systems.is_empty() {
            System::ALL.to_vec()
        } else {
            args.systems
        },
        scenarios: if args.scenarios.is_empty() {
            CompareScenario::ALL.to_vec()
        } else {
            args.scenarios
        },
        quiet: LatencyOptions {
            messages: args.messages,
            warmup: args.messages / 10,
        },
        durable: ThroughputOptions {
            clients: args.durable_clients,
            seconds: seconds(args.durable_seconds, "--durable-seconds")?,
            warmup: Duration::from_secs(2),
            shared_room: false,
        },
        durable_runs: args.durable_runs,
        fanout: FanoutOptions {
            rooms: args.rooms,
            members: args.members,
            sockets_per_user: args.fanout_sockets_per_user,
            step_seconds: args.step_seconds,
            start_rate: args.start_rate,
            max_steps: args.max_steps,
            ..FanoutOptions::default()
        },
        crowd: CrowdOptions {
            connections: args.connections,
            sockets_per_user: args.crowd_sockets_per_user,
            jitter: Duration::from_millis(args.storm_jitter_ms),
            deadline: Duration::from_secs(args.storm_deadline_seconds),
            ..CrowdOptions::default()
        },
        load_rate: args.load_rate,
        bench_threads: args.threads,
    };
    let comparison = compare::run(&programs, &opts).await.context("compare")?;
    println!("{}", docs::tables(&comparison));
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&comparison)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.docs {
        docs::write(&comparison, path).context("cannot regenerate the docs")?;
    }
    Ok(())
}

fn seconds(s: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).with_context(|| format!("{flag} must be a positive number"))
}
