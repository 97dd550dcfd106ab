//! The PostgreSQL backend beyond the conformance suite, against a real server each test starts
//! (natter-testkit's `postgres`): two relay nodes' stores on one database sharing each room's
//! seqs and racing for an invite and for the last admin, a server restart mid-burst (under the
//! store, and under the relay binary), and the relay binary on `--database-url`. Built with the
//! `postgres` feature only.
#![cfg(feature = "postgres")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use natter_protocol::admin::Role;
use natter_protocol::requests::{History, SendMessage};
use natter_protocol::{User, GENERAL_ROOM_ID};
use natter_relay::store::{
    Admission, Appended, NewEntry, NewInvite, NewMessage, PgStore, Store, StoreError,
};
use natter_testkit::postgres::Postgres;
use natter_testkit::{Api, RelayProcess, RelaySpec};

/// Bound on any one wait of these tests.
const WAIT: Duration = Duration::from_secs(60);

fn message(sender: &User, client_id: &str) -> NewMessage {
    NewMessage {
        room_id: GENERAL_ROOM_ID.to_owned(),
        sender: sender.clone(),
        client_id: client_id.to_owned(),
        body: format!("body of {client_id}"),
        sent_at: "2026-01-01T00:00:00.000Z".to_owned(),
        entry: NewEntry::Message {
            reply_to: None,
            attachments: Vec::new(),
        },
        mentions: Vec::new(),
    }
}

async fn server() -> (Postgres, String) {
    tokio::task::spawn_blocking(|| {
        let pg = Postgres::start_new().expect("start PostgreSQL");
        let url = pg.database().expect("a database");
        (pg, url)
    })
    .await
    .expect("started")
}

/// Two nodes append to one room at once, each message sent through one node and retried at
/// the same time through the other: the room's seqs are 1..n without a gap or a repeat, each
/// client_id is one message, and both answers of a client_id are that message.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_one_gap_free_sequence_and_retries_find_the_original() {
    let (_pg, url) = server().await;
    let a: Arc<dyn Store> = Arc::new(PgStore::open(&url).await.expect("node a"));
    let b: Arc<dyn Store> = Arc::new(PgStore::open(&url).await.expect("node b"));
    let mut senders = Vec::new();
    for n in 0..6 {
        senders.push(a.create_user(&format!("user{n}"), "h").await.expect("user"));
    }
    const PER_SENDER: usize = 60;
    let mut sends = Vec::new();
    for (s, sender) in senders.iter().enumerate() {
        for i in 0..PER_SENDER {
            let client_id = format!("{s}-{i}");
            let (first, second) = if (s + i) % 2 == 0 { (&a, &b) } else { (&b, &a) };
            for node in [first, second] {
                let (commits, m) = (node.commits(), message(sender, &client_id));
                let client_id = client_id.clone();
                sends.push(tokio::spawn(
                    async move { (client_id, commits.append(m).await) },
                ));
            }
        }
    }
    let mut answers: HashMap<String, Vec<Appended>> = HashMap::new();
    for send in sends {
        let (client_id, outcome) = tokio::time::timeout(WAIT, send)
            .await
            .expect("answered in time")
            .expect("the task ran");
        let appended = outcome.expect("committed").expect("a member's message");
        answers.entry(client_id).or_default().push(appended);
    }
    let total = senders.len() * PER_SENDER;
    assert_eq!(answers.len(), total);
    for (client_id, both) in &answers {
        let created = both.iter().filter(|a| a.created).count();
        assert_eq!(
            created, 1,
            "{client_id}: one node made it, the other found it"
        );
        assert_eq!(
            both[0].message, both[1].message,
            "{client_id}: the same message"
        );
    }

    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page = a
            .messages_after(GENERAL_ROOM_ID, after, 100)
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        after = last.seq;
        stored.extend(page);
    }
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    let want: Vec<i64> = (1..=i64::try_from(total).expect("small")).collect();
    assert_eq!(seqs, want, "gap-free, each seq once");
    let mut ids: Vec<&str> = stored.iter().map(|m| m.client_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "each client_id once");
    for m in &stored {
        assert_eq!(
            answers[&m.client_id][0].message.seq, m.seq,
            "acked as stored"
        );
    }
    let room = b
        .room_for(GENERAL_ROOM_ID, &senders[0].id)
        .await
        .expect("room")
        .expect("a member");
    assert_eq!(room.last_seq, want.len() as i64, "last_seq follows");
}

