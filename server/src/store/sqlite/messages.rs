//! Message pages read from SQLite: history (before a seq), catch-up (after one) and pages of
//! messages alone (change entries left out, for a client showing the room). Messages
//! are written only by the commit stage (`commit.rs`); their row is read in `sql.rs`, their
//! reactions added from `reactions.rs`, their files from `files.rs`.

use natter_protocol::model::Seq;
use natter_protocol::Message;
use rusqlite::{params, Connection};

use super::sql::{message_from_row, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS};
use super::{files, reactions};
use crate::store::types::PageFrom;

/// Up to `limit` messages with seq < `before`, oldest first.
pub(super) fn history(
    conn: &Connection,
    room_id: &str,
    before: Seq,
    limit: u32,
) -> rusqlite::Result<Vec<Message>> {
    let mut messages = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
             WHERE r.id = ?1 AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3"
        ))?
        .query_map(params![room_id, before, limit], message_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    messages.reverse();
    reactions::attach(conn, &mut messages)?;
    files::attach(conn, &mut messages)?;
    Ok(messages)
}

/// Up to `limit` messages with seq > `after`, oldest first.
pub(super) fn messages_after(
    conn: &Connection,
    room_id: &str,
    after: Seq,
    limit: u32,
) -> rusqlite::Result<Vec<Message>> {
    let mut messages = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
             WHERE r.id = ?1 AND m.seq > ?2 ORDER BY m.seq ASC LIMIT ?3"
        ))?
        .query_map(params![room_id, after, limit], message_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    reactions::attach(conn, &mut messages)?;
    files::attach(conn, &mut messages)?;
    Ok(messages)
}

/// Up to `limit` messages (no change entries) from `from`, oldest first.
pub(super) fn messages_page(
    conn: &Connection,
    room_id: &str,
    from: PageFrom,
    limit: u32,
) -> rusqlite::Result<Vec<Message>> {
    let (bound, order) = match from {
        PageFrom::Before(before) => (before.unwrap_or(Seq::MAX), "m.seq < ?2 ORDER BY m.seq DESC"),
        PageFrom::After(after) => (after, "m.seq > ?2 ORDER BY m.seq ASC"),
    };
    let mut messages = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
             WHERE r.id = ?1 AND m.change_kind IS NULL AND {order} LIMIT ?3"
        ))?
        .query_map(params![room_id, bound, limit], message_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if matches!(from, PageFrom::Before(_)) {
        messages.reverse();
    }
    reactions::attach(conn, &mut messages)?;
    files::attach(conn, &mut messages)?;
    Ok(messages)
}
