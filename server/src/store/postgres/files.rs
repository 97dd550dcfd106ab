//! Uploads and the files messages carry in PostgreSQL (migration 0003): an upload's row, who
//! may read it, the files of a message (linked by the commit stage, added to pages as they are
//! read, let go when the message is deleted) and orphan clean-up. The bytes are not here: the
//! file store (`crate::files`) keeps them by content hash, and removes what these functions
//! report freed.

use std::collections::HashMap;

use natter_protocol::model::Seq;
use natter_protocol::{Attachment, Message};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::store::types::{NewFile, StoredFile};

/// An upload's columns as an [`Attachment`], in the order [`attachment_from`] reads them (from
/// column `at` on).
const ATTACHMENT_COLUMNS: &str = "f.id, f.name, f.size, f.content_type, f.width, f.height";

fn attachment_from(row: &PgRow, at: usize) -> Result<Attachment, sqlx::Error> {
    let dimension = |i: usize| -> Result<Option<u32>, sqlx::Error> {
        Ok(row
            .try_get::<Option<i64>, _>(i)?
            .and_then(|v| u32::try_from(v).ok()))
    };
    Ok(Attachment {
        id: row.try_get(at)?,
        name: row.try_get(at + 1)?,
        size: row.try_get::<i64, _>(at + 2)?.try_into().unwrap_or(0),
        content_type: row.try_get(at + 3)?,
        width: dimension(at + 4)?,
        height: dimension(at + 5)?,
    })
}

pub(super) async fn add(conn: &mut PgConnection, f: &NewFile) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO files (id, uploader_num, hash, name, size, content_type, width, height, \
           uploaded_at) \
         SELECT $1, num, $3, $4, $5, $6, $7, $8, $9 FROM users WHERE id = $2",
    )
    .bind(&f.attachment.id)
    .bind(&f.uploader_id)
    .bind(&f.hash)
    .bind(&f.attachment.name)
    .bind(i64::try_from(f.attachment.size).unwrap_or(i64::MAX))
    .bind(&f.attachment.content_type)
    .bind(f.attachment.width.map(i64::from))
    .bind(f.attachment.height.map(i64::from))
    .bind(&f.uploaded_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The upload if `user_id` uploaded it or is a member of a room where a message carries it.
pub(super) async fn readable(
    conn: &mut PgConnection,
    file_id: &str,
    user_id: &str,
) -> Result<Option<StoredFile>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT f.hash, {ATTACHMENT_COLUMNS} FROM files f WHERE f.id = $1 AND ( \
           f.uploader_num = (SELECT num FROM users WHERE id = $2) \
           OR EXISTS (SELECT 1 FROM message_files mf JOIN rooms r ON r.num = mf.room_num \
             JOIN members mb ON mb.room_id = r.id \
             WHERE mf.file_id = f.id AND mb.user_id = $2))"
    ))
    .bind(file_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?
    .map(|row| {
        Ok(StoredFile {
            hash: row.try_get(0)?,
            attachment: attachment_from(&row, 1)?,
        })
    })
    .transpose()
}

pub(super) async fn hash_in_use(conn: &mut PgConnection, hash: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM files WHERE hash = $1)")
        .bind(hash)
        .fetch_one(conn)
        .await
}

/// Deletes uploads made before `before` that no message carries; the hashes no upload uses
/// any more.
pub(super) async fn remove_orphans(
    pool: &PgPool,
    before: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let orphans: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM files WHERE uploaded_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = files.id)",
    )
    .bind(before)
    .fetch_all(&mut *tx)
    .await?;
    lock_for_removal(&mut tx, &orphans).await?;
    let hashes: Vec<String> = sqlx::query_scalar(
        "DELETE FROM files WHERE id = ANY($1) \
         AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = files.id) \
         RETURNING hash",
    )
    .bind(&orphans)
    .fetch_all(&mut *tx)
    .await?;
    let freed = unused(&mut tx, hashes).await?;
    tx.commit().await?;
    Ok(freed)
}

