//! Rooms, members and read positions in PostgreSQL: a member's view of a room, groups and DMs
//! made, members added (within the bound on rooms per user), read positions moved.

use natter_protocol::limits::MEMBERS_INLINE_MAX;
use natter_protocol::model::Seq;
use natter_protocol::{Room, RoomKind, User};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::store::rows::new_id;
use crate::store::types::{RoomSeq, StoreError};
use crate::time::now_rfc3339;

/// A room as member `m` sees it; the columns [`complete`] reads. Its unread count is the
/// messages from others past the member's read position (change entries are not news), up to
/// `UNREAD_MAX`: a range of the `(room_num, seq)` key, each row checked. The others' furthest
/// read position is one step down the `(room_id, read_seq)` index and the member count one row
/// (migration 0005): nothing here grows with the room's size.
const ROOM_FOR_MEMBER: &str = "SELECT r.id, r.name, r.kind, s.last_seq, m.read_seq, \
     COALESCE((SELECT o.read_seq FROM members o \
      WHERE o.room_id = r.id AND o.user_id <> m.user_id ORDER BY o.read_seq DESC LIMIT 1), 0), \
     (SELECT COUNT(*) FROM (SELECT 1 FROM messages x \
      WHERE x.room_num = r.num AND x.seq > m.read_seq AND x.change_kind IS NULL \
      AND x.sender_num <> (SELECT u.num FROM users u WHERE u.id = m.user_id) LIMIT 1000) n), \
     COALESCE((SELECT z.members FROM room_sizes z WHERE z.room_id = r.id), 0) \
     FROM rooms r JOIN members m ON m.room_id = r.id \
     CROSS JOIN LATERAL room_last_seqs(ARRAY[r.num]) s";

// The cap in the SQL above.
const _: () = assert!(natter_protocol::limits::UNREAD_MAX == 1_000);

/// The row of [`ROOM_FOR_MEMBER`] with its kind checked (a bad one is a corrupt row) and its
/// members (usernames, in name order) when there are at most `MEMBERS_INLINE_MAX` of them.
async fn complete(conn: &mut PgConnection, row: &PgRow) -> Result<Room, StoreError> {
    let id: String = row.try_get(0)?;
    let kind: String = row.try_get(2)?;
    let kind = RoomKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("room {id} has kind {kind:?}")))?;
    let member_count = u32::try_from(row.try_get::<i64, _>(7)?).unwrap_or(u32::MAX);
    let members: Vec<String> = if member_count <= MEMBERS_INLINE_MAX {
        sqlx::query_scalar(
            "SELECT u.username FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.room_id = $1 ORDER BY u.username_key LIMIT $2",
        )
        .bind(&id)
        .bind(i64::from(MEMBERS_INLINE_MAX))
        .fetch_all(conn)
        .await?
    } else {
        Vec::new()
    };
    Ok(Room {
        id,
        name: row.try_get(1)?,
        kind,
        members,
        member_count,
        last_seq: row.try_get(3)?,
        read_seq: row.try_get(4)?,
        others_read_seq: row.try_get(5)?,
        unread: Some(u32::try_from(row.try_get::<i64, _>(6)?).unwrap_or(u32::MAX)),
    })
}

/// Room `room_id` as `user_id` sees it, if they are a member.
pub(super) async fn room_for(
    conn: &mut PgConnection,
    room_id: &str,
    user_id: &str,
) -> Result<Option<Room>, StoreError> {
    let row = sqlx::query(&format!(
        "{ROOM_FOR_MEMBER} WHERE r.id = $1 AND m.user_id = $2"
    ))
    .bind(room_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(complete(conn, &row).await?)),
        None => Ok(None),
    }
}

/// Every room of `user_id`, in id order.
pub(super) async fn rooms_of(
    conn: &mut PgConnection,
    user_id: &str,
) -> Result<Vec<Room>, StoreError> {
    let rows = sqlx::query(&format!(
        "{ROOM_FOR_MEMBER} WHERE m.user_id = $1 ORDER BY r.id"
    ))
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut rooms = Vec::with_capacity(rows.len());
    for row in &rows {
        rooms.push(complete(conn, row).await?);
    }
    Ok(rooms)
}

pub(super) async fn room_ids_of(
    conn: &mut PgConnection,
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT room_id FROM members WHERE user_id = $1 ORDER BY room_id")
        .bind(user_id)
        .fetch_all(conn)
        .await
}

/// The user's rooms, in id order, each with its last seq (one query, for a sign-on).
pub(super) async fn room_seqs_of(
    conn: &mut PgConnection,
    user_id: &str,
) -> Result<Vec<RoomSeq>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.room_id, s.last_seq FROM members m JOIN rooms r ON r.id = m.room_id \
         CROSS JOIN LATERAL room_last_seqs(ARRAY[r.num]) s \
         WHERE m.user_id = $1 ORDER BY m.room_id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(RoomSeq {
                room_id: row.try_get(0)?,
                last_seq: row.try_get(1)?,
            })
        })
        .collect()
}

