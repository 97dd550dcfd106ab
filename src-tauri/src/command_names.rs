/// Every app command the webview may call. Shared by `build.rs` (which generates an
/// `allow-<name>` permission for each: once an app manifest exists, Tauri refuses app commands
/// that no capability grants) and by the test that checks `capabilities/default.json` grants
/// exactly these. Keep in step with `generate_handler!` in `lib.rs`.
pub const COMMANDS: &[&str] = &[
    "profile",
    "host_locally",
    "stop_hosting",
    "connect",
    "disconnect",
    "connection_state",
    "rooms",
    "messages",
    "history",
    "send_message",
    "pending",
    "create_room",
    "invite",
    "leave",
    "open_dm",
    "mark_read",
    "typing",
    "register",
    "login",
    "resume",
    "logout",
    "set_view",
];
