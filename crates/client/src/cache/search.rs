//! Offline search over the cached messages' current text (issue 20), through the trigram index
//! of migrations 0005 and 0009: the same rules as the relay's search (every term a substring,
//! ignoring case; terms under 3 characters checked on the rows), newest first by `sent_at`.
//!
//! The index's keys grow with the instant `sent_at` names, in milliseconds (migration 0009), so
//! a page is read from the index newest first and stops at `limit` matches, however many there
//! are; only the rest of the last match's millisecond is read after it, since messages of one
//! millisecond are ordered here by `sent_at`, `room_id`, `seq` descending (as before 0009).
//! When every term is too short for the index, the walk checks each message's row on the way;
//! a rare term would have it look up every row one by one, so it stops after the newest
//! [`WALKED_KEYS`] messages and the rows are read in the table's order instead.

use natter_protocol::search::{fts5_match, like_pattern};
use natter_protocol::Message;

use super::messages::{from_row, COLUMNS};
use super::{Cache, CacheError};

/// The trigram tokenizer's unit: shorter terms cannot use the index.
const INDEXED_CHARS: usize = 3;
/// The bits of a search key below its millisecond (migration 0009: 2^20 slots a millisecond).
const SLOT_BITS: u32 = 20;
/// How many of the newest messages a search with no indexed term checks one by one before it
/// reads all rows in a scan instead. A lookup costs several times a scanned row (of 100,000
/// messages, ~0.7 µs against ~0.15 µs), so a term in 1 % of messages or more fills a page of
/// 20 sooner this way, and a rarer one costs this walk (~1.5 ms) more than a scan alone.
const WALKED_KEYS: u32 = 2_000;

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
        let page = Page {
            room_id,
            limit,
            short: &short,
        };
        if !long.is_empty() {
            return self
                .found(&walk_sql(true, short.len()), Some(fts5_match(&long)), &page)
                .await;
        }
        // A full page from the newest messages is the answer; else every row is read. Each
        // statement answers on its own, so no transaction is needed between them.
        let walked = self
            .found(&walk_sql(false, short.len()), None, &page)
            .await?;
        if walked.len() == limit as usize {
            return Ok(walked);
        }
        self.found(&scan_sql(short.len()), None, &page).await
    }

    /// Runs one of the page's queries (`matching`: the index's query, when it has one).
    async fn found(
        &self,
        sql: &str,
        matching: Option<String>,
        page: &Page<'_>,
    ) -> Result<Vec<Message>, CacheError> {
        let mut query = sqlx::query(sql);
        if let Some(matching) = matching {
            query = query.bind(matching);
        }
        query = query.bind(page.room_id).bind(i64::from(page.limit));
        for term in page.short {
            query = query.bind(like_pattern(term));
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<Result<Vec<_>, sqlx::Error>>()?)
    }
}

/// What every query of one search binds, in this order after the index's query if any: the
/// room (NULL: any), the limit, a LIKE pattern for each short term.
struct Page<'a> {
    room_id: Option<&'a str>,
    limit: u32,
    short: &'a [&'a String],
}

/// The checks every found message passes, on messages `m`, with the parameters numbered from
/// `first` (the room, the limit, then the short terms' patterns). `+` keeps the room checks
/// from becoming a lookup by room, which would take the loop out of key order.
fn checks(first: usize, short: usize) -> (String, usize) {
    let (room, limit) = (first, first + 1);
    let mut checks = format!(
        "+m.room_id IN (SELECT id FROM rooms) AND (?{room} IS NULL OR +m.room_id = ?{room})"
    );
    for n in 0..short {
        checks.push_str(&format!(" AND m.body LIKE ?{} ESCAPE '\\'", limit + 1 + n));
    }
    (checks, limit)
}

/// The page read by key, newest first: through the index (`indexed`, its query `?1`), or
/// through every searchable message's key, the newest [`WALKED_KEYS`] only.
///
/// `page` keeps the first `limit` messages that pass every check; `rest`, only when the page
/// is full, the others of its last millisecond, which may sort before some of it. The keys must
/// be the outer loop, read in their order: `CROSS JOIN` fixes the join order.
fn walk_sql(indexed: bool, short: usize) -> String {
    let (source, key, matching, first) = if indexed {
        (
            "message_search s CROSS JOIN search_keys k ON k.key = s.rowid",
            "s.rowid",
            "message_search MATCH ?1 AND ",
            2,
        )
    } else {
        ("search_keys k", "k.key", "", 1)
    };
    let (checks, limit) = checks(first, short);
    let newest = if indexed {
        String::new()
    } else {
        format!(
            "k.key >= COALESCE((SELECT key FROM search_keys ORDER BY key DESC LIMIT 1 \
             OFFSET {}), 0) AND ",
            WALKED_KEYS - 1
        )
    };
    let found = format!(
        "SELECT {key} AS found_key, m.room_id AS found_room, m.seq AS found_seq FROM {source} \
         CROSS JOIN messages m ON m.room_id = k.room_id AND m.seq = k.seq"
    );
    in_order(
        &format!(
            "WITH page AS MATERIALIZED ({found} WHERE {newest}{matching}{checks} \
               ORDER BY {key} DESC LIMIT ?{limit}), \
             rest AS ({found} WHERE {key} BETWEEN \
                 (SELECT MIN(found_key) >> {SLOT_BITS} << {SLOT_BITS} FROM page) \
                 AND (SELECT MIN(found_key) - 1 FROM page) \
               AND (SELECT COUNT(*) FROM page) = ?{limit} AND {matching}{checks}) \
             SELECT * FROM page UNION ALL SELECT * FROM rest"
        ),
        limit,
    )
}

/// The page from all rows, read in the table's order (no term for the index): SQLite keeps the
/// first `limit` in the page's order as it goes.
fn scan_sql(short: usize) -> String {
    let (checks, limit) = checks(1, short);
    in_order(
        &format!(
            "SELECT first_key AS found_key, room_id AS found_room, seq AS found_seq \
             FROM searchable m WHERE {checks} \
             ORDER BY first_key DESC, sent_at DESC, room_id, seq DESC LIMIT ?{limit}"
        ),
        limit,
    )
}

/// The messages `found` names (by `found_key`, `found_room`, `found_seq`), in the page's order
/// and cut at the limit (parameter `limit`).
fn in_order(found: &str, limit: usize) -> String {
    format!(
        "SELECT {COLUMNS} FROM messages JOIN ({found}) ON room_id = found_room AND seq = found_seq \
         ORDER BY found_key >> {SLOT_BITS} DESC, sent_at DESC, room_id, seq DESC LIMIT ?{limit}"
    )
}
