//! The benchmark's set-up and its one command: `npm ci` for the Node peer (before the smoke
//! tests, which start it), and `cargo xtask bench`, which regenerates docs/benchmarks.md.

use std::process::Command;

use crate::{run_step, Failure, Workspace};

/// The Node socket.io peer of the benchmark (package.json, package-lock.json, server.js).
const NODE_PEER_DIR: &str = "bench/peers/node";
/// The page `cargo xtask bench` regenerates (its results section, plots and JSON beside it).
const PAGE: &str = "docs/benchmarks.md";

/// Installs the Node peer's locked dependencies (socket.io) with `npm ci`.
pub fn node_peer(ws: &Workspace) -> Result<(), Failure> {
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(ws.root.join(NODE_PEER_DIR));
    run_step(
        &format!("npm ci --no-audit --no-fund ({NODE_PEER_DIR})"),
        &mut npm,
    )
}

/// `cargo xtask bench [ARGS...]`: builds the relay, the bench and the socketioxide peer in
/// release mode, then runs `natter-bench compare --docs docs/benchmarks.md ARGS...`.
pub fn regenerate(ws: &Workspace, args: &[String]) -> Result<(), Failure> {
    node_peer(ws)?;
    ws.cargo_step("build --release --locked -p natter-relay -p natter-bench")?;
    let bench = ws.target_dir.join("release").join("natter-bench");
    let mut cmd = Command::new(&bench);
    cmd.args(["compare", "--docs", PAGE])
        .args(args)
        .current_dir(&ws.root);
    run_step(
        &format!("natter-bench compare --docs {PAGE} {}", args.join(" ")),
        &mut cmd,
    )
}
