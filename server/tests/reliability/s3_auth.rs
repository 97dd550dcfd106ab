//! S3: authentication and authorization probes against the relay binary. Connects with no,
//! garbage, revoked tokens and a deleted user's are refused; a non-member's send / history /
//! typing / read / invite / leave / sync on a room it does not belong to, and on guessed room
//! ids, are refused; reusing another user's client_id makes a new message of one's own (no
//! dedupe across users). No byte of the foreign room's content reaches the intruder.

use std::time::Duration;

use natter_protocol::events::MessageEvent;
use natter_protocol::requests::{
    History, InviteToRoom, LeaveRoom, MarkRead, SendMessage, SetTyping, Sync,
};
use natter_protocol::{Event, Request, GENERAL_ROOM_ID};
use natter_testkit::raw::RawError;
use natter_testkit::RawWs;
use serde_json::Value;

use crate::harness::{self, assert_alive, group};

const WAIT: Duration = Duration::from_secs(10);

/// The first argument of an ack's JSON array.
fn first(ack: &str) -> Value {
    serde_json::from_str::<Value>(ack)
        .ok()
        .and_then(|v| v.get(0).cloned())
        .unwrap_or(Value::Null)
}

/// Sends `req` raw and returns the ack's `{ok, ...}`.
async fn ask<R: Request>(ws: &mut RawWs, req: &R) -> Value {
    let json = serde_json::to_string(req).expect("serializes");
    first(&ws.request(R::NAME, &json, WAIT).await.expect("an ack"))
}

#[track_caller]
fn assert_refused(ack: &Value, codes: &[&str], what: &str) {
    assert_eq!(ack["ok"], Value::Bool(false), "{what}: refused, got {ack}");
    let code = ack["error"]["code"].as_str().unwrap_or("");
    assert!(
        codes.contains(&code),
        "{what}: code {code} not in {codes:?}: {ack}"
    );
}