pub(super) async fn is_member(
    conn: &mut PgConnection,
    room_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM members WHERE room_id = $1 AND user_id = $2)")
        .bind(room_id)
        .bind(user_id)
        .fetch_one(conn)
        .await
}

pub(super) async fn member_ids(
    conn: &mut PgConnection,
    room_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM members WHERE room_id = $1")
        .bind(room_id)
        .fetch_all(conn)
        .await
}

/// Locks the rows of these users, in id order (every writer takes them in that order, so two
/// never wait on each other): membership writes of one user run one at a time, across nodes,
/// so none comes between [`insert_member`]'s count and its insert. `NO KEY UPDATE`, not
/// `UPDATE`: the lock must not block the key-share locks that inserting a row naming the user
/// takes (a message, a session), or a commit batch holding a room and waiting for the user
/// would deadlock with a membership write holding the user and waiting for the room.
pub(super) async fn lock_users(
    conn: &mut PgConnection,
    user_ids: &[&str],
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM users WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(user_ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a member unless they already are one (false) or would then be in more than
/// `max_rooms` rooms (`TooManyRooms`). Run in a transaction: it locks the user's row first.
pub(super) async fn insert_member(
    conn: &mut PgConnection,
    room_id: &str,
    user_id: &str,
    max_rooms: u32,
) -> Result<bool, StoreError> {
    lock_users(&mut *conn, &[user_id]).await?;
    if is_member(&mut *conn, room_id, user_id).await? {
        return Ok(false);
    }
    let rooms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?;
    if rooms >= i64::from(max_rooms) {
        return Err(StoreError::TooManyRooms(user_id.to_owned()));
    }
    let added = sqlx::query(
        "INSERT INTO members (room_id, user_id, read_seq, joined_at) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (room_id, user_id) DO NOTHING",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(now_rfc3339())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // Back in the room: how they once left no longer matters.
    sqlx::query("DELETE FROM departures WHERE room_id = $1 AND user_id = $2")
        .bind(room_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(added == 1)
}

/// [`insert_member`] in a transaction of its own.
pub(super) async fn add_member(
    pool: &PgPool,
    room_id: &str,
    user_id: &str,
    max_rooms: u32,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let added = insert_member(&mut tx, room_id, user_id, max_rooms).await?;
    tx.commit().await?;
    Ok(added)
}

/// A group room with its creator and members; nothing is written if one of them would be in
/// too many rooms.
pub(super) async fn create_group(
    pool: &PgPool,
    name: &str,
    creator: &User,
    members: &[User],
    max_rooms: u32,
) -> Result<String, StoreError> {
    let id = new_id();
    let mut tx = pool.begin().await?;
    let everyone: Vec<&str> = std::iter::once(creator)
        .chain(members)
        .map(|u| u.id.as_str())
        .collect();
    lock_users(&mut tx, &everyone).await?;
    sqlx::query(
        "INSERT INTO rooms (id, name, kind, created_at, creator_id) \
         VALUES ($1, $2, 'group', $3, $4)",
    )
    .bind(&id)
    .bind(name)
    .bind(now_rfc3339())
    .bind(&creator.id)
    .execute(&mut *tx)
    .await?;
    for user in everyone {
        // An error drops `tx`: rolled back.
        insert_member(&mut tx, &id, user, max_rooms).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The direct room of two users, made if new (true). Two nodes opening it at once make one:
/// the second waits on the first's `dm_key` and then finds its room.
pub(super) async fn open_direct(
    pool: &PgPool,
    a: &User,
    b: &User,
    max_rooms: u32,
) -> Result<(String, bool), StoreError> {
    let (first, second) = if a.id <= b.id { (a, b) } else { (b, a) };
    let key = format!("{}:{}", first.id, second.id);
    let mut tx = pool.begin().await?;
    lock_users(&mut tx, &[first.id.as_str(), second.id.as_str()]).await?;
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM rooms WHERE dm_key = $1")
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    let id = new_id();
    let name = format!("{}, {}", first.username, second.username);
    sqlx::query(
        "INSERT INTO rooms (id, name, kind, dm_key, created_at) \
         VALUES ($1, $2, 'direct', $3, $4)",
    )
    .bind(&id)
    .bind(name)
    .bind(&key)
    .bind(now_rfc3339())
    .execute(&mut *tx)
    .await?;
    for user in [first, second] {
        insert_member(&mut tx, &id, &user.id, max_rooms).await?;
    }
    tx.commit().await?;
    Ok((id, true))
}

/// Moves a member's read position forward to `seq` (clamped to the room's last seq); the new
/// position, or `None` when it did not move.
pub(super) async fn mark_read(
    conn: &mut PgConnection,
    room_id: &str,
    user_id: &str,
    seq: Seq,
) -> Result<Option<Seq>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH last AS (SELECT s.last_seq FROM rooms r, room_last_seqs(ARRAY[r.num]) s \
           WHERE r.id = $2) \
         UPDATE members SET read_seq = LEAST($1, (SELECT last_seq FROM last)) \
         WHERE room_id = $2 AND user_id = $3 \
         AND read_seq < LEAST($1, (SELECT last_seq FROM last)) \
         RETURNING read_seq",
    )
    .bind(seq)
    .bind(room_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}
