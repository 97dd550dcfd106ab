//! The app built on Tauri's mock runtime, with its real `tauri.conf.json` and capabilities,
//! driven only through IPC as the webview would: the ACL lets Natter's commands through and
//! refuses others; before signing in the state is well defined; after hosting a relay in-process
//! and registering, rooms come back, a send is announced pending and then arrives on the
//! `natter://event` stream, room calls, typing and read receipts reach another user through the
//! relay, and after a restart `resume` hosts the relay again and signs in with the saved token,
//! until logout, which leaves nothing of the account for the next one to register there.

mod support;

use natter_client::session::{AppEvent, AppEvents, ConnectionView, Session, SessionConfig};
use natter_desktop::{embedded, ui_event, AppState};
use serde_json::{json, Value};
use support::{invoke, invoke_until, start_app, wait, TestResult};
use tauri::{Listener, Manager, WebviewWindowBuilder};
use tokio::sync::mpsc;

#[test]
fn commands_work_through_ipc_under_the_real_capabilities() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;

    let (events_tx, mut events) = mpsc::unbounded_channel::<Value>();
    app.listen_any(ui_event::EVENT, move |event| {
        if let Ok(batch) = serde_json::from_str::<Vec<Value>>(event.payload()) {
            for one in batch {
                let _ = events_tx.send(one);
            }
        }
    });

    // Before connecting: a defined state, and a typed error for what needs a session.
    assert_eq!(
        invoke(&webview, "connection_state", json!({})),
        Ok(json!({"state": "offline", "reason": "signed_out"}))
    );
    let refused = invoke(&webview, "rooms", json!({}))
        .err()
        .ok_or("rooms answered")?;
    assert_eq!(refused["code"], "not_connected");
    // What no capability grants is refused by the ACL: a core command left out (closing the
    // window), the commands nothing in the UI calls (a raw token never crosses from JavaScript),
    // and Natter's own commands from a window the capability does not name.
    for (command, args) in [
        ("plugin:window|close", json!({})),
        (
            "connect",
            json!({"server_url": "http://127.0.0.1:1", "token": "t"}),
        ),
        ("profile", json!({})),
        ("pending", json!({})),
    ] {
        let refused = invoke(&webview, command, args)
            .err()
            .ok_or(format!("`{command}` answered"))?;
        assert_acl_refusal(&refused, command);
    }
    let other = WebviewWindowBuilder::new(&app, "other", Default::default()).build()?;
    let refused = invoke(&other, "connection_state", json!({}))
        .err()
        .ok_or("a window without a capability called a command")?;
    assert_acl_refusal(&refused, "connection_state from another window");

    // Host a relay in this process (port 0: any free one), register through it, connected.
    let hosted = invoke(
        &webview,
        "host_locally",
        json!({"port": 0, "let_others_connect": false}),
    )
    .map_err(|e| e.to_string())?;
    let url = hosted["url"].as_str().ok_or("no url")?.to_owned();
    let account =
        json!({"server_url": url, "username": "alice", "password": "correct horse battery"});
    let user = invoke(&webview, "register", account).map_err(|e| e.to_string())?;
    assert_eq!(user["username"], "alice");
    assert!(
        dir.path().join("relay").is_dir(),
        "the relay keeps its data in the profile"
    );

    invoke_until(&webview, "connection_state", |v| v["state"] == "connected")?;
    let rooms = invoke_until(&webview, "rooms", |rooms| {
        rooms.as_array().is_some_and(|r| !r.is_empty())
    })?;
    let general = rooms
        .as_array()
        .and_then(|rooms| rooms.iter().find(|room| room["name"] == "general"))
        .ok_or("alice is in general")?;
    let room_id = general["id"].as_str().ok_or("room id")?.to_owned();

    // A send answers its client_id only; the events say the rest: pending (with what the UI
    // draws), then the committed message.
    let client_id = invoke(
        &webview,
        "send_message",
        json!({"room_id": room_id, "body": "hello from IPC"}),
    )
    .map_err(|e| e.to_string())?;
    assert!(client_id.is_string(), "{client_id}");
    let pending = next_event(&mut events, |e| e["type"] == "message_state")?;
    assert_eq!(pending["client_id"], client_id);
    assert_eq!(pending["state"]["state"], "pending");
    assert_eq!(pending["state"]["body"], "hello from IPC");
    let message = next_event(&mut events, |e| {
        e["type"] == "message" && e["message"]["body"] == "hello from IPC"
    })?;
    assert_eq!(message["message"]["sender"], "alice");
    assert_eq!(message["message"]["client_id"], client_id);

    let cached =
        invoke(&webview, "messages", json!({"room_id": room_id})).map_err(|e| e.to_string())?;
    assert!(cached
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["body"] == "hello from IPC")));
    // Search: the cache's page at once, then the cache's and the relay's merged.
    let cached_page = invoke(
        &webview,
        "search",
        json!({"query": "from IPC", "cached_only": true}),
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(cached_page["online"], false);
    assert_eq!(cached_page["messages"][0]["body"], "hello from IPC");
    let merged =
        invoke(&webview, "search", json!({"query": "hello"})).map_err(|e| e.to_string())?;
    assert_eq!(merged["online"], true, "{merged}");
    assert_eq!(merged["messages"][0]["body"], "hello from IPC");
    let refused = invoke(&webview, "search", json!({"query": " "}))
        .err()
        .ok_or("a blank query was accepted")?;
    assert_eq!(refused["code"], "invalid");
    let refused = invoke(
        &webview,
        "send_message",
        json!({"room_id": room_id, "body": "  "}),
    )
    .err()
    .ok_or("a blank body was accepted")?;
    assert_eq!(refused["code"], "invalid");

    // Room calls that go to the relay.
    let team = invoke(
        &webview,
        "create_room",
        json!({"name": "team", "members": []}),
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(team["kind"], "group");
    assert_eq!(team["members"], json!(["alice"]));

    // Typing and reading reach another member through the relay: bob, a client of his own.
    let bob_dir = tempfile::tempdir()?;
    let (bob, mut bob_events) = wait(bob_in_general(&url, bob_dir.path()))??;
    invoke(
        &webview,
        "typing",
        json!({"room_id": room_id, "typing": true}),
    )
    .map_err(|e| e.to_string())?;
    let typing = wait(until(&mut bob_events, |event| match event {
        AppEvent::Typing(typing) if typing.user == "alice" => Some(typing),
        _ => None,
    }))?
    .ok_or("bob's stream closed")?;
    assert!(typing.typing && typing.room_id == room_id, "{typing:?}");
    let seq = message["message"]["seq"].clone();
    invoke(
        &webview,
        "mark_read",
        json!({"room_id": room_id, "seq": seq}),
    )
    .map_err(|e| e.to_string())?;
    let receipt = wait(until(&mut bob_events, |event| match event {
        AppEvent::Receipt(receipt) if receipt.user == "alice" => Some(receipt),
        _ => None,
    }))?
    .ok_or("bob's stream closed")?;
    assert_eq!(
        (receipt.room_id.as_str(), json!(receipt.seq)),
        (room_id.as_str(), seq.clone())
    );
    let rooms = invoke(&webview, "rooms", json!({})).map_err(|e| e.to_string())?;
    let read = rooms
        .as_array()
        .and_then(|rooms| rooms.iter().find(|room| room["id"] == json!(room_id)))
        .map(|room| room["read_seq"].clone());
    assert_eq!(read, Some(seq), "alice's cached read position moved");
    wait(bob.stop())?;

    // Its session stopped: `connection_state` says so (read from no copy).
    let state = app.state::<AppState>();
    let active = state.roster.active().ok_or("no active account")?;
    wait(state.disconnect(&active))?;
    assert_eq!(
        invoke(&webview, "connection_state", json!({})),
        Ok(json!({"state": "offline", "reason": "signed_out"}))
    );

    // The app restarts (everything stopped, as on exit): `resume` hosts the relay again on the
    // same address and signs in with the saved token; the cache answers as before.
    wait(app.state::<AppState>().shutdown())?;
    drop(webview);
    drop(app);
    let (app, webview) = start_app(dir.path())?;
    let resumed = invoke(&webview, "resume", json!({})).map_err(|e| e.to_string())?;
    assert_eq!(resumed["username"], "alice");
    // The same port unless something took it meanwhile (then the saved URL follows the relay).
    let resumed_url = resumed["server_url"].as_str().ok_or("no url")?;
    assert!(
        resumed_url.starts_with("http://127.0.0.1:"),
        "{resumed_url}"
    );
    if resumed_url != url {
        eprintln!("the hosted relay moved from {url} to {resumed_url}");
    }
    invoke_until(&webview, "connection_state", |v| v["state"] == "connected")?;
    let cached =
        invoke(&webview, "messages", json!({"room_id": room_id})).map_err(|e| e.to_string())?;
    assert!(cached
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["body"] == "hello from IPC")));

    // Logout forgets the sign-in (and revokes the token): nothing to sign in with.
    invoke(&webview, "logout", json!({})).map_err(|e| e.to_string())?;
    assert_eq!(invoke(&webview, "resume", json!({})), Ok(Value::Null));
    assert_eq!(
        invoke(&webview, "connection_state", json!({})),
        Ok(json!({"state": "offline", "reason": "signed_out"}))
    );

    // Another person registers on the same profile: nothing of alice's shows, not even before
    // the relay answers (the cache went with her sign-out): not her own room, nor the cached
    // `general` message (carol joins `general` at its newest seq; older ones are history).
    let carol = json!({
        "server_url": resumed_url,
        "username": "carol",
        "password": "correct horse battery",
    });
    invoke(&webview, "register", carol).map_err(|e| e.to_string())?;
    let rooms = invoke(&webview, "rooms", json!({})).map_err(|e| e.to_string())?;
    let alices = rooms
        .as_array()
        .is_some_and(|rooms| rooms.iter().any(|room| room["id"] == team["id"]));
    assert!(!alices, "carol sees alice's room: {rooms}");
    let cached =
        invoke(&webview, "messages", json!({"room_id": room_id})).map_err(|e| e.to_string())?;
    assert!(
        cached
            .as_array()
            .is_some_and(|m| m.iter().all(|m| m["body"] != "hello from IPC")),
        "carol sees alice's cached message: {cached}"
    );
    invoke(&webview, "logout", json!({})).map_err(|e| e.to_string())?;
    wait(app.state::<AppState>().shutdown())?;
    Ok(())
}

