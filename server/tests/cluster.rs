//! Several relay nodes sharing live events, presence and rate limits through a real Redis
//! (issue 17): two relay processes, each with `--redis-url`, on one PostgreSQL database of the
//! test's own when built with `postgres` too (as `cargo xtask test` runs it:
//! `cargo test -p natter-relay --features postgres,redis --test cluster`), else on one SQLite
//! data directory (which takes their writes in turn).
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use natter_client::session::AppEvent;
use natter_protocol::events::{MessageEvent, PresenceEvent, ReceiptEvent, RoomEvent, TypingEvent};
use natter_protocol::requests::{CreateRoom, ListMembers, MarkRead, SendMessage, SetTyping};
use natter_protocol::{ErrorCode, Message, GENERAL_ROOM_ID};
use natter_testkit::cluster::{self, Cluster, Shared};
use natter_testkit::nginx::Nginx;
use natter_testkit::redis::Redis;
use natter_testkit::{
    session, Api, Client, Direction, Fault, FaultProxy, RelayProcess, RelaySpec, WAIT,
};

/// How long a dead node's users may stay online for the others (the bound).
const DEAD_NODE_BOUND: Duration = Duration::from_secs(30);
/// How long a message missed during a Redis outage may take to arrive once Redis is back.
const CATCH_UP_BOUND: Duration = Duration::from_secs(15);
/// How long a message above a hole the bus never fills may wait: the feed's hold and one read
/// of the store, well inside the time a dead node takes to be reaped (15 s and more).
const HOLE_BOUND: Duration = Duration::from_secs(5);

struct Nodes {
    redis: Redis,
    a: RelayProcess,
    b: RelayProcess,
    /// The shared store's server (PostgreSQL) and data directory, kept while the nodes run.
    _store: Box<dyn std::any::Any + Send>,
}

/// PostgreSQL when built with it, else one SQLite data directory.
const SHARED: Shared = if cfg!(feature = "postgres") {
    Shared::Postgres
} else {
    Shared::SqliteDir
};

async fn two_nodes(extra: &[&str]) -> Nodes {
    let cluster = Cluster::start(env!("CARGO_BIN_EXE_natter-relay"), SHARED, 2, extra)
        .await
        .unwrap_or_else(|e| panic!("start two nodes: {e}"));
    let Cluster {
        redis,
        postgres,
        nodes,
        dir,
    } = cluster;
    let [(_, a), (_, b)]: [_; 2] = nodes.try_into().expect("two nodes");
    Nodes {
        redis,
        a,
        b,
        _store: Box::new((postgres, dir)),
    }
}

fn send(room_id: &str, body: &str) -> SendMessage {
    SendMessage {
        room_id: room_id.to_owned(),
        client_id: uuid::Uuid::new_v4().to_string(),
        body: body.to_owned(),
        reply_to: None,
        attachments: Vec::new(),
    }
}

