//! Shared pieces of the suite: short or long form, the relay process, and the invariant that
//! R1 and R2 check after every run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use natter_client::session::{AppEvent, AppEvents, DeliveryState};
use natter_protocol::requests::Sync;
use natter_protocol::Message;
use natter_relay::store::SqliteStore;
use natter_testkit::{RelayProcess, RelaySpec};

use crate::util::{Api, Client};

/// One test at a time in this binary: each measures a relay process (memory, sockets, latency)
/// and would measure its neighbours' load too.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// `NATTER_RELIABILITY=long` selects the long forms (the figures); anything else the
/// short forms that CI runs.
pub fn long() -> bool {
    std::env::var("NATTER_RELIABILITY").is_ok_and(|v| v == "long")
}

/// The seed for everything random in a test: `NATTER_SEED`, or a fixed default. Printed, so a
/// failure can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("NATTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6e61_7474_6572);
    eprintln!("{test}: seed {seed} (NATTER_SEED={seed} to replay)");
    seed
}

/// The relay binary over `dir`, with `args` on top of generous login limits.
pub fn spec(dir: &Path, args: &[&str]) -> RelaySpec {
    RelaySpec::new(env!("CARGO_BIN_EXE_natter-relay"), dir).args(args.iter().copied())
}

/// Starts the relay and waits until `/healthz` answers.
pub async fn start(spec: &RelaySpec) -> (RelayProcess, Api) {
    let relay = RelayProcess::start(spec)
        .await
        .unwrap_or_else(|e| panic!("start the relay: {e}"));
    let api = Api::new(relay.url());
    api.wait_healthy().await;
    (relay, api)
}

/// Fails the test with the relay's log if it panicked or exited.
pub fn assert_alive(relay: &mut RelayProcess, what: &str) {
    let exited = relay.exited();
    let panics = relay.panics();
    if exited.is_some() || panics > 0 {
        panic!(
            "{what}: relay exited={exited:?}, panics={panics}; its log:\n{}",
            relay.log_tail().join("\n")
        );
    }
}

/// `PRAGMA integrity_check` of the relay's database (the relay must be stopped or killed).
pub async fn integrity_ok(dir: &Path) {
    let store = SqliteStore::open(&dir.join(natter_relay::DB_FILE))
        .await
        .expect("open the db");
    assert!(
        store.integrity_ok().await.expect("PRAGMA integrity_check"),
        "PRAGMA integrity_check: the database is sound"
    );
}

/// Every message of `rooms`, read with `sync` from cursor 0 as a fresh client would: the
/// database's view.
pub async fn stored(client: &Client, rooms: &[String]) -> BTreeMap<String, Vec<Message>> {
    let mut cursors: BTreeMap<String, i64> = rooms.iter().map(|r| (r.clone(), 0)).collect();
    let mut all: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for _ in 0..10_000 {
        let page = client
            .request(&Sync {
                cursors: cursors.clone(),
            })
            .await
            .expect("sync");
        for m in page.messages {
            cursors.insert(m.room_id.clone(), m.seq);
            all.entry(m.room_id.clone()).or_default().push(m);
        }
        if !page.more {
            return all;
        }
    }
    panic!("sync never finished");
}

/// What one session announced: every message and every delivery state, in order.
pub struct View {
    pub name: String,
    pub events: AppEvents,
    pub messages: Vec<Message>,
    /// client_id → seq it was acked with.
    pub acked: HashMap<String, i64>,
    pub failed: Vec<String>,
}

impl View {
    pub fn new(name: &str, events: AppEvents) -> Self {
        Self {
            name: name.to_owned(),
            events,
            messages: Vec::new(),
            acked: HashMap::new(),
            failed: Vec::new(),
        }
    }

