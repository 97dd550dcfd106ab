//! Reactions as they are now (the `reactions` table) in PostgreSQL: kept up to date by the
//! commit stage as reaction entries commit, and added to the messages of a page when it is
//! read.

use natter_protocol::model::Seq;
use natter_protocol::Message;
use sqlx::PgConnection;

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
pub(super) async fn put(conn: &mut PgConnection, r: &Put<'_>) -> Result<(), sqlx::Error> {
    if r.on {
        sqlx::query(
            "INSERT INTO reactions (room_num, message_seq, user_num, username, emoji, seq) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(r.room_num)
        .bind(r.message_seq)
        .bind(r.user_num)
        .bind(r.username)
        .bind(r.emoji)
        .bind(r.seq)
        .execute(conn)
        .await?;
    } else {
        sqlx::query(
            "DELETE FROM reactions WHERE room_num = $1 AND message_seq = $2 AND emoji = $3 \
             AND user_num = $4",
        )
        .bind(r.room_num)
        .bind(r.message_seq)
        .bind(r.emoji)
        .bind(r.user_num)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// A deleted message keeps no reactions.
pub(super) async fn clear(
    conn: &mut PgConnection,
    room_num: i64,
    message_seq: Seq,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM reactions WHERE room_num = $1 AND message_seq = $2")
        .bind(room_num)
        .bind(message_seq)
        .execute(conn)
        .await?;
    Ok(())
}

/// Fills in the reactions of a page's messages, of any rooms in any order (`rows.rs`).
pub(super) async fn attach(
    conn: &mut PgConnection,
    page: &mut [Message],
) -> Result<(), sqlx::Error> {
    for (room_id, seqs) in reaction_seqs(page) {
        let rows: Vec<(Seq, String, String)> = sqlx::query_as(
            "SELECT x.message_seq, x.emoji, x.username FROM reactions x \
             JOIN rooms r ON r.num = x.room_num \
             WHERE r.id = $1 AND x.message_seq = ANY($2) ORDER BY x.message_seq, x.seq",
        )
        .bind(&room_id)
        .bind(&seqs)
        .fetch_all(&mut *conn)
        .await?;
        fold_reactions(page, &room_id, rows);
    }
    Ok(())
}