/// Alice on node a and bob on node b, in a room of their own (presence goes through rooms
/// other than `general`).
async fn alice_and_bob(nodes: &Nodes) -> (Client, Client, String) {
    let (api_a, api_b) = (Api::new(nodes.a.url()), Api::new(nodes.b.url()));
    let alice = api_a.user("alice").await;
    let bob = api_b.user("bob").await;
    let alice_client = api_a
        .connect("alice", &alice.token)
        .await
        .expect("alice connects to a");
    let room = alice_client
        .request(&CreateRoom {
            name: "across".to_owned(),
            members: vec!["bob".to_owned()],
        })
        .await
        .expect("room with bob")
        .room;
    let bob_client = api_b
        .connect("bob", &bob.token)
        .await
        .expect("bob connects to b");
    (alice_client, bob_client, room.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_typing_and_presence_cross_nodes() {
    let nodes = two_nodes(&[]).await;
    let (alice, bob, room) = alice_and_bob(&nodes).await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";
    // Bob's snapshot comes from his node; alice's socket is counted on the other.
    let seen = bob
        .next_event_where::<PresenceEvent>(WAIT, is_alice)
        .await
        .expect("bob is told alice's presence");
    assert!(seen.online, "alice's socket on node a counts on node b");

    for i in 0..20 {
        alice
            .request(&send(&room, &format!("hello {i}")))
            .await
            .expect("alice's send is acked");
    }
    let mut seqs = Vec::new();
    for _ in 0..20 {
        let got = bob
            .next_event::<MessageEvent>()
            .await
            .expect("bob hears alice's message through node b");
        seqs.push(got.message.seq);
    }
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>(), "in order, once each");

    bob.emit(&SetTyping {
        room_id: room.clone(),
        typing: true,
    })
    .await
    .expect("bob types");
    let typing = alice
        .next_event::<TypingEvent>()
        .await
        .expect("alice sees bob typing through node a");
    assert_eq!(typing.user, "bob");

    bob.request(&MarkRead {
        room_id: room.clone(),
        seq: 20,
    })
    .await
    .expect("bob reads");
    let receipt = alice
        .next_event_where::<ReceiptEvent>(WAIT, |r| r.user == "bob")
        .await
        .expect("alice gets bob's receipt through node a");
    assert_eq!(receipt.seq, 20);

    // A room made on node a puts bob's socket on node b in it at once.
    Api::new(nodes.a.url()).user("carol").await;
    let second = alice
        .request(&CreateRoom {
            name: "second".to_owned(),
            members: vec!["bob".to_owned(), "carol".to_owned()],
        })
        .await
        .expect("a second room")
        .room;
    let told = bob
        .next_event_where::<RoomEvent>(WAIT, |r| r.room.id == second.id)
        .await
        .expect("bob on node b is told of the new room");
    assert_eq!(told.room.name, "second");
    let first_in_second = alice
        .request(&send(&second.id, "in the second room"))
        .await
        .expect("sent")
        .message;
    let heard = bob
        .next_event_where::<MessageEvent>(WAIT, |m| m.message.room_id == second.id)
        .await
        .expect("bob's socket on node b joined the room made on node a");
    assert_eq!(heard.message.id, first_in_second.id);

    alice.close().await;
    // (The new room told bob alice's presence again: online. The next "offline" is the close.)
    let offline = bob
        .next_event_where::<PresenceEvent>(WAIT, |p| is_alice(p) && !p.online)
        .await
        .expect("bob sees alice go offline");
    assert!(offline.last_seen.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_on_one_node_drops_the_session_s_sockets_on_both() {
    let nodes = two_nodes(&[]).await;
    let (api_a, api_b) = (Api::new(nodes.a.url()), Api::new(nodes.b.url()));
    let alice = api_a.user("alice").await;
    let on_a = api_a.connect("alice", &alice.token).await.expect("a");
    let on_b = api_b.connect("alice", &alice.token).await.expect("b");
    api_a
        .logout(&alice.token)
        .await
        .expect("logout through node a");
    on_a.wait_closed().await.expect("node a's socket dropped");
    on_b.wait_closed()
        .await
        .expect("node b's socket of the same session dropped too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_through_both_nodes_into_one_room_are_seen_in_one_order_by_everyone() {
    let nodes = two_nodes(&["--metrics-bind", "127.0.0.1:0"]).await;
    let (alice, bob, room) = alice_and_bob(&nodes).await;
    const EACH: usize = 30;
    let (from_a, from_b) = tokio::join!(
        async {
            let mut acked = Vec::new();
            for i in 0..EACH {
                acked.push(
                    alice
                        .request(&send(&room, &format!("a{i}")))
                        .await
                        .expect("a's send")
                        .message
                        .seq,
                );
            }
            acked
        },
        async {
            let mut acked = Vec::new();
            for i in 0..EACH {
                acked.push(
                    bob.request(&send(&room, &format!("b{i}")))
                        .await
                        .expect("b's send")
                        .message
                        .seq,
                );
            }
            acked
        }
    );
    let mut all: Vec<i64> = from_a.iter().chain(&from_b).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=2 * EACH as i64).collect::<Vec<_>>(),
        "seqs 1..n, gap-free, each once"
    );
    for (who, client) in [("alice", &alice), ("bob", &bob)] {
        let mut seen = Vec::new();
        while seen.len() < 2 * EACH {
            let m = client
                .next_event::<MessageEvent>()
                .await
                .unwrap_or_else(|e| panic!("{who} hears every message: {e}"));
            seen.push(m.message.seq);
        }
        assert_eq!(
            seen,
            (1..=2 * EACH as i64).collect::<Vec<_>>(),
            "{who} sees seq order"
        );
    }
    // Each node committed messages above ones of the other's still on the bus: those waited
    // for the bus (which brings them within milliseconds), not for a read of the store.
    let mut by_bus = 0.0;
    for node in [&nodes.a, &nodes.b] {
        let bus = metric(node, "natter_feed_holes_total{filled=\"bus\"}").await;
        let store = metric(node, "natter_feed_holes_total{filled=\"store\"}").await;
        println!("holes filled: {bus} by the bus, {store} from the store");
        by_bus += bus;
    }
    assert!(by_bus > 0.0, "no hole was filled by the bus");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_s_users_go_offline_for_the_others() {
    let nodes = two_nodes(&[]).await;
    let (_alice, bob, _room) = alice_and_bob(&nodes).await;
    let is_alice = |p: &PresenceEvent| p.user == "alice";
    let online = bob
        .next_event_where::<PresenceEvent>(WAIT, is_alice)
        .await
        .expect("alice online");
    assert!(online.online);
    let Nodes {
        a,
        b: _b,
        redis: _redis,
        _store,
    } = nodes;
    let killed = Instant::now();
    a.kill9().await.expect("kill -9 node a");
    let offline = bob
        .next_event_where::<PresenceEvent>(DEAD_NODE_BOUND, is_alice)
        .await
        .expect("alice goes offline within the bound after her node died");
    assert!(!offline.online);
    println!("offline {:?} after kill -9", killed.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_while_redis_is_down_still_reaches_the_other_node() {
    let mut nodes = two_nodes(&[]).await;
    let (alice, bob, room) = alice_and_bob(&nodes).await;
    alice
        .request(&send(&room, "before"))
        .await
        .expect("acked before the outage");
    let before = bob.next_event::<MessageEvent>().await.expect("live");
    assert_eq!(before.message.body, "before");

    nodes.redis.stop();
    let during = alice
        .request(&send(&room, "during"))
        .await
        .expect("committed and acked, Redis or not (the store is the truth)");
    // Connecting and asking who is in a room need Redis's presence: both still answer within
    // the test client's usual wait (each Redis call is bounded, `cluster/breaker.rs`).
    let carol = Api::new(nodes.b.url()).join("carol").await.1;
    let page = carol
        .request(&ListMembers {
            room_id: GENERAL_ROOM_ID.to_owned(),
            after: None,
            limit: None,
        })
        .await
        .expect("a members page during a Redis outage");
    assert!(page.members.iter().any(|m| m.username == "carol"));
    nodes.redis.start().expect("redis back");
    let started = Instant::now();
    let got = bob
        .next_event_where::<MessageEvent>(CATCH_UP_BOUND, |_| true)
        .await
        .expect("the missed message arrives once the nodes catch up")
        .message;
    assert_eq!(got.seq, during.message.seq);
    assert_eq!(got.body, "during");
    println!("caught up {:?} after Redis came back", started.elapsed());
}

/// A room's FIRST message, sent on node a while Redis is down, still reaches bob on node b once
/// Redis is back, and once: in a room his socket joined at its connect (the sign-on's last seq)
/// and in one made on node a while he was connected (the seq the `room` event told him). Node
/// b restarted after the first room was made, so its feed had sent nothing of either room:
/// only where bob's socket joined them tells its catch-up what he lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_s_first_message_sent_while_redis_is_down_reaches_the_other_node_once() {
    let cluster = Cluster::start(env!("CARGO_BIN_EXE_natter-relay"), SHARED, 2, &[])
        .await
        .unwrap_or_else(|e| panic!("start two nodes: {e}"));
    let Cluster {
        mut redis,
        postgres: _postgres,
        nodes,
        dir: _dir,
    } = cluster;
    let [(_, a), (spec_b, b)]: [_; 2] = nodes.try_into().expect("two nodes");
    let api_a = Api::new(a.url());
    let alice_token = api_a.user("alice").await.token;
    let bob_token = Api::new(b.url()).user("bob").await.token;
    let alice = api_a
        .connect("alice", &alice_token)
        .await
        .expect("alice connects to a");
    let create = |name: &str| CreateRoom {
        name: name.to_owned(),
        members: vec!["bob".to_owned()],
    };
    let joined_at_connect = alice
        .request(&create("before bob"))
        .await
        .expect("a room with bob")
        .room
        .id;
    b.kill9().await.expect("kill -9 node b");
    let b = RelayProcess::start(&spec_b).await.expect("node b restarts");
    let api_b = Api::new(b.url());
    api_b.wait_healthy().await;
    let bob = api_b
        .connect("bob", &bob_token)
        .await
        .expect("bob connects to the restarted node b");
    let made_later = alice
        .request(&create("later"))
        .await
        .expect("a room made while bob is connected")
        .room
        .id;
    bob.next_event_where::<RoomEvent>(WAIT, |r| r.room.id == made_later)
        .await
        .expect("bob on node b is told of the room made on node a");

    redis.stop();
    let mut sent = Vec::new();
    for room in [&joined_at_connect, &made_later] {
        let asked = Instant::now();
        // Within the test client's usual wait: the shared rate limit does not hold a send
        // for Redis's reconnect (`cluster/quota.rs`).
        let acked = alice
            .request(&send(room, "first"))
            .await
            .expect("committed and acked, Redis or not (the store is the truth)")
            .message;
        println!("acked {:?} after the send, Redis down", asked.elapsed());
        assert_eq!(acked.seq, 1, "the room's first message");
        sent.push((acked.room_id, acked.seq));
    }
    redis.start().expect("redis back");
    let started = Instant::now();
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let left = CATCH_UP_BOUND.saturating_sub(started.elapsed());
        let m = bob
            .next_event_where::<MessageEvent>(left, |_| true)
            .await
            .unwrap_or_else(|e| {
                panic!("each room's missed first message arrives: {e} (got {got:?})")
            })
            .message;
        got.push((m.room_id, m.seq));
    }
    println!("caught up {:?} after Redis came back", started.elapsed());
    sent.sort();
    got.sort();
    assert_eq!(got, sent);

    // Once: what bob hears next in each room is its second message, not the first again.
    let mut seconds = Vec::new();
    for room in [&joined_at_connect, &made_later] {
        let acked = alice
            .request(&send(room, "second"))
            .await
            .expect("acked")
            .message;
        assert_eq!(acked.seq, 2);
        seconds.push((acked.room_id, acked.seq));
    }
    let mut next = Vec::new();
    while next.len() < seconds.len() {
        let m = bob
            .next_event_where::<MessageEvent>(CATCH_UP_BOUND, |_| true)
            .await
            .unwrap_or_else(|e| panic!("the second messages arrive: {e} (got {next:?})"))
            .message;
        next.push((m.room_id, m.seq));
    }
    seconds.sort();
    next.sort();
    assert_eq!(next, seconds, "no first message twice");
}

/// Node a, restarted with its link to Redis through a proxy the test can cut.
async fn node_a_through_a_proxy(
    spec: &RelaySpec,
    a: RelayProcess,
    redis: &Redis,
) -> (RelayProcess, FaultProxy) {
    let redis_addr = redis
        .url()
        .trim_start_matches("redis://")
        .parse()
        .expect("redis address");
    let link = FaultProxy::start(redis_addr).await.expect("proxy to redis");
    a.kill9().await.expect("kill -9 node a");
    let through = format!("redis://{}", link.addr());
    let args = spec
        .args
        .iter()
        .map(|arg| {
            if *arg == redis.url() {
                through.clone()
            } else {
                arg.clone()
            }
        })
        .collect();
    let proxied = RelaySpec {
        args,
        ..spec.clone()
    };
    let a = RelayProcess::start(&proxied)
        .await
        .expect("node a through the proxy");
    Api::new(a.url()).wait_healthy().await;
    (a, link)
}

/// Node a commits and acks a message it cannot publish (its link to Redis cut), then dies by
/// `kill -9`: bob, on node b, has not seen it 2 s later. Returns node a's spec, bob, the lost
/// message, and what must outlive the test (node b, Redis, the store).
async fn a_cast_dies_with_its_node() -> (RelaySpec, Client, Message, Box<dyn std::any::Any>) {
    let cluster = Cluster::start(env!("CARGO_BIN_EXE_natter-relay"), SHARED, 2, &[])
        .await
        .unwrap_or_else(|e| panic!("start two nodes: {e}"));
    let Cluster {
        redis,
        postgres,
        nodes,
        dir,
    } = cluster;
    let [(spec_a, a), (_, b)]: [_; 2] = nodes.try_into().expect("two nodes");
    let (a, link) = node_a_through_a_proxy(&spec_a, a, &redis).await;
    let nodes = Nodes {
        redis,
        a,
        b,
        _store: Box::new((postgres, dir)),
    };
    let (alice, bob, room) = alice_and_bob(&nodes).await;
    alice
        .request(&send(&room, "before"))
        .await
        .expect("acked before the cut");
    let before = bob.next_event::<MessageEvent>().await.expect("live");
    assert_eq!(before.message.body, "before");

    // Node a's link to Redis fails: it commits and acks, cannot publish, and dies so.
    link.set(Direction::Both, Fault::RefuseNew);
    link.set(Direction::Both, Fault::Reset);
    let lost = alice
        .request(&send(&room, "lost"))
        .await
        .expect("committed and acked without Redis");
    let Nodes {
        a,
        b,
        redis,
        _store,
    } = nodes;
    a.kill9().await.expect("kill -9 node a");
    let quiet = bob
        .next_event_where::<MessageEvent>(Duration::from_secs(2), |_| true)
        .await;
    assert!(quiet.is_err(), "the cast died with node a: {quiet:?}");
    (
        spec_a,
        bob,
        lost.message,
        Box::new((b, redis, _store, link)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_whose_node_died_before_publishing_it_reaches_the_other_node_at_its_restart() {
    let (spec_a, bob, lost, _rest) = a_cast_dies_with_its_node().await;
    let started = Instant::now();
    let _a = RelayProcess::start(&spec_a)
        .await
        .expect("node a restarts, straight to Redis");
    let got = bob
        .next_event_where::<MessageEvent>(CATCH_UP_BOUND, |_| true)
        .await
        .expect("the restarted node has every node catch up")
        .message;
    assert_eq!((got.seq, got.body.as_str()), (lost.seq, "lost"));
    println!("caught up {:?} after node a's restart", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_whose_node_died_before_publishing_it_reaches_the_other_node_without_a_restart() {
    let (_spec_a, bob, lost, _rest) = a_cast_dies_with_its_node().await;
    let started = Instant::now();
    // Node b takes node a for dead once its key expires, and every node catches up.
    let got = bob
        .next_event_where::<MessageEvent>(DEAD_NODE_BOUND, |_| true)
        .await
        .expect("the node that reaps node a has every node catch up")
        .message;
    assert_eq!((got.seq, got.body.as_str()), (lost.seq, "lost"));
    println!("caught up {:?} after node a died", started.elapsed());
}

/// Bob, on node b, sends after node a's lost message: node b holds his message above the
/// hole for the bus, then fills the hole from the store, long before node a is reaped (which
/// would catch every node up anyway).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hole_the_bus_never_fills_is_filled_from_the_store_after_the_hold() {
    let (_spec_a, bob, lost, _rest) = a_cast_dies_with_its_node().await;
    let started = Instant::now();
    let own = bob
        .request(&send(&lost.room_id, "after"))
        .await
        .expect("bob's send is acked")
        .message;
    assert_eq!(own.seq, lost.seq + 1);
    let mut got = Vec::new();
    while got.len() < 2 {
        let m = bob
            .next_event_where::<MessageEvent>(HOLE_BOUND, |_| true)
            .await
            .unwrap_or_else(|e| panic!("the hole is filled before node a is reaped: {e}"))
            .message;
        got.push((m.seq, m.body));
    }
    assert!(started.elapsed() < HOLE_BOUND, "{:?}", started.elapsed());
    assert_eq!(
        got,
        [(lost.seq, "lost".to_owned()), (own.seq, "after".to_owned())],
        "the lost message first, then bob's, each once"
    );
    println!("hole filled {:?} after bob's send", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_on_two_nodes_gets_the_send_limit_once() {
    // 1 send per second after a burst of 5, per user, across both nodes.
    let nodes = two_nodes(&["--send-per-second", "1", "--send-burst", "5"]).await;
    let (api_a, api_b) = (Api::new(nodes.a.url()), Api::new(nodes.b.url()));
    let alice = api_a.user("alice").await;
    let on_a = api_a.connect("alice", &alice.token).await.expect("a");
    let on_b = api_b.connect("alice", &alice.token).await.expect("b");
    let general = natter_protocol::GENERAL_ROOM_ID;
    let started = Instant::now();
    let mut accepted = 0u32;
    for i in 0..20 {
        let client = if i % 2 == 0 { &on_a } else { &on_b };
        match client.request(&send(general, &format!("spam {i}"))).await {
            Ok(_) => accepted += 1,
            Err(e) => assert_eq!(
                e.code,
                ErrorCode::RateLimited,
                "refused as rate limited: {e}"
            ),
        }
    }
    let allowed = 5 + started.elapsed().as_secs() as u32 + 1;
    assert!(
        accepted <= allowed,
        "{accepted} sends accepted over two nodes; the limit allows {allowed} (each node alone would take {})",
        2 * allowed
    );
    assert!(accepted >= 5, "the burst itself is allowed: {accepted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_well_under_the_limit_are_not_each_asked_of_redis() {
    // 100 sends per second after a burst of 100: 21 sends stay well under it.
    let nodes = two_nodes(&["--send-per-second", "100", "--send-burst", "100"]).await;
    let api = Api::new(nodes.a.url());
    let alice = api.user("alice").await;
    let on_a = api.connect("alice", &alice.token).await.expect("a");
    on_a.request(&send(GENERAL_ROOM_ID, "first"))
        .await
        .expect("the first send (node a asks Redis: it knows nothing of alice yet)");
    let redis = redis::Client::open(nodes.redis.url()).expect("a Redis URL");
    let mut redis = redis
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async::<()>(&mut redis)
        .await
        .expect("statistics reset");
    let sends: Vec<SendMessage> = (0..20)
        .map(|i| send(GENERAL_ROOM_ID, &format!("m{i}")))
        .collect();
    for acked in futures_util::future::join_all(sends.iter().map(|s| on_a.request(s))).await {
        acked.expect("under the limit: acked");
    }
    // The 20 are counted in Redis a moment later, together.
    let started = Instant::now();
    let mut calls = 0;
    while calls == 0 {
        assert!(
            started.elapsed() < WAIT,
            "node a never counted the sends in Redis"
        );
        let stats: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut redis)
            .await
            .expect("INFO answers");
        calls = script_calls(&stats);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        calls < 20,
        "{calls} script calls for 20 sends: each send still waits for Redis"
    );
}

/// How many times Redis ran a script (EVALSHA or EVAL), from `INFO commandstats`.
fn script_calls(stats: &str) -> u64 {
    stats
        .lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// Sockets open on `node`, from its metrics listener (`--metrics-bind 127.0.0.1:0`).
async fn sockets_open(node: &RelayProcess) -> f64 {
    metric(node, "natter_sockets_open{").await
}

/// The sum of `node`'s samples whose line starts with `series`, from its metrics listener
/// (`--metrics-bind 127.0.0.1:0`).
async fn metric(node: &RelayProcess, series: &str) -> f64 {
    let ports = node.listening_ports().expect("the node runs");
    let metrics = ports
        .into_iter()
        .find(|p| *p != node.addr().port())
        .expect("a metrics listener");
    let text = reqwest::get(format!("http://127.0.0.1:{metrics}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|l| l.starts_with(series))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The shipped nginx site (packaging/relay/nginx-natter.conf) in front of the nodes.
fn nginx_for(a: &RelayProcess, b: &RelayProcess) -> Nginx {
    cluster::nginx_for(a.addr(), b.addr()).unwrap_or_else(|e| panic!("start nginx: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_behind_nginx_move_to_the_other_node_when_theirs_is_killed_and_lose_nothing() {
    let nodes = two_nodes(&[
        "--trusted-proxy",
        "127.0.0.1/32",
        "--metrics-bind",
        "127.0.0.1:0",
    ])
    .await;
    let Nodes {
        redis: _redis,
        a,
        b,
        _store,
    } = nodes;
    let nginx = nginx_for(&a, &b);
    let api = Api::new(nginx.url());
    let (alice, bob) = (api.user("alice").await, api.user("bob").await);
    let (pa, pb) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (alice_session, mut alice_events) =
        session::start(pa.path(), nginx.url(), &alice.token).await;
    session::connected(&mut alice_events).await;
    let (bob_session, mut bob_events) = session::start(pb.path(), nginx.url(), &bob.token).await;
    session::connected(&mut bob_events).await;
    // nginx sends one client address to one node: that node holds both sessions.
    let (on_a, on_b) = (sockets_open(&a).await, sockets_open(&b).await);
    assert_eq!(
        on_a + on_b,
        2.0,
        "both sessions connected: {on_a} on a, {on_b} on b"
    );
    let (doomed, survivor) = if on_a == 2.0 { (a, b) } else { (b, a) };
    assert_eq!(
        sockets_open(&doomed).await,
        2.0,
        "one node holds both sessions"
    );

    const SENDS: usize = 40;
    const BEFORE_KILL: usize = 10;
    let mut ids = Vec::new();
    for i in 0..=BEFORE_KILL {
        if i == BEFORE_KILL {
            // Mid-burst, after some acks: the node holding both sessions dies.
            session::sent(&mut alice_events, &ids).await;
            doomed.kill9().await.expect("kill -9 the node");
            ids.clear();
            break;
        }
        let item = alice_session
            .send(GENERAL_ROOM_ID, &format!("burst {i}"))
            .await
            .expect("queued");
        ids.push(item.client_id);
    }
    for i in BEFORE_KILL..SENDS {
        let item = alice_session
            .send(GENERAL_ROOM_ID, &format!("burst {i}"))
            .await
            .expect("queued while the node is gone");
        ids.push(item.client_id);
    }
    session::sent(&mut alice_events, &ids).await;
    let mut seen = std::collections::BTreeMap::new();
    session::until(
        &mut bob_events,
        "bob has every message of the burst, once",
        |e| {
            if let AppEvent::Message { message } = e {
                if message.room_id == GENERAL_ROOM_ID {
                    let again = seen.insert(message.seq, message.body.clone());
                    assert!(again.is_none(), "seq {} shown twice", message.seq);
                }
            }
            (seen.values().filter(|b| b.starts_with("burst ")).count() >= SENDS).then_some(())
        },
    )
    .await;
    let bodies: std::collections::BTreeSet<&String> = seen.values().collect();
    for i in 0..SENDS {
        assert!(
            bodies.contains(&format!("burst {i}")),
            "burst {i} reached bob"
        );
    }
    let seqs: Vec<i64> = seen.keys().copied().collect();
    let first = seqs[0];
    assert_eq!(
        seqs,
        (first..first + seqs.len() as i64).collect::<Vec<_>>(),
        "no gap"
    );
    assert!(
        survivor.socket_count().is_some(),
        "the other node still runs"
    );
    alice_session.stop().await;
    bob_session.stop().await;
    drop(nginx);
}
