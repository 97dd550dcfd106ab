//! `--metrics-bind`: the relay binary serves Prometheus text on a second listener of its own
//! (and has no second listener without the flag); the text is read by a strict reader
//! (`exposition.rs`), and its counters move with traffic by exactly what the traffic did.

use std::time::Duration;

use natter_protocol::requests::{CreateRoom, SendMessage, SetTyping};
use natter_protocol::{ErrorCode, Event, GENERAL_ROOM_ID};
use natter_testkit::{RelayProcess, RelaySpec};

use crate::exposition::{self, Exposition};
use crate::util::*;

const MESSAGES: usize = 5;
/// Names that must never appear in a label value.
const ALICE: &str = "mtr_alice";
const BOB: &str = "mtr_bob";
const SECRET_EVENT: &str = "mtr:secret-event";
/// Typing requests sent back to back at a limit of one a second: all but the first refused,
/// unless a second passes between two on a busy machine (the test counts what it saw).
const TYPINGS: usize = 3;

fn spec(args: &[&str]) -> RelaySpec {
    let dir = std::env::temp_dir();
    RelaySpec::new(env!("CARGO_BIN_EXE_natter-relay"), &dir).args(args.iter().copied())
}

/// The relay's listening ports once it answers `/healthz` (by then `run` has bound every
/// listener it will have).
async fn started(args: &[&str]) -> (RelayProcess, Api, Vec<u16>) {
    let relay = RelayProcess::start_in_temp_dir(&spec(args))
        .await
        .expect("the relay starts");
    let api = Api::new(relay.url());
    api.wait_healthy().await;
    let ports = relay.listening_ports().expect("the relay is running");
    (relay, api, ports)
}

/// `GET /metrics` at `addr`: the parsed text (it must parse) and its content type.
async fn scrape(http: &reqwest::Client, port: u16) -> Exposition {
    let response = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("the metrics listener answers");
    assert_eq!(response.status(), 200);
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = response.text().await.expect("a text body");
    exposition::parse(&text).unwrap_or_else(|e| panic!("invalid exposition: {e}\n{text}"))
}

