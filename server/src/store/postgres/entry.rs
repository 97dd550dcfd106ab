//! One entry of a commit batch that is more than a plain message: a reply, a message with
//! files, or a change (edit, delete, reaction). Checked against its target and its files,
//! inserted at the room's next seq, then applied to the target (an edit's text, a delete's
//! erasure and its files, a reaction's table row), all in the batch's transaction.

use natter_protocol::model::Seq;
use sqlx::{PgConnection, Row};

use super::single::{original, repeat_or_not_member, Room};
use super::sql::{message_from_row, MESSAGES_WITH_ROOM, MESSAGE_COLUMNS};
use super::{files, reactions};
use crate::store::rows::{mentions_column, new_id};
use crate::store::types::{AppendOutcome, AppendRefusal, Appended, NewEntry, NewMessage};

/// The message an entry names, in the entry's room.
struct Target {
    room_num: i64,
    seq: Seq,
    by_sender: bool,
    deleted: bool,
}

/// Whether the user is an admin of the relay now (not disabled, not deleted).
async fn is_admin(conn: &mut PgConnection, user_id: &str) -> Result<bool, sqlx::Error> {
    let admin: Option<bool> = sqlx::query_scalar(
        "SELECT role = 'admin' AND disabled_at IS NULL AND deleted_at IS NULL \
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(admin.unwrap_or(false))
}

pub(super) async fn append_entry(
    conn: &mut PgConnection,
    room: Option<&mut Room>,
    m: &NewMessage,
) -> Result<AppendOutcome, sqlx::Error> {
    // A repeat answers the original, whatever became of its target since.
    if let Some(message) = original(&mut *conn, m).await? {
        return Ok(Ok(Appended {
            message,
            created: false,
            freed_files: Vec::new(),
        }));
    }
    let member: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM members WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(&m.room_id)
    .bind(&m.sender.id)
    .fetch_one(&mut *conn)
    .await?;
    let (Some(room), true) = (room, member) else {
        return Ok(Err(AppendRefusal::NotMember));
    };
    let (target_id, kind, reply) = match &m.entry {
        NewEntry::Message { reply_to, .. } => (reply_to.as_deref(), None, true),
        NewEntry::Edit { target } => (Some(target.as_str()), Some("edit"), false),
        NewEntry::Delete { target } => (Some(target.as_str()), Some("delete"), false),
        NewEntry::Reaction { target, .. } => (Some(target.as_str()), Some("reaction"), false),
    };
    let target = match target_id {
        Some(id) => sqlx::query(
            "SELECT m.seq, m.sender_num = (SELECT num FROM users WHERE id = $3), m.deleted \
             FROM messages m WHERE m.id = $1 AND m.room_num = $2 AND m.change_kind IS NULL",
        )
        .bind(id)
        .bind(room.num)
        .bind(&m.sender.id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| {
            Ok::<_, sqlx::Error>(Target {
                room_num: room.num,
                seq: row.try_get(0)?,
                by_sender: row.try_get::<Option<bool>, _>(1)?.unwrap_or(false),
                deleted: row.try_get(2)?,
            })
        })
        .transpose()?,
        None => None,
    };
    // Only a message that answers nothing (it has files) goes without a target.
    if target.is_none() && target_id.is_some() {
        return Ok(Err(AppendRefusal::NoSuchMessage));
    }
    if let Some(target) = &target {
        // A reply may answer a deleted message (it shows as deleted); a change may not touch one.
        if !reply && target.deleted {
            return Ok(Err(AppendRefusal::NoSuchMessage));
        }
        // Only the sender edits; the sender or a relay admin (moderating a room they are in)
        // deletes.
        let allowed = match m.entry {
            NewEntry::Edit { .. } => target.by_sender,
            NewEntry::Delete { .. } => target.by_sender || is_admin(conn, &m.sender.id).await?,
            _ => true,
        };
        if !allowed {
            return Ok(Err(AppendRefusal::NotSender));
        }
    }
    let attachments = match &m.entry {
        NewEntry::Message { attachments, .. } => attachments.as_slice(),
        _ => &[],
    };
    if files::attachable(conn, attachments, &m.sender.id)
        .await?
        .is_none()
    {
        return Ok(Err(AppendRefusal::NoSuchFile));
    }
    let (emoji, on) = match &m.entry {
        NewEntry::Reaction { emoji, on, .. } => (Some(emoji.as_str()), Some(*on)),
        _ => (None, None),
    };
    let seq = room.last_seq + 1;
    let sender_num: Option<i64> = sqlx::query_scalar(
        "INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, sent_at, \
           change_kind, target_seq, reply_seq, emoji, reaction_on, mentions) \
         SELECT $1, $2, $3, u.num, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
         FROM users u WHERE u.id = $14 \
         ON CONFLICT (sender_num, client_id) DO NOTHING \
         RETURNING sender_num",
    )
    .bind(new_id())
    .bind(room.num)
    .bind(seq)
    .bind(&m.sender.username)
    .bind(&m.client_id)
    .bind(&m.body)
    .bind(&m.sent_at)
    .bind(kind)
    .bind(target.as_ref().filter(|_| !reply).map(|t| t.seq))
    .bind(target.as_ref().filter(|_| reply).map(|t| t.seq))
    .bind(emoji)
    .bind(on)
    .bind(mentions_column(&m.mentions))
    .bind(&m.sender.id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(sender_num) = sender_num else {
        // The same (sender, client_id) committed on another node meanwhile.
        return repeat_or_not_member(conn, m).await;
    };
    room.took(seq);
    files::link(&mut *conn, room.num, seq, attachments).await?;
    let freed_files = match &target {
        Some(target) => apply(&mut *conn, m, target, seq, sender_num).await?,
        None => Vec::new(),
    };
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGES_WITH_ROOM} WHERE m.room_num = $1 AND m.seq = $2"
    ))
    .bind(room.num)
    .bind(seq)
    .fetch_one(&mut *conn)
    .await?;
    let mut message = message_from_row(&row)?;
    if !attachments.is_empty() {
        files::attach(conn, std::slice::from_mut(&mut message)).await?;
    }
    Ok(Ok(Appended {
        message,
        created: true,
        freed_files,
    }))
}

