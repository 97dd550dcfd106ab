//! What every append of the commit stage builds on: a room as the batch holds it locked (its
//! next seq), a plain message committed on its own, and the original of a repeated
//! (sender, client_id). Used by `commit.rs`, `plain.rs` and `entry.rs`, which import only this.

use natter_protocol::model::Seq;
use natter_protocol::Message;
use sqlx::PgConnection;

use super::files;
use super::sql::{message_from_row, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS};
use crate::store::rows::{mentions_column, new_id};
use crate::store::types::{AppendOutcome, AppendRefusal, Appended, NewMessage};

/// A locked room: its number and the last seq taken so far in this batch.
pub(super) struct Room {
    pub(super) num: i64,
    pub(super) last_seq: Seq,
}

impl Room {
    /// The next seq was taken by an insert that happened.
    pub(super) fn took(&mut self, seq: Seq) {
        self.last_seq = seq;
    }
}

/// A plain message on its own (a run of several goes through `plain.rs`): one statement checks
/// membership and inserts at the room's next seq.
pub(super) async fn append_message(
    conn: &mut PgConnection,
    room: Option<&mut Room>,
    m: &NewMessage,
) -> Result<AppendOutcome, sqlx::Error> {
    if let Some(room) = room {
        let id = new_id();
        let seq = room.last_seq + 1;
        let inserted: Option<Seq> = sqlx::query_scalar(
            "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, \
               sent_at, mentions) \
             SELECT $1, $2, $3, u.num, $4, $5, $6, $7, $8 FROM users u \
             WHERE u.id = $9 AND EXISTS \
               (SELECT 1 FROM members m WHERE m.room_id = $10 AND m.user_id = $9) \
             ON CONFLICT (sender_num, client_id) DO NOTHING \
             RETURNING seq",
        )
        .bind(&id)
        .bind(room.num)
        .bind(seq)
        .bind(&m.sender.username)
        .bind(&m.client_id)
        .bind(&m.body)
        .bind(&m.sent_at)
        .bind(mentions_column(&m.mentions))
        .bind(&m.sender.id)
        .bind(&m.room_id)
        .fetch_optional(&mut *conn)
        .await?;
        if inserted.is_some() {
            room.took(seq);
            return Ok(Ok(created(new_plain(m, id, seq))));
        }
    }
    repeat_or_not_member(conn, m).await
}

/// The message a plain send became, as the stage answers it (no row read back).
pub(super) fn new_plain(m: &NewMessage, id: String, seq: Seq) -> Message {
    Message {
        id,
        room_id: m.room_id.clone(),
        seq,
        sender: m.sender.username.clone(),
        body: m.body.clone(),
        client_id: m.client_id.clone(),
        sent_at: m.sent_at.clone(),
        mentions: m.mentions.clone(),
        ..Message::default()
    }
}

/// A new entry's outcome.
pub(super) fn created(message: Message) -> Appended {
    Appended {
        message,
        created: true,
        freed_files: Vec::new(),
    }
}

/// Nothing inserted: the original if the (sender, client_id) exists, else the sender is no
/// member.
pub(super) async fn repeat_or_not_member(
    conn: &mut PgConnection,
    m: &NewMessage,
) -> Result<AppendOutcome, sqlx::Error> {
    Ok(match original(conn, m).await? {
        Some(message) => Ok(Appended {
            message,
            created: false,
            freed_files: Vec::new(),
        }),
        None => Err(AppendRefusal::NotMember),
    })
}

/// A repeated client_id: the original entry, whichever room it went to, with its files.
pub(super) async fn original(
    conn: &mut PgConnection,
    m: &NewMessage,
) -> Result<Option<Message>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} \
         WHERE m.sender_num = (SELECT num FROM users WHERE id = $1) AND m.client_id = $2"
    ))
    .bind(&m.sender.id)
    .bind(&m.client_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut message = message_from_row(&row)?;
    files::attach(conn, std::slice::from_mut(&mut message)).await?;
    Ok(Some(message))
}
