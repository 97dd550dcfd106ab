//! Message pages read from PostgreSQL: history (before a seq) and catch-up (after one).
//! Messages are written only by the commit stage (`commit.rs`); their row is read in
//! `sql.rs`, their reactions added from `reactions.rs`, their files from `files.rs`.

use natter_protocol::model::Seq;
use natter_protocol::Message;
use sqlx::PgConnection;

use super::sql::{message_from_row, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS};
use super::{files, reactions};
use crate::store::types::PageFrom;

/// Up to `limit` messages with seq < `before`, oldest first, with their reactions and files.
pub(super) async fn history(
    conn: &mut PgConnection,
    room_id: &str,
    before: Seq,
    limit: u32,
) -> Result<Vec<Message>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
         WHERE r.id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
    ))
    .bind(room_id)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut messages = rows
        .iter()
        .rev()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    reactions::attach(&mut *conn, &mut messages).await?;
    files::attach(conn, &mut messages).await?;
    Ok(messages)
}

/// Up to `limit` messages with seq > `after`, oldest first, with their reactions and files.
pub(super) async fn messages_after(
    conn: &mut PgConnection,
    room_id: &str,
    after: Seq,
    limit: u32,
) -> Result<Vec<Message>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
         WHERE r.id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3"
    ))
    .bind(room_id)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut messages = rows
        .iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    reactions::attach(&mut *conn, &mut messages).await?;
    files::attach(conn, &mut messages).await?;
    Ok(messages)
}

/// Up to `limit` messages of a room, change entries left out, oldest first, each as it is now.
pub(super) async fn messages_page(
    conn: &mut PgConnection,
    room_id: &str,
    from: PageFrom,
    limit: u32,
) -> Result<Vec<Message>, sqlx::Error> {
    let (bound, order) = match from {
        PageFrom::Before(before) => (before.unwrap_or(Seq::MAX), "m.seq < $2 ORDER BY m.seq DESC"),
        PageFrom::After(after) => (after, "m.seq > $2 ORDER BY m.seq ASC"),
    };
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
         WHERE r.id = $1 AND m.change_kind IS NULL AND {order} LIMIT $3"
    ))
    .bind(room_id)
    .bind(bound)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut messages = rows
        .iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    if matches!(from, PageFrom::Before(_)) {
        messages.reverse();
    }
    reactions::attach(&mut *conn, &mut messages).await?;
    files::attach(conn, &mut messages).await?;
    Ok(messages)
}
