//! Several relay nodes sharing live events, presence and rate limits through a real Redis
//! (issue 17): two relay processes on one data directory (SQLite takes their writes in turn;
//! the PostgreSQL backend is the production way to share a store), each with `--redis-url`.
//! Runs only with the `redis` feature: `cargo test -p natter-relay --features redis --test cluster`.
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use natter_client::session::AppEvent;
use natter_protocol::events::{MessageEvent, PresenceEvent, TypingEvent};
use natter_protocol::requests::{CreateRoom, SendMessage, SetTyping};
use natter_protocol::{ErrorCode, GENERAL_ROOM_ID};
use natter_testkit::nginx::Nginx;
use natter_testkit::redis::Redis;
use natter_testkit::{session, Api, Client, RelayProcess, RelaySpec, WAIT};

/// How long a dead node's users may stay online for the others (the bound).
const DEAD_NODE_BOUND: Duration = Duration::from_secs(30);
/// How long a message missed during a Redis outage may take to arrive once Redis is back.
const CATCH_UP_BOUND: Duration = Duration::from_secs(15);

struct Nodes {
    redis: Redis,
    a: RelayProcess,
    b: RelayProcess,
    _dir: tempfile::TempDir,
}

async fn two_nodes(extra: &[&str]) -> Nodes {
    let redis = Redis::start_new().expect("start redis-server");
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = RelaySpec::new(env!("CARGO_BIN_EXE_natter-relay"), dir.path())
        .args(["--redis-url", &redis.url(), "--presence-grace-ms", "0"])
        .args(extra.iter().copied());
    let a = RelayProcess::start(&spec).await.expect("start node a");
    let b = RelayProcess::start(&spec).await.expect("start node b");
    Nodes {
        redis,
        a,
        b,
        _dir: dir,
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

    alice.close().await;
    let offline = bob
        .next_event_where::<PresenceEvent>(WAIT, is_alice)
        .await
        .expect("bob sees alice go offline");
    assert!(!offline.online);
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
        _dir,
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
        .expect("a send during a Redis outage is committed and acked (the store is the truth)");
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

/// The shipped nginx site (packaging/relay/nginx-natter.conf) in front of `nodes`, listening on
/// a free loopback port.
fn nginx_for(a: &RelayProcess, b: &RelayProcess) -> Nginx {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let site = include_str!("../../packaging/relay/nginx-natter.conf")
        .replace("127.0.0.1:8081", &a.addr().to_string())
        .replace("127.0.0.1:8082", &b.addr().to_string())
        .replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
    Nginx::start(&site, ([127, 0, 0, 1], port).into()).expect("start nginx")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_behind_nginx_move_to_the_other_node_when_theirs_is_killed_and_lose_nothing() {
    let nodes = two_nodes(&["--trusted-proxy", "127.0.0.1/32"]).await;
    let Nodes {
        redis: _redis,
        a,
        b,
        _dir,
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
    // nginx sends one client address to one node: the one with more sockets holds both sessions.
    let sockets = |p: &RelayProcess| p.socket_count().unwrap_or(0);
    let (doomed, survivor) = if sockets(&a) > sockets(&b) {
        (a, b)
    } else {
        (b, a)
    };

    const SENDS: usize = 40;
    const BEFORE_KILL: usize = 10;
    let mut ids = Vec::new();
    for i in 0..=BEFORE_KILL {
        if i == BEFORE_KILL {
            // Mid-burst, after some acks: the node holding both sessions dies.
            session::sent(&mut alice_events, &ids).await;
            doomed.kill9().await.expect("kill -9 the node");
            // It held alice's connection: her session notices and reconnects.
            session::connecting(&mut alice_events).await;
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
