//! The relay .deb: cargo-deb (pinned, installed if missing) packages the relay built with
//! `[profile.dist]`, its systemd unit and config file (`[package.metadata.deb]` in
//! server/Cargo.toml, files in `packaging/relay/`). Checked by `packaging/tests/relay.test.mjs`.

use std::path::PathBuf;

use crate::package::newest;
use crate::{check, run_step, succeeds, Failure, Workspace};

/// cargo-deb, pinned: its output (paths, control fields, maintainer scripts) is what the
/// package test checks.
const CARGO_DEB_VERSION: &str = "3.8.0";
/// The Cargo profile (`[profile.dist]`: small over fast, stripped), as for the desktop packages.
const PROFILE: &str = "dist";

/// Builds the relay .deb into `<target>/dist/relay/`; prints its path and size.
pub fn build(ws: &Workspace) -> Result<PathBuf, Failure> {
    const STEP: &str = "relay .deb (cargo-deb)";
    ensure_cargo_deb(ws)?;
    let out_dir = ws.target_dir.join(PROFILE).join("relay");
    std::fs::create_dir_all(&out_dir)
        .map_err(|err| Failure::new(STEP, format!("cannot create {}: {err}", out_dir.display())))?;
    let out = out_dir.to_string_lossy().into_owned();
    let args = [
        "deb",
        "-p",
        "natter-relay",
        "--profile",
        PROFILE,
        "--locked",
        "-o",
        &out,
    ];
    run_step(
        &format!("cargo deb -p natter-relay --profile {PROFILE} -o {out}"),
        &mut ws.cargo(&args),
    )?;
    let deb = newest(&out_dir, "deb")
        .ok_or_else(|| Failure::new(STEP, format!("cargo deb left no .deb in {out}")))?;
    let size = std::fs::metadata(&deb).map_or(0, |m| m.len());
    println!("==> {} ({:.2} MB)", deb.display(), size as f64 / 1e6);
    Ok(deb)
}

/// `cargo install cargo-deb` at the pinned version unless `cargo deb` already runs. It builds
/// in `<target>/tools` so a fresh clone reuses it.
fn ensure_cargo_deb(ws: &Workspace) -> Result<(), Failure> {
    const STEP: &str = "cargo-deb";
    println!("==> {STEP}");
    let mut probe = ws.cargo(&["deb", "--version"]);
    if succeeds(&mut probe) {
        println!("present");
        return Ok(());
    }
    let pin = format!("={CARGO_DEB_VERSION}");
    let mut install = ws.cargo(&["install", "cargo-deb", "--version", &pin, "--locked"]);
    install.env("CARGO_TARGET_DIR", ws.target_dir.join("tools"));
    println!("$ cargo install cargo-deb --version {pin} --locked");
    check(STEP, &mut install)
}