/// What a change does to its target, now that its entry is in; a delete answers the content
/// hashes its files freed.
async fn apply(
    conn: &mut PgConnection,
    m: &NewMessage,
    target: &Target,
    seq: Seq,
    sender_num: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut freed = Vec::new();
    match &m.entry {
        NewEntry::Message { .. } => {}
        NewEntry::Edit { .. } => {
            sqlx::query(
                "UPDATE messages SET body = $1, edited_at = $2, mentions = $3 \
                 WHERE room_num = $4 AND seq = $5",
            )
            .bind(&m.body)
            .bind(&m.sent_at)
            .bind(mentions_column(&m.mentions))
            .bind(target.room_num)
            .bind(target.seq)
            .execute(conn)
            .await?;
        }
        NewEntry::Delete { .. } => {
            // The text leaves the rows: the message's and every edit's (the old row versions
            // stay in the table's files until VACUUM reclaims them; docs/scaling.md).
            sqlx::query(
                "UPDATE messages SET body = '', deleted = TRUE, mentions = NULL \
                 WHERE room_num = $1 AND seq = $2",
            )
            .bind(target.room_num)
            .bind(target.seq)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE messages SET body = '', mentions = NULL \
                 WHERE room_num = $1 AND target_seq = $2 AND change_kind = 'edit'",
            )
            .bind(target.room_num)
            .bind(target.seq)
            .execute(&mut *conn)
            .await?;
            reactions::clear(&mut *conn, target.room_num, target.seq).await?;
            freed = files::release(conn, target.room_num, target.seq).await?;
        }
        NewEntry::Reaction { emoji, on, .. } => {
            reactions::put(
                conn,
                &reactions::Put {
                    room_num: target.room_num,
                    message_seq: target.seq,
                    user_num: sender_num,
                    username: &m.sender.username,
                    emoji,
                    on: *on,
                    seq,
                },
            )
            .await?
        }
    }
    Ok(freed)
}
