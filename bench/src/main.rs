//! natter-bench: parse flags, start (or reach) the relay, run the scenarios, print the table.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use natter_bench::compare::{self, CompareOptions};
use natter_bench::docs;
use natter_bench::peers::{Programs, System};
use natter_bench::relay::{self as relays, Target};
use natter_bench::report::{Machine, Report};
use natter_bench::scenarios::floor;
use natter_bench::scenarios::latency::{self, LatencyOptions};
use natter_bench::scenarios::mix::ChangeMix;
use natter_bench::scenarios::throughput::{self, ThroughputOptions};
use natter_bench::two_nodes;

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
    Compare(Box<CompareArgs>),
    /// Rewrite docs/benchmarks.md's results section and plots from saved `compare` JSON,
    /// without a new run.
    Docs(DocsArgs),
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    #[command(flatten)]
    opts: CompareOptions,
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
    /// plots in the bench/ directory beside it (with `--cluster`: its "Two nodes" section and
    /// bench/cluster.json).
    #[arg(long)]
    docs: Option<PathBuf>,
    /// Two nodes (issue 17): Natter's two relay nodes on PostgreSQL and Redis, Node's two
    /// socket.io nodes with the Redis adapter, and the single relay (SQLite) beside them, unless
    /// `--system` names others. The relay must be built with `--features postgres,redis`.
    #[arg(long)]
    cluster: bool,
}

#[derive(Debug, clap::Args)]
struct DocsArgs {
    /// The page whose results section, plots and JSON are rewritten.
    #[arg(long, default_value = "docs/benchmarks.md")]
    page: PathBuf,
    /// The saved results to render (default: bench/compare.json beside the page).
    #[arg(long)]
    json: Option<PathBuf>,
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
    #[command(flatten)]
    latency: LatencyOptions,
    #[command(flatten)]
    throughput: ThroughputOptions,
    #[command(flatten)]
    mix: ChangeMix,
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
        Command::Compare(args) => runtime(args.opts.bench_threads)?.block_on(compare(*args)),
        Command::Docs(args) => docs_only(&args),
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

async fn relay(args: RelayArgs) -> anyhow::Result<()> {
    let (child, target, relay) = match &args.url {
        Some(url) => (None, Target::new(url), url.clone()),
        None => {
            let bin = relay_bin(args.relay_bin.as_ref())?;
            let child = relays::start(&bin)
                .await
                .with_context(|| format!("cannot start {}", bin.display()))?;
            let target = Target::from(child.addr());
            (Some(child), target, bin.display().to_string())
        }
    };
    let result = measure(&args, &target, relay).await;
    if let Some(child) = child {
        let _ = child.kill9().await;
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
            floor::tcp_echo(args.latency.messages, args.latency.warmup)
                .await
                .context("TCP echo floor")?,
        );
        let opts = args.latency;
        report.latency = Some(latency::run(target, opts).await.context("latency")?);
    }
    if matches!(args.scenario, Scenario::Throughput | Scenario::All) {
        let opts = ThroughputOptions {
            mix: args.mix,
            ..args.throughput
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
    let mut opts = args.opts;
    if args.cluster && opts.systems.is_empty() {
        opts.systems = System::CLUSTER.to_vec();
    }
    let comparison = compare::run(&programs, &opts).await.context("compare")?;
    if args.cluster {
        println!("{}", two_nodes::tables(&comparison));
    } else {
        println!("{}", docs::tables(&comparison));
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&comparison)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    match &args.docs {
        Some(path) if args.cluster => {
            two_nodes::write(&comparison, path).context("cannot regenerate the docs")?;
        }
        Some(path) => docs::write(&comparison, path).context("cannot regenerate the docs")?,
        None => {}
    }
    Ok(())
}

/// `natter-bench docs`: the saved comparison rendered again into the page and its plots.
fn docs_only(args: &DocsArgs) -> anyhow::Result<()> {
    let json = match &args.json {
        Some(json) => json.clone(),
        None => docs::json_path(&args.page),
    };
    let text = std::fs::read_to_string(&json)
        .with_context(|| format!("cannot read {}", json.display()))?;
    let comparison: compare::Comparison = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a saved comparison", json.display()))?;
    docs::render(&comparison, &args.page).context("cannot regenerate the docs")
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::{Cli, Command, System};

    #[test]
    fn the_flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_documented_flags_parse() {
        let compare = concat!(
            "natter-bench compare --system natter --scenario durable --connections 7 --rooms 2 ",
            "--members 4 --step-seconds 1.5 --start-rate 100 --load-rate 200 ",
            "--durable-clients 3 --durable-seconds 4 --durable-runs 1 --messages 9 --warmup 1 ",
            "--storm-jitter-ms 5 --storm-deadline-seconds 6 --fanout-sockets-per-user 2 ",
            "--crowd-sockets-per-user 7 --threads 2 --cluster --system node-cluster",
        );
        let parse = |line: &str| Cli::try_parse_from(line.split_whitespace()).map(|c| c.command);
        let Command::Compare(args) = parse(compare).expect("parses") else {
            panic!("not compare");
        };
        let o = &args.opts;
        assert_eq!((o.durable.clients, o.durable.seconds.as_secs()), (3, 4));
        assert_eq!(
            (o.fanout.sockets_per_user, o.crowd.sockets_per_user),
            (2, 7)
        );
        assert_eq!((o.crowd.jitter.as_millis(), o.bench_threads), (5, 2));
        assert!(args.cluster);
        assert_eq!(o.systems, [System::Natter, System::NodeCluster]);
        let relay = concat!(
            "natter-bench relay --clients 5 --seconds 1 --warmup-seconds 0.5 --messages 10 ",
            "--warmup 2 --shared-room",
        );
        let Command::Relay(args) = parse(relay).expect("parses") else {
            panic!("not relay");
        };
        assert_eq!((args.throughput.clients, args.latency.warmup), (5, 2));
        assert_eq!(args.throughput.warmup.as_millis(), 500);
        assert!(args.throughput.shared_room);
    }
}
