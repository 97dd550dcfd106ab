//! What the relay tests share: natter-testkit's in-process relay ([`TestRelay`]), HTTP API
//! ([`Api`]) and Socket.IO client ([`Client`]), plus small request builders and assertions.

use natter_protocol::requests::{CreateRoom, History, SendMessage};
use natter_protocol::{ErrorCode, Message, Room, WireError};

pub use natter_testkit::{Api, Client, ClientError, TestRelay, PASSWORD, WAIT};

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
        reply_to: None,
        attachments: Vec::new(),
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
        around: None,
        room_id: room_id.to_owned(),
        before_seq,
        limit,
        ..History::default()
    }
}

/// A `history` request for messages alone (change entries left out), before or after a seq.
pub fn messages_page(room_id: &str, before_seq: Option<i64>, after_seq: Option<i64>) -> History {
    History {
        room_id: room_id.to_owned(),
        before_seq,
        after_seq,
        limit: Some(10),
        messages_only: true,
        ..Default::default()
    }
}
