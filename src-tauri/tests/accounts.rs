//! Several accounts signed in at once in one window (issue 18), through IPC as the webview calls
//! it: alice on the relay this app hosts and bob on a second relay, both connected, each with
//! its own cache; only the active account's events reach the webview while the other's news is
//! counted (on `natter://accounts` and in the tray and title total); switching repaints from the
//! other account's cache; an app restart brings both back; signing out of one keeps the other.

mod support;

use std::net::{IpAddr, Ipv4Addr};

use natter_client::session::{AppEvent, AppEvents, ConnectionView, Session, SessionConfig};
use natter_desktop::{accounts, embedded, AppState};
use serde_json::{json, Value};
use support::{invoke, invoke_until, start_app, wait, TestResult};
use tauri::{Listener, Manager};
use tokio::sync::mpsc;

const PASSWORD: &str = "correct horse battery";
const GENERAL: &str = "general";

/// Someone on the relay at `url` with a client session of their own, connected.
async fn someone(
    url: &str,
    username: &str,
    dir: &std::path::Path,
) -> Result<(Session, AppEvents), Box<dyn std::error::Error>> {
    let auth = natter_client::account::register(url, username, PASSWORD).await?;
    let mut config = SessionConfig::new(dir.to_path_buf(), url.to_owned(), auth.token);
    config.username = Some(username.to_owned());
    let (session, mut events) = Session::start(config).await?;
    while let Some(event) = events.recv().await {
        if let AppEvent::Connection {
            state: ConnectionView::Connected { .. },
        } = event
        {
            return Ok((session, events));
        }
    }
    Err(format!("{username}'s stream closed before connecting").into())
}

/// Every message body painted on `natter://event`, and every account list announced on
/// `natter://accounts`, in the order the webview would get them.
#[derive(Debug)]
enum Heard {
    Message(String),
    Accounts(Value),
}

fn listen(app: &tauri::App<tauri::test::MockRuntime>) -> mpsc::UnboundedReceiver<Heard> {
    let (tx, rx) = mpsc::unbounded_channel();
    let painted = tx.clone();
    app.listen_any(natter_desktop::ui_event::EVENT, move |event| {
        if let Ok(batch) = serde_json::from_str::<Vec<Value>>(event.payload()) {
            for one in batch.iter().filter(|e| e["type"] == "message") {
                let body = one["message"]["body"].as_str().unwrap_or_default();
                let _ = painted.send(Heard::Message(body.to_owned()));
            }
        }
    });
    app.listen_any(accounts::EVENT, move |event| {
        if let Ok(list) = serde_json::from_str::<Value>(event.payload()) {
            let _ = tx.send(Heard::Accounts(list));
        }
    });
    rx
}

/// Reads `heard` until `pick` holds for an account list (bounded); answers it and every message
/// body painted before it.
fn until_accounts(
    heard: &mut mpsc::UnboundedReceiver<Heard>,
    pick: impl Fn(&Value) -> bool,
) -> Result<(Value, Vec<String>), Box<dyn std::error::Error>> {
    let found = wait(async {
        let mut painted = Vec::new();
        while let Some(one) = heard.recv().await {
            match one {
                Heard::Message(body) => painted.push(body),
                Heard::Accounts(list) if pick(&list) => return Some((list, painted)),
                Heard::Accounts(_) => {}
            }
        }
        None
    });
    found
        .map_err(|_| "the expected account list was not announced in time")?
        .ok_or_else(|| "the app's events stopped".into())
}

/// Reads `heard` until `body` is painted (bounded); answers every body painted up to it.
fn until_painted(
    heard: &mut mpsc::UnboundedReceiver<Heard>,
    body: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut painted = Vec::new();
    wait(async {
        while let Some(one) = heard.recv().await {
            if let Heard::Message(b) = one {
                let done = b == body;
                painted.push(b);
                if done {
                    return Ok(());
                }
            }
        }
        Err("the app's events stopped")
    })
    .map_err(|_| format!("{body:?} was not painted in time"))??;
    Ok(painted)
}

fn account<'a>(list: &'a Value, username: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|a| a["username"] == username)
}

fn unread(list: &Value, username: &str) -> Option<u64> {
    account(list, username)?["unread"].as_u64()
}

