//! What the SQLite backend's code shares: its connections' settings (opened once here), the
//! message row (its columns, read once here), id making, rusqlite's errors as the store's.

use std::path::Path;
use std::time::Duration;

use natter_protocol::Message;
use rusqlite::Connection;

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
/// [`MESSAGES_WITH_ROOM`].
pub(super) const MESSAGE_COLUMNS: &str =
    "m.id AS id, r.id AS room_id, m.seq AS seq, m.sender AS sender, m.body AS body, \
     m.client_id AS client_id, m.sent_at AS sent_at";
/// Messages name their room by its number (migration 0003); readers want its id.
pub(super) const MESSAGES_WITH_ROOM: &str = "messages m JOIN rooms r ON r.num = m.room_num";

/// Time-ordered ids (UUID v7): new rows land at the end of the primary-key index instead of
/// dirtying a random page.
pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The one reader of a message row (see [`MESSAGE_COLUMNS`]).
pub(super) fn message_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: row.get(0)?,
        room_id: row.get(1)?,
        seq: row.get(2)?,
        sender: row.get(3)?,
        body: row.get(4)?,
        client_id: row.get(5)?,
        sent_at: row.get(6)?,
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
