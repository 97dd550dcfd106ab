//! Pages of a room's members in SQLite (`room:members`): in name order, from a cursor, never
//! every member of a big room at once.

use rusqlite::{params, Connection};

use natter_protocol::User;

use super::accounts::{user_from_row, USER_COLUMNS};
use crate::store::types::StoreError;

/// Up to this many members, a page reads the room's member rows and sorts them; above it, it
/// walks the users' name index from the cursor and keeps the members (each one a lookup in
/// the members' key), stopping at `limit`: a big room's page costs about `limit` lookups
/// however many members it has (a room this big is rarely sparse among the users).
const SORT_ROOM_MAX: u32 = 1_000;

/// The room's members (id, username, display name) whose name key is above `after`'s, at most
/// `limit`, in name-key order.
pub(super) fn members_page(
    conn: &Connection,
    room_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<User>, StoreError> {
    let size: u32 = conn
        .prepare_cached("SELECT COALESCE((SELECT members FROM room_sizes WHERE room_id = ?1), 0)")?
        .query_row([room_id], |row| row.get(0))?;
    // The key is the lower-cased username, as `accounts::insert_user` writes it.
    let after = after.map(str::to_lowercase).unwrap_or_default();
    let sql = if size <= SORT_ROOM_MAX {
        format!(
            "SELECT {USER_COLUMNS} FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.room_id = ?1 AND u.username_key > ?2 ORDER BY u.username_key LIMIT ?3"
        )
    } else {
        format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.username_key > ?2 \
             AND EXISTS (SELECT 1 FROM members m WHERE m.room_id = ?1 AND m.user_id = u.id) \
             ORDER BY u.username_key LIMIT ?3"
        )
    };
    let users = conn
        .prepare_cached(&sql)?
        .query_map(params![room_id, after, limit], |row| user_from_row(row, 0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(users)
}
