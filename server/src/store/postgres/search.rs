//! Search on PostgreSQL (issue 20): every term a case-insensitive substring of a message's
//! current text (`ILIKE`, helped by the trigram index of migration 0004), in the rooms the
//! user is a member of, newest first by insert position. Edits rewrite a message's `body` and a
//! delete empties it in the commit stage's transaction, so only current text is ever found;
//! change entries are never results.

use natter_protocol::search::like_pattern;
use natter_protocol::Message;
use sqlx::{PgConnection, Row};

use super::sql::{message_from_row, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS, MESSAGE_COLUMN_COUNT};
use super::{files, reactions};
use crate::store::types::{SearchPage, SearchQuery};

pub(super) async fn search(
    conn: &mut PgConnection,
    user_id: &str,
    query: &SearchQuery,
) -> Result<SearchPage, sqlx::Error> {
    let mut sql = format!(
        "SELECT {MESSAGE_COLUMNS}, m.pos FROM {MESSAGES_WITH_ROOM} \
         JOIN members me ON me.room_id = r.id AND me.user_id = $1 \
         WHERE m.change_kind IS NULL AND NOT m.deleted AND m.pos < $2"
    );
    let mut n = 2;
    if query.room_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND r.id = ${n}"));
    }
    for _ in &query.terms {
        n += 1;
        sql.push_str(&format!(" AND m.body ILIKE ${n}"));
    }
    n += 1;
    sql.push_str(&format!(" ORDER BY m.pos DESC LIMIT ${n}"));
    let mut q = sqlx::query(&sql)
        .bind(user_id)
        .bind(query.before.unwrap_or(i64::MAX));
    if let Some(room_id) = &query.room_id {
        q = q.bind(room_id);
    }
    for term in &query.terms {
        q = q.bind(like_pattern(term));
    }
    let rows = q.bind(i64::from(query.limit)).fetch_all(&mut *conn).await?;
    let last_pos = rows
        .last()
        .map(|row| row.try_get::<i64, _>(MESSAGE_COLUMN_COUNT))
        .transpose()?;
    let mut messages: Vec<Message> = rows
        .iter()
        .map(message_from_row)
        .collect::<Result<_, _>>()?;
    reactions::attach(&mut *conn, &mut messages).await?;
    files::attach(conn, &mut messages).await?;
    let full = messages.len() >= query.limit as usize;
    Ok(SearchPage {
        messages,
        next: if full { last_pos } else { None },
    })
}
