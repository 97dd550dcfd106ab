//! A run of plain messages (no reply, no files, no change) of a commit batch in one call of
//! `append_plain` (migration 0007, which says how seqs are taken and what a repeat does): the
//! hot path of the commit stage (`commit.rs`). A batch of plain messages only is that one call
//! and nothing else when every message of it goes in ([`commit_alone`]); otherwise, and in a
//! batch with other entries, the call is one statement of the batch's transaction
//! ([`append_run`]). A message alone in a mixed batch goes through `single.rs`.
//!
//! The statements in the function are planned once per connection and their generic plans
//! kept, so a plan must not depend on the tables' statistics (a look-up of committed
//! (sender, client_id)s here, planned on a young table, read all of the sender's messages for
//! each row: 5 ms a run of 14 after 20 s).

use std::collections::HashMap;

use natter_protocol::model::Seq;
use sqlx::{PgConnection, Row};

use super::single::{append_message, created, new_plain, repeat_or_not_member, Room};
use crate::store::rows::{mentions_column, new_id};
use crate::store::types::{AppendOutcome, NewMessage};

/// A batch of plain messages only, committed by itself (no transaction around the call: one
/// round trip, the COMMIT and its WAL flush done before the answer) if every message went in.
/// None when one did not (a repeat, a sender no member) and nothing was written: the caller
/// then commits the batch in a transaction, which reads what such a message answers.
pub(super) async fn commit_alone(
    conn: &mut PgConnection,
    run: &[&NewMessage],
) -> Result<Option<Vec<AppendOutcome>>, sqlx::Error> {
    let Some(inserted) = insert(conn, run, Insert::Every).await? else {
        return Ok(None);
    };
    Ok(Some(
        run.iter()
            .zip(inserted)
            .map(|(m, (id, seq))| match seq {
                Some(seq) => Ok(Ok(created(new_plain(m, id, seq)))),
                None => Err(sqlx::Error::Protocol(
                    "append_plain answered whole without every row".to_owned(),
                )),
            })
            .collect::<Result<_, _>>()?,
    ))
}

/// Appends `run`, plain messages all, in order, in the batch's transaction that holds `rooms`:
/// their outcomes, one per message.
pub(super) async fn append_run(
    conn: &mut PgConnection,
    rooms: &mut HashMap<String, Room>,
    run: &[&NewMessage],
) -> Result<Vec<AppendOutcome>, sqlx::Error> {
    let Some(inserted) = insert(conn, run, Insert::FreshOnes).await? else {
        tracing::debug!("commit: a plain run met a send committed elsewhere; one by one");
        let mut outcomes = Vec::with_capacity(run.len());
        for m in run {
            outcomes.push(append_message(conn, rooms.get_mut(&m.room_id), m).await?);
        }
        return Ok(outcomes);
    };
    for (m, (_, seq)) in run.iter().zip(&inserted) {
        if let (Some(room), Some(seq)) = (rooms.get_mut(&m.room_id), seq) {
            room.took((*seq).max(room.last_seq));
        }
    }
    outcomes(conn, run, inserted).await
}

/// Each message's new id, and its seq if it was inserted.
type Inserted = Vec<(String, Option<Seq>)>;

/// What a call of `append_plain` keeps.
#[derive(Clone, Copy, PartialEq)]
enum Insert {
    /// Every message, or nothing.
    Every,
    /// The messages that are the first of their (sender, client_id) with a member as sender,
    /// or nothing if one of those met a committed repeat.
    FreshOnes,
}

/// One call of `append_plain`; None when it wrote nothing.
async fn insert(
    conn: &mut PgConnection,
    run: &[&NewMessage],
    keep: Insert,
) -> Result<Option<Inserted>, sqlx::Error> {
    let ids: Vec<String> = run.iter().map(|_| new_id()).collect();
    let ords: Vec<i64> = (0..run.len() as i64).collect();
    let row = sqlx::query(
        "SELECT inserted_ids, inserted_seqs, whole \
         FROM append_plain($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
    .bind(keep == Insert::Every)
    .fetch_one(&mut *conn)
    .await?;
    if !row.try_get::<bool, _>(2)? {
        return Ok(None);
    }
    let inserted_ids: Vec<String> = row.try_get::<Option<_>, _>(0)?.unwrap_or_default();
    let inserted_seqs: Vec<Seq> = row.try_get::<Option<_>, _>(1)?.unwrap_or_default();
    let mut seqs: HashMap<String, Seq> = inserted_ids.into_iter().zip(inserted_seqs).collect();
    Ok(Some(
        ids.into_iter()
            .map(|id| {
                let seq = seqs.remove(&id);
                (id, seq)
            })
            .collect(),
    ))
}

/// The run's outcomes: the new message, or for one not inserted (a repeat, of a committed
/// send or of one earlier in this run, or its sender no member) the original or the refusal.
async fn outcomes(
    conn: &mut PgConnection,
    run: &[&NewMessage],
    inserted: Inserted,
) -> Result<Vec<AppendOutcome>, sqlx::Error> {
    let mut outcomes = Vec::with_capacity(run.len());
    for (m, (id, seq)) in run.iter().zip(inserted) {
        outcomes.push(match seq {
            Some(seq) => Ok(created(new_plain(m, id, seq))),
            None => repeat_or_not_member(conn, m).await?,
        });
    }
    Ok(outcomes)
}
