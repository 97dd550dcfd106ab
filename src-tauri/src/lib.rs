//! natter-desktop: the thin Tauri shell over `natter_client`. This file wires: profile from the
//! command line, one app per profile (`instance.rs`), managed state, the commands, the plugins (notifications, window state, dialogs), the
//! tray, and a clean stop (session, hosted relay) on exit. The rules live in natter-client; the
//! webview sees only commands and its events.

pub mod account;
pub mod accounts;
pub mod alerts;
mod command_names;
pub mod commands;
pub mod embedded;
pub mod engine;
pub mod error;
pub mod files;
pub mod instance;
pub mod levels;
pub mod links;
pub mod notifier;
pub mod people;
pub mod shell;
pub mod state;
pub mod tray;
pub mod ui_event;
pub mod window;

use std::ffi::OsString;
use std::time::Duration;

use natter_client::profile::DEFAULT_PROFILE;
use natter_client::{ProfileError, ProfileName};
use tauri::{Builder, Manager, RunEvent, Runtime};

pub use command_names::COMMANDS;
pub use error::Error;
pub use state::AppState;

/// The environment variable naming the profile when `--profile` is absent.
pub const PROFILE_ENV: &str = "NATTER_PROFILE";
/// How long the app waits, on exit, for the session and the hosted relay to stop.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("profile: {0}")]
    Profile(#[from] ProfileError),
    #[error("`--profile` needs a name")]
    MissingProfileName,
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
    #[error(transparent)]
    Instance(#[from] instance::InstanceError),
}

/// Starts the desktop app and returns when it exits.
pub fn run() -> Result<(), StartError> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NATTER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let name = profile_name(std::env::args_os().skip(1), std::env::var(PROFILE_ENV).ok())?;
    let dir = natter_client::profile_dir(&natter_client::profiles_root()?, &name)?;
    let instance = match instance::claim(&dir) {
        Ok(instance::Claim::First(instance)) => Some(instance),
        Ok(instance::Claim::AlreadyRunning) => {
            tracing::info!(
                profile = name.as_str(),
                "already open: its window was brought to the front"
            );
            return Ok(());
        }
        // Held by a Natter that does not answer: a second app on the same data would be worse.
        Err(error @ instance::InstanceError::NoAnswer(_)) => return Err(error.into()),
        Err(error) => {
            tracing::warn!(%error, "cannot tell whether this profile is already open; starting");
            None
        }
    };
    tracing::info!(profile = name.as_str(), dir = %dir.display(), "starting");
    let app = app(Builder::default(), AppState::new(name, dir)).build(context())?;
    built(app.handle());
    if let Some(instance) = instance {
        let handle = app.handle().clone();
        instance.serve(move || {
            let app = handle.clone();
            if let Err(error) = handle.run_on_main_thread(move || window::show_main(&app)) {
                tracing::warn!(%error, "could not bring the window to the front");
            }
        });
    }
    match tray::unavailable(std::env::var(tray::NO_TRAY_ENV).ok().as_deref()) {
        Some(why) => tracing::info!(%why, "no tray: closing the window quits"),
        None => {
            if let Err(error) = tray::install(app.handle()) {
                tracing::warn!(%error, "no tray: closing the window quits");
            }
        }
    }
    app.run(|app, event| {
        #[cfg(target_os = "macos")]
        if let RunEvent::Reopen { .. } = event {
            // The Dock icon clicked while the window is hidden in the menu bar.
            window::show_main(app);
        }
        if let RunEvent::Exit = event {
            let state = app.state::<AppState>();
            tauri::async_runtime::block_on(async {
                if tokio::time::timeout(SHUTDOWN_WAIT, state.shutdown())
                    .await
                    .is_err()
                {
                    tracing::warn!("stopping the session and relay took too long; exiting anyway");
                }
            });
        }
    });
    Ok(())
}

