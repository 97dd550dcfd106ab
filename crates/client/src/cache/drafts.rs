//! What a person leaves behind in a room: the composer's unsent text, one draft per room. Account
//! data (signing out deletes it) that survives restarts of the app.

use serde::Serialize;

use super::{Cache, CacheError};

/// The unsent text of one room's composer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    pub room_id: String,
    pub body: String,
}

impl Cache {
    /// Keeps `body` as the room's draft; an empty (or blank) body removes it.
    pub async fn save_draft(&self, room_id: &str, body: &str) -> Result<(), CacheError> {
        if body.trim().is_empty() {
            sqlx::query("DELETE FROM drafts WHERE room_id = ?")
                .bind(room_id)
                .execute(&self.pool)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO drafts (room_id, body) VALUES (?, ?) \
                 ON CONFLICT (room_id) DO UPDATE SET body = excluded.body",
            )
            .bind(room_id)
            .bind(body)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Every room's draft, by room id.
    pub async fn drafts(&self) -> Result<Vec<Draft>, CacheError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT room_id, body FROM drafts ORDER BY room_id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(room_id, body)| Draft { room_id, body })
            .collect())
    }
}
