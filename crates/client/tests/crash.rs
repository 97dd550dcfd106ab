//! The relay crashes mid-conversation (`natter_relay::Relay::crash`: no Socket.IO DISCONNECT,
//! every connection just drops) and comes back on the same port and data dir: both sessions
//! reconnect by themselves, catch up and drain their outboxes; nothing lost, nothing doubled.
//! Every wait is bounded and waits on the sessions' event streams, never on a sleep.

mod support;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;

use natter_client::session::{AppEvent, AppEvents, ConnectionView, DeliveryState, Session};
use natter_client::OutboxState;
use natter_protocol::model::Seq;
use natter_protocol::{Message, GENERAL_ROOM_ID};
use natter_testkit::Api;
use support::within;
use tokio::net::TcpListener;

/// Alice's burst, and how many of it Bob has when the relay crashes.
const BURST: usize = 20;
const CRASH_AFTER: usize = 5;
/// What Bob writes while the relay is down.
const WHILE_DOWN: usize = 3;

/// The embedded relay (the one with `crash`) on `addr`, with `data_dir`, answering `/healthz`.
async fn relay(data_dir: &Path, addr: SocketAddr) -> natter_relay::Relay {
    let mut config = natter_relay::Config::with_data_dir(data_dir);
    config.registration = natter_relay::config::Registration::Open;
    config.login_per_minute = 1_000;
    config.send_burst = 100_000;
    config.send_per_second = 100_000;
    // tokio's bind sets SO_REUSEADDR on unix, so the restart takes the same port at once.
    let listener = TcpListener::bind(addr).await.expect("bind the relay port");
    let relay = natter_relay::Relay::spawn(listener, config).expect("the relay spawns");
    Api::new(relay.url()).wait_healthy().await;
    relay
}

async fn register(relay: &natter_relay::Relay, username: &str) -> String {
    Api::new(relay.url()).user(username).await.token
}

/// Everything one session told the app, in order.
struct Log {
    events: AppEvents,
    messages: Vec<Message>,
    /// Every delivery state announced, per client_id, in order.
    states: HashMap<String, Vec<DeliveryState>>,
    connection: Vec<ConnectionView>,
}

impl Log {
    fn new(events: AppEvents) -> Self {
        Self {
            events,
            messages: Vec::new(),
            states: HashMap::new(),
            connection: Vec::new(),
        }
    }

    /// Records events until `done` holds (checked before each wait too).
    async fn until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        within(what, async {
            while !done(self) {
                match self.events.recv().await.expect("the session is running") {
                    AppEvent::Message { message } => self.messages.push(message),
                    AppEvent::MessageState {
                        client_id, state, ..
                    } => self.states.entry(client_id).or_default().push(state),
                    AppEvent::Connection { state } => self.connection.push(state),
                    _ => {}
                }
            }
        })
        .await;
    }

    fn connected_since(&self, mark: usize) -> bool {
        self.connection[mark..]
            .iter()
            .any(|s| matches!(s, ConnectionView::Connected { .. }))
    }

    fn connecting_since(&self, mark: usize) -> bool {
        self.connection[mark..]
            .iter()
            .any(|s| matches!(s, ConnectionView::Connecting { .. }))
    }

    fn sent(&self, client_id: &str) -> Option<Seq> {
        self.states.get(client_id)?.iter().find_map(|s| match s {
            DeliveryState::Sent { seq } => Some(*seq),
            _ => None,
        })
    }

    fn all_sent(&self, ids: &[String]) -> bool {
        ids.iter().all(|id| self.sent(id).is_some())
    }

    fn received(&self, ids: &[String]) -> usize {
        let ids: HashSet<&String> = ids.iter().collect();
        self.messages
            .iter()
            .filter(|m| ids.contains(&m.client_id))
            .count()
    }
}

async fn send_all(session: &Session, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let item = session
            .send(GENERAL_ROOM_ID, &format!("{prefix} {i}"))
            .await
            .expect("the send is queued");
        ids.push(item.client_id);
    }
    ids
}

/// The messages of `ids` that `log` announced: each exactly once, in the order of `ids` (the
/// order they were sent), with increasing seqs equal to the seqs their sender was acked with.
fn assert_once_in_order(log: &Log, ids: &[String], acked: &Log, who: &str) {
    let wanted: HashSet<&String> = ids.iter().collect();
    let got: Vec<&Message> = log
        .messages
        .iter()
        .filter(|m| wanted.contains(&m.client_id))
        .collect();
    let got_ids: Vec<&String> = got.iter().map(|m| &m.client_id).collect();
    let want_ids: Vec<&String> = ids.iter().collect();
    assert_eq!(got_ids, want_ids, "{who}: each once, in send order");
    for pair in got.windows(2) {
        assert!(pair[0].seq < pair[1].seq, "{who}: in seq order: {got:?}");
    }
    for m in &got {
        assert_eq!(m.room_id, GENERAL_ROOM_ID);
        assert_eq!(
            acked.sent(&m.client_id),
            Some(m.seq),
            "{who}: the seq the sender was acked with"
        );
    }
}

/// No (room, seq) and no client_id announced twice; at most one `sent` per send.
fn assert_nothing_doubled(log: &Log, who: &str) {
    let mut keys = HashSet::new();
    let mut client_ids = HashSet::new();
    for m in &log.messages {
        assert!(
            keys.insert((m.room_id.clone(), m.seq)),
            "{who}: ({}, {}) announced twice",
            m.room_id,
            m.seq
        );
        assert!(
            client_ids.insert(m.client_id.clone()),
            "{who}: client_id {} announced twice (seq {})",
            m.client_id,
            m.seq
        );
    }
    for (id, states) in &log.states {
        let sent = states
            .iter()
            .filter(|s| matches!(s, DeliveryState::Sent { .. }))
            .count();
        assert!(sent <= 1, "{who}: {id} announced sent {sent} times");
    }
}

