//! `cargo xtask reliability [--long]`: the reliability and security suite (issue 6).
//!
//! Short form: the suite as CI runs it (`server/tests/reliability`, built with the `postgres` and
//! `redis` features so R1/R2 also run on two nodes). Long form: the same tests
//! with `NATTER_RELIABILITY=long` (20 kills, 100 fault episodes, 100,000 malformed inputs, ...),
//! plus the 30-minute soak of 10,000 connections, one test at a time, with their figures printed;
//! then bounded `cargo fuzz` runs when cargo-fuzz and a nightly toolchain are installed.
//! docs/reliability.md describes each test and keeps the figures of the last long run.

use std::path::PathBuf;
use std::process::Command;

use crate::{run_step, Failure, Workspace};

/// Set to `1`, lets R3 (disk full) pass without testing where this user may not mount a tmpfs.
/// (Read by server/tests/reliability/r3_disk_full.rs, which also writes the note named below.)
const ALLOW_SKIP_R3: &str = "NATTER_ALLOW_SKIP_R3";
/// Where R3 writes why it skipped, so that it can be printed after cargo test's captured output.
const R3_SKIP_NOTE: &str = "NATTER_R3_SKIP_NOTE";

/// Seconds each fuzz target runs in the long form.
const FUZZ_SECONDS: u32 = 120;
/// The fuzz targets in `fuzz/fuzz_targets/`.
const FUZZ_TARGETS: [&str; 2] = ["decode_request", "validate_fields"];

pub fn run(ws: &Workspace, args: &[String]) -> Result<(), Failure> {
    let long = match args {
        [] => false,
        [flag] if flag == "--long" => true,
        _ => {
            return Err(Failure::new(
                "reliability",
                format!("unknown arguments: {}", args.join(" ")),
            ))
        }
    };
    // R1/R2 also run on two nodes (PostgreSQL + Redis), which the tests start themselves.
    crate::deps::ensure_system_packages()?;
    let mut cmd = ws.cargo(&[
        "test",
        "-p",
        "natter-relay",
        "--features",
        "postgres,redis",
        "--test",
        "reliability",
    ]);
    let step = if long {
        cmd.env("NATTER_RELIABILITY", "long").args([
            "--",
            "--include-ignored",
            "--test-threads=1",
            "--nocapture",
        ]);
        "NATTER_RELIABILITY=long cargo test -p natter-relay --features postgres,redis --test reliability -- --include-ignored --test-threads=1 --nocapture"
    } else {
        cmd.args(["--", "--nocapture"]);
        "cargo test -p natter-relay --features postgres,redis --test reliability -- --nocapture"
    };
    let r3 = R3Skip::announce(ws, &mut cmd);
    let ran = run_step(step, &mut cmd);
    r3.report();
    ran?;
    if long {
        fuzz(ws)?;
    }
    println!("==> reliability suite passed");
    Ok(())
}

/// Bounded libFuzzer runs, when the tools are there (they need a nightly toolchain).
fn fuzz(ws: &Workspace) -> Result<(), Failure> {
    let has_fuzz = crate::succeeds(&mut ws.cargo(&["+nightly", "fuzz", "--version"]));
    if !has_fuzz {
        println!(
            "==> cargo fuzz: skipped (needs `rustup toolchain install nightly` and \
             `cargo install cargo-fuzz`); the suite's S1 decode test ran the same target bodies \
             (fuzz/bodies.rs) over its seeded corpus"
        );
        return Ok(());
    }
    for target in FUZZ_TARGETS {
        let time = format!("-max_total_time={FUZZ_SECONDS}");
        let mut cmd = ws.cargo(&["+nightly", "fuzz", "run", target, "--", &time]);
        run_step(
            &format!("cargo +nightly fuzz run {target} -- {time}"),
            &mut cmd,
        )?;
    }
    Ok(())
}

/// Whether a test run may skip R3, said before it runs, and whether it did, said after.
pub struct R3Skip {
    note: Option<PathBuf>,
}

impl R3Skip {
    /// Prints whether R3 may skip in the run of `cmd` (a cargo test that includes it); when it
    /// may, points R3's skip note at a fresh file in the target dir.
    pub fn announce(ws: &Workspace, cmd: &mut Command) -> Self {
        if std::env::var(ALLOW_SKIP_R3).as_deref() != Ok("1") {
            println!(
                "R3 disk full: must mount a tmpfs (root or CAP_SYS_ADMIN) or it fails; \
                 {ALLOW_SKIP_R3}=1 lets it skip"
            );
            return Self { note: None };
        }
        let note = ws.target_dir.join("natter-r3-skipped.txt");
        // A note left by an earlier run must not be reported as this one's.
        let _ = std::fs::remove_file(&note);
        println!(
            "R3 disk full: {ALLOW_SKIP_R3}=1: R3 passes WITHOUT TESTING if it cannot mount its \
             tmpfs (said again below if it does)"
        );
        cmd.env(R3_SKIP_NOTE, &note);
        Self { note: Some(note) }
    }

    /// Prints R3's skip note if the run left one.
    pub fn report(&self) {
        if let Some(reason) = self
            .note
            .as_ref()
            .and_then(|note| std::fs::read_to_string(note).ok())
        {
            println!("==> {reason}");
        }
    }
}
