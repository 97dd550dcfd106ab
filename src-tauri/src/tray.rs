//! The system tray: an icon whose menu does everything (Linux's AppIndicator reports no clicks
//! on the icon itself): "Open Natter", the unread total (a disabled line), "Do not disturb" (a
//! check item) and "Quit". The unread total is also the tooltip (where the platform shows one).
//! With a tray that is shown, closing the main window hides it; otherwise closing quits (never a
//! hidden window with no way back).

use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};

use crate::shell::{unread_label, APP_TITLE};
use crate::state::AppState;
use crate::window;

/// `NATTER_NO_TRAY=1` runs without a tray (for tests, and for desktops whose tray is broken).
pub const NO_TRAY_ENV: &str = "NATTER_NO_TRAY";

const OPEN: &str = "open";
const UNREAD: &str = "unread";
const DND: &str = "dnd";
const QUIT: &str = "quit";

/// The tray and the menu items that change; managed state, present only when a tray exists.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    unread: MenuItem<R>,
}

/// Why this app runs without a tray, if it does.
pub fn unavailable(no_tray_env: Option<&str>) -> Option<String> {
    if no_tray_env.is_some_and(|value| !value.is_empty() && value != "0") {
        return Some(format!("{NO_TRAY_ENV} is set"));
    }
    platform_unavailable()
}

/// Linux: tray-icon loads libayatana-appindicator3 (or libappindicator3) when the first tray
/// is made and panics if neither is installed. Loading it here first, where that panic is
/// caught, turns a crash into "no tray". Its panic hook message is kept quiet meanwhile.
#[cfg(target_os = "linux")]
fn platform_unavailable() -> Option<String> {
    // Answered once: a second load of a library that failed would panic differently.
    static ANSWER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ANSWER
        .get_or_init(|| {
            let hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            let loaded = std::panic::catch_unwind(|| {
                std::hint::black_box(&*libappindicator_sys::LIB);
            });
            std::panic::set_hook(hook);
            loaded.err().map(|panic| {
                let why = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown error");
                format!("no AppIndicator library: {}", why.replace('\n', "; "))
            })
        })
        .clone()
}

/// Windows and macOS always have a notification area / menu bar.
#[cfg(not(target_os = "linux"))]
fn platform_unavailable() -> Option<String> {
    None
}

/// Makes the tray (call once, after the app is built, on the main thread) and manages [`Tray`].
pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let unread_total = app.state::<AppState>().shell.unread_total();
    let open = MenuItem::with_id(app, OPEN, "Open Natter", true, None::<&str>)?;
    let unread = MenuItem::with_id(app, UNREAD, unread_label(unread_total), false, None::<&str>)?;
    let dnd = CheckMenuItem::with_id(app, DND, "Do not disturb", true, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &open,
            &unread,
            &PredefinedMenuItem::separator(app)?,
            &dnd,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .tooltip(tooltip(unread_total))
        .on_menu_event(move |app, event| on_menu(app, &event, &dnd))
        .on_tray_icon_event(|tray, event| {
            // Windows and macOS report clicks on the icon: a double click opens the window too
            // (the single click opens the menu). Linux reports none.
            if let TrayIconEvent::DoubleClick {
                button: MouseButton::Left,
                ..
            } = event
            {
                window::show_main(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    app.manage(Tray { icon, unread });
    Ok(())
}

/// Whether a tray exists (then closing the window hides it).
pub fn present<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.try_state::<Tray<R>>().is_some()
}

/// Closing the main window while a tray exists: hide it if a tray host shows the icon, else quit
/// (never a hidden window with no way back). Without a tray, closing closes.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let app = window.app_handle();
    if let WindowEvent::CloseRequested { api, .. } = event {
        if window.label() != window::MAIN || !present(app) {
            return;
        }
        // Hide or quit, once it is known whether the tray is actually shown.
        api.prevent_close();
        let (app, window) = (app.clone(), window.clone());
        tauri::async_runtime::spawn(async move {
            if host_present().await {
                window::hide(&app, &window);
            } else {
                tracing::info!("no tray host shows the icon: closing the window quits");
                app.exit(0);
            }
        });
    }
}

/// Linux: whether something shows AppIndicator icons now, i.e. a StatusNotifier watcher owns
/// its name on the session bus (KDE, Xfce, Ubuntu's GNOME, waybar…; plain GNOME has none, and
/// there the icon is not seen). Asked at each window close, bounded, so a panel started later
/// counts. Without an answer: no.
#[cfg(target_os = "linux")]
pub async fn host_present() -> bool {
    const WATCHER: &str = "org.kde.StatusNotifierWatcher";
    let ask = async {
        let bus = zbus::Connection::session().await?;
        let dbus = zbus::fdo::DBusProxy::new(&bus).await?;
        dbus.name_has_owner(zbus::names::BusName::try_from(WATCHER)?)
            .await
            .map_err(zbus::Error::from)
    };
    match tokio::time::timeout(HOST_CHECK, ask).await {
        Ok(Ok(present)) => present,
        Ok(Err(error)) => {
            tracing::info!(%error, "no session bus answer about a tray host");
            false
        }
        Err(_) => false,
    }
}

/// Windows and macOS always show the tray / menu bar icon.
#[cfg(not(target_os = "linux"))]
pub async fn host_present() -> bool {
    true
}

/// The bound on asking the session bus whether a tray host exists.
#[cfg(target_os = "linux")]
const HOST_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Shows the unread total in the menu and the tooltip (nothing without a tray).
pub fn show_unread<R: Runtime>(app: &AppHandle<R>, unread_total: u32) {
    let Some(tray) = app.try_state::<Tray<R>>() else {
        return;
    };
    if let Err(error) = tray.unread.set_text(unread_label(unread_total)) {
        tracing::warn!(%error, "could not update the tray menu");
    }
    if let Err(error) = tray.icon.set_tooltip(Some(tooltip(unread_total))) {
        tracing::warn!(%error, "could not update the tray tooltip");
    }
}

fn tooltip(unread_total: u32) -> String {
    format!("{APP_TITLE}: {}", unread_label(unread_total))
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, event: &MenuEvent, dnd: &CheckMenuItem<R>) {
    match event.id().as_ref() {
        OPEN => window::show_main(app),
        DND => {
            // The check item toggled itself before this runs; its state is the truth.
            let on = dnd.is_checked().unwrap_or(false);
            app.state::<AppState>().shell.set_dnd(on);
            tracing::info!(on, "do not disturb");
        }
        QUIT => app.exit(0),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_can_turn_the_tray_off() {
        assert!(unavailable(Some("1")).is_some_and(|why| why.contains(NO_TRAY_ENV)));
        // Unset, empty or "0" leaves it to the platform check, which must answer, not panic
        // (on Linux it loads the AppIndicator library, present or not).
        let platform = platform_unavailable();
        assert_eq!(unavailable(None), platform);
        assert_eq!(unavailable(Some("")), platform);
        assert_eq!(unavailable(Some("0")), platform);
    }
}
