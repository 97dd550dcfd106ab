//! The app's managed state, one value handed to every command (no statics): which profile this
//! window serves, the session of every signed-in account (`accounts/`: one of them active, the
//! one the window shows and the commands act on), the relay hosted in-process (if any) and what
//! the desktop shows (room in view, unread total, Do not disturb).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use natter_client::session::{ConnectionView, Session};
use natter_client::{ProfileName, SignIn};
use natter_relay::Relay;
use tauri::async_runtime::JoinHandle;
use tokio::sync::{Mutex, RwLock, RwLockReadGuard};

use crate::accounts::roster::Roster;
use crate::error::{Error, Result};
use crate::levels::Levels;
use crate::shell::Shell;

/// How long a stopped session's forwarder may take to pass on its last events.
const FORWARDER_DRAIN: Duration = Duration::from_secs(2);

/// The reason `connection_state` gives while no session runs (before signing in, after logout).
pub const SIGNED_OUT: &str = "signed_out";

/// One signed-in account: its session and the task forwarding its events to the webview.
#[derive(Debug)]
pub struct Connected {
    /// Its folder in the profile (`accounts::folders`), which names it to the UI.
    pub id: String,
    pub session: Session,
    /// The relay, user and token this session signed in with (its Debug hides the token).
    pub sign_in: SignIn,
    pub forwarder: JoinHandle<()>,
}

#[derive(Debug)]
pub struct AppState {
    pub profile: ProfileName,
    pub profile_dir: PathBuf,
    /// Every signed-in account's session. Commands read it in parallel; signing in and out
    /// change it.
    pub accounts: RwLock<Vec<Connected>>,
    /// Which account is active, and each one's unread counts and connection (`roster.rs`).
    pub roster: Arc<Roster>,
    pub relay: Mutex<Option<Relay>>,
    /// The room in view, unread total, focus and Do not disturb (`shell.rs`).
    pub shell: Arc<Shell>,
    /// Notification levels per account and room, kept in the profile.
    pub levels: Levels,
    /// Set once the main window, created hidden, was shown for its first page load (`window.rs`).
    pub window_shown: AtomicBool,
}

impl Connected {
    /// Stops the session (bounded: `Session::stop` gives its worker a grace period), then lets
    /// the forwarder pass on the session's last events; it ends when their stream closes.
    pub async fn stop(self) -> SignIn {
        let Self {
            session,
            sign_in,
            mut forwarder,
            ..
        } = self;
        session.stop().await;
        if tokio::time::timeout(FORWARDER_DRAIN, &mut forwarder)
            .await
            .is_err()
        {
            forwarder.abort();
        }
        sign_in
    }
}

impl AppState {
    /// The state of `profile`, with the relay certificates it pinned trusted again.
    pub fn new(profile: ProfileName, profile_dir: PathBuf) -> Self {
        match natter_client::trust::load_pins(&profile_dir) {
            Ok(0) => {}
            Ok(n) => tracing::info!(pins = n, "pinned relay certificates loaded"),
            // Without them a pinned relay is refused as untrusted, and the user is asked again.
            Err(error) => tracing::error!(%error, "cannot read the pinned relay certificates"),
        }
        Self {
            levels: Levels::new(&profile_dir),
            profile,
            profile_dir,
            accounts: RwLock::new(Vec::new()),
            roster: Arc::default(),
            relay: Mutex::new(None),
            shell: Arc::default(),
            window_shown: AtomicBool::new(false),
        }
    }

    /// The active account's session, or `not_connected`. Held only for one command.
    pub async fn session(&self) -> Result<RwLockReadGuard<'_, Session>> {
        Ok(RwLockReadGuard::map(self.active().await?, |connected| {
            &connected.session
        }))
    }

    /// The active account, or `not_connected`. Held only for one command.
    pub async fn active(&self) -> Result<RwLockReadGuard<'_, Connected>> {
        let active = self.roster.active().ok_or(Error::NotConnected)?;
        RwLockReadGuard::try_map(self.accounts.read().await, |list| {
            list.iter().find(|connected| connected.id == active)
        })
        .map_err(|_| Error::NotConnected)
    }

    /// Stops account `id`'s session, if it runs, and says how it was signed in. It stays in
    /// the roster: the caller decides whether it leaves.
    pub async fn disconnect(&self, id: &str) -> Option<SignIn> {
        // Commands hold the account while they run: a download's ends now, so that taking the
        // account below does not wait for it (nor hold up every other command meanwhile).
        if let Some(connected) = self.accounts.read().await.iter().find(|c| c.id == id) {
            connected.session.interrupt();
        }
        let taken = {
            let mut list = self.accounts.write().await;
            let at = list.iter().position(|connected| connected.id == id);
            at.map(|at| list.remove(at))
        };
        match taken {
            Some(connected) => Some(connected.stop().await),
            None => None,
        }
    }

    /// Stops the hosted relay, if any (bounded by `Relay::stop`).
    pub async fn stop_hosting(&self) -> Result<()> {
        let relay = self.relay.lock().await.take();
        if let Some(relay) = relay {
            relay
                .stop()
                .await
                .map_err(|error| Error::Host(error.to_string()))?;
        }
        Ok(())
    }

    /// Everything this state runs, stopped: called when the app exits.
    pub async fn shutdown(&self) {
        for connected in self.accounts.read().await.iter() {
            connected.session.interrupt();
        }
        let all = std::mem::take(&mut *self.accounts.write().await);
        for connected in all {
            connected.stop().await;
        }
        if let Err(error) = self.stop_hosting().await {
            tracing::warn!(%error, "the hosted relay did not stop cleanly");
        }
    }
}

pub fn signed_out() -> ConnectionView {
    ConnectionView::Offline {
        reason: SIGNED_OUT.to_owned(),
        certificate: None,
    }
}
