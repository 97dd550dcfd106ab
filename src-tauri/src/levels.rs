//! Each account's notification level per room (all / mentions only / none), kept in the profile
//! (`notification-levels.json`) so it outlives the session and a sign-out: it is a preference of
//! this device, not of the relay. Rooms at `all` are not written down.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::alerts::Level;
use crate::error::{Error, Result};

const FILE: &str = "notification-levels.json";

/// Account key → room id → level. The key names relay and user, so accounts never mix.
type Saved = HashMap<String, HashMap<String, Level>>;

#[derive(Debug)]
pub struct Levels {
    path: PathBuf,
}

impl Levels {
    pub fn new(profile_dir: &Path) -> Self {
        Self {
            path: profile_dir.join(FILE),
        }
    }

    /// The account's rooms not at `all`. A missing or unreadable file means none (logged).
    pub fn of(&self, server_url: &str, username: &str) -> HashMap<String, Level> {
        self.load()
            .remove(&key(server_url, username))
            .unwrap_or_default()
    }

    /// Sets one room's level for the account; returns the account's levels now.
    pub fn set(
        &self,
        server_url: &str,
        username: &str,
        room_id: &str,
        level: Level,
    ) -> Result<HashMap<String, Level>> {
        let mut saved = self.load();
        let rooms = saved.entry(key(server_url, username)).or_default();
        if level == Level::All {
            rooms.remove(room_id);
        } else {
            rooms.insert(room_id.to_owned(), level);
        }
        let now = rooms.clone();
        saved.retain(|_, rooms| !rooms.is_empty());
        self.save(&saved)?;
        Ok(now)
    }

    fn load(&self) -> Saved {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(error = %e, path = %self.path.display(), "notification levels unreadable; using all");
                Saved::new()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Saved::new(),
            Err(e) => {
                tracing::warn!(error = %e, path = %self.path.display(), "notification levels unreadable; using all");
                Saved::new()
            }
        }
    }

    /// Written whole to a temporary file, then renamed over the old one: never half a file.
    fn save(&self, saved: &Saved) -> Result<()> {
        let failed = |e: std::io::Error| Error::Invalid(format!("cannot keep the setting: {e}"));
        let json = serde_json::to_vec_pretty(saved)
            .map_err(|e| Error::Invalid(format!("cannot keep the setting: {e}")))?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(failed)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                .map_err(failed)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(failed)
    }
}

fn key(server_url: &str, username: &str) -> String {
    format!("{username} @ {server_url}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_per_account_and_room_across_instances() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Invalid(e.to_string()))?;
        let levels = Levels::new(dir.path());
        assert!(levels.of("https://a.example", "alice").is_empty());
        levels.set("https://a.example", "alice", "r1", Level::Mentions)?;
        levels.set("https://a.example", "alice", "r2", Level::None)?;
        levels.set("https://b.example", "alice", "r1", Level::None)?;
        let again = Levels::new(dir.path());
        let alice_a = again.of("https://a.example", "alice");
        assert_eq!(alice_a.get("r1"), Some(&Level::Mentions));
        assert_eq!(alice_a.get("r2"), Some(&Level::None));
        assert_eq!(again.of("https://b.example", "alice").len(), 1);
        assert!(again.of("https://a.example", "bob").is_empty());
        // Back to all: not written down.
        let now = again.set("https://a.example", "alice", "r2", Level::All)?;
        assert_eq!(now.len(), 1);
        Ok(())
    }

    #[test]
    fn a_damaged_file_means_all() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Invalid(e.to_string()))?;
        std::fs::write(dir.path().join(FILE), b"{not json")
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let levels = Levels::new(dir.path());
        assert!(levels.of("https://a.example", "alice").is_empty());
        levels.set("https://a.example", "alice", "r1", Level::None)?;
        assert_eq!(levels.of("https://a.example", "alice").len(), 1);
        Ok(())
    }
}
