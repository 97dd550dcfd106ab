//! `natter-relay admin …` on a stopped relay's data directory: the binary itself, then a relay
//! started again over the same directory sees every change.

use std::path::Path;

use natter_protocol::admin::{ListUsers, Role};
use natter_protocol::ErrorCode;
use natter_relay::config::Registration;

use crate::util::*;

/// Runs `natter-relay admin --data-dir DIR ARGS…`; its stdout, or a panic with its stderr.
fn admin(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_natter-relay"))
        .arg("admin")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("natter-relay runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "admin {args:?}: {stdout}{stderr}");
    stdout
}

/// Like [`admin`], with `stdin` as its standard input; its success and output (both streams).
fn admin_fed(dir: &Path, args: &[&str], stdin: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_natter-relay"))
        .arg("admin")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("natter-relay runs");
    child
        .stdin
        .take()
        .expect("its stdin")
        .write_all(stdin.as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("it ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Like [`admin`], for a command that must fail; its stderr.
fn admin_fails(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_natter-relay"))
        .arg("admin")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("natter-relay runs");
    assert!(!out.status.success(), "admin {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn loopback() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_commands_work_on_a_stopped_relays_data_dir() {
    let dir = tempfile::tempdir().expect("a data dir");
    let invite_only = |c: &mut natter_relay::Config| c.registration = Registration::Invite;
    let relay = TestRelay::at_with(dir.path(), loopback(), invite_only).await;
    let link = std::fs::read_to_string(dir.path().join(natter_relay::FIRST_ADMIN_FILE))
        .expect("first-admin invite");
    relay
        .register_invited("root", PASSWORD, link.trim())
        .await
        .expect("root");
    relay.stop().await;

    // An invite made on the command line lets alice in.
    let made = admin(
        dir.path(),
        &[
            "create-invite",
            "--uses",
            "2",
            "--server",
            "https://chat.example.org",
        ],
    );
    let code = made
        .lines()
        .find_map(|l| l.strip_prefix("code: "))
        .unwrap_or_else(|| panic!("no code in {made}"))
        .to_owned();
    assert!(
        made.contains("natter://invite?server=https%3A%2F%2Fchat.example.org&code="),
        "{made}"
    );
    let relay = TestRelay::at_with(dir.path(), loopback(), invite_only).await;
    relay
        .register_invited("alice", PASSWORD, &code)
        .await
        .expect("the command line's invite works");
    relay.stop().await;

    let users = admin(dir.path(), &["list-users"]);
    assert!(users.contains("alice\tmember\tactive"), "{users}");
    assert!(users.contains("root\tadmin\tactive"), "{users}");
    // Never the last admin.
    let refused = admin_fails(dir.path(), &["demote", "root"]);
    assert!(refused.contains("at least one admin"), "{refused}");
    admin(dir.path(), &["promote", "alice"]);
    admin(dir.path(), &["demote", "root"]);
    let reset = admin(dir.path(), &["reset-password", "alice"]);
    let password = reset
        .split("new password for alice: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password in {reset}"))
        .to_owned();
    admin(dir.path(), &["disable", "root"]);
    let missing = admin_fails(dir.path(), &["promote", "nobody_here"]);
    assert!(missing.contains("no such user"), "{missing}");

    let relay = TestRelay::at_with(dir.path(), loopback(), invite_only).await;
    relay
        .login("alice", PASSWORD)
        .await
        .expect_err("the old password");
    let alice = relay
        .login("alice", &password)
        .await
        .expect("the reset password");
    let alice = relay.connect("alice", &alice.token).await.expect("alice");
    let listed = alice
        .request(&ListUsers::default())
        .await
        .expect("alice is an admin");
    let root = listed
        .users
        .iter()
        .find(|a| a.user.username == "root")
        .expect("root");
    assert_eq!((root.role, root.disabled), (Role::Member, true));
    let f = relay.login("root", PASSWORD).await.expect_err("disabled");
    assert_eq!(f.code(), Some(ErrorCode::Forbidden));
    drop(alice);
    relay.stop().await;
    admin(dir.path(), &["enable", "root"]);
    let relay = TestRelay::at_with(dir.path(), loopback(), invite_only).await;
    relay.login("root", PASSWORD).await.expect("enabled again");
    relay.stop().await;

    // A password of the owner's choosing, from standard input, held to a registration's rules.
    let (ok, said) = admin_fed(
        dir.path(),
        &["reset-password", "root", "--password-stdin"],
        "short\n",
    );
    assert!(!ok && said.contains("password must be"), "{said}");
    let (ok, said) = admin_fed(
        dir.path(),
        &["reset-password", "root", "--password-stdin"],
        "the owner's choice\n",
    );
    assert!(ok, "{said}");
    assert!(
        !said.contains("the owner's choice"),
        "not printed back: {said}"
    );
    let relay = TestRelay::at_with(dir.path(), loopback(), invite_only).await;
    relay
        .login("root", PASSWORD)
        .await
        .expect_err("the old password");
    relay
        .login("root", "the owner's choice")
        .await
        .expect("the chosen password");
    relay.stop().await;

    let nowhere = tempfile::tempdir().expect("an empty dir");
    let none = admin_fails(nowhere.path(), &["list-users"]);
    assert!(none.contains("no relay database"), "{none}");
}