fn all_connected(list: &Value) -> bool {
    list.as_array()
        .is_some_and(|l| l.len() == 2 && l.iter().all(|a| a["connection"]["state"] == "connected"))
}

#[test]
fn two_accounts_on_two_relays_in_one_window() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    let mut heard = listen(&app);
    let ok = |cmd: &str, args: Value| {
        invoke(&webview, cmd, args).map_err(|e| format!("`{cmd}` refused: {e}"))
    };

    // Relay A is the one this app hosts; relay B another one.
    let hosted = ok(
        "host_locally",
        json!({"port": 0, "let_others_connect": false}),
    )?;
    let url_a = hosted["url"].as_str().ok_or("no url")?.to_owned();
    let b_dir = tempfile::tempdir()?;
    let relay_b = wait(embedded::start(
        b_dir.path(),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        0,
    ))??;
    let url_b = format!("http://{}", relay_b.addr());

    // Two sign-ins: both accounts are signed in, the newest active.
    let alice = ok(
        "register",
        json!({"server_url": url_a, "username": "alice", "password": PASSWORD}),
    )?;
    assert_eq!(alice["username"], "alice");
    ok(
        "register",
        json!({"server_url": url_b, "username": "bob", "password": PASSWORD}),
    )?;
    let list = invoke_until(&webview, "accounts", all_connected)?;
    let ids: Vec<&str> = list
        .as_array()
        .ok_or("no list")?
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, ["1", "2"], "{list}");
    assert_eq!(account(&list, "bob").ok_or("no bob")?["active"], true);
    assert_eq!(
        account(&list, "alice").ok_or("no alice")?["server_url"],
        json!(url_a)
    );
    assert!(
        dir.path().join("accounts/1/cache.db").is_file()
            && dir.path().join("accounts/2/cache.db").is_file(),
        "each account has its own cache"
    );

    // Back to alice: the webview hears the switch, then only her events.
    let switched = ok("switch_account", json!({"account": "1"}))?;
    assert_eq!(switched["username"], "alice");
    until_accounts(&mut heard, |l| {
        account(l, "alice").is_some_and(|a| a["active"] == true)
    })?;
    assert_eq!(ok("own_account", json!({}))?["user"]["username"], "alice");

    // Carol writes to alice (active), dave to bob (not): alice's message is painted, bob's is
    // only counted, on his entry of the list and in the total of the tray and title.
    let (carol_dir, dave_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (carol, _carol_events) = wait(someone(&url_a, "carol", carol_dir.path()))??;
    let (dave, _dave_events) = wait(someone(&url_b, "dave", dave_dir.path()))??;
    wait(dave.send(GENERAL, "for bob"))??;
    let (list, painted) = until_accounts(&mut heard, |l| unread(l, "bob") == Some(1))?;
    assert!(
        !painted.iter().any(|b| b == "for bob"),
        "bob's message painted into alice's view: {painted:?}"
    );
    wait(carol.send(GENERAL, "for alice"))??;
    until_painted(&mut heard, "for alice")?;
    let (list_now, _) = until_accounts(&mut heard, |l| unread(l, "alice") == Some(1))?;
    assert_eq!(unread(&list_now, "bob"), Some(1), "{list} {list_now}");
    // The UI reports alice's own count; the tray and the title add bob's.
    ok("set_view", json!({"activeRoom": null, "unreadTotal": 1}))?;
    let state = app.state::<AppState>();
    assert_eq!(accounts::unread_total(&state), 2);

    // Switching to bob: his rooms and messages come from his own cache at once, and his new
    // messages are painted from then on, alice's no longer.
    ok("switch_account", json!({"account": "2"}))?;
    until_accounts(&mut heard, |l| {
        account(l, "bob").is_some_and(|a| a["active"] == true)
    })?;
    let rooms = ok("rooms", json!({}))?;
    let general = rooms
        .as_array()
        .and_then(|r| r.iter().find(|room| room["id"] == GENERAL))
        .ok_or("bob has no general")?;
    assert_eq!(general["unread"], 1, "{general}");
    let cached = ok("messages", json!({"room_id": GENERAL}))?;
    assert!(
        cached
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["body"] == "for bob")),
        "{cached}"
    );
    assert!(
        !cached.to_string().contains("for alice"),
        "alice's message in bob's cache"
    );
    assert_eq!(
        accounts::unread_total(&state),
        2,
        "bob's count stands until the UI reports it"
    );
    wait(carol.send(GENERAL, "alice again"))??;
    wait(dave.send(GENERAL, "bob again"))??;
    let (_, mut painted) = until_accounts(&mut heard, |l| unread(l, "alice") == Some(2))?;
    if !painted.iter().any(|b| b == "bob again") {
        painted.extend(until_painted(&mut heard, "bob again")?);
    }
    assert!(!painted.iter().any(|b| b == "alice again"), "{painted:?}");

    // The app restarts: both accounts come back, bob (shown last) active.
    wait(state.shutdown())?;
    drop(webview);
    drop(app);
    let (app, webview) = start_app(dir.path())?;
    let ok = |cmd: &str, args: Value| {
        invoke(&webview, cmd, args).map_err(|e| format!("`{cmd}` refused: {e}"))
    };
    let resumed = ok("resume", json!({}))?;
    assert_eq!(
        (&resumed["username"], &resumed["account"]),
        (&json!("bob"), &json!("2")),
        "{resumed}"
    );
    let list = invoke_until(&webview, "accounts", all_connected)?;
    assert_eq!(unread(&list, "alice"), Some(2), "{list}");

    // Signing out of alice keeps bob signed in and active.
    ok("logout", json!({"account": "1"}))?;
    let list = ok("accounts", json!({}))?;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(account(&list, "bob").ok_or("no bob")?["active"], true);
    assert!(
        !dir.path().join("accounts/1").exists(),
        "alice's cache is gone"
    );
    invoke_until(&webview, "connection_state", |v| v["state"] == "connected")?;
    assert_eq!(ok("own_account", json!({}))?["user"]["username"], "bob");
    let refused = invoke(&webview, "switch_account", json!({"account": "1"}))
        .err()
        .ok_or("switched to a signed-out account")?;
    assert_eq!(refused["code"], "invalid", "{refused}");

    // Signing out of the last one: signed out, nothing to resume but the hosted relay.
    ok("logout", json!({}))?;
    assert_eq!(ok("accounts", json!({}))?, json!([]));
    assert_eq!(
        ok("connection_state", json!({}))?,
        json!({"state": "offline", "reason": "signed_out"})
    );
    wait(carol.stop())?;
    wait(dave.stop())?;
    wait(app.state::<AppState>().shutdown())?;
    wait(relay_b.stop())??;
    Ok(())
}

