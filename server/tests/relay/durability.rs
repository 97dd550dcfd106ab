//! Durability of the relay binary: `kill -9` in the middle of concurrent send bursts loses no
//! acked message, leaves a gap-free seq, takes every un-acked client_id again without a duplicate
//! after the restart, and leaves a sound database.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use natter_protocol::requests::{SendMessage, Sync};
use natter_protocol::{Message, GENERAL_ROOM_ID};
use natter_relay::store::SqliteStore;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::Notify;

use crate::util::*;

const USERS: [&str; 4] = ["ann", "ben", "cat", "dan"];
const PER_USER: usize = 150;
/// Acked messages (all users together) after which the relay is killed.
const KILL_AFTER: usize = 200;
const START_WAIT: Duration = Duration::from_secs(20);

/// The natter-relay binary, started on an ephemeral port over `dir`.
struct RelayProcess {
    child: Child,
    api: Api,
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl RelayProcess {
    async fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_natter-relay"))
            .args(["--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .args(["--registration", "open", "--login-per-minute", "1000"])
            .args(["--send-burst", "100000"])
            .args(["--send-per-second", "100000", "--log", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the natter-relay binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(START_WAIT, lines.next_line())
            .await
            .expect("the relay prints its address in time")
            .expect("stdout is readable")
            .expect("the relay printed a line");
        let addr = line
            .strip_prefix("natter-relay listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let api = Api::new(format!("http://{addr}"));
        api.wait_healthy().await;
        Self {
            child,
            api,
            _stdout: lines,
        }
    }

    /// SIGKILL: no shutdown code runs.
    async fn kill9(mut self) {
        self.child.kill().await.expect("SIGKILL the relay");
    }

    /// SIGTERM, then waits for a clean exit.
    async fn terminate(mut self) {
        let pid = self.child.id().expect("the relay is running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(sent.success(), "kill -TERM {pid}");
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("the relay exits after SIGTERM")
            .expect("wait for the relay");
        assert!(status.success(), "the relay exits cleanly: {status}");
    }
}

fn nth(user: &str, i: usize) -> SendMessage {
    SendMessage {
        room_id: GENERAL_ROOM_ID.to_owned(),
        client_id: format!("{user}-{i:04}"),
        body: format!("{user} says {i}"),
        reply_to: None,
        attachments: Vec::new(),
    }
}

/// One user's burst: sends in order until the relay stops answering. Returns what was acked.
async fn burst(client: Client, acked_total: Arc<AtomicUsize>, kill: Arc<Notify>) -> Vec<Message> {
    let mut acked = Vec::new();
    for i in 0..PER_USER {
        match client.try_request(&nth(&client.username, i)).await {
            Ok(Ok(ack)) => acked.push(ack.message),
            Ok(Err(e)) => panic!("{}: send {i} refused: {e}", client.username),
            Err(_) => break, // the relay is gone; this one is un-acked
        }
        if acked_total.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
            kill.notify_one();
        }
    }
    acked
}

async fn integrity_ok(dir: &Path) {
    let store = SqliteStore::open(&dir.join(natter_relay::DB_FILE))
        .await
        .expect("open the db");
    assert!(
        store.integrity_ok().await.expect("PRAGMA integrity_check"),
        "the database is sound"
    );
}

/// Every message of general, read with `sync` from cursor 0 as a fresh client would.
async fn everything(client: &Client) -> Vec<Message> {
    let mut cursor = 0;
    let mut all = Vec::new();
    for _ in 0..50 {
        let cursors = BTreeMap::from([(GENERAL_ROOM_ID.to_owned(), cursor)]);
        let page = client.request(&Sync { cursors }).await.expect("sync");
        cursor = page.messages.last().map_or(cursor, |m| m.seq);
        all.extend(page.messages);
        if !page.more {
            return all;
        }
    }
    panic!("sync never finished");
}

/// Seqs 1..=n without gaps, each (sender, client_id) once, and every `acked` message unchanged.
fn check(all: &[Message], acked: &[Message]) {
    assert_seqs(all, 1, all.len() as i64);
    let mut by_key = HashMap::new();
    for m in all {
        let earlier = by_key.insert((m.sender.clone(), m.client_id.clone()), m);
        assert!(
            earlier.is_none(),
            "({}, {}) stored twice",
            m.sender,
            m.client_id
        );
    }
    for a in acked {
        let stored = by_key.get(&(a.sender.clone(), a.client_id.clone()));
        assert_eq!(
            stored,
            Some(&a),
            "acked message {} {} survives as acked",
            a.sender,
            a.client_id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_burst_loses_nothing_acked() {
    let dir = tempfile::tempdir().expect("a data dir");
    let relay = RelayProcess::start(dir.path()).await;
    let mut tokens = Vec::new();
    let acked_total = Arc::new(AtomicUsize::new(0));
    let kill = Arc::new(Notify::new());
    let mut bursts = Vec::new();
    for user in USERS {
        let auth = relay.api.user(user).await;
        let client = relay.api.connect(user, &auth.token).await.expect("connect");
        tokens.push(auth.token);
        bursts.push(tokio::spawn(burst(
            client,
            acked_total.clone(),
            kill.clone(),
        )));
    }
    tokio::time::timeout(Duration::from_secs(60), kill.notified())
        .await
        .expect("enough sends are acked to kill the relay mid-burst");
    relay.kill9().await;
    let mut acked = Vec::new();
    for b in bursts {
        acked.push(b.await.expect("a burst task"));
    }
    let acked_count: usize = acked.iter().map(Vec::len).sum();
    assert!(
        acked.iter().any(|a| a.len() < PER_USER),
        "the kill came mid-burst"
    );
    integrity_ok(dir.path()).await;

    // Restarted on the same data: sessions, messages and seqs are all there.
    let relay = RelayProcess::start(dir.path()).await;
    let mut clients = Vec::new();
    for (user, token) in USERS.iter().zip(&tokens) {
        clients.push(
            relay
                .api
                .connect(user, token)
                .await
                .expect("the old token still works"),
        );
    }
    let flat: Vec<Message> = acked.iter().flatten().cloned().collect();
    let before = everything(&clients[0]).await;
    check(&before, &flat);
    assert!(
        (acked_count..=acked_count + USERS.len()).contains(&before.len()),
        "{} stored for {acked_count} acked: at most one un-acked send per client may have landed",
        before.len()
    );

    // The outbox resends every un-acked client_id; each succeeds, none duplicates.
    let landed = &before;
    let resends = clients.iter().zip(&acked).map(|(client, done)| async move {
        for i in done.len()..PER_USER {
            let again = client
                .request(&nth(&client.username, i))
                .await
                .expect("resend")
                .message;
            if let Some(old) = landed
                .iter()
                .find(|m| m.sender == again.sender && m.client_id == again.client_id)
            {
                assert_eq!(&again, old, "a resend of a message that landed returns it");
            }
        }
    });
    futures_util::future::join_all(resends).await;
    let after = everything(&clients[1]).await;
    assert_eq!(
        after.len(),
        USERS.len() * PER_USER,
        "one message per distinct client_id"
    );
    check(&after, &flat);
    check(&after, &before);

    drop(clients);
    relay.terminate().await;
    integrity_ok(dir.path()).await;
}