/// Registrations through two nodes race for an invite's last use: exactly one wins (the use
/// is one conditional UPDATE in the user's transaction). Two admins demote each other at once
/// through two nodes, round after round: one stays an admin every time (the admins' lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_race_for_an_invites_last_use_and_for_the_last_admin() {
    let (_pg, url) = server().await;
    let a: Arc<dyn Store> = Arc::new(PgStore::open(&url).await.expect("node a"));
    let b: Arc<dyn Store> = Arc::new(PgStore::open(&url).await.expect("node b"));
    a.create_invite(NewInvite {
        code_hash: "once".to_owned(),
        role: Role::Member,
        uses: 1,
        expires_at: None,
        created_by: None,
    })
    .await
    .expect("invite");
    let racers = (0..16).map(|i| {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move {
            let admission = Admission::Invite {
                code_hash: "once".to_owned(),
                now: "2026-06-01T00:00:00.000Z".to_owned(),
            };
            node.register(&format!("racer{i}"), "h", admission).await
        })
    });
    let mut won = 0;
    for racer in racers {
        match tokio::time::timeout(WAIT, racer)
            .await
            .expect("in time")
            .expect("ran")
        {
            Ok(_) => won += 1,
            Err(StoreError::InviteRefused) => {}
            Err(e) => panic!("a clear refusal, not {e}"),
        }
    }
    assert_eq!(won, 1, "one registration used the invite");
    assert_eq!(b.user_count().await.expect("count"), 1);

    let open = Admission::Open(Role::Admin);
    let mut admins = [
        a.register("admin0", "h", open.clone())
            .await
            .expect("admin"),
        a.register("admin1", "h", open.clone())
            .await
            .expect("admin"),
    ];
    for round in 2..12 {
        let (x, y) = (admins[0].id.clone(), admins[1].id.clone());
        let (one, two) = (a.clone(), b.clone());
        let (left, right) = tokio::join!(
            tokio::spawn(async move { one.set_role(&x, Role::Member).await }),
            tokio::spawn(async move { two.set_role(&y, Role::Member).await }),
        );
        let (left, right) = (left.expect("ran"), right.expect("ran"));
        let refused = [&left, &right]
            .iter()
            .filter(|r| matches!(r, Err(StoreError::LastAdmin)))
            .count();
        assert_eq!(
            (refused, left.is_ok() || right.is_ok()),
            (1, true),
            "round {round}: one demoted, one refused: {left:?} {right:?}"
        );
        let stayed = if left.is_ok() { 1 } else { 0 };
        let role = a.active_role(&admins[stayed].id).await.expect("role");
        assert_eq!(role, Some(Role::Admin), "round {round}");
        let next = a
            .register(&format!("admin{round}"), "h", open.clone())
            .await
            .expect("admin");
        admins = [admins[stayed].clone(), next];
    }
}