/// Every one of `ids` is in the outbox as `Sent` with the seq announced; nothing pending.
async fn assert_outbox_drained(session: &Session, log: &Log, ids: &[String], who: &str) {
    for id in ids {
        let item = session
            .cache()
            .outbox_item(id)
            .await
            .expect("the outbox")
            .expect("kept");
        let seq = log.sent(id).expect("announced sent");
        assert_eq!(item.state, OutboxState::Sent { seq }, "{who}: {id}");
    }
    let pending = session.cache().pending().await.expect("the outbox");
    assert!(pending.is_empty(), "{who}: still pending: {pending:?}");
}

#[tokio::test]
async fn relay_crash_mid_conversation_loses_nothing_and_doubles_nothing() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = relay(relay_dir.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    // The restart comes back on this very port.
    let addr = relay.addr();
    let (alice, bob) = (
        register(&relay, "alice").await,
        register(&relay, "bob").await,
    );
    let (a, a_events) = support::app::start(a_dir.path(), relay.url(), &alice).await;
    let (b, b_events) = support::app::start(b_dir.path(), relay.url(), &bob).await;
    let (mut a_log, mut b_log) = (Log::new(a_events), Log::new(b_events));
    a_log
        .until("alice connected", |l| l.connected_since(0))
        .await;
    b_log.until("bob connected", |l| l.connected_since(0)).await;

    // Alice's burst goes into her outbox at once; the worker drains it one send at a time.
    let a_ids = send_all(&a, "alice", BURST).await;
    b_log
        .until("bob has the start of the burst", |l| {
            l.received(&a_ids) >= CRASH_AFTER
        })
        .await;

    // Mid-burst: crash.
    let (a_mark, b_mark) = (a_log.connection.len(), b_log.connection.len());
    relay.crash().await;
    let a_pending = a.cache().pending().await.expect("the outbox").len();
    eprintln!(
        "crashed with bob holding {} of {BURST}, alice {a_pending} pending",
        b_log.received(&a_ids)
    );
    assert!(a_pending > 0, "the crash came mid-burst");
    a_log
        .until("alice notices the crash", |l| l.connecting_since(a_mark))
        .await;
    b_log
        .until("bob notices the crash", |l| l.connecting_since(b_mark))
        .await;

    // Bob writes while the relay is down: queued, pending.
    let b_ids = send_all(&b, "bob", WHILE_DOWN).await;
    for id in &b_ids {
        let item = b
            .cache()
            .outbox_item(id)
            .await
            .expect("the outbox")
            .expect("kept");
        assert_eq!(item.state, OutboxState::Pending, "queued while down");
    }

    // Back on the same port and data dir; nobody tells the sessions.
    let (a_mark, b_mark) = (a_log.connection.len(), b_log.connection.len());
    let relay = relay_restart(relay_dir.path(), addr).await;
    a_log
        .until("alice reconnects, drains, gets bob's", |l| {
            l.connected_since(a_mark) && l.all_sent(&a_ids) && l.received(&b_ids) == WHILE_DOWN
        })
        .await;
    b_log
        .until("bob reconnects, drains, gets the whole burst", |l| {
            l.connected_since(b_mark) && l.all_sent(&b_ids) && l.received(&a_ids) == BURST
        })
        .await;

    // One more round trip each way: anything doubled would have shown up before these.
    let a_last = send_all(&a, "alice after", 1).await;
    let b_last = send_all(&b, "bob after", 1).await;
    a_log
        .until("alice's last round trip", |l| {
            l.all_sent(&a_last) && l.received(&a_last) == 1 && l.received(&b_last) == 1
        })
        .await;
    b_log
        .until("bob's last round trip", |l| {
            l.all_sent(&b_last) && l.received(&b_last) == 1 && l.received(&a_last) == 1
        })
        .await;

    let all_a: Vec<String> = a_ids.iter().chain(&a_last).cloned().collect();
    let all_b: Vec<String> = b_ids.iter().chain(&b_last).cloned().collect();
    assert_once_in_order(&b_log, &all_a, &a_log, "bob gets alice's");
    assert_once_in_order(&a_log, &all_b, &b_log, "alice gets bob's");
    // The senders see their own messages once too.
    assert_once_in_order(&a_log, &all_a, &a_log, "alice sees her own");
    assert_once_in_order(&b_log, &all_b, &b_log, "bob sees his own");
    assert_nothing_doubled(&a_log, "alice");
    assert_nothing_doubled(&b_log, "bob");
    assert_outbox_drained(&a, &a_log, &all_a, "alice").await;
    assert_outbox_drained(&b, &b_log, &all_b, "bob").await;
    // Both caches hold the same conversation: every send once, at consecutive seqs.
    let total = all_a.len() + all_b.len();
    let a_cached = a
        .messages(GENERAL_ROOM_ID, None, 1_000)
        .await
        .expect("cache");
    let b_cached = b
        .messages(GENERAL_ROOM_ID, None, 1_000)
        .await
        .expect("cache");
    assert_eq!(a_cached, b_cached, "the same history on both sides");
    assert_eq!(b_cached.len(), total, "{b_cached:?}");
    for pair in b_cached.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1, "no holes, no extras");
    }
    let cached_ids: HashSet<&String> = b_cached.iter().map(|m| &m.client_id).collect();
    assert_eq!(cached_ids.len(), total, "each client_id once");

    a.stop().await;
    b.stop().await;
    within("the relay stops", relay.stop())
        .await
        .expect("the relay stops cleanly");
}

async fn relay_restart(data_dir: &Path, addr: SocketAddr) -> natter_relay::Relay {
    relay(data_dir, addr).await
}
