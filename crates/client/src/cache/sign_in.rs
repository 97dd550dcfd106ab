//! The saved sign-in: server URL and username in the database, the token in its own file
//! beside it, readable only by its user (mode 0600 on unix). A cache directory holds one
//! account's data at a time (the desktop gives each signed-in account a directory of its own):
//! signing out, or saving another account's sign-in, forgets the last one's rooms, messages,
//! cursors, read state, drafts and outbox, and its files (outbox copies, fetched files), so a shared computer never shows one person's DMs to
//! the next.

use std::path::Path;

use tokio::io::AsyncWriteExt;

use sqlx::{Sqlite, Transaction};

use super::{Cache, CacheError, FILES_DIR, TOKEN_FILE};

/// Every table that holds an account's data (all but `session`), children before parents.
const ACCOUNT_TABLES: [&str; 7] = [
    "outbox",
    "drafts",
    "last_room",
    "messages",
    "cursors",
    "room_members",
    "rooms",
];

/// Who this profile is signed in as, and where.
#[derive(Clone, PartialEq, Eq)]
pub struct SignIn {
    pub server_url: String,
    pub username: String,
    pub token: String,
}

// Keep the token out of every Debug print and log line.
impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("server_url", &self.server_url)
            .field("username", &self.username)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Cache {
    /// Saves the sign-in: the token file first (replaced atomically), then the row. Unless the
    /// saved sign-in is this same account (a renewed token), the cached data is another
    /// account's, or one signed out of, and is forgotten in the same transaction. Call it
    /// before the account's session starts: the session fills the cache it finds.
    pub async fn save_sign_in(&self, sign_in: &SignIn) -> Result<(), CacheError> {
        write_private(&self.dir.join(TOKEN_FILE), sign_in.token.as_bytes()).await?;
        let mut tx = self.pool.begin().await?;
        let saved: Option<(String, String)> =
            sqlx::query_as("SELECT server_url, username FROM session WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?;
        let same_account = saved.is_some_and(|(server_url, username)| {
            server_url == sign_in.server_url && username == sign_in.username
        });
        if !same_account {
            forget_account(&mut tx).await?;
        }
        sqlx::query(
            "INSERT INTO session (id, server_url, username) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url, \
             username = excluded.username",
        )
        .bind(&sign_in.server_url)
        .bind(&sign_in.username)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if !same_account {
            self.forget_files().await?;
        }
        Ok(())
    }

    /// The same account's relay answers at a new address (the relay this profile hosts took
    /// another port): the saved sign-in follows it and the account's data stays.
    pub async fn move_sign_in(&self, server_url: &str) -> Result<(), CacheError> {
        sqlx::query("UPDATE session SET server_url = ? WHERE id = 1")
            .bind(server_url)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The saved sign-in, if there is one with its token.
    pub async fn sign_in(&self) -> Result<Option<SignIn>, CacheError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT server_url, username FROM session WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        let Some((server_url, username)) = row else {
            return Ok(None);
        };
        let path = self.dir.join(TOKEN_FILE);
        let token = match tokio::fs::read_to_string(&path).await {
            Ok(token) => token,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Io { path, source }),
        };
        Ok(Some(SignIn {
            server_url,
            username,
            token: token.trim().to_owned(),
        }))
    }

    /// Signs out: forgets the sign-in (the row and the token file) and the account's data
    /// (rooms, messages, cursors, read state, drafts, outbox, its `files/`). Stop the account's
    /// session first.
    pub async fn clear_sign_in(&self) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        forget_account(&mut tx).await?;
        sqlx::query("DELETE FROM session").execute(&mut *tx).await?;
        tx.commit().await?;
        let path = self.dir.join(TOKEN_FILE);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(CacheError::Io { path, source }),
        }
        // Last: files that will not go must not keep the token (and a sign-in) alive.
        self.forget_files().await
    }

    /// Deletes the account's files (after its rows: an outbox row never names a missing copy).
    async fn forget_files(&self) -> Result<(), CacheError> {
        let path = self.dir.join(FILES_DIR);
        match tokio::fs::remove_dir_all(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CacheError::Io { path, source }),
        }
    }
}

/// Deletes every row of the account's data, inside the caller's transaction.
async fn forget_account(tx: &mut Transaction<'_, Sqlite>) -> Result<(), CacheError> {
    for table in ACCOUNT_TABLES {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a fresh temporary file created with mode 0600 (unix), then
/// renames it over `path`, so the secret is never readable by others, not even for a moment.
async fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let tmp = path.with_extension("tmp");
    let io = |source| CacheError::Io {
        path: tmp.clone(),
        source,
    };
    match tokio::fs::remove_file(&tmp).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&tmp).await.map_err(io)?;
    file.write_all(bytes).await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    drop(file);
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(|source| CacheError::Io {
            path: path.to_owned(),
            source,
        })
}