    fn record(&mut self, event: AppEvent) {
        match event {
            AppEvent::Message { message } => self.messages.push(message),
            AppEvent::MessageState {
                client_id,
                state: DeliveryState::Sent { seq },
                ..
            } => {
                let earlier = self.acked.insert(client_id.clone(), seq);
                assert!(
                    earlier.is_none(),
                    "{}: {client_id} announced sent twice",
                    self.name
                );
            }
            AppEvent::MessageState {
                client_id,
                state: DeliveryState::Failed { error },
                ..
            } => {
                eprintln!("{}: {client_id} failed: {error}", self.name);
                self.failed.push(client_id);
            }
            _ => {}
        }
    }

    /// Takes whatever events are waiting, without blocking.
    pub fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.record(event);
        }
    }

    /// Records events until `done` holds or `within` passes; `false` on timeout.
    pub async fn until(&mut self, within: Duration, done: impl Fn(&Self) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        self.drain();
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => self.record(event),
                Ok(None) | Err(_) => return false,
            }
        }
        true
    }

    /// How many distinct messages of `rooms` it holds.
    pub fn count_in(&self, rooms: &[String]) -> usize {
        self.messages
            .iter()
            .filter(|m| rooms.contains(&m.room_id))
            .count()
    }
}

/// The promise, checked after a run: every acked client_id exactly once in the database with
/// the seq it was acked with; per-room seqs 1..=n; every view shows exactly the database's
/// messages of its rooms, each once, in seq order.
pub fn check_invariant(
    db: &BTreeMap<String, Vec<Message>>,
    views: &[&View],
    acked: &HashMap<(String, String), i64>,
) -> usize {
    let mut stored_keys = HashMap::new();
    for (room, messages) in db {
        let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
        let want: Vec<i64> = (1..=messages.len() as i64).collect();
        assert_eq!(seqs, want, "room {room}: seqs contiguous from 1");
        for m in messages {
            let key = (m.sender.clone(), m.client_id.clone());
            assert!(
                stored_keys.insert(key, (room.clone(), m.seq)).is_none(),
                "({}, {}) stored twice",
                m.sender,
                m.client_id
            );
        }
    }
    for ((sender, client_id), seq) in acked {
        let found = stored_keys.get(&(sender.clone(), client_id.clone()));
        assert!(
            found.is_some_and(|(_, s)| s == seq),
            "acked ({sender}, {client_id}) at seq {seq}: stored as {found:?}"
        );
    }
    for view in views {
        let mut seen = HashSet::new();
        for m in &view.messages {
            assert!(
                seen.insert((m.room_id.clone(), m.seq)),
                "{}: ({}, {}) shown twice",
                view.name,
                m.room_id,
                m.seq
            );
        }
        for (room, messages) in db {
            // In the order the session announced them: the promise is seq order.
            let mine: Vec<(i64, &str)> = view
                .messages
                .iter()
                .filter(|m| &m.room_id == room)
                .map(|m| (m.seq, m.client_id.as_str()))
                .collect();
            let want: Vec<(i64, &str)> = messages
                .iter()
                .map(|m| (m.seq, m.client_id.as_str()))
                .collect();
            if mine != want {
                let at = mine.iter().zip(&want).take_while(|(a, b)| a == b).count();
                let around = |v: &[(i64, &str)]| -> Vec<i64> {
                    v.iter()
                        .skip(at.saturating_sub(3))
                        .take(8)
                        .map(|(s, _)| *s)
                        .collect()
                };
                panic!(
                    "{}: room {room} must show exactly the stored messages, in seq order: \
                     {} shown, {} stored, first difference at #{at}: shown seqs {:?}, stored {:?}",
                    view.name,
                    mine.len(),
                    want.len(),
                    around(&mine),
                    around(&want)
                );
            }
        }
    }
    stored_keys.len()
}

/// `room:create` by `creator` with `members`; the relay must accept it.
pub async fn group(creator: &Client, name: &str, members: &[&str]) -> natter_protocol::Room {
    creator
        .request(&natter_protocol::requests::CreateRoom {
            name: name.to_owned(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
        })
        .await
        .unwrap_or_else(|e| panic!("create room {name}: {e}"))
        .room
}
