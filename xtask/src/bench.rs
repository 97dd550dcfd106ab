//! The benchmark's set-up and its one command: `npm ci` for the Node peer (before the smoke
//! tests, which start it), and `cargo xtask bench`, which regenerates docs/benchmarks.md: the
//! single-node comparison, then the two-node one (`--cluster`, issue 17).

use std::process::Command;

use crate::{run_step, Failure, Workspace};

/// The Node socket.io peer of the benchmark (package.json, package-lock.json, server.js).
const NODE_PEER_DIR: &str = "bench/peers/node";
/// The page `cargo xtask bench` regenerates (its results section, plots and JSON beside it).
const PAGE: &str = "docs/benchmarks.md";

/// Installs the Node peer's locked dependencies (socket.io, its Redis adapter) with `npm ci`.
pub fn node_peer(ws: &Workspace) -> Result<(), Failure> {
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(ws.root.join(NODE_PEER_DIR));
    run_step(
        &format!("npm ci --no-audit --no-fund ({NODE_PEER_DIR})"),
        &mut npm,
    )
}

/// `cargo xtask bench [ARGS...]`: builds the relay (with its PostgreSQL and Redis support, for
/// the two-node run), the bench and the socketioxide peer in release mode, then runs
/// `natter-bench compare --docs docs/benchmarks.md ARGS...` and the same with `--cluster`.
/// ARGS with `--cluster` run only the two-node comparison; ARGS with `--system` (and no
/// `--cluster`) only the single-node one, whose systems they name.
pub fn regenerate(ws: &Workspace, args: &[String]) -> Result<(), Failure> {
    node_peer(ws)?;
    // Two builds: `--features natter-relay/postgres` on a build of both packages reaches only
    // the bench's (test) dependency, and the relay binary came out without them.
    ws.cargo_step("build --release --locked -p natter-relay --features postgres,redis")?;
    ws.cargo_step("build --release --locked -p natter-bench")?;
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let runs: &[&[&str]] = if has("--cluster") || has("--system") {
        &[&[]]
    } else {
        &[&[], &["--cluster"]]
    };
    let bench = ws.target_dir.join("release").join("natter-bench");
    for extra in runs {
        let mut cmd = Command::new(&bench);
        cmd.args(["compare", "--docs", PAGE])
            .args(*extra)
            .args(args)
            .current_dir(&ws.root);
        let shown = format!("{} {}", extra.join(" "), args.join(" "));
        run_step(
            &format!("natter-bench compare --docs {PAGE} {}", shown.trim()),
            &mut cmd,
        )?;
    }
    Ok(())
}

/// The bench's two-node smoke test (bench/tests/cluster.rs), ignored in the workspace run,
/// whose relay binary has no PostgreSQL or Redis support: here on a relay built with them.
pub fn cluster_smoke(ws: &Workspace) -> Result<(), Failure> {
    ws.cargo_step("build --locked -p natter-relay --features postgres,redis --bin natter-relay")?;
    let relay = ws.target_dir.join("debug").join("natter-relay");
    let mut test = ws.cargo(&[
        "test",
        "--locked",
        "-p",
        "natter-bench",
        "--test",
        "cluster",
        "--",
        "--include-ignored",
    ]);
    test.env("NATTER_RELAY_BIN", &relay);
    run_step(
        &format!(
            "cargo test -p natter-bench --test cluster -- --include-ignored (NATTER_RELAY_BIN={})",
            relay.display()
        ),
        &mut test,
    )
}
