//! Search over messages' current text (issue 20): the trigram index (`search_db.rs`, attached
//! as `search`) for terms of 3 or more characters, and a scan of the rows the indexer has not
//! reached yet (`indexer.rs`); a scan of a bounded range of the newest messages when every term
//! is shorter. A message edited since the indexer's mark is left out of the index's answer
//! until the indexer has its new text (at most about `indexer::LAG`; an edit is acked at once,
//! `commit.rs`): the index must not find it by its old text. Its current text is scanned
//! instead, with the rows above the mark, so it is found by its new text from the ack on.
//! Positions (`before`, `next`) are message rowids: commit order, across rooms.

use natter_protocol::search::{fts5_match, like_pattern};
use natter_protocol::Message;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use super::indexer::version_of;
use super::reactions;
use super::search_db::{VERSION_BITS, VERSION_MASK};
use super::sql::{message_from_row, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS, MESSAGE_COLUMN_COUNT};
use crate::store::types::{SearchPage, SearchQuery};

/// The trigram tokenizer's unit: shorter terms cannot use the index.
const INDEXED_CHARS: usize = 3;
/// Messages (rowids) one page of a query with no indexed term looks at. Short terms such as
/// "ok" or "猫" match often, so the newest few thousand usually fill a page; a rare one pages
/// on with a bounded cost per request instead of scanning the whole table.
const SCAN_ROWS: i64 = 100_000;

/// Which rows a statement looks at, with `?1` user, `?2` room or NULL, `?3` before, `?4` limit.
enum Rows {
    /// The index: `?5` is the FTS5 query, `?6` the indexer's mark; only rows it has reached,
    /// and not edited since.
    Index { upto: i64 },
    /// A scan of the rowids in [`?5`, `?3`).
    Scan,
    /// Messages at or below the mark `?5` edited since (edit entries above it), by their
    /// current text: as many as edits in the last `indexer::LAG` at most.
    Edited,
}

