//! The app built on Tauri's mock runtime, with its real `tauri.conf.json` and capabilities,
//! driven only through IPC as the webview would: the ACL lets Natter's commands through and
//! refuses others; before `connect` the state is well defined; after hosting a relay in-process
//! and registering, rooms come back, a sent message arrives on the `natter://event` stream, room
//! calls reach the relay, and after a restart `resume` hosts the relay again and signs in with
//! the saved token, until logout.

mod support;

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
    // window), and Natter's own commands from a window the capability does not name.
    assert!(invoke(&webview, "plugin:window|close", json!({})).is_err());
    let other = WebviewWindowBuilder::new(&app, "other", Default::default()).build()?;
    let refused = invoke(&other, "connection_state", json!({}))
        .err()
        .ok_or("a window without a capability called a command")?;
    assert!(
        refused.get("code").is_none(),
        "refused by the ACL: {refused}"
    );

    // Host a relay in this process (port 0: any free one), register through it, connected.
    let hosted = invoke(&webview, "host_locally", json!({"port": 0})).map_err(|e| e.to_string())?;
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

    // A send answers at once (pending); the committed message comes back as an event.
    let queued = invoke(
        &webview,
        "send_message",
        json!({"room_id": room_id, "body": "hello from IPC"}),
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(queued["delivery"], json!({"state": "pending"}));
    let message = wait(async {
        while let Some(event) = events.recv().await {
            if event["type"] == "message" && event["message"]["body"] == "hello from IPC" {
                return Some(event);
            }
        }
        None
    })?
    .ok_or("the event stream closed")?;
    assert_eq!(message["message"]["sender"], "alice");
    assert_eq!(message["message"]["client_id"], queued["client_id"]);

    let cached =
        invoke(&webview, "messages", json!({"room_id": room_id})).map_err(|e| e.to_string())?;
    assert!(cached
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["body"] == "hello from IPC")));
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
    invoke(
        &webview,
        "typing",
        json!({"room_id": room_id, "typing": true}),
    )
    .map_err(|e| e.to_string())?;
    let seq = message["message"]["seq"].clone();
    invoke(
        &webview,
        "mark_read",
        json!({"room_id": room_id, "seq": seq}),
    )
    .map_err(|e| e.to_string())?;

    invoke(&webview, "disconnect", json!({})).map_err(|e| e.to_string())?;
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
    invoke(&webview, "stop_hosting", json!({})).map_err(|e| e.to_string())?;
    wait(app.state::<AppState>().shutdown())?;
    Ok(())
}

#[test]
fn a_first_run_hosts_on_this_computer() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_app, webview) = start_app(dir.path())?;
    // Nothing saved, nothing hosted: `resume` signs nobody in but starts the relay here.
    assert_eq!(invoke(&webview, "resume", json!({})), Ok(Value::Null));
    let hosted = invoke(&webview, "host_locally", json!({})).map_err(|e| e.to_string())?;
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
    assert_eq!(invoke(&webview, "stop_hosting", json!({})), Ok(Value::Null));
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
    let offered = invoke(&webview, "host_locally", json!({})).map_err(|e| e.to_string())?;
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
