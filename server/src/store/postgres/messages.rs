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
    page(conn, room_id, Rows::Before(before), true, limit).await
}

/// Up to `limit` messages with seq > `after`, oldest first, with their reactions and files.
pub(super) async fn messages_after(
    conn: &mut PgConnection,
    room_id: &str,
    after: Seq,
    limit: u32,
) -> Result<Vec<Message>, sqlx::Error> {
    page(conn, room_id, Rows::After(after), true, limit).await
}

/// Up to `limit` messages of a room, change entries left out, oldest first, each as it is now.
pub(super) async fn messages_page(
    conn: &mut PgConnection,
    room_id: &str,
    from: PageFrom,
    limit: u32,
) -> Result<Vec<Message>, sqlx::Error> {
    let rows = match from {
        PageFrom::Before(before) => Rows::Before(before.unwrap_or(Seq::MAX)),
        PageFrom::After(after) => Rows::After(after),
    };
    page(conn, room_id, rows, false, limit).await
}

/// Which side of a seq a page is read from.
enum Rows {
    Before(Seq),
    After(Seq),
}

/// The one reader of a page: `limit` rows next to the bound, change entries too if `entries`,
/// oldest first, with their reactions and files.
async fn page(
    conn: &mut PgConnection,
    room_id: &str,
    rows: Rows,
    entries: bool,
    limit: u32,
) -> Result<Vec<Message>, sqlx::Error> {
    let (bound, order) = match rows {
        Rows::Before(before) => (before, "m.seq < $2 ORDER BY m.seq DESC"),
        Rows::After(after) => (after, "m.seq > $2 ORDER BY m.seq ASC"),
    };
    let only_messages = if entries {
        ""
    } else {
        "m.change_kind IS NULL AND "
    };
    let found = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
         WHERE r.id = $1 AND {only_messages}{order} LIMIT $3"
    ))
    .bind(room_id)
    .bind(bound)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut messages = found
        .iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    if matches!(rows, Rows::Before(_)) {
        messages.reverse();
    }
    reactions::attach(&mut *conn, &mut messages).await?;
    files::attach(conn, &mut messages).await?;
    Ok(messages)
}
