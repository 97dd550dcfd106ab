//! Issue 18 through IPC, as the webview calls it, on the relay this app hosts (open
//! registration, its first account the admin): reading a pasted invite (the protocol's parser),
//! our role, an invite made and used, a bad invite refused, the admin's actions on another
//! account (a password reset to a random one and to one the admin chose), the account settings,
//! and deleting our account, which signs this app out.

mod support;

use natter_client::account;
use natter_desktop::AppState;
use serde_json::{json, Value};
use support::{invoke, invoke_until, start_app, wait, TestResult};
use tauri::Manager;

const PASSWORD: &str = "correct horse battery";

#[test]
fn the_admin_panel_and_account_settings_work_through_ipc() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    let call = |cmd: &str, args: Value| invoke(&webview, cmd, args);
    let ok = |cmd: &str, args: Value| {
        invoke(&webview, cmd, args).map_err(|e| format!("`{cmd}` refused: {e}"))
    };

    // What the sign-in screen pastes: the shell reads it, or says it is not an invite.
    let bare = ok("read_invite", json!({"text": " c0de-1 "}))?;
    assert_eq!(bare, json!({"server_url": null, "code": "c0de-1"}));
    for bad in ["", "natter://invite?code=abc", "https://chat.example.org"] {
        let refused = call("read_invite", json!({"text": bad}))
            .err()
            .ok_or(format!("read {bad:?} as an invite"))?;
        assert_eq!(refused["code"], "invalid", "{bad:?}: {refused}");
    }

    let hosted = ok(
        "host_locally",
        json!({"port": 0, "let_others_connect": false}),
    )?;
    let url = hosted["url"].as_str().ok_or("no url")?.to_owned();
    let alice = json!({"server_url": url, "username": "alice", "password": PASSWORD});
    ok("register", alice)?;
    invoke_until(&webview, "connection_state", |v| v["state"] == "connected")?;
    let own = ok("own_account", json!({}))?;
    assert_eq!(
        (&own["user"]["username"], &own["role"]),
        (&json!("alice"), &json!("admin")),
        "the hosted relay's first account is its admin: {own}"
    );

    // An invite, read back into this relay's address and its code, registers bob.
    let made = ok(
        "create_invite",
        json!({"uses": 1, "expires_in_secs": 3600, "role": "member"}),
    )?;
    let link = made["link"].as_str().ok_or("no link")?.to_owned();
    let read = ok("read_invite", json!({"text": format!("  {link}\n")}))?;
    assert_eq!(read["server_url"], json!(url), "{read}");
    assert_eq!(read["code"], made["code"]);
    let invites = ok("invites", json!({}))?;
    assert_eq!(invites.as_array().map(Vec::len), Some(1), "{invites}");
    wait(account::register_invited(
        &url,
        "bob",
        PASSWORD,
        Some(&link),
    ))?
    .map_err(|e| format!("bob registers with the invite: {e}"))?;
    // Spent: a second registration with it is refused, and this session is not touched.
    let carol = json!({"server_url": url, "username": "carol", "password": PASSWORD,
        "invite": link});
    let refused = call("register", carol)
        .err()
        .ok_or("a spent invite admitted")?;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    assert_eq!(ok("own_account", json!({}))?["user"]["username"], "alice");

    let users = ok("users", json!({}))?;
    let names: Vec<&str> = users["users"]
        .as_array()
        .ok_or("no users")?
        .iter()
        .filter_map(|a| a["user"]["username"].as_str())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    let disabled = ok("set_disabled", json!({"username": "bob", "disabled": true}))?;
    assert_eq!(disabled["disabled"], true);
    ok(
        "set_disabled",
        json!({"username": "bob", "disabled": false}),
    )?;
    let password = ok("reset_password", json!({"username": "bob"}))?;
    assert_eq!(password.as_str().map(str::len), Some(20), "{password}");
    // A password the admin chose: answered as given, and the one bob signs in with.
    let chosen = ok(
        "reset_password",
        json!({"username": "bob", "password": "chosen by alice"}),
    )?;
    assert_eq!(chosen, json!("chosen by alice"));
    wait(account::login(&url, "bob", "chosen by alice"))?
        .map_err(|e| format!("bob signs in with the chosen password: {e}"))?;
    let short = call(
        "reset_password",
        json!({"username": "bob", "password": "short"}),
    )
    .err()
    .ok_or("a too short password was set")?;
    assert_eq!(short["code"], "invalid", "{short}");
    let promoted = ok("set_role", json!({"username": "bob", "role": "admin"}))?;
    assert_eq!(promoted["role"], "admin");
    ok("revoke_invite", json!({"invite_id": made["invite"]["id"]}))?;

    // Account settings.
    let named = ok("set_display_name", json!({"display_name": "  Alice L.  "}))?;
    assert_eq!(named["display_name"], "Alice L.");
    let sessions = ok("sessions", json!({}))?;
    assert_eq!(sessions[0]["current"], true, "{sessions}");
    let wrong = call(
        "change_password",
        json!({"current": "not my password", "new": "a brand new password"}),
    )
    .err()
    .ok_or("a wrong current password was taken")?;
    assert_eq!(wrong["code"], "forbidden");
    ok(
        "change_password",
        json!({"current": PASSWORD, "new": "a brand new password"}),
    )?;
    assert_eq!(
        ok("own_account", json!({}))?["role"],
        "admin",
        "still signed in"
    );

    // Deleting our account (bob is an admin now, so alice is not the last): signed out here.
    let wrong = call("delete_account", json!({"password": PASSWORD}))
        .err()
        .ok_or("deleted with the old password")?;
    assert_eq!(wrong["code"], "forbidden");
    ok(
        "delete_account",
        json!({"password": "a brand new password"}),
    )?;
    assert_eq!(call("resume", json!({})), Ok(Value::Null), "nothing saved");
    assert_eq!(
        call("own_account", json!({}))
            .err()
            .map(|e| e["code"].clone()),
        Some(json!("not_connected"))
    );
    let gone = wait(account::login(&url, "alice", "a brand new password"))?;
    assert!(gone.is_err(), "a deleted account signed in: {gone:?}");
    wait(app.state::<AppState>().shutdown())?;
    Ok(())
}
