/// Every app command the webview may call. Shared by `build.rs` (which generates an
/// `allow-<name>` permission for each: once an app manifest exists, Tauri refuses app commands
/// that no capability grants) and by the test that checks `capabilities/default.json` grants
/// exactly these. Keep in step with `generate_handler!` in `lib.rs`. Only what the UI calls
/// (`ui/app/js/bridge.js`): a command the webview may reach but nothing uses is surface for nothing.
pub const COMMANDS: &[&str] = &[
    "host_locally",
    "connection_state",
    "rooms",
    "messages",
    "history",
    "search",
    "send_message",
    "edit_message",
    "delete_message",
    "react",
    "create_room",
    "invite",
    "leave",
    "open_dm",
    "mark_read",
    "typing",
    "drafts",
    "save_draft",
    "retry_now",
    "discard_failed",
    "last_room",
    "keep_last_room",
    "register",
    "login",
    "resume",
    "logout",
    "trust_certificate",
    "set_view",
    "open_link",
    "notification_levels",
    "set_notification_level",
];