/// A profile from before several accounts (its one cache, token and files at the profile's top)
/// is moved into an account folder at the first start, resumes signed in as before, and
/// signing out leaves none of it.
#[test]
fn a_profile_from_before_several_accounts_resumes_its_account() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    let ok = |cmd: &str, args: Value| {
        invoke(&webview, cmd, args).map_err(|e| format!("`{cmd}` refused: {e}"))
    };
    let hosted = ok(
        "host_locally",
        json!({"port": 0, "let_others_connect": false}),
    )?;
    let url = hosted["url"].as_str().ok_or("no url")?.to_owned();
    wait(async {
        let auth = natter_client::account::register(&url, "olga", PASSWORD).await?;
        let cache = natter_client::Cache::open(dir.path()).await?;
        let saved = cache
            .save_sign_in(&natter_client::SignIn {
                server_url: url.clone(),
                username: "olga".to_owned(),
                token: auth.token,
            })
            .await;
        cache.close().await;
        saved?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })??;
    assert!(dir.path().join("cache.db").is_file());
    // Its files (issue 20 came first): a copy waiting to upload, a fetched file.
    for folder in ["files/outbox", "files/cache"] {
        std::fs::create_dir_all(dir.path().join(folder))?;
        std::fs::write(dir.path().join(folder).join("f"), b"bytes")?;
    }

    let resumed = ok("resume", json!({}))?;
    assert_eq!(
        (&resumed["username"], &resumed["account"]),
        (&json!("olga"), &json!("1"))
    );
    assert!(!dir.path().join("cache.db").exists(), "moved");
    assert!(!dir.path().join("token").exists(), "moved");
    assert!(dir.path().join("accounts/1/token").is_file());
    assert!(!dir.path().join("files").exists(), "files moved");
    assert!(dir.path().join("accounts/1/files/outbox/f").is_file());
    invoke_until(&webview, "connection_state", |v| v["state"] == "connected")?;
    assert_eq!(ok("own_account", json!({}))?["user"]["username"], "olga");
    // Signing out leaves none of its files in the profile.
    ok("logout", json!({}))?;
    assert!(
        !dir.path().join("accounts/1").exists(),
        "its folder is gone"
    );
    assert!(!dir.path().join("files").exists(), "no files left");
    wait(app.state::<AppState>().shutdown())?;
    Ok(())
}

