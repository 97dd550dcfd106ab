//! `cargo xtask`: the project's two commands, `run` and `test`, with all their set-up.
//!
//! `cargo xtask` is an alias (`.cargo/config.toml`) for `cargo run -p xtask --`. It uses std
//! only, so a fresh clone can build it in seconds before anything else is installed.
//! `steps` holds what each command does, `deps` the system packages and Rust components.

mod bench;
mod deps;
mod package;
mod prune;
mod relay_deb;
mod reliability;
mod steps;

use std::env;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [ARGS...]  install missing system packages, then start the desktop app, which
                 hosts a relay on this computer on first run:
                 cargo run --release -p natter-desktop -- ARGS...  (e.g. --profile bob)
  relay [ARGS...] the relay alone, for self-hosting:
                 cargo run --release -p natter-relay -- ARGS...
                 (`cargo xtask relay --help` lists the relay's flags)
  dist [desktop|relay]
                 build the packages as shipped (cargo profile dist: small over fast,
                 stripped), both unless one is named: the desktop's with Tauri's bundler
                 (on Linux a .deb and an .rpm, in <target>/dist/bundle/), the relay's .deb
                 with cargo-deb (Linux, in <target>/dist/relay/); prints their paths and
                 sizes (docs/install.md)
  bench [ARGS...] regenerate docs/benchmarks.md: the Natter relay, Node socket.io and
                 bare socketioxide side by side (natter-bench compare --docs ...; about
                 10 minutes; `cargo xtask bench --help` lists the sizes to change)
  test           install missing system packages and Rust components, then run
                 every check: fmt, clippy, build, cargo test, JS interop tests, UI unit
                 tests, end-to-end tests in real windows under Xvfb, the desktop and relay
                 packages built, installed with apt, started and removed
  reliability [--long]
                 the reliability and security suite (docs/reliability.md); --long runs
                 the long forms (20 kills, 100 fault episodes, 100,000 malformed inputs,
                 a 30-minute soak of 10,000 connections, bounded fuzzing)
  help           print this text

Build output goes to $CARGO_TARGET_DIR if it is set, else to ~/.cache/natter/target.";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let ws = Workspace::locate();
    let result = match args.first().map(String::as_str) {
        Some("test") if args.len() == 1 => steps::test(&ws),
        Some("run") => steps::run(&ws, "natter-desktop", &args[1..]),
        Some("relay") => steps::run(&ws, "natter-relay", &args[1..]),
        Some("dist") if args.len() == 1 => package::dist(&ws, package::Which::All),
        Some("dist") if args.len() == 2 && args[1] == "desktop" => {
            package::dist(&ws, package::Which::Desktop)
        }
        Some("dist") if args.len() == 2 && args[1] == "relay" => {
            package::dist(&ws, package::Which::Relay)
        }
        Some("bench") => bench::regenerate(&ws, &args[1..]),
        Some("reliability") => reliability::run(&ws, &args[1..]),
        // Not in the usage: only the system-package step, to try it on its own.
        Some("deps") => deps::ensure_system_packages(),
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(_) => {
            eprintln!(
                "xtask: unknown command or arguments: {}\n\n{USAGE}",
                args.join(" ")
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("xtask: FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// A step that did not succeed: which one, and why. `main` prints it and exits non-zero.
#[derive(Debug)]
pub struct Failure {
    step: String,
    reason: String,
}

impl Failure {
    pub fn new(step: &str, reason: impl Into<String>) -> Self {
        Self {
            step: step.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step `{}`: {}", self.step, self.reason)
    }
}

/// Where things are: the repository root, and the target dir every child cargo shares.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
}

impl Workspace {
    fn locate() -> Self {
        // `cargo run` sets CARGO_MANIFEST_DIR at run time too; the compile-time value is the fallback.
        let manifest = env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        let root = manifest.parent().unwrap_or(&manifest).to_path_buf();
        let target_dir = target_dir(&root);
        Self { root, target_dir }
    }

    /// `cargo ARGS`, run at the repository root with the shared target dir.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.args(args)
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target_dir);
        cmd
    }

    /// Runs `cargo ARGS` (split on spaces) as a step of its own, named after its command line.
    pub fn cargo_step(&self, args: &str) -> Result<(), Failure> {
        let argv: Vec<&str> = args.split_whitespace().collect();
        run_step(&format!("cargo {args}"), &mut self.cargo(&argv))
    }
}

/// The target dir in effect: the caller's (made absolute, as cargo would read it from the
/// current directory), else `$HOME/.cache/natter/target`, so that CI runs from fresh clones
/// on the same machine reuse one build cache.
fn target_dir(root: &Path) -> PathBuf {
    let cwd = env::current_dir().unwrap_or_else(|_| root.to_path_buf());
    let given = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .iter()
        .filter_map(env::var_os)
        .find(|dir| !dir.is_empty());
    match (given, env::var_os("HOME")) {
        (Some(dir), _) => cwd.join(dir),
        (None, Some(home)) if !home.is_empty() => Path::new(&home).join(".cache/natter/target"),
        (None, _) => root.join("target"),
    }
}

/// Prints the `==> STEP` header, then runs `cmd` to completion.
pub fn run_step(step: &str, cmd: &mut Command) -> Result<(), Failure> {
    println!("==> {step}");
    check(step, cmd)
}

/// Runs `cmd` to completion; failing to start it or a non-zero exit fails `step`.
pub fn check(step: &str, cmd: &mut Command) -> Result<(), Failure> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let status = cmd
        .status()
        .map_err(|err| Failure::new(step, format!("could not start `{program}`: {err}")))?;
    if status.success() {
        return Ok(());
    }
    let args: Vec<_> = cmd.get_args().map(|arg| arg.to_string_lossy()).collect();
    let reason = format!("`{program} {}` {status}", args.join(" "));
    Err(Failure::new(step, reason))
}

/// Whether `cmd` starts and exits 0; its output is discarded.
pub fn succeeds(cmd: &mut Command) -> bool {
    use std::process::Stdio;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
