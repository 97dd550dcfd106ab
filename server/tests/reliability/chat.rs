//! The fixture of R1 and R2: the relay binary — one node on SQLite, or two nodes on PostgreSQL
//! and Redis (issue 17) — users whose natter-client sessions, spread over the nodes, send into
//! two rooms and receive everything, and the after-run check of the promises.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use natter_client::session::Session;
use natter_protocol::requests::CreateRoom;
use natter_protocol::GENERAL_ROOM_ID;
use natter_testkit::{FaultProxy, RelayProcess, RelaySpec};

use crate::harness::{self, check_invariant, View};
use crate::util::Api;

/// How long everything may take to settle after the last fault (generous: a noisy 2-core VM).
pub const SETTLE: Duration = Duration::from_secs(90);
/// Faults, not limits, are tested.
const UNLIMITED_SENDS: [&str; 4] = ["--send-burst", "1000000", "--send-per-second", "1000000"];

/// One relay node: its process (none while killed), how to start it again (same port), and the
/// fault proxy in front of it when the sessions connect through one.
pub struct Node {
    pub relay: Option<RelayProcess>,
    pub spec: RelaySpec,
    pub proxy: Option<FaultProxy>,
}

/// The servers a cluster's nodes share, kept while they run.
#[cfg(all(feature = "postgres", feature = "redis"))]
type Backing = Option<(
    natter_testkit::redis::Redis,
    Option<natter_testkit::postgres::Postgres>,
)>;
#[cfg(not(all(feature = "postgres", feature = "redis")))]
type Backing = Option<std::convert::Infallible>;

pub struct Chat {
    /// Session `i` is on node `i % nodes.len()`.
    pub nodes: Vec<Node>,
    backing: Backing,
    /// Node 0's API.
    pub api: Api,
    pub users: Vec<String>,
    tokens: Vec<String>,
    /// general and one group room with everyone.
    pub rooms: Vec<String>,
    pub sessions: Vec<Session>,
    pub views: Vec<View>,
    /// Per session: every client_id it queued.
    pub queued: Vec<Vec<String>>,
    round: usize,
    /// The sessions' profiles (and a cluster's data dir), deleted at the end.
    _dirs: Vec<tempfile::TempDir>,
}

impl Chat {
    /// Starts the relay over `data_dir` (unlimited send rates: faults, not limits, are tested),
    /// registers `users`, creates the group room, and starts one session per user, connected
    /// straight to the relay or, with `through_proxy`, through a [`FaultProxy`] in front of it.
    pub async fn start(data_dir: &Path, users: &[&str], through_proxy: bool) -> Self {
        let spec = harness::spec(data_dir, &UNLIMITED_SENDS);
        let (relay, _) = harness::start(&spec).await;
        // Restarts come back on the same port, where the sessions (or the proxy) point.
        let spec = RelaySpec {
            bind: relay.addr(),
            ..spec
        };
        Self::over(vec![(spec, relay)], None, users, through_proxy).await
    }

    /// Like [`start`](Self::start), on two nodes sharing a PostgreSQL database and a Redis of
    /// the test's own; the sessions alternate between the nodes.
    #[cfg(all(feature = "postgres", feature = "redis"))]
    pub async fn start_cluster(users: &[&str], through_proxy: bool) -> Self {
        use natter_testkit::cluster::{Cluster, Shared};
        let cluster = Cluster::start(
            env!("CARGO_BIN_EXE_natter-relay"),
            Shared::Postgres,
            2,
            &UNLIMITED_SENDS,
        )
        .await
        .unwrap_or_else(|e| panic!("start the cluster: {e}"));
        let Cluster {
            redis,
            postgres,
            nodes,
            dir,
        } = cluster;
        let mut chat = Self::over(nodes, Some((redis, postgres)), users, through_proxy).await;
        chat._dirs.push(dir);
        chat
    }

