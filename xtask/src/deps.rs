//! Set-up: the system packages (Debian/Ubuntu, through apt) and the Rust components
//! (rustfmt, clippy) that the build and the checks need. Installs only what is missing.

use crate::{check, succeeds, Failure, Workspace};
use std::process::Command;

/// A Debian package the build or the checks need.
struct Package {
    name: &'static str,
    /// When this command already runs (`CMD --version`), the package is not needed:
    /// e.g. Node.js installed from nodejs.org or nvm rather than from apt.
    unless_on_path: Option<&'static str>,
}

impl Package {
    const fn always(name: &'static str) -> Self {
        Self {
            name,
            unless_on_path: None,
        }
    }

    const fn unless_on_path(name: &'static str, command: &'static str) -> Self {
        Self {
            name,
            unless_on_path: Some(command),
        }
    }
}

/// Every system package, in one place. The desktop app (Tauri 2 on WebKitGTK) needs the
/// webkit2gtk 4.1 / GTK 3 / libsoup 3 headers to build, librsvg for icons and
/// libayatana-appindicator3 for the tray.
const PACKAGES: &[Package] = &[
    Package::always("pkg-config"),
    Package::always("libssl-dev"),
    Package::always("build-essential"),
    Package::always("libwebkit2gtk-4.1-dev"),
    Package::always("libgtk-3-dev"),
    Package::always("libsoup-3.0-dev"),
    Package::always("libayatana-appindicator3-dev"),
    Package::always("librsvg2-dev"),
    Package::unless_on_path("nodejs", "node"),
    Package::unless_on_path("npm", "npm"),
    // End-to-end tests in real windows: a virtual display, the WebKitGTK WebDriver, a session
    // bus with a notification daemon, and ImageMagick's `import` for screenshots.
    Package::always("xvfb"),
    Package::always("webkit2gtk-driver"),
    Package::always("dbus"),
    Package::always("dunst"),
    Package::always("imagemagick"),
    // The package tests: find the installed app's window and its class, read the .rpm.
    Package::always("xdotool"),
    Package::always("x11-utils"),
    Package::always("rpm"),
    // The relay's PostgreSQL store tests start a server of their own from its binaries
    // (/usr/lib/postgresql/*/bin; crates/testkit/src/postgres.rs), never the machine's service.
    Package::always("postgresql"),
    // Several relay nodes: the tests start their own redis-server (crates/testkit/src/redis.rs),
    // never the machine's service.
    Package::always("redis-server"),
    // ... behind nginx (server/tests/cluster.rs runs packaging/relay/nginx-natter.conf).
    Package::unless_on_path("nginx-light", "nginx"),
];

/// Installs the missing system packages: `apt-get update` once, then one `apt-get install`.
pub fn ensure_system_packages() -> Result<(), Failure> {
    const STEP: &str = "system packages";
    println!("==> {STEP}");
    if !succeeds(Command::new("dpkg-query").arg("--version")) {
        let all: Vec<&str> = PACKAGES.iter().map(|p| p.name).collect();
        println!("no dpkg-query, so not Debian/Ubuntu: make sure you have the equivalents of:");
        println!("  {}", all.join(" "));
        return Ok(());
    }
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|p| {
            !p.unless_on_path
                .is_some_and(|cmd| succeeds(Command::new(cmd).arg("--version")))
        })
        .map(|p| p.name)
        .filter(|name| !installed(name))
        .collect();
    if missing.is_empty() {
        println!("all present");
        return Ok(());
    }
    println!("missing: {}", missing.join(" "));
    let as_root = as_root(STEP, &missing)?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend(&missing);
    check(STEP, &mut apt(&as_root, &["update"]))?;
    check(STEP, &mut apt(&as_root, &install))?;
    match missing.iter().find(|name| !installed(name)) {
        Some(name) => Err(Failure::new(
            STEP,
            format!("{name} is still not installed after apt-get install"),
        )),
        None => Ok(()),
    }
}

/// Adds rustfmt and clippy with rustup unless `cargo fmt` and `cargo clippy` already run.
pub fn ensure_rust_components(ws: &Workspace) -> Result<(), Failure> {
    const STEP: &str = "rust components (rustfmt, clippy)";
    println!("==> {STEP}");
    if succeeds(&mut ws.cargo(&["fmt", "--version"]))
        && succeeds(&mut ws.cargo(&["clippy", "--version"]))
    {
        println!("all present");
        return Ok(());
    }
    let mut rustup = Command::new("rustup");
    rustup
        .args(["component", "add", "rustfmt", "clippy"])
        .current_dir(&ws.root);
    println!("$ rustup component add rustfmt clippy");
    check(STEP, &mut rustup)
}

/// `tauri-driver` 2.x (the WebDriver front for Tauri apps) with `cargo install`, unless one runs.
/// It builds in `<target>/tools` so a fresh clone reuses it.
pub fn ensure_tauri_driver(ws: &Workspace) -> Result<(), Failure> {
    const STEP: &str = "tauri-driver";
    println!("==> {STEP}");
    if succeeds(Command::new("tauri-driver").arg("--help")) {
        println!("present");
        return Ok(());
    }
    let tools = ws.target_dir.join("tools");
    let mut install = ws.cargo(&["install", "tauri-driver", "--version", "^2", "--locked"]);
    install.env("CARGO_TARGET_DIR", &tools);
    println!("$ cargo install tauri-driver --version ^2 --locked");
    check(STEP, &mut install)
}

/// Whether dpkg reports `pkg` as installed (one status line per architecture).
fn installed(pkg: &str) -> bool {
    let Ok(out) = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}\n", pkg])
        .output()
    else {
        return false;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A status is "want flag state", e.g. "install ok installed" or "deinstall ok config-files".
    out.status.success()
        && stdout
            .lines()
            .any(|status| status.split_whitespace().nth(2) == Some("installed"))
}

/// The prefix that runs a command as root: nothing when we are root, else `sudo`.
fn as_root(step: &str, missing: &[&str]) -> Result<Vec<&'static str>, Failure> {
    let uid = Command::new("id").arg("-u").output();
    if uid.is_ok_and(|out| out.stdout.trim_ascii() == b"0") {
        Ok(vec![])
    } else if succeeds(Command::new("sudo").arg("--version")) {
        Ok(vec!["sudo"])
    } else {
        let reason = format!(
            "not root and no sudo: as root, run apt-get install {}",
            missing.join(" ")
        );
        Err(Failure::new(step, reason))
    }
}

/// `[sudo] apt-get ARGS`, non-interactive. `env` carries DEBIAN_FRONTEND through sudo,
/// which otherwise resets the environment.
fn apt(as_root: &[&str], args: &[&str]) -> Command {
    let mut argv: Vec<&str> = as_root.to_vec();
    argv.extend(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
    argv.extend(args);
    println!("$ {}", argv.join(" "));
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..]);
    cmd
}
