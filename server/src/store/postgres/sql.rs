//! The message row as the PostgreSQL backend reads it: its columns (selected once here) and
//! the one function that makes a `Message` of them.

use natter_protocol::limits::REPLY_EXCERPT_CHARS;
use natter_protocol::{Message, ReplyPreview};
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::store::rows::{change_from_columns, fallback_body, mentions_from_column};

/// A message row's columns, in the order [`message_from_row`] reads them; select them `FROM`
/// [`MESSAGES_WITH_ROOM`]. A change entry's target and a reply's target come from the same
/// room by seq (`t`, `p`); a reply shows its target's first characters as they are now.
pub(super) const MESSAGE_COLUMNS: &str =
    "m.id, r.id, m.seq, m.sender, m.body, m.client_id, m.sent_at, m.change_kind, t.id, m.emoji, \
     m.reaction_on, p.id, p.sender, substr(p.body, 1, 100), p.deleted, m.edited_at, m.deleted, \
     m.mentions, p.seq";
/// Messages name their room by its number; readers want its id.
pub(super) const MESSAGES_WITH_ROOM: &str = "messages m JOIN rooms r ON r.num = m.room_num \
     LEFT JOIN messages t ON t.room_num = m.room_num AND t.seq = m.target_seq \
     LEFT JOIN messages p ON p.room_num = m.room_num AND p.seq = m.reply_seq";

/// How many columns [`MESSAGE_COLUMNS`] selects: a query selecting more after them reads
/// those from this index on.
pub(super) const MESSAGE_COLUMN_COUNT: usize = 19;

// The excerpt's length in the SQL above.
const _: () = assert!(REPLY_EXCERPT_CHARS == 100);

/// The one reader of a message row (see [`MESSAGE_COLUMNS`]). Reactions and files are not in
/// the row: [`super::reactions`] and [`super::files`] add them to a page.
pub(super) fn message_from_row(row: &PgRow) -> Result<Message, sqlx::Error> {
    let body: String = row.try_get(4)?;
    let change = change_from_columns(
        row.try_get(7)?,
        row.try_get(8)?,
        &body,
        row.try_get(9)?,
        row.try_get(10)?,
    );
    let reply_to = match row.try_get::<Option<String>, _>(11)? {
        None => None,
        Some(id) => Some(Box::new(ReplyPreview {
            id,
            seq: row.try_get(18)?,
            sender: row.try_get(12)?,
            excerpt: row.try_get(13)?,
            deleted: row.try_get::<Option<bool>, _>(14)?.unwrap_or(false),
        })),
    };
    Ok(Message {
        id: row.try_get(0)?,
        room_id: row.try_get(1)?,
        seq: row.try_get(2)?,
        sender: row.try_get(3)?,
        body: change.as_ref().map_or(body, fallback_body),
        change: change.map(Box::new),
        client_id: row.try_get(5)?,
        sent_at: row.try_get(6)?,
        reply_to,
        edited_at: row.try_get(15)?,
        deleted: row.try_get(16)?,
        reactions: Vec::new(),
        mentions: mentions_from_column(row.try_get(17)?),
        // Not in the row: `files.rs` adds them to a page.
        attachments: Vec::new(),
    })
}