/// Tauri's ACL refusal (a plain string naming the command), not a command's own `{code,
/// message}` error, nor any other failure.
fn assert_acl_refusal(refused: &Value, what: &str) {
    let text = refused.as_str().unwrap_or_default();
    assert!(
        text.contains("not allowed"),
        "{what}: not an ACL refusal: {refused}"
    );
}

/// The next event on the UI stream for which `pick` holds (bounded).
fn next_event(
    events: &mut mpsc::UnboundedReceiver<Value>,
    pick: impl Fn(&Value) -> bool,
) -> Result<Value, Box<dyn std::error::Error>> {
    wait(async {
        while let Some(event) = events.recv().await {
            if pick(&event) {
                return Some(event);
            }
        }
        None
    })?
    .ok_or_else(|| "the event stream closed".into())
}

/// The first event of a client session for which `pick` answers.
async fn until<T>(events: &mut AppEvents, pick: impl Fn(AppEvent) -> Option<T>) -> Option<T> {
    while let Some(event) = events.recv().await {
        if let Some(found) = pick(event) {
            return Some(found);
        }
    }
    None
}

/// Bob, registered on the relay at `url`: a client session of his own, connected and caught up.
async fn bob_in_general(
    url: &str,
    dir: &std::path::Path,
) -> Result<(Session, AppEvents), Box<dyn std::error::Error>> {
    let auth = natter_client::account::register(url, "bob", "correct horse battery").await?;
    let mut config = SessionConfig::new(dir.to_path_buf(), url.to_owned(), auth.token);
    config.username = Some("bob".to_owned());
    let (bob, mut events) = Session::start(config).await?;
    until(&mut events, |event| {
        matches!(
            event,
            AppEvent::Connection {
                state: ConnectionView::Connected { .. }
            }
        )
        .then_some(())
    })
    .await
    .ok_or("bob's stream closed before connecting")?;
    Ok((bob, events))
}

