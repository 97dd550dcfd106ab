//! Whose presence a user is shown, from PostgreSQL: the users who share a room other than
//! `general` with them, and users by id, each with their `last_seen`.

use natter_protocol::{User, GENERAL_ROOM_ID};
use sqlx::PgConnection;

use crate::store::types::Seen;

/// A user's id, username, last_seen and display name, in that order.
type SeenRow = (String, String, Option<String>, String);

fn seen_from_row((id, username, last_seen, display_name): SeenRow) -> Seen {
    Seen {
        user: User {
            id,
            username,
            display_name,
        },
        last_seen,
    }
}

/// The users of those ids that exist, with when they were last seen, in the order asked.
pub(super) async fn seen(
    conn: &mut PgConnection,
    user_ids: &[String],
) -> Result<Vec<Seen>, sqlx::Error> {
    let mut found: Vec<SeenRow> = sqlx::query_as(
        "SELECT id, username, last_seen, display_name FROM users WHERE id = ANY($1)",
    )
    .bind(user_ids)
    .fetch_all(conn)
    .await?;
    let mut seen = Vec::with_capacity(found.len());
    for id in user_ids {
        if let Some(at) = found.iter().position(|(found, ..)| found == id) {
            seen.push(seen_from_row(found.swap_remove(at)));
        }
    }
    Ok(seen)
}

/// Up to `limit` users who share a room other than `general` with `user_id`, in name order.
pub(super) async fn peers(
    conn: &mut PgConnection,
    user_id: &str,
    limit: u32,
) -> Result<Vec<Seen>, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>, String, String)> = sqlx::query_as(
        "SELECT DISTINCT u.id, u.username, u.last_seen, u.display_name, u.username_key \
         FROM members mine \
         JOIN members theirs ON theirs.room_id = mine.room_id AND theirs.user_id <> mine.user_id \
         JOIN users u ON u.id = theirs.user_id \
         WHERE mine.user_id = $1 AND mine.room_id <> $2 ORDER BY u.username_key LIMIT $3",
    )
    .bind(user_id)
    .bind(GENERAL_ROOM_ID)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, username, last_seen, display_name, _)| {
            seen_from_row((id, username, last_seen, display_name))
        })
        .collect())
}
