//! The SQLite side of membership with consent (migration 0004): who left a room (or was
//! removed), who made a room, who blocked whom. The rules that use them are the chat service's.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::store::types::Departure;
use crate::time::now_rfc3339;

/// Removes the member and remembers the departure, in one transaction.
pub(super) fn remove_and_remember(
    conn: &mut Connection,
    room_id: &str,
    user_id: &str,
    how: Departure,
) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let removed = tx
        .prepare_cached("DELETE FROM members WHERE room_id = ?1 AND user_id = ?2")?
        .execute([room_id, user_id])?
        == 1;
    if removed {
        tx.prepare_cached(
            "INSERT INTO departures (room_id, user_id, left_at, removed) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (room_id, user_id) \
             DO UPDATE SET left_at = excluded.left_at, removed = excluded.removed",
        )?
        .execute(params![
            room_id,
            user_id,
            now_rfc3339(),
            how == Departure::Removed
        ])?;
    }
    tx.commit()?;
    Ok(removed)
}

pub(super) fn departure(
    conn: &Connection,
    room_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<Departure>> {
    let removed: Option<bool> = conn
        .prepare_cached("SELECT removed FROM departures WHERE room_id = ?1 AND user_id = ?2")?
        .query_row([room_id, user_id], |row| row.get(0))
        .optional()?;
    Ok(removed.map(|r| {
        if r {
            Departure::Removed
        } else {
            Departure::Left
        }
    }))
}

pub(super) fn creator(conn: &Connection, room_id: &str) -> rusqlite::Result<Option<String>> {
    let creator = conn
        .prepare_cached("SELECT creator_id FROM rooms WHERE id = ?1")?
        .query_row([room_id], |row| row.get::<_, Option<String>>(0))
        .optional()?;
    Ok(creator.flatten())
}

/// True when the block is new.
pub(super) fn block(
    conn: &Connection,
    blocker_id: &str,
    blocked_id: &str,
) -> rusqlite::Result<bool> {
    let added = conn
        .prepare_cached(
            "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
        )?
        .execute([blocker_id, blocked_id, now_rfc3339().as_str()])?;
    Ok(added == 1)
}

pub(super) fn unblock(
    conn: &Connection,
    blocker_id: &str,
    blocked_id: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")?
        .execute([blocker_id, blocked_id])?;
    Ok(())
}

/// The usernames `blocker_id` blocked, in name order.
pub(super) fn blocked_by(conn: &Connection, blocker_id: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT u.username FROM blocks b JOIN users u ON u.id = b.blocked_id \
         WHERE b.blocker_id = ?1 ORDER BY u.username_key",
    )?
    .query_map([blocker_id], |row| row.get(0))?
    .collect()
}

pub(super) fn has_blocked(
    conn: &Connection,
    blocker_id: &str,
    blocked_id: &str,
) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")?
        .exists([blocker_id, blocked_id])
}
