//! Where each signed-in account keeps its data in the profile: `accounts/<id>/` (private, 0700)
//! holds that account's own cache (`cache.db`, rooms, messages, outbox, drafts, its saved
//! sign-in), token file and `files/` (outbox copies, fetched files), so every account has its
//! own cache and its own session, and signing out of one deletes its folder. `<id>` is a small number, the folder's name. `accounts/active`
//! names the account shown last, to show it again at the next start. A profile from before
//! several accounts kept its one cache (and its `files/`) at the top of the profile:
//! [`adopt_legacy`] moves them into an account folder at the first start.

use std::path::{Path, PathBuf};

use natter_client::cache::{DB_FILE, TOKEN_FILE};
use natter_client::files::FILES_DIR;
use natter_client::session::SessionError;
use natter_client::{Cache, ProfileError};

use crate::error::{Error, Result};

/// The folder of every account's folder, inside the profile.
pub const ACCOUNTS_DIR: &str = "accounts";
/// The file naming the account shown last.
const ACTIVE_FILE: &str = "active";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| {
        Error::Profile(ProfileError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

/// Account `id`'s folder.
pub fn dir(profile_dir: &Path, id: &str) -> PathBuf {
    profile_dir.join(ACCOUNTS_DIR).join(id)
}

/// The ids of the account folders there are, in number order.
pub fn list(profile_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(profile_dir.join(ACCOUNTS_DIR)) else {
        return Vec::new();
    };
    let mut ids: Vec<u32> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids.into_iter().map(|id| id.to_string()).collect()
}

/// A new, empty account folder (the smallest number not taken), private.
pub fn create(profile_dir: &Path) -> Result<String> {
    let taken = list(profile_dir);
    let id = (1u32..)
        .map(|n| n.to_string())
        .find(|n| !taken.contains(n))
        .unwrap_or_default();
    make_private(&dir(profile_dir, &id))?;
    Ok(id)
}

/// `dir` and its parents, created; `dir` readable by this user only (unix).
fn make_private(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

/// Deletes account `id`'s folder (its cache and token). Stop its session first.
pub fn remove(profile_dir: &Path, id: &str) -> Result<()> {
    let dir = dir(profile_dir, id);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&dir)(e)),
        _ => Ok(()),
    }
}

/// Remembers `id` (none: forgets) as the account to show at the next start.
pub fn remember_active(profile_dir: &Path, id: Option<&str>) {
    let path = profile_dir.join(ACCOUNTS_DIR).join(ACTIVE_FILE);
    let done = match id {
        Some(id) => std::fs::write(&path, id),
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        },
    };
    // Only which account opens first at the next start depends on it.
    if let Err(error) = done {
        tracing::warn!(%error, "cannot remember the account shown");
    }
}

/// The account shown last, if remembered.
pub fn remembered_active(profile_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(profile_dir.join(ACCOUNTS_DIR).join(ACTIVE_FILE)).ok()?;
    Some(text.trim().to_owned()).filter(|id| !id.is_empty())
}

/// Moves the cache of a profile from before several accounts (`cache.db`, `token` and `files/`
/// at the profile's top) into an account folder, once. Opened and closed first, so SQLite folds its
/// write-ahead log into the file; the database moves last, so a move cut short is finished at
/// the next start (the folder it went to is the first one still without a database).
pub async fn adopt_legacy(profile_dir: &Path) -> Result<()> {
    let old = profile_dir.join(DB_FILE);
    if !old.is_file() {
        return Ok(());
    }
    let cache = Cache::open(profile_dir).await.map_err(SessionError::from)?;
    cache.close().await;
    let id = (1u32..)
        .map(|n| n.to_string())
        .find(|n| !dir(profile_dir, n).join(DB_FILE).exists())
        .unwrap_or_default();
    let to = dir(profile_dir, &id);
    make_private(&to)?;
    // Its files too (outbox copies and fetched files: issue 20 came before several accounts),
    // or signing out would leave them at the profile's top, and its outbox's copies be lost.
    for name in [
        format!("{DB_FILE}-wal"),
        format!("{DB_FILE}-shm"),
        TOKEN_FILE.to_owned(),
        FILES_DIR.to_owned(),
        DB_FILE.to_owned(),
    ] {
        let from = profile_dir.join(&name);
        if from.exists() {
            std::fs::rename(&from, to.join(&name)).map_err(io(&from))?;
        }
    }
    tracing::info!(
        account = id,
        "the profile's account moved into its own folder"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_numbered_from_one_and_reused_once_removed() -> Result<()> {
        let profile = tempfile::tempdir().map_err(|e| Error::Host(e.to_string()))?;
        let p = profile.path();
        assert!(list(p).is_empty());
        assert_eq!(create(p)?, "1");
        assert_eq!(create(p)?, "2");
        // Not an account's folder: ignored.
        std::fs::create_dir_all(p.join(ACCOUNTS_DIR).join("notes")).map_err(io(p))?;
        assert_eq!(list(p), ["1", "2"]);
        remove(p, "1")?;
        remove(p, "1")?;
        assert_eq!(list(p), ["2"]);
        assert_eq!(create(p)?, "1");
        remember_active(p, Some("2"));
        assert_eq!(remembered_active(p).as_deref(), Some("2"));
        remember_active(p, None);
        assert_eq!(remembered_active(p), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir(p, "1")).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o700));
        }
        Ok(())
    }
}