/// PostgreSQL stops mid-burst and starts again: sends during the outage get an error, none is
/// acked falsely (every acked message is there afterwards, at its acked seq), and the same
/// store sends again once the server is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_mid_burst_acks_nothing_false_and_the_store_recovers() {
    let (pg, url) = server().await;
    let pg = Arc::new(pg);
    let store: Arc<dyn Store> = Arc::new(PgStore::open(&url).await.expect("open"));
    let alice = store.create_user("alice", "h").await.expect("user");

    let acked: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let failed: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut burst = Vec::new();
    // Four senders, one send at a time each, as clients waiting for their acks.
    for s in 0..4 {
        let (commits, alice) = (store.commits(), alice.clone());
        let (acked, failed, stop) = (acked.clone(), failed.clone(), stop.clone());
        burst.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let client_id = format!("{s}-{i}");
                i += 1;
                let outcome =
                    tokio::time::timeout(WAIT, commits.append(message(&alice, &client_id)))
                        .await
                        .expect("an answer in time, ack or error");
                match outcome {
                    Ok(Ok(appended)) => acked
                        .lock()
                        .expect("lock")
                        .push((client_id, appended.message.seq)),
                    Ok(Err(refusal)) => panic!("refused: {refusal}"),
                    Err(e) => {
                        failed.lock().expect("lock").push(e.to_string());
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }));
    }
    let count = |list: &Arc<Mutex<Vec<(String, i64)>>>| list.lock().expect("lock").len();
    wait_until("acks before the restart", || count(&acked) >= 100).await;
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .expect("ran")
        .expect("stopped");
    let before = count(&acked);
    wait_until("errors while it is down", || {
        !failed.lock().expect("lock").is_empty()
    })
    .await;
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.start())
        .await
        .expect("ran")
        .expect("started again");
    wait_until("acks after the restart", || count(&acked) >= before + 100).await;
    stop.store(true, Ordering::SeqCst);
    for sender in burst {
        tokio::time::timeout(WAIT, sender)
            .await
            .expect("stopped in time")
            .expect("no panic");
    }

    let errors = failed.lock().expect("lock").clone();
    assert!(
        errors.iter().all(|e| e.starts_with("commit failed")),
        "a clear error: {errors:?}"
    );
    let stored: HashMap<String, i64> = store
        .messages_after(GENERAL_ROOM_ID, 0, u32::MAX)
        .await
        .expect("everything")
        .into_iter()
        .map(|m| (m.client_id, m.seq))
        .collect();
    let acked = acked.lock().expect("lock").clone();
    for (client_id, seq) in &acked {
        assert_eq!(
            stored.get(client_id),
            Some(seq),
            "acked {client_id} is stored"
        );
    }
    let mut seqs: Vec<i64> = stored.values().copied().collect();
    seqs.sort_unstable();
    let want: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, want, "still gap-free");
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    tokio::time::timeout(WAIT, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not within {WAIT:?}"));
}

/// How long the relay may take to answer a send during an outage: the pool's wait for a
/// connection (5 s) plus a commit, with slack for a loaded machine.
const OUTAGE_ANSWER: Duration = Duration::from_secs(20);
/// How soon after PostgreSQL accepts connections again sends must be acked again.
const RECOVERY: Duration = Duration::from_secs(15);

/// What the relay answered one send.
#[derive(Debug, Clone)]
enum Answer {
    Acked(i64),
    Refused(natter_protocol::WireError),
}

/// Every send so far: (sender, client_id, what the relay answered).
type Answers = Arc<Mutex<Vec<(String, String, Answer)>>>;

