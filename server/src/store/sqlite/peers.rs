//! Whose presence a user is shown: the users who share a room other than `general` with them,
//! and users by id, each with their `last_seen`.

use natter_protocol::{User, GENERAL_ROOM_ID};
use rusqlite::{params, Connection, OptionalExtension};

use crate::store::types::Seen;

/// The users of those ids that exist, with when they were last seen, in the order asked.
pub(super) fn seen(conn: &Connection, user_ids: &[String]) -> rusqlite::Result<Vec<Seen>> {
    let mut find = conn
        .prepare_cached("SELECT id, username, last_seen, display_name FROM users WHERE id = ?1")?;
    let mut seen = Vec::with_capacity(user_ids.len());
    for id in user_ids {
        seen.extend(find.query_row([id], seen_from_row).optional()?);
    }
    Ok(seen)
}

/// Up to `limit` users who share a room other than `general` with `user_id`, in name order.
pub(super) fn peers(conn: &Connection, user_id: &str, limit: u32) -> rusqlite::Result<Vec<Seen>> {
    conn.prepare_cached(
        "SELECT DISTINCT u.id, u.username, u.last_seen, u.display_name, u.username_key FROM members mine \
         JOIN members theirs ON theirs.room_id = mine.room_id AND theirs.user_id <> mine.user_id \
         JOIN users u ON u.id = theirs.user_id \
         WHERE mine.user_id = ?1 AND mine.room_id <> ?2 ORDER BY u.username_key LIMIT ?3",
    )?
    .query_map(params![user_id, GENERAL_ROOM_ID, limit], seen_from_row)?
    .collect()
}

/// A `Seen` from the columns id, username, last_seen, display_name (in that order).
fn seen_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Seen> {
    Ok(Seen {
        user: User {
            id: row.get(0)?,
            username: row.get(1)?,
            display_name: row.get(3)?,
        },
        last_seen: row.get(2)?,
    })
}
