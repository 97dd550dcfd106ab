//! The SQLite side of membership with consent (migration 0004): who left a room (or was
//! removed), who made a room, who blocked whom. The rules that use them are the chat service's.

use sqlx::Connection;

use super::{SqliteStore, TxConn, BEGIN_WRITE};
use crate::store::types::{Departure, StoreError};
use crate::time::now_rfc3339;

impl SqliteStore {
    /// Removes the member and remembers the departure, in one transaction.
    pub(super) async fn remove_and_remember(
        &self,
        room_id: &str,
        user_id: &str,
        how: Departure,
    ) -> Result<bool, StoreError> {
        let mut conn = TxConn::acquire(&self.writer).await?;
        let mut tx = conn.begin_with(BEGIN_WRITE).await?;
        let done = sqlx::query("DELETE FROM members WHERE room_id = ? AND user_id = ?")
            .bind(room_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let removed = done.rows_affected() == 1;
        if removed {
            sqlx::query(
                "INSERT INTO departures (room_id, user_id, left_at, removed) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (room_id, user_id) \
                 DO UPDATE SET left_at = excluded.left_at, removed = excluded.removed",
            )
            .bind(room_id)
            .bind(user_id)
            .bind(now_rfc3339())
            .bind(how == Departure::Removed)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        conn.keep();
        Ok(removed)
    }

    pub(super) async fn departed(
        &self,
        room_id: &str,
        user_id: &str,
    ) -> Result<Option<Departure>, StoreError> {
        let removed: Option<bool> =
            sqlx::query_scalar("SELECT removed FROM departures WHERE room_id = ? AND user_id = ?")
                .bind(room_id)
                .bind(user_id)
                .fetch_optional(&self.readers)
                .await?;
        Ok(removed.map(|r| {
            if r {
                Departure::Removed
            } else {
                Departure::Left
            }
        }))
    }

    pub(super) async fn creator(&self, room_id: &str) -> Result<Option<String>, StoreError> {
        let creator: Option<Option<String>> =
            sqlx::query_scalar("SELECT creator_id FROM rooms WHERE id = ?")
                .bind(room_id)
                .fetch_optional(&self.readers)
                .await?;
        Ok(creator.flatten())
    }

    pub(super) async fn insert_block(
        &self,
        blocker_id: &str,
        blocked_id: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let done = sqlx::query(
            "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
        )
        .bind(blocker_id)
        .bind(blocked_id)
        .bind(now_rfc3339())
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn delete_block(
        &self,
        blocker_id: &str,
        blocked_id: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        sqlx::query("DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?")
            .bind(blocker_id)
            .bind(blocked_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub(super) async fn block_list(&self, blocker_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT u.username FROM blocks b JOIN users u ON u.id = b.blocked_id \
             WHERE b.blocker_id = ? ORDER BY u.username_key",
        )
        .bind(blocker_id)
        .fetch_all(&self.readers)
        .await?)
    }

    pub(super) async fn is_blocked(
        &self,
        blocker_id: &str,
        blocked_id: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?")
            .bind(blocker_id)
            .bind(blocked_id)
            .fetch_optional(&self.readers)
            .await?;
        Ok(row.is_some())
    }
}