/// A send of an account that has not left (its relay is down) is drawn again when that account
/// is shown again after another one: the webview's state starts afresh at a switch, and the
/// outbox announces `pending` only once, so the shell replays it.
#[test]
fn an_unsent_message_is_drawn_again_when_its_account_is_shown_again() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    let ok = |cmd: &str, args: Value| {
        invoke(&webview, cmd, args).map_err(|e| format!("`{cmd}` refused: {e}"))
    };
    // Every `message_state` the webview hears, and each switch, in order.
    let (tx, mut heard) = mpsc::unbounded_channel::<Value>();
    let states = tx.clone();
    app.listen_any(natter_desktop::ui_event::EVENT, move |event| {
        if let Ok(batch) = serde_json::from_str::<Vec<Value>>(event.payload()) {
            for one in batch.into_iter().filter(|e| e["type"] == "message_state") {
                let _ = states.send(one);
            }
        }
    });
    app.listen_any(accounts::EVENT, move |event| {
        if let Ok(list) = serde_json::from_str::<Value>(event.payload()) {
            let _ = tx.send(json!({"type": "accounts", "list": list}));
        }
    });
    let hosted = ok(
        "host_locally",
        json!({"port": 0, "let_others_connect": false}),
    )?;
    let url_a = hosted["url"].as_str().ok_or("no url")?.to_owned();
    let b_dir = tempfile::tempdir()?;
    let relay_b = wait(embedded::start(
        b_dir.path(),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        0,
    ))??;
    let url_b = format!("http://{}", relay_b.addr());
    ok(
        "register",
        json!({"server_url": url_a, "username": "alice", "password": PASSWORD}),
    )?;
    ok(
        "register",
        json!({"server_url": url_b, "username": "bob", "password": PASSWORD}),
    )?;
    invoke_until(&webview, "accounts", all_connected)?;

    // Bob (shown) writes while his relay is down: the message stays pending.
    wait(relay_b.stop())??;
    invoke_until(&webview, "connection_state", |v| v["state"] != "connected")?;
    let client_id = ok(
        "send_message",
        json!({"room_id": GENERAL, "body": "while bob's relay is down"}),
    )?;
    let client_id = client_id.as_str().ok_or("no client_id")?.to_owned();
    let is_pending = |e: &Value| {
        e["type"] == "message_state"
            && e["client_id"] == json!(client_id)
            && e["state"]["state"] == "pending"
    };
    wait(async {
        while let Some(e) = heard.recv().await {
            if is_pending(&e) {
                return Ok(());
            }
        }
        Err("the app's events stopped")
    })
    .map_err(|_| "the pending send was not announced")??;

    // To alice and back: after the switch to bob, the webview hears his unsent message again.
    ok("switch_account", json!({"account": "1"}))?;
    ok("switch_account", json!({"account": "2"}))?;
    let replayed = wait(async {
        // Alice shown first, then bob again: only a `pending` after both counts.
        let (mut alice_shown, mut bob_again) = (false, false);
        while let Some(e) = heard.recv().await {
            if e["type"] == "accounts" {
                let active = |who| account(&e["list"], who).is_some_and(|a| a["active"] == true);
                alice_shown |= active("alice");
                bob_again = alice_shown && active("bob");
            } else if bob_again && is_pending(&e) {
                return Some(e);
            }
        }
        None
    })
    .map_err(|_| "bob's unsent message was not drawn again after the switch")?
    .ok_or("the app's events stopped")?;
    assert_eq!(
        replayed["state"]["body"], "while bob's relay is down",
        "{replayed}"
    );
    wait(app.state::<AppState>().shutdown())?;
    Ok(())
}
