//! Rooms, members and read positions in SQLite: a member's view of a room, groups and DMs
//! made, members added (within the bound on rooms per user), read positions moved. Functions
//! over a connection, run on the writer or a reader thread by `mod.rs`.

use natter_protocol::limits::{MEMBERS_INLINE_MAX, UNREAD_MAX};
use natter_protocol::model::Seq;
use natter_protocol::{Room, RoomKind, User};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::store::rows::new_id;
use crate::store::types::{RoomSeq, StoreError};
use crate::time::now_rfc3339;

/// A room as member `m` sees it; the columns [`room_from_row`] reads. Its unread count is the
/// messages from others past the member's read position (change entries are not news), up to
/// `UNREAD_MAX`: a range of the `(room_num, seq)` index, each row checked. The others' furthest
/// read position is one step down the `(room_id, read_seq)` index and the member count one row
/// (migration 0011): nothing here grows with the room's size.
const ROOM_FOR_MEMBER: &str = "SELECT r.id, r.name, r.kind, r.last_seq, m.read_seq, \
     COALESCE((SELECT o.read_seq FROM members o \
      WHERE o.room_id = r.id AND o.user_id <> m.user_id ORDER BY o.read_seq DESC LIMIT 1), 0), \
     (SELECT COUNT(*) FROM (SELECT 1 FROM messages x \
      WHERE x.room_num = r.num AND x.seq > m.read_seq AND x.change_kind IS NULL \
      AND x.sender_num <> (SELECT u.num FROM users u WHERE u.id = m.user_id) LIMIT 1000)), \
     COALESCE((SELECT z.members FROM room_sizes z WHERE z.room_id = r.id), 0) \
     FROM rooms r JOIN members m ON m.room_id = r.id";

// The cap in the SQL above.
const _: () = assert!(UNREAD_MAX == 1_000);

/// A room's row as [`ROOM_FOR_MEMBER`] selects it; [`complete`] makes it a `Room`.
struct RoomRow {
    id: String,
    name: String,
    kind: String,
    last_seq: Seq,
    read_seq: Seq,
    others_read_seq: Seq,
    unread: u32,
    member_count: u32,
}

fn room_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RoomRow> {
    Ok(RoomRow {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: row.get(2)?,
        last_seq: row.get(3)?,
        read_seq: row.get(4)?,
        others_read_seq: row.get(5)?,
        unread: row.get(6)?,
        member_count: row.get(7)?,
    })
}