/// One page of `query` for `user_id` (see `Store::search`).
pub(super) fn search(
    conn: &Connection,
    user_id: &str,
    query: &SearchQuery,
) -> rusqlite::Result<SearchPage> {
    let terms: Vec<&str> = query.terms.iter().map(String::as_str).collect();
    let long: Vec<&str> = terms
        .iter()
        .copied()
        .filter(|t| t.chars().count() >= INDEXED_CHARS)
        .collect();
    let (upto, last): (i64, i64) = conn.query_row(
        "SELECT upto, (SELECT COALESCE(MAX(rowid), 0) FROM main.messages) FROM search.indexed",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let before = query.before.unwrap_or(last + 1);
    let limit = i64::from(query.limit);
    if long.is_empty() {
        // Every term short: a bounded scan, every term checked on the rows.
        let floor = before.saturating_sub(SCAN_ROWS).max(1);
        let found = run(
            conn,
            user_id,
            query,
            Rows::Scan,
            floor.into(),
            &terms,
            before,
            limit,
        )?;
        let next = match found.last() {
            Some((rowid, _)) if found.len() as i64 >= limit => Some(*rowid),
            // Too few in this range: go on below it, if anything is there.
            _ if floor > 1 => Some(floor),
            _ => None,
        };
        return Ok(page(found, next));
    }
    // The rows above the indexer's mark are the newest: scanned first, every term checked.
    let mut found = Vec::new();
    if before > upto + 1 {
        found = run(
            conn,
            user_id,
            query,
            Rows::Scan,
            (upto + 1).into(),
            &terms,
            before,
            limit,
        )?;
    }
    let left = limit - found.len() as i64;
    if left > 0 {
        let short: Vec<&str> = terms
            .iter()
            .copied()
            .filter(|t| t.chars().count() < INDEXED_CHARS)
            .collect();
        let below = before.min(upto + 1);
        let mut older = run(
            conn,
            user_id,
            query,
            Rows::Index { upto },
            fts5_match(&long).into(),
            &short,
            below,
            left,
        )?;
        // What the index leaves out as edited since its mark, by its current text, in order.
        older.extend(run(
            conn,
            user_id,
            query,
            Rows::Edited,
            upto.into(),
            &terms,
            below,
            left,
        )?);
        older.sort_unstable_by_key(|(rowid, _)| std::cmp::Reverse(*rowid));
        older.truncate(left as usize);
        found.extend(older);
    }
    let next = found
        .last()
        .map(|(rowid, _)| *rowid)
        .filter(|_| found.len() as i64 >= limit);
    Ok(page(found, next))
}

fn page(found: Vec<(i64, Message)>, next: Option<i64>) -> SearchPage {
    SearchPage {
        messages: found.into_iter().map(|(_, message)| message).collect(),
        next,
    }
}

/// Runs one statement over `rows`, every term of `like` checked on the rows; the messages with
/// their rowids, newest first.
#[expect(
    clippy::too_many_arguments,
    reason = "one statement's parts; a struct for them would be built once, here"
)]
fn run(
    conn: &Connection,
    user_id: &str,
    query: &SearchQuery,
    rows: Rows,
    fifth: Value,
    like: &[&str],
    before: i64,
    limit: i64,
) -> rusqlite::Result<Vec<(i64, Message)>> {
    let mut params: Vec<Value> = vec![
        user_id.to_owned().into(),
        query.room_id.clone().map_or(Value::Null, Value::from),
        before.into(),
        limit.into(),
        fifth,
    ];
    if let Rows::Index { upto } = &rows {
        params.push((*upto).into());
    }
    let mut likes = String::new();
    for term in like {
        params.push(like_pattern(term).into());
        likes.push_str(&format!(" AND m.body LIKE ?{} ESCAPE '\\'", params.len()));
    }
    // `+`: the room test must not pick the (room, seq) index, whose order is not rowid's: a
    // scan walks rowids newest first and stops at the page (measured: 1.8 s instead of ms
    // for a 2-character term over a 1,000,000-message room).
    let scope =
        "+m.room_num IN (SELECT r2.num FROM members mb JOIN rooms r2 ON r2.id = mb.room_id \
                 WHERE mb.user_id = ?1 AND (?2 IS NULL OR r2.id = ?2)) \
                 AND m.change_kind IS NULL AND m.deleted = 0";
    let sql = match rows {
        Rows::Scan => format!(
            "SELECT {MESSAGE_COLUMNS}, m.rowid FROM {MESSAGES_WITH_ROOM} \
             WHERE m.rowid < ?3 AND m.rowid >= ?5 AND {scope}{likes} \
             ORDER BY m.rowid DESC LIMIT ?4"
        ),
        // The index first (CROSS JOIN keeps that order), newest first, then the rows: only a
        // message's current version (`search_db.rs`), and not while an edit above the mark
        // (the rows after it, by rowid) means the index has an older one.
        Rows::Index { .. } => format!(
            "SELECT {MESSAGE_COLUMNS}, m.rowid FROM search.message_search CROSS JOIN \
             {MESSAGES_WITH_ROOM} \
             WHERE message_search MATCH ?5 AND message_search.rowid < (?3 << {VERSION_BITS}) \
             AND m.rowid = (message_search.rowid >> {VERSION_BITS}) AND {scope}{likes} \
             AND (message_search.rowid & {VERSION_MASK}) = {version} \
             AND (m.edited_at IS NULL OR NOT EXISTS (SELECT 1 FROM messages e \
               WHERE e.rowid > ?6 AND e.room_num = m.room_num AND e.target_seq = m.seq \
               AND e.change_kind = 'edit')) \
             ORDER BY message_search.rowid DESC LIMIT ?4",
            version = version_of("m")
        ),
        // Driven by the edit entries above the mark (a rowid range), not by the messages.
        Rows::Edited => format!(
            "SELECT {MESSAGE_COLUMNS}, m.rowid FROM {MESSAGES_WITH_ROOM} \
             WHERE m.rowid IN (SELECT t.rowid FROM messages e JOIN messages t \
               ON t.room_num = e.room_num AND t.seq = e.target_seq \
               WHERE e.rowid > ?5 AND e.change_kind = 'edit' AND t.rowid <= ?5) \
             AND m.rowid < ?3 AND {scope}{likes} \
             ORDER BY m.rowid DESC LIMIT ?4"
        ),
    };
    let found: Vec<(i64, Message)> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(params), |row| {
            Ok((
                row.get::<_, i64>(MESSAGE_COLUMN_COUNT)?,
                message_from_row(row)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let (rowids, mut messages): (Vec<i64>, Vec<Message>) = found.into_iter().unzip();
    reactions::attach(conn, &mut messages)?;
    Ok(rowids.into_iter().zip(messages).collect())
}
