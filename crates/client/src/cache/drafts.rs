//! What a person leaves behind: the composer's unsent text, one draft per room, and the room open
//! last (opened again at the next start). Account data (signing out deletes it) that survives
//! restarts of the app.

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

    /// Remembers the room open now, to open it again at the next start.
    pub async fn save_last_room(&self, room_id: &str) -> Result<(), CacheError> {
        sqlx::query(
            "INSERT INTO last_room (id, room_id) VALUES (1, ?) \
             ON CONFLICT (id) DO UPDATE SET room_id = excluded.room_id",
        )
        .bind(room_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The room open last, if one was.
    pub async fn last_room(&self) -> Result<Option<String>, CacheError> {
        Ok(
            sqlx::query_scalar("SELECT room_id FROM last_room WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
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
