//! Rooms and their members as this user last saw them, and the read state: ours (`read_seq`),
//! how far the others have read (`others_read_seq`) and how many messages from others we have
//! not read (`unread`: the relay's count, plus what the cache holds above it; migration 0006).

use std::collections::HashMap;

use natter_protocol::model::Seq;
use natter_protocol::{Room, RoomKind};
use sqlx::Row;

use super::{Cache, CacheError};

/// A message `m` that is news to this account: not a change entry, not its own (usernames are
/// unique ignoring case). With no saved sign-in, every message counts.
const NEWS: &str = "m.target_id IS NULL AND m.sender <> \
     COALESCE((SELECT username FROM session WHERE id = 1), '') COLLATE NOCASE";

/// Room `r`'s unread count: the relay's, plus the news held above the seq it counted to.
fn unread_column() -> String {
    format!(
        "r.unread + (SELECT COUNT(*) FROM messages m WHERE m.room_id = r.id \
         AND m.seq > MAX(r.unread_seq, r.read_seq) AND {NEWS})"
    )
}

impl Cache {
    /// Inserts or replaces one room (members included), as a `room` event or a list says it is.
    /// A big room comes with its count and no names (the relay lists them only up to
    /// `MEMBERS_INLINE_MAX`): both are kept as they came, the count as `Room::member_total`.
    /// `last_seq` and the read positions never move backwards here: the cache may know more than a
    /// stale copy.
    pub async fn upsert_room(&self, room: &Room) -> Result<(), CacheError> {
        self.upsert_rooms(std::slice::from_ref(room)).await
    }

    /// [`upsert_room`](Self::upsert_room) for many rooms in one transaction.
    pub async fn upsert_rooms(&self, rooms: &[Room]) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        for room in rooms {
            // The relay counted up to its `last_seq`: a staler copy than the one held keeps the
            // held count; reads made here that the relay has not heard yet are taken off it. A
            // relay without counts (before `unread`) counts every seq past the read position.
            let unread = room
                .unread
                .unwrap_or_else(|| u32::try_from(room.last_seq - room.read_seq).unwrap_or(0));
            sqlx::query(&format!(
                "INSERT INTO rooms (id, name, kind, last_seq, read_seq, others_read_seq, unread, \
                 unread_seq, member_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?4, ?8) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                 member_count = excluded.member_count, \
                 last_seq = MAX(last_seq, excluded.last_seq), \
                 read_seq = MAX(read_seq, excluded.read_seq), \
                 others_read_seq = MAX(others_read_seq, excluded.others_read_seq), \
                 unread = CASE WHEN excluded.unread_seq < rooms.unread_seq THEN rooms.unread \
                   WHEN rooms.read_seq >= excluded.unread_seq THEN 0 \
                   ELSE MAX(0, excluded.unread - (SELECT COUNT(*) FROM messages m \
                     WHERE m.room_id = rooms.id AND m.seq > excluded.read_seq \
                     AND m.seq <= rooms.read_seq AND {NEWS})) END, \
                 unread_seq = MAX(unread_seq, excluded.unread_seq)"
            ))
            .bind(&room.id)
            .bind(&room.name)
            .bind(room.kind.as_str())
            .bind(room.last_seq)
            .bind(room.read_seq)
            .bind(room.others_read_seq)
            .bind(unread)
            .bind(room.member_total())
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

    /// Every cached room, by name then id, with its unread count: the relay's (as of the seq it
    /// counted to, less what was read here since) plus the messages from others held above that
    /// seq and past the read position.
    pub async fn rooms(&self) -> Result<Vec<Room>, CacheError> {
        let rows = sqlx::query(&format!(
            "SELECT id, name, kind, last_seq, read_seq, others_read_seq, member_count, {} AS unread \
             FROM rooms r ORDER BY name COLLATE NOCASE, id",
            unread_column()
        ))
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
                member_count: row.try_get("member_count")?,
                last_seq: row.try_get("last_seq")?,
                read_seq: row.try_get("read_seq")?,
                others_read_seq: row.try_get("others_read_seq")?,
                unread: Some(row.try_get("unread")?),
                id,
            });
        }
        Ok(rooms)
    }

    /// One cached room.
    pub async fn room(&self, room_id: &str) -> Result<Option<Room>, CacheError> {
        Ok(self.rooms().await?.into_iter().find(|r| r.id == room_id))
    }

    /// Moves this user's read position forward (never back), clamped to the room's `last_seq`,
    /// taking the news it passes off the relay's count. Returns the position now held, or
    /// `None` for an unknown room.
    pub async fn mark_read(&self, room_id: &str, seq: Seq) -> Result<Option<Seq>, CacheError> {
        let held = sqlx::query_scalar(&format!(
            "UPDATE rooms SET read_seq = MAX(read_seq, MIN(?1, last_seq)), \
             unread = CASE WHEN MAX(read_seq, MIN(?1, last_seq)) >= unread_seq THEN 0 \
               ELSE MAX(0, unread - (SELECT COUNT(*) FROM messages m \
                 WHERE m.room_id = rooms.id AND m.seq > rooms.read_seq \
                 AND m.seq <= MIN(?1, rooms.last_seq) AND {NEWS})) END \
             WHERE id = ?2 RETURNING read_seq"
        ))
        .bind(seq)
        .bind(room_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(held)
    }

    /// A room's unread count (see [`rooms`](Self::rooms)), or `None` for an unknown room.
    pub async fn unread(&self, room_id: &str) -> Result<Option<u32>, CacheError> {
        let count = sqlx::query_scalar(&format!(
            "SELECT {} FROM rooms r WHERE r.id = ?",
            unread_column()
        ))
        .bind(room_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(count)
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