/// The kind checked (a bad one is a corrupt row) and the members (usernames, in name order)
/// when there are at most `MEMBERS_INLINE_MAX` of them.
fn complete(conn: &Connection, row: RoomRow) -> Result<Room, StoreError> {
    let kind = RoomKind::parse(&row.kind)
        .ok_or_else(|| StoreError::Corrupt(format!("room {} has kind {:?}", row.id, row.kind)))?;
    let members = if row.member_count <= MEMBERS_INLINE_MAX {
        conn.prepare_cached(
            "SELECT u.username FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.room_id = ?1 ORDER BY u.username_key LIMIT ?2",
        )?
        .query_map(params![row.id, MEMBERS_INLINE_MAX], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?
    } else {
        Vec::new()
    };
    Ok(Room {
        id: row.id,
        name: row.name,
        kind,
        members,
        member_count: row.member_count,
        last_seq: row.last_seq,
        read_seq: row.read_seq,
        others_read_seq: row.others_read_seq,
        unread: Some(row.unread),
    })
}

/// Room `room_id` as `user_id` sees it, if they are a member.
pub(super) fn room_for(
    conn: &Connection,
    room_id: &str,
    user_id: &str,
) -> Result<Option<Room>, StoreError> {
    let row = conn
        .prepare_cached(&format!(
            "{ROOM_FOR_MEMBER} WHERE r.id = ?1 AND m.user_id = ?2"
        ))?
        .query_row([room_id, user_id], room_from_row)
        .optional()?;
    row.map(|row| complete(conn, row)).transpose()
}

/// Every room of `user_id`, in id order.
pub(super) fn rooms_of(conn: &Connection, user_id: &str) -> Result<Vec<Room>, StoreError> {
    let rows = conn
        .prepare_cached(&format!(
            "{ROOM_FOR_MEMBER} WHERE m.user_id = ?1 ORDER BY r.id"
        ))?
        .query_map([user_id], room_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(|row| complete(conn, row)).collect()
}

pub(super) fn room_ids_of(conn: &Connection, user_id: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT room_id FROM members WHERE user_id = ?1 ORDER BY room_id")?
        .query_map([user_id], |row| row.get(0))?
        .collect()
}

/// The user's rooms, in id order, each with its last seq (one query, for a sign-on).
pub(super) fn room_seqs_of(conn: &Connection, user_id: &str) -> rusqlite::Result<Vec<RoomSeq>> {
    conn.prepare_cached(
        "SELECT m.room_id, r.last_seq FROM members m JOIN rooms r ON r.id = m.room_id \
         WHERE m.user_id = ?1 ORDER BY m.room_id",
    )?
    .query_map([user_id], |row| {
        Ok(RoomSeq {
            room_id: row.get(0)?,
            last_seq: row.get(1)?,
        })
    })?
    .collect()
}

pub(super) fn is_member(conn: &Connection, room_id: &str, user_id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM members WHERE room_id = ?1 AND user_id = ?2")?
        .exists([room_id, user_id])
}

pub(super) fn member_ids(conn: &Connection, room_id: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT user_id FROM members WHERE room_id = ?1")?
        .query_map([room_id], |row| row.get(0))?
        .collect()
}

/// Adds a member unless they already are one (false) or would then be in more than
/// `max_rooms` rooms (`TooManyRooms`). Run on the one writer connection (or in its
/// transaction), so no other membership write comes between the count and the insert.
pub(super) fn insert_member(
    conn: &Connection,
    room_id: &str,
    user_id: &str,
    max_rooms: u32,
) -> Result<bool, StoreError> {
    if is_member(conn, room_id, user_id)? {
        return Ok(false);
    }
    let rooms: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM members WHERE user_id = ?1")?
        .query_row([user_id], |row| row.get(0))?;
    if rooms >= i64::from(max_rooms) {
        return Err(StoreError::TooManyRooms(user_id.to_owned()));
    }
    let added = conn
        .prepare_cached(
            "INSERT INTO members (room_id, user_id, read_seq, joined_at) VALUES (?1, ?2, 0, ?3) \
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )?
        .execute([room_id, user_id, now_rfc3339().as_str()])?;
    // Back in the room: how they once left no longer matters.
    conn.prepare_cached("DELETE FROM departures WHERE room_id = ?1 AND user_id = ?2")?
        .execute([room_id, user_id])?;
    Ok(added == 1)
}

/// [`insert_member`] in a transaction of its own.
pub(super) fn add_member(
    conn: &mut Connection,
    room_id: &str,
    user_id: &str,
    max_rooms: u32,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let added = insert_member(&tx, room_id, user_id, max_rooms)?;
    tx.commit()?;
    Ok(added)
}

/// A group room with its creator and members; nothing is written if one of them would be in
/// too many rooms.
pub(super) fn create_group(
    conn: &mut Connection,
    name: &str,
    creator: &User,
    members: &[User],
    max_rooms: u32,
) -> Result<String, StoreError> {
    let id = new_id();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(
        "INSERT INTO rooms (id, name, kind, last_seq, created_at, creator_id) \
         VALUES (?1, ?2, 'group', 0, ?3, ?4)",
    )?
    .execute(params![id, name, now_rfc3339(), creator.id])?;
    for user in std::iter::once(creator).chain(members) {
        // An error drops `tx`: rolled back.
        insert_member(&tx, &id, &user.id, max_rooms)?;
    }
    tx.commit()?;
    Ok(id)
}

/// The direct room of two users, made if new (true).
pub(super) fn open_direct(
    conn: &mut Connection,
    a: &User,
    b: &User,
    max_rooms: u32,
) -> Result<(String, bool), StoreError> {
    let (first, second) = if a.id <= b.id { (a, b) } else { (b, a) };
    let key = format!("{}:{}", first.id, second.id);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing: Option<String> = tx
        .prepare_cached("SELECT id FROM rooms WHERE dm_key = ?1")?
        .query_row([&key], |row| row.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    let id = new_id();
    let name = format!("{}, {}", first.username, second.username);
    tx.prepare_cached(
        "INSERT INTO rooms (id, name, kind, dm_key, last_seq, created_at) \
         VALUES (?1, ?2, 'direct', ?3, 0, ?4)",
    )?
    .execute(params![id, name, key, now_rfc3339()])?;
    for user in [first, second] {
        insert_member(&tx, &id, &user.id, max_rooms)?;
    }
    tx.commit()?;
    Ok((id, true))
}

/// Moves a member's read position forward to `seq` (clamped to the room's last seq); the new
/// position, or `None` when it did not move.
pub(super) fn mark_read(
    conn: &Connection,
    room_id: &str,
    user_id: &str,
    seq: Seq,
) -> rusqlite::Result<Option<Seq>> {
    conn.prepare_cached(
        "UPDATE members SET read_seq = MIN(?1, (SELECT last_seq FROM rooms WHERE id = ?2)) \
         WHERE room_id = ?2 AND user_id = ?3 \
         AND read_seq < MIN(?1, (SELECT last_seq FROM rooms WHERE id = ?2)) \
         RETURNING read_seq",
    )?
    .query_row(params![seq, room_id, user_id], |row| row.get(0))
    .optional()
}