/// Locks uploads about to be removed if no message carries them. A send attaching one of
/// them on another node holds it (`attachable`) until its batch commits: this waits for that,
/// and the next statement, on a fresh snapshot, then sees the file carried and keeps it (one
/// statement alone would judge by its own older snapshot).
async fn lock_for_removal(conn: &mut PgConnection, ids: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM files WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Of `hashes`, each once, those no upload uses.
async fn unused(
    conn: &mut PgConnection,
    mut hashes: Vec<String>,
) -> Result<Vec<String>, sqlx::Error> {
    hashes.sort_unstable();
    hashes.dedup();
    sqlx::query_scalar(
        "SELECT t.h FROM unnest($1::text[]) WITH ORDINALITY AS t(h, ord) \
         WHERE NOT EXISTS (SELECT 1 FROM files WHERE hash = t.h) ORDER BY t.ord",
    )
    .bind(&hashes)
    .fetch_all(conn)
    .await
}

/// The sender's own uploads named `ids`, in that order; `None` if any is unknown or someone
/// else's (one answer for both: a sender learns nothing of other people's files).
pub(super) async fn attachable(
    conn: &mut PgConnection,
    ids: &[String],
    sender_id: &str,
) -> Result<Option<Vec<Attachment>>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Some(Vec::new()));
    }
    // Locked (KEY SHARE) until the batch commits: a delete or the orphan sweep on another node
    // that would remove one of them waits, then sees it carried (`lock_for_removal`).
    let rows = sqlx::query(&format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM files f \
         WHERE f.id = ANY($1) AND f.uploader_num = (SELECT num FROM users WHERE id = $2) \
         ORDER BY f.id FOR KEY SHARE OF f"
    ))
    .bind(ids)
    .bind(sender_id)
    .fetch_all(conn)
    .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in &rows {
        let file = attachment_from(row, 0)?;
        found.insert(file.id.clone(), file);
    }
    Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
}

/// Records that the message (`room_num`, `seq`) carries `ids`, in order.
pub(super) async fn link(
    conn: &mut PgConnection,
    room_num: i64,
    seq: Seq,
    ids: &[String],
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO message_files (room_num, message_seq, position, file_id) \
         SELECT $1, $2, (t.ord - 1)::int4, t.id FROM unnest($3::text[]) WITH ORDINALITY AS t(id, ord)",
    )
    .bind(room_num)
    .bind(seq)
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// A deleted message lets go of its files: each upload no other message carries is deleted.
/// Returns the hashes no upload uses any more.
pub(super) async fn release(
    conn: &mut PgConnection,
    room_num: i64,
    seq: Seq,
) -> Result<Vec<String>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "DELETE FROM message_files WHERE room_num = $1 AND message_seq = $2 RETURNING file_id",
    )
    .bind(room_num)
    .bind(seq)
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    lock_for_removal(&mut *conn, &ids).await?;
    let hashes: Vec<String> = sqlx::query_scalar(
        "DELETE FROM files WHERE id = ANY($1) \
         AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = files.id) \
         RETURNING hash",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    unused(conn, hashes).await
}

/// Fills in the files of a page's messages (all of one room, in seq order).
pub(super) async fn attach(
    conn: &mut PgConnection,
    page: &mut [Message],
) -> Result<(), sqlx::Error> {
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return Ok(());
    };
    let (room_id, low, high) = (first.room_id.clone(), first.seq, last.seq);
    let rows = sqlx::query(&format!(
        "SELECT mf.message_seq, {ATTACHMENT_COLUMNS} FROM message_files mf \
         JOIN rooms r ON r.num = mf.room_num JOIN files f ON f.id = mf.file_id \
         WHERE r.id = $1 AND mf.message_seq BETWEEN $2 AND $3 \
         ORDER BY mf.message_seq, mf.position"
    ))
    .bind(&room_id)
    .bind(low)
    .bind(high)
    .fetch_all(conn)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut found: HashMap<Seq, Vec<Attachment>> = HashMap::new();
    for row in &rows {
        found
            .entry(row.try_get(0)?)
            .or_default()
            .push(attachment_from(row, 1)?);
    }
    for m in page.iter_mut().filter(|m| m.room_id == room_id) {
        if let Some(files) = found.remove(&m.seq) {
            m.attachments = files;
        }
    }
    Ok(())
}