    /// Registers `users` through node 0, creates the group room, and connects the sessions.
    async fn over(
        nodes: Vec<(RelaySpec, RelayProcess)>,
        backing: Backing,
        users: &[&str],
        through_proxy: bool,
    ) -> Self {
        let api = Api::new(nodes[0].1.url());
        let mut tokens = Vec::new();
        for user in users {
            tokens.push(api.user(user).await.token);
        }
        let creator = api.connect(users[0], &tokens[0]).await.expect("connect");
        let room = creator
            .request(&CreateRoom {
                name: "reliability".to_owned(),
                members: users[1..].iter().map(|u| (*u).to_owned()).collect(),
            })
            .await
            .expect("create the group room")
            .room;
        creator.close().await;
        let mut started = Vec::new();
        for (spec, relay) in nodes {
            let proxy = if through_proxy {
                Some(
                    FaultProxy::start(relay.addr())
                        .await
                        .expect("start the proxy"),
                )
            } else {
                None
            };
            started.push(Node {
                relay: Some(relay),
                spec,
                proxy,
            });
        }
        let nodes = started;
        let (mut sessions, mut views, mut profiles) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (user, token)) in users.iter().zip(&tokens).enumerate() {
            let node = &nodes[i % nodes.len()];
            let url = node.proxy.as_ref().map_or_else(
                || format!("http://{}", node.spec.bind),
                |p| format!("http://{}", p.addr()),
            );
            let profile = tempfile::tempdir().expect("a profile dir");
            let (session, mut events) =
                natter_testkit::session::start(profile.path(), url, token).await;
            natter_testkit::session::connected(&mut events).await;
            sessions.push(session);
            views.push(View::new(user, events));
            profiles.push(profile);
        }
        Self {
            nodes,
            backing,
            api,
            users: users.iter().map(|u| (*u).to_owned()).collect(),
            tokens,
            rooms: vec![GENERAL_ROOM_ID.to_owned(), room.id],
            queued: vec![Vec::new(); users.len()],
            sessions,
            views,
            round: 0,
            _dirs: profiles,
        }
    }

    /// Every session queues one message, into the two rooms in turn; pending events are taken.
    pub async fn send_round(&mut self) {
        self.round += 1;
        let room = &self.rooms[self.round % self.rooms.len()];
        for (i, session) in self.sessions.iter().enumerate() {
            let item = session
                .send(room, &format!("{} round {}", self.users[i], self.round))
                .await
                .expect("queued");
            self.queued[i].push(item.client_id);
        }
        for view in &mut self.views {
            view.drain();
        }
    }

    /// `kill -9` of node `n`, then the same binary on the same port and data dir (and store).
    pub async fn kill9_and_restart(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        if let Some(mut relay) = node.relay.take() {
            harness::assert_alive(&mut relay, "before the kill");
            relay.kill9().await.expect("SIGKILL the relay");
        }
        let (relay, _) = harness::start(&node.spec).await;
        node.relay = Some(relay);
    }

    /// Whether the nodes share PostgreSQL and Redis (else: one node on SQLite).
    pub fn is_cluster(&self) -> bool {
        self.backing.is_some()
    }

    /// Waits until every queued send is acked and every session shows every message; returns
    /// how long that took.
    pub async fn settle(&mut self) -> Duration {
        let started = Instant::now();
        let total: usize = self.queued.iter().map(Vec::len).sum();
        for (i, view) in self.views.iter_mut().enumerate() {
            let want = self.queued[i].len();
            let rooms = self.rooms.clone();
            let done = view
                .until(SETTLE, |v| {
                    v.acked.len() + v.failed.len() >= want && v.count_in(&rooms) >= total
                })
                .await;
            assert!(
                done,
                "{}: {} of {want} acked, {} of {total} shown within {SETTLE:?}",
                view.name,
                view.acked.len(),
                view.count_in(&rooms)
            );
            assert!(
                view.failed.is_empty(),
                "{}: sends failed: {:?}",
                view.name,
                view.failed
            );
        }
        started.elapsed()
    }

    /// The promise: database, acks, live views and caches agree; returns messages checked.
    pub async fn check(&mut self) -> usize {
        let user = &self.users[0];
        let reader = self
            .api
            .connect(user, &self.tokens[0])
            .await
            .expect("connect");
        let db = harness::stored(&reader, &self.rooms).await;
        reader.close().await;
        let mut acked = HashMap::new();
        for (i, view) in self.views.iter().enumerate() {
            for id in &self.queued[i] {
                let seq = view.acked.get(id).copied();
                let seq = seq.unwrap_or_else(|| panic!("{}: {id} never acked", view.name));
                acked.insert((self.users[i].clone(), id.clone()), seq);
            }
        }
        let views: Vec<&View> = self.views.iter().collect();
        let checked = check_invariant(&db, &views, &acked);
        assert_eq!(checked, acked.len(), "nothing stored that was not queued");
        // The caches (what the app shows after a restart) hold the same, in seq order.
        for (session, view) in self.sessions.iter().zip(&self.views) {
            for (room, messages) in &db {
                let cached = session
                    .messages(room, None, 100_000)
                    .await
                    .expect("the cache");
                assert_eq!(&cached, messages, "{}: cache of {room}", view.name);
            }
        }
        checked
    }

    /// Stops the sessions and the nodes (SIGTERM, clean exit), then checks the SQLite database
    /// (`PRAGMA integrity_check`; PostgreSQL's own consistency is its business).
    pub async fn finish(mut self) {
        for session in self.sessions.drain(..) {
            session.stop().await;
        }
        for node in &mut self.nodes {
            if let Some(mut relay) = node.relay.take() {
                harness::assert_alive(&mut relay, "at the end");
                let status = relay.terminate().await.expect("the relay stops");
                assert!(status.success(), "the relay exits cleanly: {status}");
            }
            if let Some(proxy) = node.proxy.take() {
                proxy.stop().await;
            }
        }
        if !self.is_cluster() {
            harness::integrity_ok(&self.nodes[0].spec.data_dir).await;
        }
    }
}
