//! Whose presence a user is shown: the users who share a room other than `general` with them,
//! and users by id, each with their `last_seen`.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{user_from_row, SqliteStore};
use crate::store::types::{Seen, StoreError};

impl SqliteStore {
    pub(super) async fn seen_users(&self, user_ids: &[String]) -> Result<Vec<Seen>, StoreError> {
        let mut seen = Vec::with_capacity(user_ids.len());
        for id in user_ids {
            let row = sqlx::query("SELECT id, username, last_seen FROM users WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.readers)
                .await?;
            if let Some(row) = row {
                seen.push(seen_from_row(&row)?);
            }
        }
        Ok(seen)
    }

    pub(super) async fn peers(&self, user_id: &str, limit: u32) -> Result<Vec<Seen>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT u.id, u.username, u.last_seen, u.username_key FROM members mine \
             JOIN members theirs ON theirs.room_id = mine.room_id AND theirs.user_id <> mine.user_id \
             JOIN users u ON u.id = theirs.user_id \
             WHERE mine.user_id = ? AND mine.room_id <> ? ORDER BY u.username_key LIMIT ?",
        )
        .bind(user_id)
        .bind(natter_protocol::GENERAL_ROOM_ID)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| seen_from_row(row).map_err(StoreError::from))
            .collect()
    }
}

fn seen_from_row(row: &SqliteRow) -> Result<Seen, sqlx::Error> {
    Ok(Seen {
        user: user_from_row(row)?,
        last_seen: row.try_get("last_seen")?,
    })
}
