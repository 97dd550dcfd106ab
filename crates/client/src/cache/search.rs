//! Offline search over the cached messages' current text (issue 20), through the trigram index
//! of migrations 0005 and 0009: the same rules as the relay's search (every term a substring,
//! ignoring case; terms under 3 characters checked on the rows), newest first by `sent_at`.
//!
//! The index's keys grow with the instant `sent_at` names, in milliseconds (migration 0009), so
//! a page is read from the index newest first and stops at `limit` matches, however many there
//! are; only the rest of the last match's millisecond is read after it, since messages of one
//! millisecond are ordered here by `sent_at`, `room_id`, `seq` descending (as before 0009).

use natter_protocol::search::{fts5_match, like_pattern};
use natter_protocol::Message;

use super::messages::{from_row, COLUMNS};
use super::{Cache, CacheError};

/// The trigram tokenizer's unit: shorter terms cannot use the index.
const INDEXED_CHARS: usize = 3;
/// The bits of a search key below its millisecond (migration 0009: 2^20 slots a millisecond).
const SLOT_BITS: u32 = 20;

impl Cache {
    /// Up to `limit` cached messages (of rooms the cache holds; only `room_id` if given) whose
    /// current text contains every one of `terms`, newest first: by the millisecond `sent_at`
    /// names, then by `sent_at` as text, `room_id`, `seq` descending. Never change entries,
    /// deleted messages or pre-edit text.
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
        let sql = page_sql(!long.is_empty(), short.len());
        let mut rows = sqlx::query(&sql);
        if !long.is_empty() {
            rows = rows.bind(fts5_match(&long));
        }
        rows = rows.bind(room_id).bind(i64::from(limit));
        for term in &short {
            rows = rows.bind(like_pattern(term));
        }
        let rows = rows.fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<Result<Vec<_>, sqlx::Error>>()?)
    }
}

/// The page's query. Its parameters, numbered: the index's match when `indexed` (long terms),
/// then the room (NULL: any), the limit, and a LIKE pattern for each of `short` terms.
///
/// `page` walks the keys newest first (the index's, or every searchable message's when no term
/// is long enough for it) and keeps the first `limit` messages that pass every check; `rest`,
/// only when the page is full, the others of its last millisecond, which may sort before some
/// of it. The two are then put in order and cut. The keys must be the outer loop, read in their
/// order: `CROSS JOIN` fixes the join order, and `+` keeps the room checks from becoming a
/// lookup by room (SQLite would then sort every match again).
fn page_sql(indexed: bool, short: usize) -> String {
    let (source, key, mut checks) = if indexed {
        (
            "message_search s CROSS JOIN search_keys k ON k.key = s.rowid",
            "s.rowid",
            "message_search MATCH ?1 AND ".to_owned(),
        )
    } else {
        ("search_keys k", "k.key", String::new())
    };
    let first = 1 + usize::from(indexed);
    let (room, limit) = (first, first + 1);
    checks.push_str(&format!(
        "+m.room_id IN (SELECT id FROM rooms) AND (?{room} IS NULL OR +m.room_id = ?{room})"
    ));
    for n in 0..short {
        checks.push_str(&format!(" AND m.body LIKE ?{} ESCAPE '\\'", limit + 1 + n));
    }
    let found = format!(
        "SELECT {key} AS found_key, m.room_id AS found_room, m.seq AS found_seq FROM {source} \
         CROSS JOIN messages m ON m.room_id = k.room_id AND m.seq = k.seq"
    );
    format!(
        "WITH page AS MATERIALIZED ({found} WHERE {checks} ORDER BY {key} DESC LIMIT ?{limit}), \
         rest AS ({found} WHERE {key} BETWEEN \
             (SELECT MIN(found_key) >> {SLOT_BITS} << {SLOT_BITS} FROM page) \
             AND (SELECT MIN(found_key) - 1 FROM page) \
           AND (SELECT COUNT(*) FROM page) = ?{limit} AND {checks}) \
         SELECT {COLUMNS} FROM messages \
         JOIN (SELECT * FROM page UNION ALL SELECT * FROM rest) \
           ON room_id = found_room AND seq = found_seq \
         ORDER BY found_key >> {SLOT_BITS} DESC, sent_at DESC, room_id, seq DESC LIMIT ?{limit}"
    )
}
