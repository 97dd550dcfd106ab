//! Rooms and their members as this user last saw them, and the read state: ours (`read_seq`) and
//! how far the others have read (`others_read_seq`).

use std::collections::HashMap;

use natter_protocol::model::Seq;
use natter_protocol::{Room, RoomKind};
use sqlx::Row;

use super::{Cache, CacheError};

impl Cache {
    /// Inserts or replaces one room (members included), as a `room` event or a list says it is.
    /// `last_seq` and the read positions never move backwards here: the cache may know more than a
    /// stale copy.
    pub async fn upsert_room(&self, room: &Room) -> Result<(), CacheError> {
        self.upsert_rooms(std::slice::from_ref(room)).await
    }

    /// [`upsert_room`](Self::upsert_room) for many rooms in one transaction.
    pub async fn upsert_rooms(&self, rooms: &[Room]) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        for room in rooms {
            sqlx::query(
                "INSERT INTO rooms (id, name, kind, last_seq, read_seq, others_read_seq) \
                 VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                 last_seq = MAX(last_seq, excluded.last_seq), \
                 read_seq = MAX(read_seq, excluded.read_seq), \
                 others_read_seq = MAX(others_read_seq, excluded.others_read_seq)",
            )
            .bind(&room.id)
            .bind(&room.name)
            .bind(room.kind.as_str())
            .bind(room.last_seq)
            .bind(room.read_seq)
            .bind(room.others_read_seq)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM room_members WHERE room_id = ?")
                .bind(&room.id)
                .execute(&mut *tx)
                .await?;
            for (position, username) in room.members.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO room_members (room_id, position, username) VALUES (?, ?, ?)",
                )
                .bind(&room.id)
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .bind(username)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the whole room list (a `rooms:list` or `sync` answer): rooms not in `rooms` are
    /// forgotten (left, or left from another device), with their messages; their ids returned.
    pub async fn replace_rooms(&self, rooms: &[Room]) -> Result<Vec<String>, CacheError> {
        self.upsert_rooms(rooms).await?;
        let keep: Vec<&str> = rooms.iter().map(|r| r.id.as_str()).collect();
        let mut gone = Vec::new();
        for room in self.rooms().await? {
            if !keep.contains(&room.id.as_str()) {
                self.remove_room(&room.id).await?;
                gone.push(room.id);
            }
        }
        Ok(gone)
    }

    /// Forgets a room, its members, messages, cursor and draft.
    pub async fn remove_room(&self, room_id: &str) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM rooms WHERE id = ?")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM messages WHERE room_id = ?")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        for table in ["cursors", "drafts"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE room_id = ?"))
                .bind(room_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every cached room, by name then id.
    pub async fn rooms(&self) -> Result<Vec<Room>, CacheError> {
        let rows = sqlx::query(
            "SELECT id, name, kind, last_seq, read_seq, others_read_seq FROM rooms \
             ORDER BY name COLLATE NOCASE, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let members: Vec<(String, String)> =
            sqlx::query_as("SELECT room_id, username FROM room_members ORDER BY room_id, position")
                .fetch_all(&self.pool)
                .await?;
        let mut by_room: HashMap<String, Vec<String>> = HashMap::new();
        for (room_id, username) in members {
            by_room.entry(room_id).or_default().push(username);
        }
        let mut rooms = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id")?;
            let kind: String = row.try_get("kind")?;
            let kind = RoomKind::parse(&kind)
                .ok_or_else(|| CacheError::Corrupt(format!("room {id} has kind {kind:?}")))?;
            rooms.push(Room {
                name: row.try_get("name")?,
                kind,
                members: by_room.remove(&id).unwrap_or_default(),
                last_seq: row.try_get("last_seq")?,
                read_seq: row.try_get("read_seq")?,
                others_read_seq: row.try_get("others_read_seq")?,
                id,
            });
        }
        Ok(rooms)
    }

    /// One cached room.
    pub async fn room(&self, room_id: &str) -> Result<Option<Room>, CacheError> {
        Ok(self.rooms().await?.into_iter().find(|r| r.id == room_id))
    }

    /// Moves this user's read position forward (never back), clamped to the room's `last_seq`.
    /// Returns the position now held, or `None` for an unknown room.
    pub async fn mark_read(&self, room_id: &str, seq: Seq) -> Result<Option<Seq>, CacheError> {
        let held = sqlx::query_scalar(
            "UPDATE rooms SET read_seq = MAX(read_seq, MIN(?, last_seq)) WHERE id = ? \
             RETURNING read_seq",
        )
        .bind(seq)
        .bind(room_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(held)
    }

    /// Another member read up to `seq` (a `receipt`): "read" on our messages up to there.
    pub async fn others_read(&self, room_id: &str, seq: Seq) -> Result<(), CacheError> {
        sqlx::query("UPDATE rooms SET others_read_seq = MAX(others_read_seq, ?) WHERE id = ?")
            .bind(seq)
            .bind(room_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
