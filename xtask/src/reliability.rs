//! `cargo xtask reliability [--long]`: the reliability and security suite (issue 6).
//!
//! Short form: the suite as CI runs it (`server/tests/reliability`). Long form: the same tests
//! with `NATTER_RELIABILITY=long` (20 kills, 100 fault episodes, 100,000 malformed inputs, ...),
//! plus the 30-minute soak of 10,000 connections, one test at a time, with their figures printed;
//! then bounded `cargo fuzz` runs when cargo-fuzz and a nightly toolchain are installed.
//! docs/reliability.md describes each test and keeps the figures of the last long run.

use crate::{run_step, Failure, Workspace};

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
    let mut cmd = ws.cargo(&["test", "-p", "natter-relay", "--test", "reliability"]);
    let step = if long {
        cmd.env("NATTER_RELIABILITY", "long").args([
            "--",
            "--include-ignored",
            "--test-threads=1",
            "--nocapture",
        ]);
        "NATTER_RELIABILITY=long cargo test -p natter-relay --test reliability -- --include-ignored --test-threads=1 --nocapture"
    } else {
        cmd.args(["--", "--nocapture"]);
        "cargo test -p natter-relay --test reliability -- --nocapture"
    };
    run_step(step, &mut cmd)?;
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
             `cargo install cargo-fuzz`); the seeded decode test in the suite covers the same \
             entry points"
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
