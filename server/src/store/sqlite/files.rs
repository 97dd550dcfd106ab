//! Uploads and the files messages carry (migration 0009): an upload's row, who may read it,
//! the files of a message (linked by the commit stage, added to pages as they are read, let go
//! when the message is deleted) and orphan clean-up. The bytes are not here: the file store
//! (`crate::files`) keeps them by content hash, and removes what these functions report freed.

use std::collections::HashMap;

use natter_protocol::model::Seq;
use natter_protocol::{Attachment, Message};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::store::types::{NewFile, StoredFile};

/// An upload's columns as an [`Attachment`], in the order [`attachment_from`] reads them (from
/// column `at` on).
const ATTACHMENT_COLUMNS: &str = "f.id, f.name, f.size, f.content_type, f.width, f.height";

fn attachment_from(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: row.get(at)?,
        name: row.get(at + 1)?,
        size: row.get::<_, i64>(at + 2)?.try_into().unwrap_or(0),
        content_type: row.get(at + 3)?,
        width: row.get(at + 4)?,
        height: row.get(at + 5)?,
    })
}

pub(super) fn add(conn: &Connection, f: &NewFile) -> rusqlite::Result<()> {
    let size = i64::try_from(f.attachment.size).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "INSERT INTO files (id, uploader_num, hash, name, size, content_type, width, height, \
           uploaded_at) \
         SELECT ?1, num, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM users WHERE id = ?2",
    )?
    .execute(params![
        f.attachment.id,
        f.uploader_id,
        f.hash,
        f.attachment.name,
        size,
        f.attachment.content_type,
        f.attachment.width,
        f.attachment.height,
        f.uploaded_at
    ])?;
    Ok(())
}

/// The upload if `user_id` uploaded it or is a member of a room where a message carries it.
pub(super) fn readable(
    conn: &Connection,
    file_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<StoredFile>> {
    conn.prepare_cached(&format!(
        "SELECT f.hash, {ATTACHMENT_COLUMNS} FROM files f WHERE f.id = ?1 AND ( \
           f.uploader_num = (SELECT num FROM users WHERE id = ?2) \
           OR EXISTS (SELECT 1 FROM message_files mf JOIN rooms r ON r.num = mf.room_num \
             JOIN members mb ON mb.room_id = r.id \
             WHERE mf.file_id = f.id AND mb.user_id = ?2))"
    ))?
    .query_row(params![file_id, user_id], |row| {
        Ok(StoredFile {
            hash: row.get(0)?,
            attachment: attachment_from(row, 1)?,
        })
    })
    .optional()
}

pub(super) fn hash_in_use(conn: &Connection, hash: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM files WHERE hash = ?1)")?
        .query_row(params![hash], |row| row.get(0))
}

/// Deletes uploads made before `before` that no message carries; the hashes no upload uses
/// any more.
pub(super) fn remove_orphans(conn: &mut Connection, before: &str) -> rusqlite::Result<Vec<String>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let hashes = tx
        .prepare_cached(
            "DELETE FROM files WHERE uploaded_at < ?1 \
             AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = files.id) \
             RETURNING hash",
        )?
        .query_map(params![before], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let freed = unused(&tx, hashes)?;
    tx.commit()?;
    Ok(freed)
}

/// Of `hashes`, each once, those no upload uses.
fn unused(conn: &Connection, mut hashes: Vec<String>) -> rusqlite::Result<Vec<String>> {
    hashes.sort_unstable();
    hashes.dedup();
    let mut freed = Vec::new();
    for hash in hashes {
        if !hash_in_use(conn, &hash)? {
            freed.push(hash);
        }
    }
    Ok(freed)
}

/// The sender's own uploads named `ids`, in that order; `None` if any is unknown or someone
/// else's (one answer for both: a sender learns nothing of other people's files).
pub(super) fn attachable(
    conn: &Connection,
    ids: &[String],
    sender_id: &str,
) -> rusqlite::Result<Option<Vec<Attachment>>> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        let file = conn
            .prepare_cached(&format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM files f \
                 WHERE f.id = ?1 AND f.uploader_num = (SELECT num FROM users WHERE id = ?2)"
            ))?
            .query_row(params![id, sender_id], |row| attachment_from(row, 0))
            .optional()?;
        match file {
            Some(file) => found.push(file),
            None => return Ok(None),
        }
    }
    Ok(Some(found))
}

/// Records that the message (`room_num`, `seq`) carries `ids`, in order.
pub(super) fn link(
    conn: &Connection,
    room_num: i64,
    seq: Seq,
    ids: &[String],
) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO message_files (room_num, message_seq, position, file_id) \
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, id) in ids.iter().enumerate() {
        insert.execute(params![room_num, seq, position as i64, id])?;
    }
    Ok(())
}

/// A deleted message lets go of its files: each upload no other message carries is deleted.
/// Returns the hashes no upload uses any more.
pub(super) fn release(conn: &Connection, room_num: i64, seq: Seq) -> rusqlite::Result<Vec<String>> {
    let ids = conn
        .prepare_cached(
            "DELETE FROM message_files WHERE room_num = ?1 AND message_seq = ?2 RETURNING file_id",
        )?
        .query_map(params![room_num, seq], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut hashes = Vec::new();
    for id in ids {
        let hash: Option<String> = conn
            .prepare_cached(
                "DELETE FROM files WHERE id = ?1 \
                 AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = ?1) \
                 RETURNING hash",
            )?
            .query_row(params![id], |row| row.get(0))
            .optional()?;
        hashes.extend(hash);
    }
    unused(conn, hashes)
}

/// Fills in the files of a page's messages (all of one room, in seq order).
pub(super) fn attach(conn: &Connection, page: &mut [Message]) -> rusqlite::Result<()> {
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return Ok(());
    };
    let (room_id, low, high) = (first.room_id.clone(), first.seq, last.seq);
    let mut found: HashMap<Seq, Vec<Attachment>> = HashMap::new();
    let rows = conn
        .prepare_cached(&format!(
            "SELECT mf.message_seq, {ATTACHMENT_COLUMNS} FROM message_files mf \
             JOIN rooms r ON r.num = mf.room_num JOIN files f ON f.id = mf.file_id \
             WHERE r.id = ?1 AND mf.message_seq BETWEEN ?2 AND ?3 \
             ORDER BY mf.message_seq, mf.position"
        ))?
        .query_map(params![room_id, low, high], |row| {
            Ok((row.get::<_, Seq>(0)?, attachment_from(row, 1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if rows.is_empty() {
        return Ok(());
    }
    for (seq, file) in rows {
        found.entry(seq).or_default().push(file);
    }
    for m in page.iter_mut().filter(|m| m.room_id == room_id) {
        if let Some(files) = found.remove(&m.seq) {
            m.attachments = files;
        }
    }
    Ok(())
}
