//! The main window: shown once its page starts loading, shown and focused on demand (tray,
//! notification click), hidden on request (the tray decides when: `tray.rs`), its focus reported
//! to the notification rules, and its size and position remembered per profile
//! (tauri-plugin-window-state, in the profile's folder).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use tauri::plugin::TauriPlugin;
use tauri::webview::{PageLoadEvent, PageLoadPayload};
use tauri::{AppHandle, Manager, Runtime, Webview, Window, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

use crate::state::AppState;

/// The label of the one window (`tauri.conf.json`, `capabilities/default.json`).
pub const MAIN: &str = "main";
/// The window state file, in the profile's folder.
pub const STATE_FILE: &str = "window-state.json";

/// What is remembered: not visibility (a window hidden in the tray must open at the next start).
fn remembered() -> StateFlags {
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

/// Where the window state of the profile in `profile_dir` is kept. Absolute: the plugin joins
/// its file name to the app's config folder, shared by all profiles, and joining an absolute
/// path yields that path, so two instances with different profiles keep separate files.
pub fn state_file(profile_dir: &Path) -> PathBuf {
    std::path::absolute(profile_dir.join(STATE_FILE))
        .unwrap_or_else(|_| profile_dir.join(STATE_FILE))
}

/// The window-state plugin for the profile in `profile_dir`.
pub fn state_plugin<R: Runtime>(profile_dir: &Path) -> TauriPlugin<R> {
    tauri_plugin_window_state::Builder::new()
        .with_state_flags(remembered())
        .with_filename(state_file(profile_dir).to_string_lossy())
        .build()
}

/// Shows the main window, created hidden (`tauri.conf.json`), when its page starts loading for
/// the first time. Why: on X11 a window shown before its web view's first navigation delayed that
/// navigation by half a second in 3 to 4 starts of 10 (no window manager, or openbox), as GTK
/// and WebKit settled the newly mapped window; created hidden, 10 starts of 10 were on time.
/// Only the first load: a later one (the web process restarted) must not undo a hide to the tray.
pub fn show_on_first_load<R: Runtime>(webview: &Webview<R>, payload: &PageLoadPayload<'_>) {
    if webview.label() != MAIN
        || payload.event() != PageLoadEvent::Started
        || webview
            .state::<AppState>()
            .window_shown
            .swap(true, Ordering::SeqCst)
    {
        return;
    }
    if let Err(error) = webview.window().show() {
        tracing::warn!(%error, "could not show the window");
    }
}

/// Shows, restores and focuses the main window.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    let Some(main) = app.get_webview_window(MAIN) else {
        return;
    };
    let shown = main
        .show()
        .and_then(|()| main.unminimize())
        .and_then(|()| main.set_focus());
    if let Err(error) = shown {
        tracing::warn!(%error, "could not show the window");
    }
}

/// The main window's focus, for the notification rules (`Builder::on_window_event`; closing is
/// the tray's: `tray::on_window_event`).
pub fn on_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if let WindowEvent::Focused(focused) = event {
        window
            .app_handle()
            .state::<AppState>()
            .shell
            .set_focused(*focused);
    }
}

/// Hides the window (to the tray), its size and position saved first.
pub fn hide<R: Runtime>(app: &AppHandle<R>, window: &Window<R>) {
    // Saved now, while the window is on screen (a hidden window's position is not reliable
    // everywhere); the plugin saves again on exit.
    if let Err(error) = app.save_window_state(remembered()) {
        tracing::warn!(%error, "could not save the window state");
    }
    if let Err(error) = window.hide() {
        tracing::warn!(%error, "could not hide the window");
    }
    app.state::<AppState>().shell.set_focused(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_profile_has_its_own_state_file() {
        let alice = state_file(Path::new("/profiles/alice"));
        let bob = state_file(Path::new("/profiles/bob"));
        assert_ne!(alice, bob);
        // What the plugin does with it: the config folder is replaced, not prefixed.
        assert_eq!(Path::new("/config/org.natter.desktop").join(&alice), alice);
        assert_eq!(alice, Path::new("/profiles/alice").join(STATE_FILE));
        // A relative profile folder still gives an absolute file.
        assert!(state_file(Path::new("rel/carol")).is_absolute());
    }
}
