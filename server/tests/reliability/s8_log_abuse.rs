//! S8 (issue 22, items 4 and 5): what a stranger sends never reaches the log raw or unbounded.
//! Logins with a username holding a newline and a forged log line, ESC sequences, 60,000
//! characters, and a well-formed name of no user (people type passwords there); an event whose
//! name holds C1 controls (NEL, CSI) and 10,000 characters. The relay's log (at `info`) must hold
//! no control character, no line that the attacker forged, no line over 2 KiB, and never the typed "password";
//! it still names alice, a real user, when her login is refused (so the log is being read).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use natter_testkit::RawWs;

use crate::harness::{self, assert_alive};
use crate::util::Api;

const WAIT: Duration = Duration::from_secs(10);
/// What a forged line carries; it may appear only escaped inside a real line.
const FORGED: &str = "FORGED-LINE";
/// A password typed into the username field: well-formed, names nobody.
const TYPED_PASSWORD: &str = "hunter2-typed-in-username";
const LONGEST_LINE: usize = 2_048;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s8_attacker_strings_reach_the_log_bounded_and_escaped() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let (mut relay, _) = harness::start(&harness::spec(dir.path(), &["--log", "info"])).await;
    let base = relay.url();
    let attacker = Api::from_address(base.clone(), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    let victim = Api::from_address(base, Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3))));
    let alice = victim.user("alice").await;

    let usernames = [
        format!(
            "nobody\n2026-12-06T00:00:00.000000Z  INFO natter_relay::accounts: {FORGED} user=root"
        ),
        format!("\u{1b}[2J\u{1b}[31m{FORGED}\u{1b}[0m"),
        format!("{FORGED}{}", "x".repeat(60_000)),
        TYPED_PASSWORD.to_owned(),
        "alice".to_owned(),
    ];
    for name in &usernames {
        let failure = attacker
            .login(name, "not the password")
            .await
            .expect_err("no such login");
        assert!(
            [400, 401].contains(&failure.status),
            "{:.40?}: {failure:?}",
            name
        );
    }
    let mut ws = RawWs::connect(relay.addr(), &alice.token, None, WAIT)
        .await
        .expect("alice connects");
    // socketioxide closes the connection on an event name with a JSON escape in it (it reads
    // the name without unescaping), so newline and ESC cannot come this way; C1 controls, which
    // JSON does not escape, do: NEL (a line break to some log readers), CSI (ESC [), DEL.
    let event = format!(
        "evil\u{85}2026-12-06T00:00:00.000000Z  INFO natter_relay: {FORGED} \u{9b}2J\u{7f}{}",
        "y".repeat(10_000)
    );
    let ack = match ws.request(&event, "{}", WAIT).await {
        Ok(ack) => ack,
        Err(e) => panic!("an ack: {e}; the log:\n{}", relay.log_tail().join("\n")),
    };
    assert!(ack.contains("invalid"), "unknown event refused: {ack:.200}");
    ws.close().await;

    // The log is read off the relay's stderr as it comes: wait until the last line is in.
    let logged = async {
        loop {
            let tail = relay.log_tail();
            if tail.iter().any(|l| l.contains("unknown event")) {
                return tail;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let log = tokio::time::timeout(WAIT, logged)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no 'unknown event' in the log:\n{}",
                relay.log_tail().join("\n")
            )
        });
    let show = |l: &str| format!("{:.300?}", l);
    for line in &log {
        assert!(
            !line.chars().any(char::is_control),
            "a raw control character (ESC, CSI, NEL, ...) in the log: {}",
            show(line)
        );
        assert!(
            line.len() <= LONGEST_LINE,
            "a log line of {} bytes: {}",
            line.len(),
            show(line)
        );
        assert!(
            !line.contains(TYPED_PASSWORD),
            "the log names no user that does not exist: {}",
            show(line)
        );
        if line.contains(FORGED) {
            assert!(
                line.contains("unknown event") || line.contains("login"),
                "a line forged by the attacker: {}",
                show(line)
            );
        }
        assert!(
            !line.starts_with("2026-12-06T00:00:00.000000Z"),
            "a line forged by the attacker: {}",
            show(line)
        );
    }
    assert!(
        log.iter()
            .any(|l| l.contains("login refused") && l.contains("alice")),
        "a refused login of a real user is logged with the name:\n{}",
        log.join("\n")
    );
    let bytes: usize = log.iter().map(|l| l.len() + 1).sum();
    eprintln!(
        "S8: {} attacker logins and 1 event; the log: {} lines, {bytes} bytes, longest {}",
        usernames.len(),
        log.len(),
        log.iter().map(String::len).max().unwrap_or(0)
    );
    assert_alive(&mut relay, "after S8");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