/// The app without a runtime chosen: the real one in [`run`], the mock one in tests. The tray
/// is not part of it: [`run`] adds it once the app is built, where the platform has one.
pub fn app<R: Runtime>(builder: Builder<R>, state: AppState) -> Builder<R> {
    let window_state = window::state_plugin(&state.profile_dir);
    builder
        .plugin(tauri_plugin_notification::init())
        .plugin(window_state)
        // Its dialogs are opened from Rust (`files.rs`); the webview is granted none of them.
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .on_window_event(|window, event| {
            window::on_event(window, event);
            tray::on_window_event(window, event);
        })
        .on_page_load(window::show_on_first_load)
        .invoke_handler(tauri::generate_handler![
            commands::host_locally,
            commands::connection_state,
            commands::rooms,
            commands::messages,
            commands::history,
            commands::search,
            commands::send_message,
            commands::edit_message,
            commands::delete_message,
            commands::react,
            commands::create_room,
            commands::invite,
            commands::room_members,
            commands::leave,
            commands::open_dm,
            commands::mark_read,
            commands::typing,
            commands::drafts,
            commands::save_draft,
            commands::retry_now,
            commands::open_link,
            commands::notification_levels,
            commands::set_notification_level,
            commands::discard_failed,
            commands::last_room,
            commands::keep_last_room,
            account::register,
            account::login,
            account::resume,
            account::logout,
            account::trust_certificate,
            commands::set_view,
            account::read_invite,
            accounts::accounts,
            accounts::switch_account,
            people::own_account,
            people::set_display_name,
            people::change_password,
            people::sessions,
            people::end_session,
            people::delete_account,
            people::create_invite,
            people::invites,
            people::revoke_invite,
            people::users,
            people::set_disabled,
            people::set_role,
            people::reset_password,
            people::delete_user,
            files::attach_files,
            files::attach_bytes,
            files::cancel_upload,
            files::image,
            files::save_file,
        ])
}

/// What needs the built app, before it runs (a `setup` hook would run only once the event loop
/// starts, which the mock runtime in tests never does): notification clicks open their room.
pub fn built<R: Runtime>(app: &tauri::AppHandle<R>) {
    notifier::on_activate(app);
}

/// `tauri.conf.json`, the capabilities and the UI files, compiled in.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// The profile: `--profile NAME` or `--profile=NAME`, else `$NATTER_PROFILE`, else `default`.
pub fn profile_name(
    args: impl IntoIterator<Item = OsString>,
    env: Option<String>,
) -> Result<ProfileName, StartError> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        if arg == "--profile" {
            let name = args.next().ok_or(StartError::MissingProfileName)?;
            return Ok(ProfileName::parse(&name.to_string_lossy())?);
        }
        if let Some(name) = arg.strip_prefix("--profile=") {
            return Ok(ProfileName::parse(name)?);
        }
    }
    Ok(ProfileName::parse(
        env.as_deref()
            .filter(|name| !name.is_empty())
            .unwrap_or(DEFAULT_PROFILE),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_profile_comes_from_the_flag_then_the_environment() -> Result<(), StartError> {
        let name = |list: &[&str], env: Option<&str>| {
            profile_name(args(list), env.map(str::to_owned)).map(|p| p.as_str().to_owned())
        };
        assert_eq!(name(&["--profile", "alice"], Some("bob"))?, "alice");
        assert_eq!(name(&["--profile=carol"], None)?, "carol");
        assert_eq!(name(&[], Some("bob"))?, "bob");
        assert_eq!(name(&[], Some(""))?, DEFAULT_PROFILE);
        assert_eq!(name(&[], None)?, DEFAULT_PROFILE);
        assert!(matches!(
            name(&["--profile"], None),
            Err(StartError::MissingProfileName)
        ));
        assert!(matches!(
            name(&["--profile", "../x"], None),
            Err(StartError::Profile(_))
        ));
        Ok(())
    }

    #[test]
    fn the_capability_grants_exactly_the_app_commands() -> Result<(), Box<dyn std::error::Error>> {
        let text = include_str!("../capabilities/default.json");
        let capability: serde_json::Value = serde_json::from_str(text)?;
        let granted: Vec<&str> = capability["permissions"]
            .as_array()
            .ok_or("no permissions")?
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        let mut expected = vec!["core:event:allow-listen", "core:event:allow-unlisten"];
        let app: Vec<String> = COMMANDS
            .iter()
            .map(|name| format!("allow-{}", name.replace('_', "-")))
            .collect();
        expected.extend(app.iter().map(String::as_str));
        assert_eq!(granted, expected);
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
        Ok(())
    }
}