#[test]
fn a_first_run_hosts_on_this_computer() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    // Nothing saved, nothing hosted: `resume` signs nobody in but starts the relay here.
    assert_eq!(invoke(&webview, "resume", json!({})), Ok(Value::Null));
    let hosted = invoke(
        &webview,
        "host_locally",
        json!({"let_others_connect": false}),
    )
    .map_err(|e| e.to_string())?;
    let url = hosted["url"].as_str().ok_or("no url")?.to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // It is a real relay: a new user can register on it.
    let registered = invoke(
        &webview,
        "register",
        json!({"server_url": url, "username": "newcomer", "password": "correct horse battery"}),
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(registered["username"], "newcomer");
    wait(app.state::<AppState>().shutdown())?;
    Ok(())
}

/// The relay offered at first run is hosted again at the next start only if the user signed in
/// to it: signed in elsewhere, the app starts without it (no start-up cost, no idle relay).
#[test]
fn a_first_run_relay_is_not_hosted_again_after_signing_in_elsewhere() -> TestResult {
    let dir = tempfile::tempdir()?;
    let elsewhere_dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    assert_eq!(invoke(&webview, "resume", json!({})), Ok(Value::Null));
    let offered = invoke(
        &webview,
        "host_locally",
        json!({"let_others_connect": false}),
    )
    .map_err(|e| e.to_string())?;
    let elsewhere = wait(embedded::start(
        elsewhere_dir.path(),
        embedded::DEFAULT_ADDRESS,
        0,
    ))??;
    let url = embedded::Hosted::of(elsewhere.addr()).url;
    assert_ne!(offered["url"], json!(url));
    invoke(
        &webview,
        "register",
        json!({"server_url": url, "username": "roamer", "password": "correct horse battery"}),
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(embedded::remembered(dir.path()), None);

    wait(app.state::<AppState>().shutdown())?;
    drop(webview);
    drop(app);
    let (app, webview) = start_app(dir.path())?;
    let resumed = invoke(&webview, "resume", json!({})).map_err(|e| e.to_string())?;
    assert_eq!(resumed["server_url"], json!(url));
    invoke_until(&webview, "connection_state", |v| v["state"] == "connected")?;
    let state = app.state::<AppState>();
    assert!(
        wait(async { state.relay.lock().await.is_none() })?,
        "the first run's relay was hosted again"
    );
    wait(state.shutdown())?;
    wait(elsewhere.stop())??;
    Ok(())
}

/// `set_view` takes the UI's camelCase arguments and feeds the notification rules and the
/// unread total; bad arguments are refused and change nothing.
#[test]
fn set_view_records_the_room_in_view_and_the_unread_total() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    let shell = app.state::<AppState>().shell.clone();
    assert_eq!(shell.unread_total(), 0);
    assert_eq!(shell.view().active_room, None);

    let view = json!({"activeRoom": "room-1", "unreadTotal": 3});
    assert_eq!(invoke(&webview, "set_view", view), Ok(Value::Null));
    assert_eq!(shell.view().active_room.as_deref(), Some("room-1"));
    assert_eq!(shell.unread_total(), 3);

    let none = json!({"activeRoom": null, "unreadTotal": 0});
    assert_eq!(invoke(&webview, "set_view", none), Ok(Value::Null));
    assert_eq!(shell.view().active_room, None);
    assert_eq!(shell.unread_total(), 0);

    for bad in [
        json!({"activeRoom": "room-2", "unreadTotal": -1}),
        json!({"activeRoom": "room-2"}),
        json!({"active_room": "room-2", "unread_total": 1}),
        json!({"activeRoom": 7, "unreadTotal": 1}),
    ] {
        assert!(
            invoke(&webview, "set_view", bad.clone()).is_err(),
            "accepted {bad}"
        );
    }
    assert_eq!(shell.view().active_room, None);
    assert_eq!(shell.unread_total(), 0);
    // Nothing in the DND or focus state comes from the webview.
    assert!(!shell.view().dnd);
    Ok(())
}
