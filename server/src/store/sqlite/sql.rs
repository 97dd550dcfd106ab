//! What the SQLite backend's code shares: its connections' settings (opened once here), the
//! message row (its columns, read once here), rusqlite's errors as the store's.

use std::path::Path;
use std::time::Duration;

use natter_protocol::limits::REPLY_EXCERPT_CHARS;
use natter_protocol::{Message, ReplyPreview};
use rusqlite::Connection;

use crate::store::rows::{change_from_columns, fallback_body, mentions_from_column};
use crate::store::types::StoreError;

/// WAL pages after which a commit also checkpoints (SQLite's default is 1,000). A checkpoint
/// copies each page changed since the last one once, and sends keep changing the same index
/// pages, so checkpointing a tenth as often copies far fewer pages per message: durable sends
/// went from 16k/s to 19k/s. The cost is a WAL file of up to about 40 MiB.
pub(super) const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// Prepared statements a connection keeps (rusqlite keeps 16): each of ours runs some twenty
/// distinct ones, and one pushed out is prepared again at its next use.
const STATEMENT_CACHE: usize = 64;

/// A connection that writes (the creating one makes the file): WAL, and a commit survives
/// power loss.
pub(super) fn open_writer(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    // A deleted message's text must leave the files, not only the rows: freed space is zeroed.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn)
}

/// A connection that only reads (the schema must exist: migrations ran).
pub(super) fn open_reader(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

/// A message row's columns, in the order [`message_from_row`] reads them; select them `FROM`
/// [`MESSAGES_WITH_ROOM`]. A change entry's target and a reply's target come from the same
/// room by seq (`t`, `p`); a reply shows its target's first characters as they are now.
pub(super) const MESSAGE_COLUMNS: &str =
    "m.id AS id, r.id AS room_id, m.seq AS seq, m.sender AS sender, m.body AS body, \
     m.client_id AS client_id, m.sent_at AS sent_at, m.change_kind, t.id, m.emoji, \
     m.reaction_on, p.id, p.sender, substr(p.body, 1, 100), p.deleted, m.edited_at, m.deleted, \
     m.mentions, p.seq";
/// Messages name their room by its number (migration 0003); readers want its id.
pub(super) const MESSAGES_WITH_ROOM: &str = "messages m JOIN rooms r ON r.num = m.room_num \
     LEFT JOIN messages t ON t.room_num = m.room_num AND t.seq = m.target_seq \
     LEFT JOIN messages p ON p.room_num = m.room_num AND p.seq = m.reply_seq";

/// How many columns [`MESSAGE_COLUMNS`] selects: a query selecting more after them reads
/// those from this index on.
pub(super) const MESSAGE_COLUMN_COUNT: usize = 19;

// The excerpt's length in the SQL above.
const _: () = assert!(REPLY_EXCERPT_CHARS == 100);

/// The one reader of a message row (see [`MESSAGE_COLUMNS`]). Reactions are not in the row:
/// [`super::reactions`] adds them to a page.
pub(super) fn message_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    let body: String = row.get(4)?;
    let change = change_from_columns(row.get(7)?, row.get(8)?, &body, row.get(9)?, row.get(10)?);
    let reply_to = match row.get::<_, Option<String>>(11)? {
        None => None,
        Some(id) => Some(Box::new(ReplyPreview {
            id,
            seq: row.get(18)?,
            sender: row.get(12)?,
            excerpt: row.get(13)?,
            deleted: row.get::<_, Option<bool>>(14)?.unwrap_or(false),
        })),
    };
    Ok(Message {
        id: row.get(0)?,
        room_id: row.get(1)?,
        seq: row.get(2)?,
        sender: row.get(3)?,
        body: change.as_ref().map_or(body, fallback_body),
        change: change.map(Box::new),
        client_id: row.get(5)?,
        sent_at: row.get(6)?,
        reply_to,
        edited_at: row.get(15)?,
        deleted: row.get(16)?,
        reactions: Vec::new(),
        mentions: mentions_from_column(row.get(17)?),
        // Not in the row: `files.rs` adds them to a page.
        attachments: Vec::new(),
    })
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

/// A UNIQUE or PRIMARY KEY constraint refused the write.
pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}
