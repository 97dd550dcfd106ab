//! The saved sign-in: server URL and username in the database, the token in its own file
//! beside it, readable only by its user (mode 0600 on unix).

use std::path::Path;

use tokio::io::AsyncWriteExt;

use super::{Cache, CacheError, TOKEN_FILE};

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
    /// Saves the sign-in: the token file first (replaced atomically), then the row.
    pub async fn save_sign_in(&self, sign_in: &SignIn) -> Result<(), CacheError> {
        write_private(&self.dir.join(TOKEN_FILE), sign_in.token.as_bytes()).await?;
        sqlx::query(
            "INSERT INTO session (id, server_url, username) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url, \
             username = excluded.username",
        )
        .bind(&sign_in.server_url)
        .bind(&sign_in.username)
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

    /// Forgets the sign-in (logout): the row and the token file.
    pub async fn clear_sign_in(&self) -> Result<(), CacheError> {
        sqlx::query("DELETE FROM session")
            .execute(&self.pool)
            .await?;
        let path = self.dir.join(TOKEN_FILE);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CacheError::Io { path, source }),
        }
    }
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
