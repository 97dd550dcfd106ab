//! Offline search over the cached messages' current text (issue 20), through the trigram index
//! of migration 0005: the same rules as the relay's search (every term a substring, ignoring
//! case; terms under 3 characters checked on the rows), newest first by `sent_at`.

use natter_protocol::search::{fts5_match, like_pattern};
use natter_protocol::Message;

use super::messages::{from_row, COLUMNS};
use super::{Cache, CacheError};

/// The trigram tokenizer's unit: shorter terms cannot use the index.
const INDEXED_CHARS: usize = 3;

impl Cache {
    /// Up to `limit` cached messages (of rooms the cache holds; only `room_id` if given) whose
    /// current text contains every one of `terms`, newest first. Never change entries, deleted
    /// messages or pre-edit text.
    pub async fn search(
        &self,
        terms: &[String],
        room_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Message>, CacheError> {
        let (long, short): (Vec<&String>, Vec<&String>) = terms
            .iter()
            .partition(|t| t.chars().count() >= INDEXED_CHARS);
        if long.is_empty() && short.is_empty() {
            return Ok(Vec::new());
        }
        // Which messages: the index's for long terms, else every searchable one (the keys).
        let candidates = if long.is_empty() {
            "SELECT room_id, seq FROM search_keys"
        } else {
            "SELECT k.room_id, k.seq FROM message_search s JOIN search_keys k ON k.key = s.rowid \
             WHERE message_search MATCH ?"
        };
        let mut sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE (room_id, seq) IN ({candidates}) \
             AND room_id IN (SELECT id FROM rooms) AND (? IS NULL OR room_id = ?)"
        );
        for _ in &short {
            sql.push_str(" AND body LIKE ? ESCAPE '\\'");
        }
        sql.push_str(" ORDER BY sent_at DESC, room_id, seq DESC LIMIT ?");
        let mut query = sqlx::query(&sql);
        if !long.is_empty() {
            query = query.bind(fts5_match(&long));
        }
        query = query.bind(room_id).bind(room_id);
        for term in &short {
            query = query.bind(like_pattern(term));
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<Result<Vec<_>, sqlx::Error>>()?)
    }
}
