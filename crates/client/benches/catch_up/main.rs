//! The desktop client core (natter-client) against a relay restart, and at rest: how long a
//! session takes to catch up on N missed messages, and what it costs connected and idle
//! (docs/benchmarks.md, "Client").
//!
//! `cargo bench -p natter-client --bench catch_up -- [--messages N] [--runs N]
//! [--idle-seconds S] [--threads N] [--relay-bin PATH] [--json PATH]` measures against the relay
//! binary as a child process (default: natter-relay in the same target directory; build it
//! with `cargo build --release -p natter-relay`). Under `cargo test` (no `--bench` argument) it
//! runs tiny against relays in this process and checks only that every missed message reached
//! the session once, in order, and its cache: no numbers are judged there.

mod idle;
mod relays;
mod report;
mod scenario;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use natter_testkit::procfs::Machine;

use relays::Relays;
use report::{ClientReport, ClientRun, Spread};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Bounds the self-check: a hang is a failure, not a stuck CI run.
const SELF_CHECK_TIMEOUT: Duration = Duration::from_secs(120);

const USAGE: &str = "flags: --messages N (1000) --runs N (5) --idle-seconds S (30; 0 skips) \
                     --threads N (2, the client's runtime workers) --relay-bin PATH --json PATH";

#[derive(Debug)]
struct Options {
    messages: usize,
    runs: usize,
    idle: Duration,
    threads: usize,
    relay_bin: Option<PathBuf>,
    json: Option<PathBuf>,
}

impl Options {
    /// `args` without the program name; `--bench` (cargo's) is not an option.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self> {
        let mut o = Self {
            messages: 1_000,
            runs: 5,
            idle: Duration::from_secs(30),
            threads: 2,
            relay_bin: None,
            json: None,
        };
        while let Some(flag) = args.next() {
            if flag == "--bench" {
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
            let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
            match flag.as_str() {
                "--messages" => o.messages = value.parse().map_err(|e| bad(&e))?,
                "--runs" => o.runs = value.parse().map_err(|e| bad(&e))?,
                "--threads" => o.threads = value.parse().map_err(|e| bad(&e))?,
                "--idle-seconds" => {
                    let secs: f64 = value.parse().map_err(|e| bad(&e))?;
                    o.idle = Duration::try_from_secs_f64(secs).map_err(|e| bad(&e))?;
                }
                "--relay-bin" => o.relay_bin = Some(value.into()),
                "--json" => o.json = Some(value.into()),
                _ => return Err(format!("unknown flag {flag}; {USAGE}").into()),
            }
        }
        if o.runs == 0 || o.messages == 0 || o.threads == 0 {
            return Err("runs, messages and threads must be at least 1".into());
        }
        Ok(o)
    }
}

fn main() -> ExitCode {
    let measuring = std::env::args().any(|a| a == "--bench");
    let outcome = if measuring {
        Options::parse(std::env::args().skip(1)).and_then(measure)
    } else {
        self_check()
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("catch_up: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?)
}

/// Every run over a fresh relay database and a fresh profile; the idle window after the last.
async fn run_all(relays: &mut Relays, o: &Options) -> Result<ClientReport> {
    let mut runs = Vec::with_capacity(o.runs);
    let mut idle = None;
    for i in 0..o.runs {
        let data = tempfile::Builder::new()
            .prefix("natter-catch-up-relay-")
            .tempdir()?;
        let profile = tempfile::Builder::new()
            .prefix("natter-catch-up-profile-")
            .tempdir()?;
        let done = scenario::catch_up(relays, i, data.path(), profile.path(), o.messages).await;
        let (run, session, events) = match done {
            Ok(done) => done,
            Err(e) => {
                relays.kill().await;
                return Err(e);
            }
        };
        runs.push(run);
        if i + 1 == o.runs && !o.idle.is_zero() {
            idle = Some(idle::measure(&session, events, o.idle).await);
        }
        session.stop().await;
        relays.kill().await;
    }
    Ok(ClientReport::new(o.messages, runs, idle))
}

fn measure(o: Options) -> Result<()> {
    let bin = match &o.relay_bin {
        Some(bin) => bin.clone(),
        // This binary is target/<profile>/deps/catch_up-<hash>.
        None => std::env::current_exe()?
            .parent()
            .and_then(|deps| deps.parent())
            .ok_or("cannot find the target directory")?
            .join("natter-relay"),
    };
    if !bin.is_file() {
        return Err(format!(
            "no relay binary at {}: build it (cargo build --release -p natter-relay) or pass --relay-bin",
            bin.display()
        )
        .into());
    }
    let mut relays = Relays::child(bin.clone());
    let report = runtime(o.threads)?.block_on(run_all(&mut relays, &o))?;
    let run = ClientRun {
        machine: Machine::detect(),
        relay: bin.display().to_string(),
        threads: o.threads,
        client: report,
    };
    let m = &run.machine;
    println!("relay: {}  ", run.relay);
    println!(
        "machine: {} × {}, Linux {}; client runtime: {} worker threads\n",
        m.nproc, m.cpu, m.kernel, run.threads
    );
    println!("{}", run.client.markdown());
    if let Some(path) = &o.json {
        std::fs::write(path, serde_json::to_string_pretty(&run)?)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Tiny, in-process: every missed message reaches the session once, in order, and its cache;
/// nothing happens while idle.
fn self_check() -> Result<()> {
    let spread = Spread::of([4.0, 1.0, 2.0, 3.0]);
    if (spread.median, spread.min, spread.max) != (2.5, 1.0, 4.0) {
        return Err(format!("Spread::of is wrong: {spread:?}").into());
    }
    let o = Options {
        messages: 20,
        runs: 1,
        idle: Duration::from_secs(1),
        threads: 2,
        relay_bin: None,
        json: None,
    };
    let mut relays = Relays::in_process();
    let report = runtime(o.threads)?.block_on(async {
        tokio::time::timeout(SELF_CHECK_TIMEOUT, run_all(&mut relays, &o))
            .await
            .map_err(|_| "the self-check took over 120 s")?
    })?;
    let run = report.runs.first().ok_or("no run reported")?;
    if (run.received, run.cached) != (20, 20) {
        return Err(format!(
            "received {} and cached {}, expected 20 each",
            run.received, run.cached
        )
        .into());
    }
    let idle = report.idle.as_ref().ok_or("no idle measurement")?;
    if idle.events != 0 || !idle.connected_at_end {
        return Err(format!(
            "idle: {} events, connected at end: {}",
            idle.events, idle.connected_at_end
        )
        .into());
    }
    println!("catch_up self-check: 20 missed messages once each, in order, cached; idle quiet");
    Ok(())
}
