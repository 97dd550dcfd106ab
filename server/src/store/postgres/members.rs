//! Pages of a room's members in PostgreSQL (`room:members`), as SQLite's `members.rs`: in
//! name order, from a cursor, never every member of a big room at once.

use natter_protocol::User;
use sqlx::PgConnection;

use super::accounts::{user_from_row, USER_COLUMNS};
use crate::store::types::StoreError;

/// Up to this many members, a page reads the room's member rows and sorts them; above it, it
/// walks the users' name index from the cursor and keeps the members, stopping at `limit`.
const SORT_ROOM_MAX: i64 = 1_000;

/// The room's members whose name key is above `after`'s, at most `limit`, in name-key order.
pub(super) async fn members_page(
    conn: &mut PgConnection,
    room_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<User>, StoreError> {
    let size: i64 = sqlx::query_scalar(
        "SELECT COALESCE((SELECT members FROM room_sizes WHERE room_id = $1), 0)",
    )
    .bind(room_id)
    .fetch_one(&mut *conn)
    .await?;
    // The key is the lower-cased username, as `accounts` writes it.
    let after = after.map(str::to_lowercase).unwrap_or_default();
    let sql = if size <= SORT_ROOM_MAX {
        format!(
            "SELECT {USER_COLUMNS} FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.room_id = $1 AND u.username_key > $2 ORDER BY u.username_key LIMIT $3"
        )
    } else {
        format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.username_key > $2 \
             AND EXISTS (SELECT 1 FROM members m WHERE m.room_id = $1 AND m.user_id = u.id) \
             ORDER BY u.username_key LIMIT $3"
        )
    };
    let rows = sqlx::query(&sql)
        .bind(room_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
    let users = rows
        .iter()
        .map(|row| user_from_row(row, 0))
        .collect::<Result<_, _>>()?;
    Ok(users)
}
