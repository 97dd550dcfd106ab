//! The config file through the real binary: precedence (file < environment < flag), seen in the
//! address the relay says it listens on (a different loopback address for each source), and
//! each refusal — unknown key, bad value, TOML syntax, unreadable file — on stderr, naming the
//! file, with a non-zero exit.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(20);

/// The binary with `config` as its `--config` file (none of the caller's NATTER_* settings).
fn relay(dir: &Path, config: &str) -> Command {
    let path = dir.join("relay.toml");
    std::fs::write(&path, config).expect("write relay.toml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_natter-relay"));
    cmd.arg("--config")
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env_remove("NATTER_BIND")
        .env_remove("NATTER_CONFIG")
        .env_remove("NATTER_DATA_DIR")
        .env("NATTER_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Starts `cmd` and answers the IP address the relay listens on, then stops it.
async fn listening_ip(mut cmd: Command) -> String {
    let mut child = cmd.spawn().expect("start natter-relay");
    let stdout = child.stdout.take().expect("piped stdout");
    let line = tokio::time::timeout(WAIT, BufReader::new(stdout).lines().next_line())
        .await
        .expect("the relay prints its address in time")
        .expect("stdout is readable");
    child.kill().await.expect("stop the relay");
    let line = line.expect("the relay printed a line before exiting");
    let addr = line
        .strip_prefix("natter-relay listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    addr.rsplit_once(':').expect("ip:port").0.to_owned()
}

/// Runs `cmd`, which must fail: its stderr.
async fn refusal(mut cmd: Command) -> String {
    let out = tokio::time::timeout(WAIT, cmd.output())
        .await
        .expect("the relay exits in time")
        .expect("run natter-relay");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "exit code; stderr:\n{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing served: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

#[tokio::test]
async fn flags_override_the_environment_which_overrides_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = "bind = \"127.0.0.2:0\"\nsend_burst = 50\n";
    assert_eq!(
        listening_ip(relay(dir.path(), file)).await,
        "127.0.0.2",
        "the file's bind"
    );

    let mut with_env = relay(dir.path(), file);
    with_env.env("NATTER_BIND", "127.0.0.3:0");
    assert_eq!(
        listening_ip(with_env).await,
        "127.0.0.3",
        "the environment over the file"
    );

    let mut with_flag = relay(dir.path(), file);
    with_flag
        .env("NATTER_BIND", "127.0.0.3:0")
        .args(["--bind", "127.0.0.4:0"]);
    assert_eq!(
        listening_ip(with_flag).await,
        "127.0.0.4",
        "the flag over both"
    );
}

#[tokio::test]
async fn an_unknown_key_is_refused_naming_it_and_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stderr = refusal(relay(
        dir.path(),
        "bind = \"127.0.0.1:0\"\nsned_burst = 5\n",
    ))
    .await;
    let path = dir.path().join("relay.toml");
    let expected = format!(
        "error: unknown key `sned_burst` in {}, did you mean `send_burst`?\n",
        path.display()
    );
    assert_eq!(stderr, expected);
}

#[tokio::test]
async fn a_bad_value_is_refused_with_clap_s_own_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stderr = refusal(relay(
        dir.path(),
        "bind = \"127.0.0.1:0\"\nsend_burst = 0\n",
    ))
    .await;
    let path = dir.path().join("relay.toml");
    let head = format!("error: bad value for `send_burst` in {}: ", path.display());
    assert!(stderr.starts_with(&head), "{stderr}");
    assert!(
        stderr.contains("invalid value '0' for '--send-burst"),
        "{stderr}"
    );
    assert!(
        stderr.contains("0 is not in 1..="),
        "what was expected: {stderr}"
    );

    let stderr = refusal(relay(dir.path(), "bind = \"localhost\"\n")).await;
    assert!(
        stderr.contains("bad value for `bind`") && stderr.contains("'localhost'"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_syntax_error_gives_its_line_and_an_unreadable_file_its_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stderr = refusal(relay(
        dir.path(),
        "# relay\nsend_burst = 5\nbind = 127.0.0.1:0\n",
    ))
    .await;
    let path = dir.path().join("relay.toml");
    let head = format!(
        "error: the config file {} is not valid TOML: ",
        path.display()
    );
    assert!(stderr.starts_with(&head), "{stderr}");
    assert!(stderr.contains("line 3"), "the line: {stderr}");

    let mut missing = relay(dir.path(), "");
    missing.args(["--config", "/nonexistent/natter/relay.toml"]);
    let stderr = refusal(missing).await;
    assert!(
        stderr.starts_with("error: cannot read the config file /nonexistent/natter/relay.toml: "),
        "{stderr}"
    );
}
