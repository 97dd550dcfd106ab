//! The packages: `cargo xtask dist` builds the desktop's with Tauri's bundler (its CLI pinned in
//! `packaging/desktop/package.json`, from npm, a prebuilt binary) and the relay's .deb
//! (`relay_deb.rs`), and `cargo xtask test` checks them installed (`packaging/tests/`). The
//! desktop's: on Linux a .deb and an .rpm; on Windows and macOS the bundles
//! `tauri.windows.conf.json` / `tauri.macos.conf.json` name (docs/install.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{deps, relay_deb, run_step, Failure, Workspace};

/// The Tauri CLI's npm package (package.json, package-lock.json).
const CLI_DIR: &str = "packaging/desktop";
/// The package tests (node --test).
const TESTS_DIR: &str = "packaging/tests";
/// The Cargo profile the packages are built with (`[profile.dist]`: small over fast, stripped).
const PROFILE: &str = "dist";

/// What `dist` built, by kind.
#[derive(Debug, Default)]
pub struct Packages {
    pub deb: Option<PathBuf>,
    pub rpm: Option<PathBuf>,
}

/// Which packages `cargo xtask dist` builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    All,
    Desktop,
    /// The relay .deb alone: minutes, not the desktop's fat build.
    Relay,
}

/// `cargo xtask dist [desktop|relay]`: the set-up, then the packages; prints where they are
/// and their sizes.
pub fn dist(ws: &Workspace, which: Which) -> Result<(), Failure> {
    deps::ensure_system_packages()?;
    if which != Which::Relay {
        build(ws)?;
    }
    if which != Which::Desktop && cfg!(target_os = "linux") {
        relay_deb::build(ws)?;
    }
    Ok(())
}

fn build(ws: &Workspace) -> Result<Packages, Failure> {
    let cli_dir = ws.root.join(CLI_DIR);
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&cli_dir);
    run_step(
        &format!("npm ci --no-audit --no-fund ({CLI_DIR})"),
        &mut npm,
    )?;
    let tauri = cli_dir.join("node_modules/.bin/tauri");
    let mut build = Command::new(&tauri);
    build.arg("build").arg("--ci");
    if cfg!(target_os = "linux") {
        // Not AppImage: its tools are downloaded from GitHub at bundle time.
        build.args(["--bundles", "deb,rpm"]);
    }
    build
        .args(["--", "--profile", PROFILE, "--locked"])
        .current_dir(ws.root.join("src-tauri"))
        .env("CARGO_TARGET_DIR", &ws.target_dir);
    run_step(
        &format!("tauri build (Tauri's bundler, cargo profile {PROFILE})"),
        &mut build,
    )?;
    let bundles = ws.target_dir.join(PROFILE).join("bundle");
    let packages = Packages {
        deb: newest(&bundles.join("deb"), "deb"),
        rpm: newest(&bundles.join("rpm"), "rpm"),
    };
    for file in [&packages.deb, &packages.rpm].into_iter().flatten() {
        let size = std::fs::metadata(file).map_or(0, |m| m.len());
        println!("==> {} ({:.2} MB)", file.display(), size as f64 / 1e6);
    }
    Ok(packages)
}

/// The most recently written `*.ext` in `dir` (an earlier version's package may still be there).
pub fn newest(dir: &Path, ext: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .max_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
}

/// The packages built, then checked installed (`packaging/tests/`). Linux only: elsewhere the
/// CI workflow builds the other platforms' bundles.
pub fn test(ws: &Workspace) -> Result<(), Failure> {
    const STEP: &str = "package tests";
    if !cfg!(target_os = "linux") {
        println!("==> {STEP}: Linux only (the release workflow builds the other platforms)");
        return Ok(());
    }
    let built = build(ws)?;
    let (Some(deb), Some(rpm)) = (built.deb, built.rpm) else {
        return Err(Failure::new(STEP, "tauri build left no .deb or no .rpm"));
    };
    let relay_deb = relay_deb::build(ws)?;
    // One session bus for the app, ended with the tests (so no daemon outlives them).
    let mut node = Command::new("dbus-run-session");
    node.args(["--", "node", "--test", "--test-concurrency=1", TESTS_DIR])
        .current_dir(&ws.root)
        .env("NATTER_DEB", &deb)
        .env("NATTER_RPM", &rpm)
        .env("NATTER_RELAY_DEB", &relay_deb)
        // The test starts its own display; never draw on the developer's.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    run_step(
        &format!("dbus-run-session -- node --test ({TESTS_DIR})"),
        &mut node,
    )
}
