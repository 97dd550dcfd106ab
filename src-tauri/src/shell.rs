//! What the desktop around the webview shows and needs to know: the room in view, the unread
//! total (both from the UI's `set_view`), Do not disturb (the tray's check item) and whether the
//! main window has the focus. Read by the notifiers (each adds its own account's levels,
//! `accounts/roster.rs`), written by the UI (`commands::set_view`), the tray and window events.
//! The unread total here is the active account's, as the UI counts it; the title and tray add
//! the other accounts' (`accounts::show_unread`).

use std::sync::{Mutex as StdMutex, MutexGuard, PoisonError};

use crate::alerts::View;

/// The window title without unread messages.
pub const APP_TITLE: &str = "Natter";

#[derive(Debug, Default)]
pub struct Shell {
    inner: StdMutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    view: View,
    unread_total: u32,
}

impl Shell {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of what the notification rules look at.
    pub fn view(&self) -> View {
        self.lock().view.clone()
    }

    pub fn unread_total(&self) -> u32 {
        self.lock().unread_total
    }

    pub fn set_view(&self, active_room: Option<String>, unread_total: u32) {
        let mut inner = self.lock();
        inner.view.active_room = active_room;
        inner.unread_total = unread_total;
    }

    pub fn set_focused(&self, focused: bool) {
        self.lock().view.focused = focused;
    }

    pub fn set_dnd(&self, dnd: bool) {
        self.lock().view.dnd = dnd;
    }

    /// The active account's unread total until the UI tells its own (`set_view`): right after
    /// a switch.
    pub fn set_unread_total(&self, unread_total: u32) {
        self.lock().unread_total = unread_total;
    }
}

/// `Natter`, or `Natter (3)` with 3 unread messages.
pub fn window_title(unread_total: u32) -> String {
    match unread_total {
        0 => APP_TITLE.to_owned(),
        n => format!("{APP_TITLE} ({n})"),
    }
}

/// The tray's unread line (and tooltip).
pub fn unread_label(unread_total: u32) -> String {
    match unread_total {
        0 => "No unread messages".to_owned(),
        n => format!("{n} unread"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_labels_count_unread() {
        assert_eq!(window_title(0), "Natter");
        assert_eq!(window_title(3), "Natter (3)");
        assert_eq!(unread_label(0), "No unread messages");
        assert_eq!(unread_label(1), "1 unread");
        assert_eq!(unread_label(42), "42 unread");
    }

    #[test]
    fn the_view_keeps_every_part() {
        let shell = Shell::default();
        shell.set_view(Some("r1".to_owned()), 2);
        shell.set_focused(true);
        shell.set_dnd(true);
        let view = shell.view();
        assert_eq!(view.active_room.as_deref(), Some("r1"));
        assert!(view.focused && view.dnd);
        assert_eq!(shell.unread_total(), 2);
        shell.set_view(None, 0);
        assert_eq!(shell.view().active_room, None);
        assert_eq!(shell.unread_total(), 0);
    }
}
