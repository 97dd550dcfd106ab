//! What the SQLite backend's connections share: the message row's columns, id making, the
//! checkpoint setting.

/// WAL pages after which a commit also checkpoints (SQLite's default is 1,000). A checkpoint
/// copies each page changed since the last one once, and sends keep changing the same index
/// pages, so checkpointing a tenth as often copies far fewer pages per message: durable sends
/// went from 16k/s to 19k/s. The cost is a WAL file of up to about 40 MiB.
pub(super) const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// A message row's columns, named and in the order both row readers (sqlx here, rusqlite in the
/// appender) expect; select them `FROM` [`MESSAGES_WITH_ROOM`].
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
