//! Test harness: a real relay in-process on `127.0.0.1:0` with a fresh data dir, plus small
//! request builders and assertions. The HTTP API is in [`http`], the Socket.IO client in [`client`].

pub mod client;
pub mod http;

use std::ops::Deref;

use natter_protocol::requests::{CreateRoom, History, SendMessage};
use natter_protocol::{ErrorCode, Message, Room, WireError};
use natter_relay::Config;
use tokio::net::TcpListener;

pub use client::{Client, ClientError, WAIT};
pub use http::Api;

/// A password every test user gets; valid under the protocol's rules.
pub const PASSWORD: &str = "correct horse battery";

/// A relay running in this process; dropping it stops the relay too (the shutdown sender drops).
pub struct TestRelay {
    api: Api,
    relay: natter_relay::Relay,
    _dir: tempfile::TempDir,
}

impl TestRelay {
    /// A relay with the default limits, except logins: tests register many users from one address.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`start`](Self::start), with the config adjusted by `tweak` first.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("a temporary data dir");
        let mut config = Config::with_data_dir(dir.path());
        config.login_per_minute = 1_000;
        tweak(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        // A dropped handle (test ended or panicked) stops the relay as well.
        let relay = natter_relay::Relay::spawn(listener, config).expect("spawn the relay");
        let relay = Self {
            api: Api::new(relay.url()),
            relay,
            _dir: dir,
        };
        relay.api.wait_healthy().await;
        relay
    }

    /// Where it listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.relay.addr()
    }

    /// Stops the relay and waits (bounded) until `run` has returned, which must be `Ok`.
    pub async fn stop(self) {
        self.relay
            .stop()
            .await
            .expect("the relay stops cleanly, in time");
    }
}

impl Deref for TestRelay {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// A fresh client_id, as a real client would pick it.
pub fn client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `message:send` with a fresh client_id.
pub fn send(room_id: &str, body: &str) -> SendMessage {
    SendMessage {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        body: body.to_owned(),
    }
}

/// Sends `n` messages (`"{prefix} {i}"`) one after another; the relay must accept every one.
pub async fn send_many(client: &Client, room_id: &str, prefix: &str, n: usize) -> Vec<Message> {
    let mut sent = Vec::with_capacity(n);
    for i in 0..n {
        let ack = client
            .request(&send(room_id, &format!("{prefix} {i}")))
            .await
            .unwrap_or_else(|e| panic!("send {prefix} {i}: {e}"));
        sent.push(ack.message);
    }
    sent
}

/// Asserts `messages` are the room's seqs `first..=last`, in order, without gaps.
pub fn assert_seqs(messages: &[Message], first: i64, last: i64) {
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    let want: Vec<i64> = (first..=last).collect();
    assert_eq!(seqs, want, "expected seqs {first}..={last}");
}

/// Asserts the relay refused with `code`.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, WireError>,
    code: ErrorCode,
    what: &str,
) {
    match result {
        Err(e) => assert_eq!(e.code, code, "{what}: {e}"),
        Ok(v) => panic!("{what}: expected `{code}`, got Ok({v:?})"),
    }
}

/// `room:create` by `creator` with `members`; the relay must accept it.
pub async fn group(creator: &Client, name: &str, members: &[&str]) -> Room {
    let req = CreateRoom {
        name: name.to_owned(),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    };
    creator
        .request(&req)
        .await
        .unwrap_or_else(|e| panic!("create room {name}: {e}"))
        .room
}

/// A `history` request.
pub fn history(room_id: &str, before_seq: Option<i64>, limit: Option<u32>) -> History {
    History {
        room_id: room_id.to_owned(),
        before_seq,
        limit,
    }
}
