//! Several relay nodes sharing live events, presence and rate limits through a real Redis
//! (issue 17): two relay processes on one data directory (SQLite takes their writes in turn;
//! the PostgreSQL backend is the production way to share a store), each with `--redis-url`.
//! Runs only with the `redis` feature: `cargo test -p natter-relay --features redis --test cluster`.
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use natter_protocol::events::{MessageEvent, PresenceEvent, TypingEvent};
use natter_protocol::requests::{CreateRoom, SendMessage, SetTyping};
use natter_protocol::ErrorCode;
use natter_testkit::redis::Redis;
use natter_testkit::{Api, Client, RelayProcess, RelaySpec, WAIT};

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
