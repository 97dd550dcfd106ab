//! Malformed Socket.IO requests: wrong types, missing fields, non-object and positional-array
//! payloads, blank bodies, bad ids and seqs, unknown events; null and unknown optional fields;
//! and that one client's bad input never disturbs another client's conversation.

use natter_protocol::events::MessageEvent;
use natter_protocol::requests::{
    CreateRoom, History, InviteToRoom, LeaveRoom, ListRooms, MarkRead, OpenDm, SendMessage,
    SetTyping, Sync,
};
use natter_protocol::{ErrorCode, Event, GENERAL_ROOM_ID};
use serde_json::{json, Value};

use crate::util::*;

/// Sends `payload` as `name` and returns the refusal's code (panics if accepted).
async fn refusal(client: &Client, name: &str, payload: Option<Value>) -> ErrorCode {
    let what = format!("{name} {payload:?}");
    match client.raw_request::<Value>(name, payload, WAIT).await {
        Ok(Err(e)) => e.code,
        Ok(Ok(v)) => panic!("{what}: accepted with {v}"),
        Err(e) => panic!("{what}: no answer ({e})"),
    }
}

/// Payloads every one of which must be answered `invalid`.
fn invalid_payloads() -> Vec<(&'static str, Option<Value>)> {
    let g = GENERAL_ROOM_ID;
    vec![
        // wrong types
        (
            SendMessage::NAME,
            Some(json!({"room_id": 5, "client_id": "c1", "body": "hi"})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "client_id": ["c1"], "body": "hi"})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "client_id": "c1", "body": {"text": "hi"}})),
        ),
        (History::NAME, Some(json!({"room_id": g, "limit": "ten"}))),
        (
            History::NAME,
            Some(json!({"room_id": g, "before_seq": 1.5})),
        ),
        (MarkRead::NAME, Some(json!({"room_id": g, "seq": "1"}))),
        (
            SetTyping::NAME,
            Some(json!({"room_id": g, "typing": "yes"})),
        ),
        (Sync::NAME, Some(json!({"cursors": [1, 2]}))),
        (Sync::NAME, Some(json!({"cursors": {"general": "latest"}}))),
        (
            CreateRoom::NAME,
            Some(json!({"name": "x", "members": "bob"})),
        ),
        // missing fields
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "body": "no client id"})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "client_id": "c2"})),
        ),
        (SendMessage::NAME, None),
        (CreateRoom::NAME, Some(json!({"members": []}))),
        (InviteToRoom::NAME, Some(json!({"room_id": "x"}))),
        (LeaveRoom::NAME, Some(json!({}))),
        (OpenDm::NAME, Some(json!({}))),
        (MarkRead::NAME, Some(json!({"room_id": g}))),
        (SetTyping::NAME, Some(json!({"room_id": g}))),
        // not an object at all
        (SendMessage::NAME, Some(json!("hello"))),
        (SendMessage::NAME, Some(json!(42))),
        (History::NAME, Some(json!(true))),
        // blank bodies, bad ids, bad seqs and names
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "client_id": "c4", "body": ""})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "client_id": "c5", "body": " \n\t "})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": "", "client_id": "c6", "body": "hi"})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": "r".repeat(65), "client_id": "c7", "body": "hi"})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "client_id": "", "body": "hi"})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "client_id": "c".repeat(65), "body": "hi"})),
        ),
        (
            SendMessage::NAME,
            Some(json!({"room_id": g, "client_id": "line\nbreak", "body": "hi"})),
        ),
        (MarkRead::NAME, Some(json!({"room_id": g, "seq": -1}))),
        (History::NAME, Some(json!({"room_id": g, "before_seq": -5}))),
        (Sync::NAME, Some(json!({"cursors": {"general": -1}}))),
        (CreateRoom::NAME, Some(json!({"name": "   "}))),
        (CreateRoom::NAME, Some(json!({"name": "n".repeat(65)}))),
        (CreateRoom::NAME, Some(json!({"name": "bell\u{7}"}))),
        // events the protocol does not have
        ("nope", Some(json!({}))),
        ("message", Some(json!({"message": "relay-to-client only"}))),
        ("rooms:delete", None),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_refused_as_invalid() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    for (name, payload) in invalid_payloads() {
        let code = refusal(&alice, name, payload.clone()).await;
        assert_eq!(code, ErrorCode::Invalid, "{name} {payload:?}");
    }
    // Requests without fields accept a missing payload as `{}`.
    alice
        .raw_request::<Value>(ListRooms::NAME, None, WAIT)
        .await
        .expect("answered")
        .expect("rooms:list with no argument");
    let synced = alice
        .raw_request::<Value>(Sync::NAME, None, WAIT)
        .await
        .expect("answered");
    synced.expect("sync with no argument");
    // Nothing was written by any of it.
    let history = History {
        around: None,
        room_id: GENERAL_ROOM_ID.into(),
        before_seq: None,
        limit: None,
        ..History::default()
    };
    assert!(alice
        .request(&history)
        .await
        .expect("history")
        .messages
        .is_empty());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn array_payloads_are_not_read_as_objects() {
    // serde's derived structs also accept a JSON array, filling fields by position; the protocol's
    // payloads are objects, so a positional array is bad input like any other shape.
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let g = GENERAL_ROOM_ID;
    let positional = [
        (SendMessage::NAME, json!([g, "c3", "positional body"])),
        (MarkRead::NAME, json!([g, 1])),
        (CreateRoom::NAME, json!(["by position", []])),
    ];
    let mut accepted = Vec::new();
    for (name, payload) in positional {
        match alice
            .raw_request::<Value>(name, Some(payload.clone()), WAIT)
            .await
        {
            Ok(Err(e)) => assert_eq!(e.code, ErrorCode::Invalid, "{name} {payload}"),
            Ok(Ok(ack)) => accepted.push(format!("{name} {payload} -> {ack}")),
            Err(e) => panic!("{name} {payload}: no answer ({e})"),
        }
    }
    assert!(
        accepted.is_empty(),
        "positional arrays accepted as payloads:\n{}",
        accepted.join("\n")
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_fields_may_be_null_and_unknown_fields_are_ignored() {
    // protocol.md: "Optional request fields may be omitted or sent as null. Receivers ignore
    // fields they do not know."
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let g = GENERAL_ROOM_ID;
    let accepted = [
        (
            History::NAME,
            json!({"room_id": g, "before_seq": null, "limit": null}),
        ),
        (CreateRoom::NAME, json!({"name": "no members"})),
        (
            CreateRoom::NAME,
            json!({"name": "null members", "members": null}),
        ),
        (Sync::NAME, json!({})),
        (Sync::NAME, json!({"cursors": null})),
        (
            SendMessage::NAME,
            json!({"room_id": g, "client_id": "c1", "body": "hi", "v2_field": [1]}),
        ),
        (ListRooms::NAME, json!({"filter": "future"})),
        (
            SetTyping::NAME,
            json!({"room_id": g, "typing": true, "device": "phone"}),
        ),
    ];
    let mut refused = Vec::new();
    for (name, payload) in accepted {
        match alice
            .raw_request::<Value>(name, Some(payload.clone()), WAIT)
            .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => refused.push(format!("{name} {payload} -> {e}")),
            Err(e) => panic!("{name} {payload}: no answer ({e})"),
        }
    }
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_does_not_disturb_another_conversation() {
    const ROUNDS: usize = 10;
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, mallory) = relay.join("mallory").await;
    let room = group(&alice, "quiet", &["bob"]).await;

    let conversation = async {
        let mut bodies = Vec::new();
        for i in 0..ROUNDS {
            let (from, to) = if i % 2 == 0 {
                (&alice, &bob)
            } else {
                (&bob, &alice)
            };
            let sent = from
                .request(&send(&room.id, &format!("line {i}")))
                .await
                .expect("send")
                .message;
            let got = to
                .next_event_where::<MessageEvent>(WAIT, |e| e.message.id == sent.id)
                .await;
            bodies.push(got.expect("the other side hears every line").message.body);
        }
        bodies
    };
    let noise = async {
        for (name, payload) in invalid_payloads().into_iter().cycle().take(120) {
            assert_eq!(refusal(&mallory, name, payload).await, ErrorCode::Invalid);
        }
        let intrude = send(&room.id, "hello?");
        assert_refused(
            mallory.request(&intrude).await,
            ErrorCode::Forbidden,
            "mallory is not a member",
        );
    };
    let (bodies, ()) = tokio::join!(conversation, noise);
    assert_eq!(
        bodies,
        (0..ROUNDS).map(|i| format!("line {i}")).collect::<Vec<_>>()
    );

    let history = History {
        around: None,
        room_id: room.id.clone(),
        before_seq: None,
        limit: None,
        ..History::default()
    };
    assert_seqs(
        &bob.request(&history).await.expect("history").messages,
        1,
        ROUNDS as i64,
    );
    mallory
        .request(&ListRooms {})
        .await
        .expect("mallory is still connected");
    relay.stop().await;
}