/// The relay binary on PostgreSQL while the server crashes mid-burst (`stop -m immediate`: no
/// clean shutdown; its next start recovers from the WAL) and comes back on the same port and
/// data. Three clients send back to back throughout: every send is answered within
/// OUTAGE_ANSWER, acked or refused `internal` (no timeout, no disconnect); sends are acked again
/// within RECOVERY of the server's return, without restarting the relay; afterwards every acked
/// message is in the database once at its acked seq, and every refused one, retried with its
/// client_id, is acked once (the original if its COMMIT got through before the crash).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_relay_through_a_postgres_crash_acks_nothing_false_and_recovers_by_itself() {
    let (pg, url) = server().await;
    let pg = Arc::new(pg);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = RelaySpec::new(env!("CARGO_BIN_EXE_natter-relay"), dir.path()).args([
        "--database-url",
        url.as_str(),
        "--send-burst",
        "1000000",
        "--send-per-second",
        "1000000",
    ]);
    let mut relay = RelayProcess::start(&spec).await.expect("the relay");
    let api = Api::new(relay.url());
    let mut clients = Vec::new();
    for name in ["alice", "bob", "carol"] {
        clients.push(Arc::new(api.join(name).await.1));
    }

    // (sender, client_id) → answer, and when each ack came.
    let answers: Answers = Arc::default();
    let acked_at: Arc<Mutex<Vec<std::time::Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for (sender, client) in ["alice", "bob", "carol"].into_iter().zip(&clients) {
        let (client, answers, acked_at, stop) = (
            client.clone(),
            answers.clone(),
            acked_at.clone(),
            stop.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let client_id = format!("{sender}-{i}");
                i += 1;
                let answer = send_once(&client, &client_id).await;
                if let Answer::Acked(_) = answer {
                    acked_at
                        .lock()
                        .expect("lock")
                        .push(std::time::Instant::now());
                } else {
                    // As the desktop's outbox does: not hammering a database that is away.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                answers
                    .lock()
                    .expect("lock")
                    .push((sender.to_owned(), client_id, answer));
            }
        }));
    }
    let acks =
        |acked_at: &Arc<Mutex<Vec<std::time::Instant>>>| acked_at.lock().expect("lock").len();
    let refusals = |answers: &Answers| {
        answers
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, _, a)| matches!(a, Answer::Refused(_)))
            .count()
    };
    wait_until("60 acks before the crash", || acks(&acked_at) >= 60).await;
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.stop_immediately())
        .await
        .expect("ran")
        .expect("PostgreSQL stopped (immediate)");
    wait_until("refusals while it is down", || refusals(&answers) >= 3).await;
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.start())
        .await
        .expect("ran")
        .unwrap_or_else(|e| panic!("PostgreSQL started again: {e}\n{}", pg.log()));
    let back = std::time::Instant::now();
    let first_ack = tokio::time::timeout(RECOVERY, async {
        loop {
            let after = acked_at
                .lock()
                .expect("lock")
                .iter()
                .find(|t| **t > back)
                .copied();
            if let Some(at) = after {
                return at - back;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no send acked within {RECOVERY:?} of PostgreSQL's return; the relay's log:\n{}",
            relay.log_tail().join("\n")
        )
    });
    let before_more = acks(&acked_at);
    wait_until("60 more acks after the return", || {
        acks(&acked_at) >= before_more + 60
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for sender in senders {
        tokio::time::timeout(WAIT, sender)
            .await
            .expect("the senders stop in time")
            .expect("no panic in a sender");
    }

    let mut answers = answers.lock().expect("lock").clone();
    let refused = answers
        .iter()
        .filter(|(_, _, a)| matches!(a, Answer::Refused(_)))
        .count();
    for (sender, client_id, answer) in &mut answers {
        if let Answer::Refused(e) = answer {
            assert_eq!(
                e.code,
                natter_protocol::ErrorCode::Internal,
                "{sender} {client_id}: refused with a clear code: {e:?}"
            );
            let client = &clients[["alice", "bob", "carol"]
                .iter()
                .position(|n| n == sender)
                .expect("a sender")];
            // The client's outbox would retry it: now it must be acked, once.
            *answer = send_once(client, client_id).await;
            assert!(
                matches!(answer, Answer::Acked(_)),
                "{sender} {client_id}: retried after the outage: {answer:?}"
            );
        }
    }
    assert!(
        relay.exited().is_none() && relay.panics() == 0,
        "the relay kept running: {:#?}",
        relay.log_tail()
    );

    let store = PgStore::open(&url).await.expect("open the database");
    let stored = store
        .messages_after(GENERAL_ROOM_ID, 0, u32::MAX)
        .await
        .expect("every message");
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );
    let by_key: HashMap<(String, String), i64> = stored
        .iter()
        .map(|m| ((m.sender.clone(), m.client_id.clone()), m.seq))
        .collect();
    assert_eq!(by_key.len(), stored.len(), "each (sender, client_id) once");
    assert_eq!(
        stored.len(),
        answers.len(),
        "every send stored once, nothing else"
    );
    for (sender, client_id, answer) in &answers {
        let Answer::Acked(seq) = answer else {
            unreachable!("every refusal was retried and acked above")
        };
        assert_eq!(
            by_key.get(&(sender.clone(), client_id.clone())),
            Some(seq),
            "{sender} {client_id} stored at its acked seq"
        );
    }
    println!(
        "{} sends, {refused} refused `internal` during the outage (each acked on retry), \
         first ack {first_ack:?} after PostgreSQL was back",
        answers.len()
    );
}

/// One `message:send` into general; a client-side failure (no answer within OUTAGE_ANSWER, a
/// closed connection) fails the test: the relay must answer.
async fn send_once(client: &natter_testkit::Client, client_id: &str) -> Answer {
    let request = SendMessage {
        room_id: GENERAL_ROOM_ID.to_owned(),
        client_id: client_id.to_owned(),
        body: format!("body of {client_id}"),
        reply_to: None,
        attachments: Vec::new(),
    };
    let payload = serde_json::to_value(&request).expect("a payload");
    match client
        .raw_request::<<SendMessage as natter_protocol::Request>::Ack>(
            <SendMessage as natter_protocol::Event>::NAME,
            Some(payload),
            OUTAGE_ANSWER,
        )
        .await
    {
        Ok(Ok(ack)) => Answer::Acked(ack.message.seq),
        Ok(Err(refusal)) => Answer::Refused(refusal),
        Err(e) => panic!("{client_id}: no answer from the relay: {e}"),
    }
}

/// The relay binary on `--database-url`: register, send, read history back; a second relay
/// process on the same database sees the first one's user and message; `natter-relay admin
/// --database-url` changes the same accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_runs_on_postgres() {
    let (_pg, url) = server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = RelaySpec::new(env!("CARGO_BIN_EXE_natter-relay"), dir.path())
        .args(["--database-url", url.as_str()]);
    let one = RelayProcess::start(&spec).await.expect("relay one");
    let api = Api::new(one.url());
    let (_, alice) = api.join("alice").await;
    let sent = alice
        .request(&SendMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: "c1".to_owned(),
            body: "hello from postgres".to_owned(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("sent")
        .message;
    assert_eq!(sent.seq, 1);

    let two = RelayProcess::start(&spec).await.expect("relay two");
    let other = Api::new(two.url());
    let auth = other
        .login("alice", natter_testkit::PASSWORD)
        .await
        .expect("the same account on the other relay");
    let again = other.connect("alice", &auth.token).await.expect("connect");
    let page = again
        .request(&History {
            room_id: GENERAL_ROOM_ID.to_owned(),
            before_seq: None,
            limit: None,
            ..Default::default()
        })
        .await
        .expect("history")
        .messages;
    assert_eq!(page, vec![sent]);
    assert!(
        !std::fs::read_dir(dir.path())
            .expect("data dir")
            .flatten()
            .any(|f| f.file_name().to_string_lossy().ends_with(".db")),
        "no SQLite file beside"
    );

    // The admin command line works on the same database.
    let promoted = admin_on(&url, &["promote", "alice"]).await;
    assert!(promoted.contains("alice is now an admin"), "{promoted}");
    let listed = admin_on(&url, &["list-users"]).await;
    assert!(listed.starts_with("alice\tadmin\tactive"), "{listed}");
}

/// Runs `natter-relay admin --database-url URL ARGS…`; its stdout, or a panic with its stderr.
async fn admin_on(url: &str, args: &[&str]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_natter-relay"));
    command
        .args(["admin", "--database-url", url])
        .args(args)
        .env_remove("NATTER_DATA_DIR");
    let out = tokio::time::timeout(WAIT, tokio::task::spawn_blocking(move || command.output()))
        .await
        .expect("done in time")
        .expect("ran")
        .expect("natter-relay runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "admin {args:?}: {stdout}{stderr}");
    stdout
}

/// The session policy holds on PostgreSQL as on SQLite: a session idle past it is gone at its
/// next use; one in use is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_idle_past_the_policy_expire_and_use_keeps_them() {
    let (_pg, url) = server().await;
    let policy = natter_relay::store::SessionPolicy {
        idle: Duration::from_millis(800),
        per_user: 20,
    };
    let store = PgStore::open(&url)
        .await
        .expect("open")
        .with_sessions(policy);
    let alice = store.create_user("alice", "h").await.expect("user");
    for token in ["idle", "used"] {
        store
            .create_session(&alice.id, token, "")
            .await
            .expect("a session");
    }
    // "used" is used every 300 ms (each use counts once a quarter of the idle time passed);
    // "idle" is not.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            store.sign_on("used").await.expect("sign on").is_some(),
            "in use, kept"
        );
    }
    assert_eq!(
        store.sign_on("idle").await.expect("sign on"),
        None,
        "idle, expired"
    );
    assert_eq!(
        store.delete_session("idle").await.expect("delete"),
        None,
        "and deleted"
    );
}
