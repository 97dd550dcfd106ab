//! Reactions as they are now (the `reactions` table): kept up to date by the commit stage as
//! reaction entries commit, and added to the messages of a page when it is read.

use std::collections::HashMap;

use natter_protocol::model::Seq;
use natter_protocol::{Message, Reaction};
use rusqlite::Connection;

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

/// Fills in the reactions of a page's messages (all of one room, in seq order): each emoji in
/// the order it first appeared, its users in the order they reacted.
pub(super) fn attach(conn: &Connection, page: &mut [Message]) -> rusqlite::Result<()> {
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return Ok(());
    };
    let (room_id, low, high) = (first.room_id.clone(), first.seq, last.seq);
    let mut found: HashMap<Seq, Vec<Reaction>> = HashMap::new();
    let mut rows = conn
        .prepare_cached(
            "SELECT x.message_seq, x.emoji, x.username FROM reactions x \
             JOIN rooms r ON r.num = x.room_num \
             WHERE r.id = ?1 AND x.message_seq BETWEEN ?2 AND ?3 ORDER BY x.message_seq, x.seq",
        )?
        .query_map(rusqlite::params![room_id, low, high], |row| {
            Ok((row.get::<_, Seq>(0)?, row.get::<_, String>(1)?, row.get(2)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (seq, emoji, user) in rows.drain(..) {
        let reactions = found.entry(seq).or_default();
        match reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.users.push(user),
            None => reactions.push(Reaction {
                emoji,
                users: vec![user],
            }),
        }
    }
    for m in page.iter_mut().filter(|m| m.room_id == room_id) {
        if let Some(reactions) = found.remove(&m.seq) {
            m.reactions = reactions;
        }
    }
    Ok(())
}
