//! A run of plain messages (no reply, no files, no change) of a commit batch in one statement: one
//! `INSERT … SELECT … FROM unnest(…)` round trip instead of one per message, the hot path of
//! the commit stage (`commit.rs`). A message alone goes through `single.rs`.
//!
//! Seqs are numbered in the statement, per room in batch order, from the room's last seq
//! that the batch holds locked, for the rows whose sender is a member and that are the first
//! of their (sender, client_id) in the run. A repeat of a committed (sender, client_id) — a
//! retry whose ack was lost, or the same send committing on another node at that moment — is
//! only seen by the insert itself (`ON CONFLICT … DO NOTHING`, which waits for a transaction
//! in flight, then skips the row). Its seq would then be a gap, so the run's rows are deleted
//! again (in this transaction: never seen by anyone) and the run goes message by message,
//! which is exact. Repeats are rare; looking each row up first cost every send instead.
//!
//! The plan must not depend on the tables' statistics: the statement is prepared once per
//! connection and its generic plan kept. Ids are compared as `COLLATE "C"`, the collation of
//! the id columns, so that every join is a primary-key lookup: with the arrays' default
//! collation no index on an id could serve the joins, and rooms and users were scanned whole,
//! a room's members read one by one. (A look-up of committed (sender, client_id)s here, planned
//! on a young table, read all of the sender's messages for each row: 5 ms a run of 14 after 20 s.)

use std::collections::HashMap;

use natter_protocol::model::Seq;
use sqlx::{PgConnection, Row};

use super::single::{append_message, created, new_plain, repeat_or_not_member, Room};
use crate::store::rows::{mentions_column, new_id};
use crate::store::types::{AppendOutcome, NewMessage};

/// Appends `run`, plain messages all, in order: their outcomes, one per message.
pub(super) async fn append_run(
    conn: &mut PgConnection,
    rooms: &mut HashMap<String, Room>,
    run: &[&NewMessage],
) -> Result<Vec<AppendOutcome>, sqlx::Error> {
    let ids: Vec<String> = run.iter().map(|_| new_id()).collect();
    // Each row's room as locked by the batch (a room not found inserts nothing: NotMember).
    let bases: Vec<Option<Seq>> = run
        .iter()
        .map(|m| rooms.get(&m.room_id).map(|r| r.last_seq))
        .collect();
    let ords: Vec<i64> = (0..run.len() as i64).collect();
    let inserted = sqlx::query(
        "WITH input AS ( \
           SELECT ord, id, room_id COLLATE \"C\" AS room_id, \
             sender_id COLLATE \"C\" AS sender_id, sender, client_id, body, sent_at, mentions, \
             base \
           FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::int8[]) \
             AS t(ord, id, room_id, sender_id, sender, client_id, body, sent_at, mentions, base) \
         ), \
         fresh AS ( \
           SELECT DISTINCT ON (u.num, i.client_id) i.*, u.num AS sender_num, r.num AS room_num \
           FROM input i \
           JOIN users u ON u.id = i.sender_id \
           JOIN rooms r ON r.id = i.room_id \
           WHERE i.base IS NOT NULL \
             AND EXISTS (SELECT 1 FROM members m \
                         WHERE m.room_id = i.room_id AND m.user_id = i.sender_id) \
           ORDER BY u.num, i.client_id, i.ord \
         ) \
         INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, \
           sent_at, mentions) \
         SELECT id, room_num, base + row_number() OVER (PARTITION BY room_num ORDER BY ord), \
           sender_num, sender, client_id, body, sent_at, mentions \
         FROM fresh ORDER BY ord \
         ON CONFLICT (sender_num, client_id) DO NOTHING \
         RETURNING id, seq",
    )
    .bind(&ords)
    .bind(&ids)
    .bind(run.iter().map(|m| m.room_id.as_str()).collect::<Vec<_>>())
    .bind(run.iter().map(|m| m.sender.id.as_str()).collect::<Vec<_>>())
    .bind(
        run.iter()
            .map(|m| m.sender.username.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(run.iter().map(|m| m.client_id.as_str()).collect::<Vec<_>>())
    .bind(run.iter().map(|m| m.body.as_str()).collect::<Vec<_>>())
    .bind(run.iter().map(|m| m.sent_at.as_str()).collect::<Vec<_>>())
    .bind(
        run.iter()
            .map(|m| mentions_column(&m.mentions))
            .collect::<Vec<_>>(),
    )
    .bind(&bases)
    .fetch_all(&mut *conn)
    .await?;
    let mut seqs: HashMap<String, Seq> = HashMap::with_capacity(inserted.len());
    for row in &inserted {
        seqs.insert(row.try_get(0)?, row.try_get(1)?);
    }
    // Gap-free per room: the inserted rows of each room took exactly base+1 ..= base+count.
    let mut counts: HashMap<&str, (Seq, Seq)> = HashMap::new();
    for (m, (id, base)) in run.iter().zip(ids.iter().zip(&bases)) {
        if let (Some(seq), Some(base)) = (seqs.get(id), base) {
            let (count, max) = counts.entry(m.room_id.as_str()).or_insert((0, *base));
            *count += 1;
            *max = (*max).max(*seq);
        }
    }
    let gap = counts
        .iter()
        .any(|(room, (count, max))| rooms.get(*room).is_none_or(|r| *max != r.last_seq + *count));
    if gap || seqs.len() != counts.values().map(|(c, _)| *c as usize).sum::<usize>() {
        tracing::debug!("commit: a plain run met a send committing elsewhere; one by one");
        let taken: Vec<&str> = seqs.keys().map(String::as_str).collect();
        sqlx::query("DELETE FROM messages WHERE id = ANY($1)")
            .bind(&taken)
            .execute(&mut *conn)
            .await?;
        let mut outcomes = Vec::with_capacity(run.len());
        for m in run {
            outcomes.push(append_message(conn, rooms.get_mut(&m.room_id), m).await?);
        }
        return Ok(outcomes);
    }
    for (room, (count, max)) in &counts {
        if let Some(r) = rooms.get_mut(*room) {
            debug_assert_eq!(r.last_seq + count, *max);
            r.took(*max);
        }
    }
    let mut outcomes = Vec::with_capacity(run.len());
    for (m, id) in run.iter().zip(ids) {
        let outcome = match seqs.get(&id) {
            Some(&seq) => Ok(created(new_plain(m, id, seq))),
            // A repeat (of a committed send, or of one earlier in this run), or not a member.
            None => repeat_or_not_member(conn, m).await?,
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
