//! What a delete takes out of the cache besides the message's own text (issue 19: a delete
//! removes the text, here as at the relay): its edits' words, the excerpt of it that replies
//! show, the text of our outbox row that sent it; then the WAL is emptied, so the old pages are
//! in no file. The cache runs with `secure_delete` (`mod.rs`), so freed cells and pages are
//! zeroed, and its search index deletes with FTS5 `secure-delete` (migration 0005).

use natter_protocol::model::Seq;
use sqlx::SqliteConnection;

use super::{Cache, CacheError};

/// Whether the cache holds a delete entry for message `id` of a room.
pub(super) async fn delete_held(
    conn: &mut SqliteConnection,
    room_id: &str,
    id: &str,
) -> Result<bool, CacheError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE room_id = ? AND target_id = ? \
         AND json_valid(state) AND json_extract(state, '$.change.kind') = 'delete')",
    )
    .bind(room_id)
    .bind(id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Erases the words the cache still holds of message `id` of a room, which is deleted: its
/// edit entries' bodies, the excerpt in replies to it, and (at `seq`, when the message itself
/// is held) the text of the outbox row that sent it. Answers how many rows lost text.
pub(super) async fn words_of(
    conn: &mut SqliteConnection,
    room_id: &str,
    id: &str,
    seq: Option<Seq>,
) -> Result<u64, CacheError> {
    // An edit entry keeps what it changes, with no words (its body is the fallback text).
    let edits = sqlx::query(
        "UPDATE messages SET body = '', state = json_set(state, '$.change.body', '') \
         WHERE room_id = ? AND target_id = ? AND json_valid(state) \
         AND json_extract(state, '$.change.kind') = 'edit' \
         AND (body != '' OR json_extract(state, '$.change.body') != '')",
    )
    .bind(room_id)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // A reply shows its target as the relay does once it is deleted: no excerpt. Its base too,
    // or a refold would bring the excerpt back.
    let replies = sqlx::query(
        "UPDATE messages SET \
           state = json_set(state, '$.reply_to.excerpt', '', '$.reply_to.deleted', json('true')), \
           base = CASE WHEN json_valid(base) \
             THEN json_set(base, '$.reply_to.excerpt', '', '$.reply_to.deleted', json('true')) \
             ELSE base END \
         WHERE room_id = ? AND target_id IS NULL AND json_valid(state) \
         AND json_extract(state, '$.reply_to.id') = ? \
         AND (json_extract(state, '$.reply_to.excerpt') != '' \
              OR (json_valid(base) AND json_extract(base, '$.reply_to.excerpt') != ''))",
    )
    .bind(room_id)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let outbox = match seq {
        Some(seq) => sqlx::query(
            "UPDATE outbox SET body = '' \
             WHERE room_id = ? AND seq = ? AND state = 'sent' AND body != ''",
        )
        .bind(room_id)
        .bind(seq)
        .execute(&mut *conn)
        .await?
        .rows_affected(),
        None => 0,
    };
    Ok(edits + replies + outbox)
}

impl Cache {
    /// After a transaction that erased text: copies the WAL into the database and empties it,
    /// so the erased text's old pages are in no file. Not an error for the caller when it
    /// cannot (the next checkpoint does it; closing the cache does too): logged.
    pub(super) async fn empty_wal(&self) {
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await
        {
            Ok((0, _, _)) => {}
            Ok((_, log, done)) => {
                tracing::warn!(
                    log,
                    done,
                    "the WAL was busy: erased text waits for the next checkpoint"
                )
            }
            Err(e) => tracing::warn!(error = %e, "could not checkpoint the cache after a delete"),
        }
    }
}
