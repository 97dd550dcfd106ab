//! What `cargo xtask test` and `cargo xtask run` do, step by step. Each step prints a
//! `==> step` header; the first one that fails stops the command.

use crate::{bench, deps, package, prune, reliability, run_step, Failure, Workspace};
use std::env;
use std::path::PathBuf;
use std::process::Command;

/// Where the JS interop tests live (package.json, package-lock.json, *.test.mjs).
const INTEROP_DIR: &str = "server/tests/interop";

/// `cargo xtask test`: all the set-up, then every check.
pub fn test(ws: &Workspace) -> Result<(), Failure> {
    deps::ensure_system_packages()?;
    deps::ensure_rust_components(ws)?;
    deps::ensure_tauri_driver(ws)?;
    println!("target dir: {}", ws.target_dir.display());
    prune::if_low_on_space(ws);
    ws.cargo_step("fmt --all --check")?;
    ws.cargo_step("clippy --workspace --all-targets --locked -- -D warnings")?;
    ws.cargo_step(
        "clippy -p natter-relay --all-targets --features postgres,redis --locked -- -D warnings",
    )?;
    ws.cargo_step("build --locked -p natter-relay --bin natter-relay")?;
    // The bench's smoke tests start its Node socket.io peer.
    bench::node_peer(ws)?;
    // The relay's TLS test (server/tests/tls) drives the official client from there.
    interop_install(ws)?;
    // Includes the reliability suite's short forms; its S1 decode test compiles and runs the
    // fuzz targets' bodies (natter_protocol::fuzz) over its seeded corpus.
    let mut tests = ws.cargo(&["test", "--workspace", "--locked"]);
    let r3 = reliability::R3Skip::announce(ws, &mut tests);
    let ran = run_step("cargo test --workspace --locked", &mut tests);
    r3.report();
    ran?;
    // The relay's PostgreSQL backend and several nodes through Redis (both off in the workspace
    // run above): the store conformance suite on PostgreSQL, its two-store, restart and
    // relay-binary tests (server/tests/postgres.rs), and the nodes' tests (server/tests/cluster.rs).
    ws.cargo_step(
        "test --locked -p natter-relay --features postgres,redis --test store_conformance --test postgres --test cluster",
    )?;
    // The reliability suite's R1/R2 loops on two nodes (their short forms; the filter picks
    // the cluster tests, the rest of the suite ran above).
    ws.cargo_step(
        "test --locked -p natter-relay --features postgres,redis --test reliability cluster",
    )?;
    // The benchmark's two-node systems at tiny sizes, on the relay built with those features.
    bench::cluster_smoke(ws)?;
    interop(ws)?;
    ui_unit(ws)?;
    e2e(ws)?;
    package::test(ws)?;
    println!("==> all checks passed");
    Ok(())
}

/// `cargo xtask run|relay ARGS`: the set-up, then `package` (the desktop app or the relay) in
/// release mode with ARGS.
pub fn run(ws: &Workspace, package: &str, args: &[String]) -> Result<(), Failure> {
    deps::ensure_system_packages()?;
    if package == "natter-desktop" && cfg!(target_os = "linux") && !has_display() {
        println!(
            "note: no DISPLAY or WAYLAND_DISPLAY: the window needs a desktop session (or Xvfb)"
        );
    }
    let step = format!("cargo run --release -p {package} -- {}", args.join(" "));
    let step = step.trim_end();
    println!("==> {step}");
    let mut cmd = ws.cargo(&["run", "--release", "-p", package, "--"]);
    cmd.args(args);
    exec(step, cmd)
}

/// The UI's pure modules (state store, formatting) and page wiring, under Node's test runner.
fn ui_unit(ws: &Workspace) -> Result<(), Failure> {
    let mut node = Command::new("node");
    node.args(["--test", "test/"])
        .current_dir(ws.root.join("ui"));
    run_step("node --test (ui/test)", &mut node)
}

/// Two real app windows and a relay under Xvfb, driven through tauri-driver (e2e/README.md).
fn e2e(ws: &Workspace) -> Result<(), Failure> {
    ws.cargo_step("build --locked -p natter-desktop -p natter-relay")?;
    // The footprint benchmark's floor, for its smoke run (e2e/footprint.test.mjs).
    ws.cargo_step("build --locked -p natter-desktop --example empty_window")?;
    let desktop = debug_bin(ws, "natter-desktop");
    let relay = debug_bin(ws, "natter-relay");
    let empty = debug_bin(ws, "examples/empty_window");
    let mut node = Command::new("dbus-run-session");
    node.args(["--", "node", "--test", "--test-concurrency=1", "e2e/"])
        .current_dir(&ws.root)
        .env("NATTER_DESKTOP_BIN", &desktop)
        .env("NATTER_RELAY_BIN", &relay)
        .env("NATTER_EMPTY_BIN", &empty)
        // The tests start their own display; never draw on the developer's.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    run_step(
        "end-to-end tests (dbus-run-session -- node --test e2e/)",
        &mut node,
    )
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// The JS interop tests: the official socket.io client against the built relay binary.
fn interop(ws: &Workspace) -> Result<(), Failure> {
    println!("==> interop tests ({INTEROP_DIR})");
    let dir = ws.root.join(INTEROP_DIR);
    if !dir.join("package.json").is_file() {
        let reason = format!("no package.json in {}", dir.display());
        return Err(Failure::new("interop tests", reason));
    }
    // cluster.test.mjs starts two nodes on PostgreSQL and Redis behind nginx through the test
    // kit's launcher, so the relay it runs is built with those features.
    ws.cargo_step("build --locked -p natter-relay --features postgres,redis --bin natter-relay")?;
    ws.cargo_step("build --locked -p natter-testkit --bin natter-cluster")?;
    let relay = debug_bin(ws, "natter-relay");
    if !relay.is_file() {
        let reason = format!("relay binary not found at {}", relay.display());
        return Err(Failure::new("interop tests", reason));
    }
    let mut node = Command::new("node");
    node.arg("--test")
        .current_dir(&dir)
        .env("NATTER_RELAY_BIN", &relay);
    run_step(
        &format!(
            "node --test ({INTEROP_DIR}, NATTER_RELAY_BIN={})",
            relay.display()
        ),
        &mut node,
    )
}

/// The interop tests' node modules (the official socket.io client), from package-lock.json.
fn interop_install(ws: &Workspace) -> Result<(), Failure> {
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(ws.root.join(INTEROP_DIR));
    run_step(
        &format!("npm ci --no-audit --no-fund ({INTEROP_DIR})"),
        &mut npm,
    )
}

/// A debug binary that `cargo build -p NAME` leaves in the target dir.
fn debug_bin(ws: &Workspace, name: &str) -> PathBuf {
    let mut dir = ws.target_dir.clone();
    if let Some(triple) = env::var_os("CARGO_BUILD_TARGET").filter(|t| !t.is_empty()) {
        dir.push(triple);
    }
    dir.join("debug")
        .join(format!("{name}{}", env::consts::EXE_SUFFIX))
}

/// Becomes `cmd` (Unix `exec`), so signals such as Ctrl-C or SIGTERM reach the relay directly
/// and its exit code is ours. Elsewhere, runs it and waits.
#[cfg(unix)]
fn exec(step: &str, mut cmd: Command) -> Result<(), Failure> {
    use std::os::unix::process::CommandExt;
    let err = cmd.exec();
    Err(Failure::new(step, format!("could not start cargo: {err}")))
}

#[cfg(not(unix))]
fn exec(step: &str, mut cmd: Command) -> Result<(), Failure> {
    crate::check(step, &mut cmd)
}