/// A Socket.IO CONNECT with `auth_json` (or none) on a fresh Engine.IO session; the answer.
async fn connect_with(addr: std::net::SocketAddr, auth_json: Option<&str>) -> String {
    let mut ws = RawWs::open(addr, None, WAIT)
        .await
        .expect("an Engine.IO open");
    ws.send_text(format!("40{}", auth_json.unwrap_or("")))
        .await
        .expect("send CONNECT");
    match ws.next_text(WAIT).await {
        Ok(answer) => answer,
        Err(RawError::Closed) => "closed".to_owned(),
        Err(e) => panic!("CONNECT answered: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_auth_probes_are_refused_and_leak_nothing() {
    let _serial = crate::harness::serial().await;
    let marker = format!("SECRET-{}", uuid::Uuid::new_v4());
    let dir = tempfile::tempdir().expect("a data dir");
    // Limits out of the way: the answers must be about who may do what.
    let args = ["--typing-per-second", "100000", "--send-burst", "100000"];
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &args)).await;
    let addr = relay.addr();
    let (_, alice) = api.join("alice").await;
    let (_, bob) = api.join("bob").await;
    let mallory = api.user("mallory").await;
    let secret = group(&alice, &format!("room {marker}"), &["bob"]).await;
    let shared_id = "shared-client-id-1".to_owned();
    let original = alice
        .request(&SendMessage {
            room_id: secret.id.clone(),
            client_id: shared_id.clone(),
            body: format!("the plans: {marker}"),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("alice writes in the secret room");
    // The members do see it (so the leak check below can fail).
    let seen = bob.next_event::<MessageEvent>().await.expect("bob gets it");
    assert!(seen.message.body.contains(&marker));

    // --- Connect probes ---
    let mut refused = 0;
    let revoked = api.user("revoked").await;
    api.logout(&revoked.token).await.expect("logout");
    let deleted = api.user("deleted").await;
    delete_user(dir.path(), "deleted").await;
    let long_token = format!("{{\"token\":\"{}\"}}", "a".repeat(60_000));
    let garbage: Vec<String> = vec![
        String::new(),
        "{}".into(),
        "{\"token\":\"\"}".into(),
        "{\"token\":\"not-a-token\"}".into(),
        "{\"token\":123}".into(),
        "{\"token\":null}".into(),
        "{\"token\":[\"x\"]}".into(),
        "[]".into(),
        "\"token\"".into(),
        "{\"token\":\"\\u0000\"}".into(),
        long_token,
        format!("{{\"token\":\"{}\"}}", revoked.token),
        format!("{{\"token\":\"{}\"}}", deleted.token),
        format!("{{\"token\":\"{} \"}}", mallory.token),
        format!("{{\"token\":\"{}\"}}", mallory.token.to_uppercase()),
    ];
    for auth in &garbage {
        let answer = connect_with(addr, (!auth.is_empty()).then_some(auth.as_str())).await;
        assert!(
            answer.starts_with("44") || answer == "closed",
            "CONNECT with {:.80} is refused, got {answer:.200}",
            auth
        );
        if answer.starts_with("44") {
            assert!(answer.contains("unauthorized"), "{answer}");
        }
        refused += 1;
    }

    // --- Non-member probes on a room whose id leaked, and on guessed ids ---
    let mut m = RawWs::connect(addr, &mallory.token, None, WAIT)
        .await
        .expect("mallory connects");
    m.record();
    let mut guessed = vec![
        secret.id.clone(),
        secret.id.to_uppercase(),
        format!("{} ", secret.id),
        format!("../{}", secret.id),
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::now_v7().to_string(),
        "' OR 1=1 --".to_owned(),
        "%".to_owned(),
        "*".to_owned(),
        "GENERAL".to_owned(),
    ];
    // Nearby ids, in case they are sequential.
    if let Some(prefix) = secret.id.get(..secret.id.len().saturating_sub(1)) {
        for c in ['0', '1', 'a', 'f'] {
            guessed.push(format!("{prefix}{c}"));
        }
    }
    let mut probes = 0;
    for room in &guessed {
        let acks = [
            ask(
                &mut m,
                &SendMessage {
                    room_id: room.clone(),
                    client_id: uuid::Uuid::new_v4().to_string(),
                    body: "let me in".into(),
                    reply_to: None,
                    attachments: Vec::new(),
                },
            )
            .await,
            ask(
                &mut m,
                &History {
                    around: None,
                    room_id: room.clone(),
                    before_seq: None,
                    limit: Some(100),
                    ..History::default()
                },
            )
            .await,
            ask(
                &mut m,
                &SetTyping {
                    room_id: room.clone(),
                    typing: true,
                },
            )
            .await,
            ask(
                &mut m,
                &MarkRead {
                    room_id: room.clone(),
                    seq: 1,
                },
            )
            .await,
            ask(
                &mut m,
                &InviteToRoom {
                    room_id: room.clone(),
                    username: "mallory".into(),
                },
            )
            .await,
            ask(
                &mut m,
                &InviteToRoom {
                    room_id: room.clone(),
                    username: "bob".into(),
                },
            )
            .await,
            ask(
                &mut m,
                &LeaveRoom {
                    room_id: room.clone(),
                },
            )
            .await,
        ];
        for ack in &acks {
            assert_refused(
                ack,
                &["forbidden", "invalid", "not_found"],
                &format!("room {room}"),
            );
            probes += 1;
        }
        // sync with a cursor for a foreign room: refused, or answered without that room.
        let ack = ask(
            &mut m,
            &Sync {
                cursors: [(room.clone(), 0), (GENERAL_ROOM_ID.to_owned(), 0)].into(),
            },
        )
        .await;
        if ack["ok"] == Value::Bool(true) {
            let text = ack.to_string();
            assert!(
                !text.contains(&secret.id),
                "sync names the foreign room: {text:.300}"
            );
        }
        probes += 1;
    }

    // --- Someone else's client_id: a new message of mallory's own, in general ---
    let ack = ask(
        &mut m,
        &SendMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: shared_id.clone(),
            body: "mallory's own".into(),
            reply_to: None,
            attachments: Vec::new(),
        },
    )
    .await;
    assert_eq!(ack["ok"], Value::Bool(true), "{ack}");
    assert_eq!(ack["message"]["sender"], "mallory", "{ack}");
    assert_eq!(ack["message"]["room_id"], GENERAL_ROOM_ID, "{ack}");
    assert_eq!(ack["message"]["body"], "mallory's own", "{ack}");
    assert_ne!(
        ack["message"]["id"],
        Value::String(original.message.id.clone())
    );
    // And alice's retry of her id still answers her original.
    let again = alice
        .request(&SendMessage {
            room_id: secret.id.clone(),
            client_id: shared_id.clone(),
            body: format!("the plans: {marker}"),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("alice's retry");
    assert_eq!(again.message, original.message, "alice's key is hers alone");

    // Alice types and writes in the secret room meanwhile: nothing of it may reach mallory.
    alice
        .request(&SetTyping {
            room_id: secret.id.clone(),
            typing: true,
        })
        .await
        .expect("typing");
    alice
        .request(&SendMessage {
            room_id: secret.id.clone(),
            client_id: uuid::Uuid::new_v4().to_string(),
            body: format!("more {marker}"),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("alice writes");
    bob.next_event_where::<MessageEvent>(WAIT, |e| e.message.body.starts_with("more"))
        .await
        .expect("bob gets the second one");
    // A request after them: anything the relay sent mallory before it has arrived.
    let _ = ask(&mut m, &natter_protocol::requests::ListRooms {}).await;
    let transcript = m.transcript.clone().unwrap_or_default();
    for packet in &transcript {
        assert!(
            !packet.contains(&marker),
            "mallory received foreign content: {packet:.300}"
        );
        assert!(
            !packet.contains(&secret.id),
            "mallory received the room's id: {packet:.300}"
        );
    }
    assert!(
        !transcript
            .iter()
            .any(|p| p.contains(MessageEvent::NAME) && p.contains("plans")),
        "no foreign message event"
    );
    m.close().await;
    assert_alive(&mut relay, "after the probes");
    eprintln!(
        "S3: {refused} bad connects and {probes} non-member requests refused; {} packets to the \
         intruder, 0 bytes of the foreign room; client_id reuse made a separate message",
        transcript.len()
    );
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}

/// Deletes a user straight from the database while the relay runs (there is no API for it):
/// their sessions go with them (`ON DELETE CASCADE`).
async fn delete_user(data_dir: &std::path::Path, username: &str) {
    let path = data_dir.join(natter_relay::DB_FILE);
    let username = username.to_owned();
    let deleted = tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute("DELETE FROM users WHERE username = ?1", [&username])
    })
    .await
    .expect("the delete ran")
    .expect("delete the user");
    assert_eq!(deleted, 1, "the user deleted");
}

/// Issue 18's surface: registration without a valid invite (every kind of garbage) is refused
/// alike whether the name exists or not; a member's every admin request, with any payload, is
/// refused and changes nothing; self-service reaches only one's own account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_invites_admin_requests_and_self_service_are_guarded() {
    let _serial = crate::harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let args = ["--registration", "invite"];
    let (mut relay, api) = harness::start(&harness::spec(dir.path(), &args)).await;
    let addr = relay.addr();
    let link = std::fs::read_to_string(dir.path().join(natter_relay::FIRST_ADMIN_FILE))
        .expect("the first-admin invite");
    let root = api
        .register_invited("root", "root password 1", link.trim())
        .await
        .expect("root");
    let mut r = RawWs::connect(addr, &root.token, None, WAIT)
        .await
        .expect("root connects");
    let made = ask(
        &mut r,
        &natter_protocol::admin::CreateInvite {
            uses: 1,
            expires_in_secs: None,
            role: natter_protocol::admin::Role::Member,
        },
    )
    .await;
    let code = made["code"].as_str().expect("a code").to_owned();
    let mallory = api
        .register_invited("mallory", "mallory password", &code)
        .await
        .expect("mallory");

    // --- Registration probes: the same 403 for a taken name and a free one ---
    let long = "a".repeat(70_000);
    let invites = [
        "",
        " ",
        "0",
        code.as_str(),
        "natter://invite?server=x&code=",
        "natter://invite?code=abc",
        "' OR 1=1 --",
        "%00",
        "\u{0}",
        "../../etc/passwd",
        long.as_str(),
    ];
    let mut registrations = 0;
    for invite in invites {
        for name in ["root", "mallory", "free_name"] {
            let f = api
                .register_invited(name, "some password 1", invite)
                .await
                .expect_err("refused");
            // A body over the payload limit is refused unread (413).
            assert!(
                [403, 413].contains(&f.status),
                "{name} with {:.40?}: {f:?}",
                invite
            );
            let text = f.body.to_string();
            assert!(!text.contains("taken"), "{text}");
            registrations += 1;
        }
    }

    // --- A member's every admin request, with every payload: refused, nothing changes ---
    let mut m = RawWs::connect(addr, &mallory.token, None, WAIT)
        .await
        .expect("mallory connects");
    let payloads = [
        "{}",
        "[]",
        "null",
        "\"x\"",
        "{\"username\":\"root\"}",
        "{\"username\":\"mallory\"}",
        "{\"username\":\"' OR 1=1 --\"}",
        "{\"uses\":10000,\"role\":\"admin\"}",
        "{\"invite_id\":\"x\"}",
        "{\"after\":\"\",\"limit\":4294967295}",
    ];
    let mut admin_probes = 0;
    for name in natter_protocol::admin::NAMES {
        for payload in payloads {
            let ack = first(&m.request(name, payload, WAIT).await.expect("an ack"));
            assert_refused(&ack, &["forbidden", "invalid", "not_found"], name);
            admin_probes += 1;
        }
    }
    // Self-service cannot reach another account.
    let sessions = ask(&mut r, &natter_protocol::account::ListSessions {}).await;
    let root_session = sessions["sessions"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let end = ask(
        &mut m,
        &natter_protocol::account::EndSession {
            session_id: root_session,
        },
    )
    .await;
    assert_refused(&end, &["not_found"], "ending root's session");
    let delete = ask(
        &mut m,
        &natter_protocol::account::DeleteAccount {
            password: "root password 1".into(),
        },
    )
    .await;
    assert_refused(
        &delete,
        &["forbidden"],
        "mallory deleting with root's password",
    );
    // Root is untouched: still an admin, still signed in on the same socket.
    let users = ask(&mut r, &natter_protocol::admin::ListUsers::default()).await;
    assert_eq!(users["ok"], Value::Bool(true), "{users}");
    let root_row = users["users"]
        .as_array()
        .and_then(|u| u.iter().find(|a| a["user"]["username"] == "root"))
        .cloned()
        .expect("root listed");
    assert_eq!(root_row["role"], "admin", "{root_row}");
    assert_eq!(root_row.get("disabled"), None, "{root_row}");
    api.login("root", "root password 1")
        .await
        .expect("root's password unchanged");
    m.close().await;
    r.close().await;
    assert_alive(&mut relay, "after the account probes");
    eprintln!(
        "S3: {registrations} registrations without a valid invite and {admin_probes} admin \
         requests by a member refused"
    );
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