/// Polls the metrics (bounded by [`WAIT`]) until `done` holds of them.
async fn until(http: &reqwest::Client, port: u16, what: &str, done: impl Fn(&Exposition) -> bool) {
    let polled = async {
        loop {
            if done(&scrape(http, port).await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, polled)
        .await
        .unwrap_or_else(|_| panic!("metrics never showed {what}"));
}

fn sockets(e: &Exposition, transport: &str) -> f64 {
    e.get("natter_sockets_open", &[("transport", transport)])
        .unwrap_or(-1.0)
}

/// A counter's value (every series this test reads is always written, zeros included).
fn value(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    e.get(name, labels)
        .unwrap_or_else(|| panic!("no series {name}{labels:?}"))
}

/// How much a series moved between two scrapes (absent before: from 0).
fn moved(before: &Exposition, after: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    value(after, name, labels) - before.get(name, labels).unwrap_or(0.0)
}

/// The one port the relay listens on besides its own.
fn metrics_port(relay: &RelayProcess, ports: &[u16]) -> u16 {
    let public = relay.addr().port();
    let others: Vec<u16> = ports.iter().copied().filter(|p| *p != public).collect();
    assert_eq!(
        others.len(),
        1,
        "one listener besides the relay's: {ports:?}"
    );
    others[0]
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("an HTTP client")
}

#[tokio::test]
async fn without_the_flag_the_relay_has_one_listener() {
    let (relay, _api, ports) = started(&[]).await;
    assert_eq!(ports, [relay.addr().port()]);
}

#[tokio::test]
async fn a_taken_metrics_address_stops_the_start_with_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to take");
    let addr = taken.local_addr().expect("its address").to_string();
    let mut relay = RelayProcess::start_in_temp_dir(&spec(&["--metrics-bind", &addr]))
        .await
        .expect("the relay prints its address first");
    let exited = async {
        loop {
            if let Some(status) = relay.exited() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let status = tokio::time::timeout(WAIT, exited)
        .await
        .expect("the relay exits");
    assert!(!status.success());
    // Its stderr is read by a task: give the last line a bounded moment to arrive.
    let said = async {
        loop {
            let log = relay.log_tail().join("\n");
            if log.contains("cannot listen for metrics") {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let log = tokio::time::timeout(WAIT, said)
        .await
        .expect("the error is logged");
    assert!(log.contains(&addr), "{log}");
}

#[tokio::test]
async fn the_metrics_listener_serves_valid_text_that_moves_with_traffic() {
    let (relay, api, ports) =
        started(&["--metrics-bind", "127.0.0.1:0", "--typing-per-second", "1"]).await;
    let port = metrics_port(&relay, &ports);
    let http = http_client();

    let before = scrape(&http, port).await;
    for name in ["natter_connections_open", "natter_sockets_open"] {
        assert_eq!(before.types.get(name).map(String::as_str), Some("gauge"));
    }
    for name in [
        "natter_commit_batch_size",
        "natter_commit_seconds",
        "natter_commit_statement_seconds",
    ] {
        assert_eq!(
            before.types.get(name).map(String::as_str),
            Some("histogram")
        );
    }
    assert_eq!(value(&before, "natter_messages_committed_total", &[]), 0.0);
    assert_eq!(
        sockets(&before, "websocket") + sockets(&before, "polling"),
        0.0
    );

    // Two users, connected.
    let (_, alice) = api.join(ALICE).await;
    let (_, bob) = api.join(BOB).await;
    until(&http, port, "two WebSocket sockets", |e| {
        sockets(e, "websocket") == 2.0 && sockets(e, "polling") == 0.0
    })
    .await;
    let room = group(&alice, "metrics room", &[BOB]).await;

    // N messages, one refused request, one unknown event, typing past its limit, a 404.
    for i in 0..MESSAGES {
        alice
            .request(&send(GENERAL_ROOM_ID, &format!("metered {i}")))
            .await
            .unwrap_or_else(|e| panic!("send {i}: {e}"));
    }
    let blank = SendMessage {
        body: "   ".into(),
        ..send(&room.id, "x")
    };
    assert_refused(
        bob.request(&blank).await,
        ErrorCode::Invalid,
        "a blank body",
    );
    let unknown = bob
        .raw_request::<serde_json::Value>(SECRET_EVENT, None, WAIT)
        .await
        .expect("an ack");
    assert_eq!(unknown.map_err(|e| e.code), Err(ErrorCode::Invalid));
    let mut limited = 0.0;
    for _ in 0..TYPINGS {
        let typing = SetTyping {
            room_id: room.id.clone(),
            typing: true,
        };
        match bob.request(&typing).await {
            Ok(_) => {}
            Err(e) if e.code == ErrorCode::RateLimited => limited += 1.0,
            Err(e) => panic!("typing: {e}"),
        }
    }
    assert!(
        limited >= 1.0,
        "typing at 1/s, {TYPINGS} back to back: none refused"
    );
    let (status, _) = api.get("/no-such-page").await;
    assert_eq!(status, 404);
    // The metrics are not on the public port.
    let (status, _) = api.get("/metrics").await;
    assert_eq!(status, 404);

    let after = scrape(&http, port).await;
    let requests = |event: &str, outcome: &str| {
        moved(
            &before,
            &after,
            "natter_requests_total",
            &[("event", event), ("outcome", outcome)],
        )
    };
    assert_eq!(
        moved(&before, &after, "natter_messages_committed_total", &[]),
        MESSAGES as f64
    );
    assert_eq!(requests(SendMessage::NAME, "ok"), MESSAGES as f64);
    assert_eq!(requests(SendMessage::NAME, "invalid"), 1.0);
    assert_eq!(requests(CreateRoom::NAME, "ok"), 1.0);
    assert_eq!(requests("other", "invalid"), 1.0);
    assert_eq!(requests("typing", "rate_limited"), limited);
    assert_eq!(requests("typing", "ok"), TYPINGS as f64 - limited);
    assert_eq!(
        moved(
            &before,
            &after,
            "natter_rate_limited_total",
            &[("limit", "typing")]
        ),
        limited
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "natter_rate_limited_total",
            &[("limit", "send")]
        ),
        0.0
    );
    let http_moved = |status: &str| {
        moved(
            &before,
            &after,
            "natter_http_responses_total",
            &[("status", status)],
        )
    };
    assert_eq!(
        http_moved("404"),
        2.0,
        "/no-such-page and /metrics on the public port"
    );
    assert_eq!(http_moved("201"), 2.0, "two registrations");
    assert_eq!(http_moved("101"), 2.0, "two WebSocket upgrades");
    // Every send reached the commit stage once: the batches' sizes add up to N.
    let batches = moved(&before, &after, "natter_commit_batch_size_count", &[]);
    assert!(
        (1.0..=MESSAGES as f64).contains(&batches),
        "{batches} batches"
    );
    assert_eq!(
        moved(&before, &after, "natter_commit_batch_size_sum", &[]),
        MESSAGES as f64
    );
    assert_eq!(
        moved(&before, &after, "natter_commit_seconds_count", &[]),
        batches
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "natter_commit_statement_seconds_count",
            &[]
        ),
        batches
    );
    let whole = value(&after, "natter_commit_seconds_sum", &[]);
    let statement = value(&after, "natter_commit_statement_seconds_sum", &[]);
    assert!(
        whole > 0.0 && statement > 0.0 && statement <= whole,
        "{statement} of {whole}"
    );
    // The two WebSockets' connections, counted past their upgrade.
    let open = value(&after, "natter_connections_open", &[]);
    assert!(open >= 2.0, "{open} connections open");

    // No label carries a user's data.
    for v in after.label_values() {
        for secret in [
            ALICE,
            BOB,
            room.id.as_str(),
            GENERAL_ROOM_ID,
            SECRET_EVENT,
            "127.0.0.1",
        ] {
            assert!(!v.contains(secret), "label value {v:?} holds {secret:?}");
        }
    }

    alice.close().await;
    bob.close().await;
    until(&http, port, "no sockets, two connections fewer", |e| {
        sockets(e, "websocket") == 0.0
            && sockets(e, "polling") == 0.0
            && value(e, "natter_connections_open", &[]) <= open - 2.0
    })
    .await;
}

#[tokio::test]
async fn a_long_polling_socket_counts_as_polling_until_it_closes() {
    let (relay, api, ports) = started(&["--metrics-bind", "127.0.0.1:0"]).await;
    let port = metrics_port(&relay, &ports);
    let http = http_client();
    let auth = api.user("mtr_carol").await;
    // Engine.IO v4 over long-polling, by hand: open, CONNECT with the token, poll the answer.
    let base = format!("{}/socket.io/?EIO=4&transport=polling", relay.url());
    let get = |url: String| {
        let http = http.clone();
        async move {
            let response = http.get(url).send().await.expect("a poll is answered");
            assert_eq!(response.status(), 200);
            response.text().await.expect("a text body")
        }
    };
    let post = |url: String, body: String| {
        let http = http.clone();
        async move {
            let response = http
                .post(url)
                .body(body)
                .send()
                .await
                .expect("a post is answered");
            assert_eq!(response.status(), 200);
        }
    };
    let open = get(base.clone()).await;
    let handshake: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("an open packet")).expect("its JSON");
    let sid = handshake["sid"].as_str().expect("a sid").to_owned();
    let session = format!("{base}&sid={sid}");
    let connect = format!("40{}", serde_json::json!({ "token": auth.token }));
    post(session.clone(), connect).await;
    // Polls until the CONNECT ack comes (a ping may come first).
    let connected = async {
        loop {
            let answer = get(session.clone()).await;
            if answer.split('\u{1e}').any(|p| p.starts_with("40{")) {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, connected)
        .await
        .expect("the relay acks the CONNECT over polling");
    until(&http, port, "one polling socket", |e| {
        sockets(e, "polling") == 1.0 && sockets(e, "websocket") == 0.0
    })
    .await;
    // An Engine.IO close packet ends the session and its socket.
    post(session, "1".to_owned()).await;
    until(&http, port, "no polling socket after its close", |e| {
        sockets(e, "polling") == 0.0
    })
    .await;
}
