//! Reactions as they are now (the `reactions` table): kept up to date by the commit stage as
//! reaction entries commit, and added to the messages of a page when it is read.

use natter_protocol::model::Seq;
use natter_protocol::Message;
use rusqlite::Connection;

use crate::store::rows::{fold_reactions, reaction_seqs};

/// Who reacts, on which message, with what; `seq` is the reaction entry's own.
pub(super) struct Put<'a> {
    pub room_num: i64,
    pub message_seq: Seq,
    pub user_num: i64,
    pub username: &'a str,
    pub emoji: &'a str,
    pub on: bool,
    pub seq: Seq,
}

/// Adds (once per user and emoji) or takes back one reaction.
pub(super) fn put(conn: &Connection, r: &Put<'_>) -> rusqlite::Result<()> {
    if r.on {
        conn.prepare_cached(
            "INSERT INTO reactions (room_num, message_seq, user_num, username, emoji, seq) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?
        .execute(rusqlite::params![
            r.room_num,
            r.message_seq,
            r.user_num,
            r.username,
            r.emoji,
            r.seq
        ])?;
    } else {
        conn.prepare_cached(
            "DELETE FROM reactions WHERE room_num = ?1 AND message_seq = ?2 AND emoji = ?3 \
             AND user_num = ?4",
        )?
        .execute(rusqlite::params![
            r.room_num,
            r.message_seq,
            r.emoji,
            r.user_num
        ])?;
    }
    Ok(())
}

/// A deleted message keeps no reactions.
pub(super) fn clear(conn: &Connection, room_num: i64, message_seq: Seq) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM reactions WHERE room_num = ?1 AND message_seq = ?2")?
        .execute(rusqlite::params![room_num, message_seq])?;
    Ok(())
}

/// Fills in the reactions of a page's messages, of any rooms in any order (`rows.rs`).
pub(super) fn attach(conn: &Connection, page: &mut [Message]) -> rusqlite::Result<()> {
    for (room_id, seqs) in reaction_seqs(page) {
        let seqs = serde_json::to_string(&seqs)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let rows = conn
            .prepare_cached(
                "SELECT x.message_seq, x.emoji, x.username FROM reactions x \
                 JOIN rooms r ON r.num = x.room_num \
                 WHERE r.id = ?1 AND x.message_seq IN (SELECT value FROM json_each(?2)) \
                 ORDER BY x.message_seq, x.seq",
            )?
            .query_map(rusqlite::params![room_id, seqs], |row| {
                Ok((row.get::<_, Seq>(0)?, row.get::<_, String>(1)?, row.get(2)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        fold_reactions(page, &room_id, rows);
    }
    Ok(())
}
