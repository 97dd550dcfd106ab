//! OS notifications end to end on Linux, over a real D-Bus: the test starts its own session bus
//! (`dbus-daemon`, apt package `dbus`) and plays the notification server on it
//! (org.freedesktop.Notifications, as dunst or GNOME would), so it sees exactly the `Notify`
//! calls the app makes. The app (mock runtime, real config) hosts a relay and signs in as alice;
//! bob, a real natter-client session, writes. Checked: bob's message raises `#general` /
//! `bob: …` with the `default` action; alice's own message raises nothing; a second message of
//! bob's inside the coalescing window comes as one later notification; clicking it (the server's
//! `ActionInvoked … default` signal) makes the app emit `natter://open-room` with the room.
//! Also: the tray counts as shown only while a StatusNotifier watcher owns its name.
#![cfg(target_os = "linux")]

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use natter_client::session::{AppEvent, ConnectionView, Session, SessionConfig};
use natter_desktop::alerts::COALESCE;
use natter_desktop::{notifier, tray, ui_event, AppState};
use serde_json::{json, Value};
use support::{invoke, invoke_until, start_app, wait, TestResult, WAIT};
use tauri::{Listener, Manager};
use tokio::sync::mpsc;

const PATH: &str = "/org/freedesktop/Notifications";
const NAME: &str = "org.freedesktop.Notifications";

/// A private session bus, stopped when dropped.
struct Bus(Child);

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `dbus-daemon --session` and answers its address (bounded by [`WAIT`]).
fn start_bus() -> Result<(Bus, String), Box<dyn std::error::Error>> {
    let mut child = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("this test needs dbus-daemon (apt package dbus): {error}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let bus = Bus(child);
    let (tx, rx) = std_mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let address = rx.recv_timeout(WAIT)?.trim().to_owned();
    if address.is_empty() {
        return Err("dbus-daemon printed no address".into());
    }
    Ok((bus, address))
}

/// One `Notify` call as the server received it.
#[derive(Debug, Clone)]
struct Notified {
    id: u32,
    summary: String,
    body: String,
    actions: Vec<String>,
    at: Instant,
}

/// The notification server: records every `Notify`.
struct Server {
    calls: mpsc::UnboundedSender<Notified>,
    next_id: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        self.next_id += 1;
        let _ = self.calls.send(Notified {
            id: self.next_id,
            summary,
            body,
            actions,
            at: Instant::now(),
        });
        self.next_id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".to_owned(), "actions".to_owned()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        let name = "natter-test".to_owned();
        (name.clone(), name, "1".to_owned(), "1.2".to_owned())
    }

    fn close_notification(&self, _id: u32) {}
}

#[test]
fn new_messages_raise_notifications_over_dbus_and_a_click_opens_the_room() -> TestResult {
    let (_bus, address) = start_bus()?;
    // The notification plugin connects to the session bus named here (this test binary runs
    // this one test, so no other thread reads the environment meanwhile).
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
    let (calls_tx, mut calls) = mpsc::unbounded_channel();
    let server = Server {
        calls: calls_tx,
        next_id: 0,
    };
    let server = wait(async {
        zbus::connection::Builder::address(address.as_str())?
            .name(NAME)?
            .serve_at(PATH, server)?
            .build()
            .await
    })??;

    // No StatusNotifier watcher on this bus: closing the window would quit, not hide; once one
    // owns its name, the tray counts as shown.
    assert!(!wait(tray::host_present())?);
    wait(server.request_name("org.kde.StatusNotifierWatcher"))??;
    assert!(wait(tray::host_present())?);

    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    let (open_tx, mut opened) = mpsc::unbounded_channel::<Value>();
    app.listen_any(notifier::OPEN_ROOM, move |event| {
        if let Ok(payload) = serde_json::from_str::<Value>(event.payload()) {
            let _ = open_tx.send(payload);
        }
    });
    let (events_tx, mut events) = mpsc::unbounded_channel::<Value>();
    app.listen_any(ui_event::EVENT, move |event| {
        if let Ok(batch) = serde_json::from_str::<Vec<Value>>(event.payload()) {
            for one in batch {
                let _ = events_tx.send(one);
            }
        }
    });

    let hosted = invoke(
        &webview,
        "host_locally",
        json!({"port": 0, "let_others_connect": false}),
    )
    .map_err(|e| e.to_string())?;
    let url = hosted["url"].as_str().ok_or("no url")?.to_owned();
    let password = "correct horse battery";
    let account = json!({"server_url": url, "username": "alice", "password": password});
    invoke(&webview, "register", account).map_err(|e| e.to_string())?;
    invoke_until(&webview, "connection_state", |v| v["state"] == "connected")?;

    // Bob: a real client session of his own.
    let bob_dir = tempfile::tempdir()?;
    let (bob, general) = wait(async {
        let auth = natter_client::account::register(&url, "bob", password).await?;
        let mut config = SessionConfig::new(bob_dir.path().to_path_buf(), url.clone(), auth.token);
        config.username = Some("bob".to_owned());
        let (bob, mut bob_events) = Session::start(config).await?;
        while let Some(event) = bob_events.recv().await {
            if matches!(
                event,
                AppEvent::Connection {
                    state: ConnectionView::Connected { .. }
                }
            ) {
                break;
            }
        }
        let general = bob
            .rooms()
            .await?
            .into_iter()
            .find(|room| room.name == "general")
            .ok_or("bob is in general")?;
        Ok::<_, Box<dyn std::error::Error>>((bob, general.id))
    })??;

    wait(bob.send(&general, "hi alice, are you there?"))??;
    let first = wait(calls.recv())?.ok_or("the server stopped")?;
    assert_eq!(first.summary, "#general");
    assert_eq!(first.body, "bob: hi alice, are you there?");
    assert!(first.actions.iter().any(|a| a == "default"), "{first:?}");

    // Alice's own message raises nothing: the next call is bob's second message, which falls in
    // the coalescing window and so comes when it ends.
    let mine = "alice writes back";
    invoke(
        &webview,
        "send_message",
        json!({"room_id": general, "body": mine}),
    )
    .map_err(|e| e.to_string())?;
    wait(async {
        while let Some(event) = events.recv().await {
            if event["type"] == "message" && event["message"]["body"] == mine {
                return;
            }
        }
    })?;
    wait(bob.send(&general, "second"))??;
    let second = wait(calls.recv())?.ok_or("the server stopped")?;
    assert_eq!(second.body, "bob: second", "{second:?}");
    assert!(
        second.at.duration_since(first.at) >= COALESCE - Duration::from_secs(1),
        "the second notification came {:?} after the first",
        second.at.duration_since(first.at)
    );

    // A click on it, as the server reports one: the app asks the UI to open the room, of alice's
    // account (the UI switches to it first when another is shown).
    wait(server.emit_signal(
        None::<()>,
        PATH,
        NAME,
        "ActionInvoked",
        &(second.id, "default"),
    ))??;
    let open = wait(opened.recv())?.ok_or("the listener stopped")?;
    assert_eq!(open, json!({"room_id": general, "account": "1"}));

    wait(bob.stop())?;
    wait(app.state::<AppState>().shutdown())?;
    Ok(())
}
