//! The PostgreSQL side of membership with consent: who left a room (or was removed), who made
//! a room, who blocked whom. The rules that use them are the chat service's.

use sqlx::{PgConnection, PgPool};

use crate::store::types::Departure;
use crate::time::now_rfc3339;

/// Removes the member and remembers the departure, in one transaction.
pub(super) async fn remove_and_remember(
    pool: &PgPool,
    room_id: &str,
    user_id: &str,
    how: Departure,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let removed = sqlx::query("DELETE FROM members WHERE room_id = $1 AND user_id = $2")
        .bind(room_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if removed {
        sqlx::query(
            "INSERT INTO departures (room_id, user_id, left_at, removed) VALUES ($1, $2, $3, $4) \
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
    Ok(removed)
}

pub(super) async fn departure(
    conn: &mut PgConnection,
    room_id: &str,
    user_id: &str,
) -> Result<Option<Departure>, sqlx::Error> {
    let removed: Option<bool> =
        sqlx::query_scalar("SELECT removed FROM departures WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(removed.map(|r| {
        if r {
            Departure::Removed
        } else {
            Departure::Left
        }
    }))
}

pub(super) async fn creator(
    conn: &mut PgConnection,
    room_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let creator: Option<Option<String>> =
        sqlx::query_scalar("SELECT creator_id FROM rooms WHERE id = $1")
            .bind(room_id)
            .fetch_optional(conn)
            .await?;
    Ok(creator.flatten())
}

/// True when the block is new.
pub(super) async fn block(
    conn: &mut PgConnection,
    blocker_id: &str,
    blocked_id: &str,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query(
        "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
    )
    .bind(blocker_id)
    .bind(blocked_id)
    .bind(now_rfc3339())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(added == 1)
}

pub(super) async fn unblock(
    conn: &mut PgConnection,
    blocker_id: &str,
    blocked_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
        .bind(blocker_id)
        .bind(blocked_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The usernames `blocker_id` blocked, in name order.
pub(super) async fn blocked_by(
    conn: &mut PgConnection,
    blocker_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT u.username FROM blocks b JOIN users u ON u.id = b.blocked_id \
         WHERE b.blocker_id = $1 ORDER BY u.username_key",
    )
    .bind(blocker_id)
    .fetch_all(conn)
    .await
}

pub(super) async fn has_blocked(
    conn: &mut PgConnection,
    blocker_id: &str,
    blocked_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2)",
    )
    .bind(blocker_id)
    .bind(blocked_id)
    .fetch_one(conn)
    .await
}
