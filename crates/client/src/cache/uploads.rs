//! The files of a send (issue 20): written with the outbox item in one transaction, each a copy
//! in the profile until uploaded; the relay's `Attachment` is kept once uploaded, so a retry
//! after a restart uploads only what is missing. Cancelling is possible only while some file is
//! not uploaded: after that the send may already be on its way.

use natter_protocol::{Attachment, ErrorCode};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::outbox::{item_from_row, new_item, OutboxFile, COLUMNS};
use super::{Cache, CacheError, OutboxItem};

/// The next file to upload: the first one not uploaded of the oldest pending send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadJob {
    pub client_id: String,
    pub room_id: String,
    /// Its place among the send's files.
    pub position: i64,
    pub file: OutboxFile,
    /// Bytes of the send's files already uploaded, and of all of them.
    pub done: u64,
    pub total: u64,
}

const FILE_COLUMNS: &str = "client_id, position, name, content_type, size, local_path, attachment";

impl Cache {
    /// Writes a new pending send with its files (already copied into the profile), in one
    /// transaction: the outbox never holds a send whose files it does not know.
    pub async fn enqueue_with_files(
        &self,
        room_id: &str,
        body: &str,
        reply_to: Option<&str>,
        files: Vec<OutboxFile>,
    ) -> Result<OutboxItem, CacheError> {
        let mut item = new_item(room_id, body, reply_to);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO outbox (client_id, room_id, body, created_at, state, reply_to) \
             VALUES (?, ?, ?, ?, 'pending', ?)",
        )
        .bind(&item.client_id)
        .bind(&item.room_id)
        .bind(&item.body)
        .bind(&item.created_at)
        .bind(&item.reply_to)
        .execute(&mut *tx)
        .await?;
        for (position, file) in files.iter().enumerate() {
            sqlx::query(&format!(
                "INSERT INTO outbox_files ({FILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL)"
            ))
            .bind(&item.client_id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(&file.name)
            .bind(&file.content_type)
            .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
            .bind(&file.local_path)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        item.files = files;
        Ok(item)
    }

    /// The files of one send, in the order the sender gave them.
    pub async fn outbox_files(&self, client_id: &str) -> Result<Vec<OutboxFile>, CacheError> {
        let rows = sqlx::query(&format!(
            "SELECT {FILE_COLUMNS} FROM outbox_files WHERE client_id = ? ORDER BY position"
        ))
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(file_from_row).collect()
    }

    /// The first file not uploaded of the oldest pending send that has one.
    pub async fn next_upload(&self) -> Result<Option<UploadJob>, CacheError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox o WHERE state = 'pending' AND EXISTS \
             (SELECT 1 FROM outbox_files f WHERE f.client_id = o.client_id \
              AND f.attachment IS NULL) ORDER BY position LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let item = item_from_row(&row)?;
        let files = self.outbox_files(&item.client_id).await?;
        let total = files.iter().map(|f| f.size).sum();
        let done = files
            .iter()
            .filter(|f| f.attachment.is_some())
            .map(|f| f.size)
            .sum();
        let Some((position, file)) = files
            .into_iter()
            .enumerate()
            .find(|(_, f)| f.attachment.is_none())
        else {
            return Ok(None);
        };
        Ok(Some(UploadJob {
            client_id: item.client_id,
            room_id: item.room_id,
            position: i64::try_from(position).unwrap_or(i64::MAX),
            file,
            done,
            total,
        }))
    }

    /// Records a file as uploaded (and where its copy now lives). Answers whether every file of
    /// the send is uploaded now; `None` when the send is gone (cancelled meanwhile).
    pub async fn set_uploaded(
        &self,
        client_id: &str,
        position: i64,
        attachment: &Attachment,
        local_path: &str,
    ) -> Result<Option<bool>, CacheError> {
        let json = serde_json::to_string(attachment)
            .map_err(|e| CacheError::Corrupt(format!("attachment: {e}")))?;
        let changed = sqlx::query(
            "UPDATE outbox_files SET attachment = ?, local_path = ? \
             WHERE client_id = ? AND position = ?",
        )
        .bind(json)
        .bind(local_path)
        .bind(client_id)
        .bind(position)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox_files WHERE client_id = ? AND attachment IS NULL",
        )
        .bind(client_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(left == 0))
    }

    /// The relay no longer has a pending send's uploads (its `message:send` was refused
    /// `not_found`: swept as an orphan, or otherwise lost): forgets them so they are uploaded
    /// again from their copies in the profile. Once per send: the row keeps that refusal's code
    /// (`error_code` on a pending row), and a second time answers `false` (the caller fails the
    /// send instead of looping).
    pub async fn upload_again(&self, client_id: &str) -> Result<bool, CacheError> {
        let mut tx = self.pool.begin().await?;
        let marked = sqlx::query(
            "UPDATE outbox SET error_code = ? \
             WHERE client_id = ? AND state = 'pending' AND error_code IS NULL",
        )
        .bind(ErrorCode::NotFound.as_str())
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked != 1 {
            return Ok(false);
        }
        sqlx::query("UPDATE outbox_files SET attachment = NULL WHERE client_id = ?")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a pending send while one of its files is still to upload (after that, the send
    /// may be on its way and cannot be taken back). Answers its files, whose copies the caller
    /// removes; `None` when there was no such send.
    pub async fn cancel_upload(
        &self,
        client_id: &str,
    ) -> Result<Option<Vec<OutboxFile>>, CacheError> {
        let files = self.outbox_files(client_id).await?;
        let gone = sqlx::query(
            "DELETE FROM outbox WHERE client_id = ? AND state = 'pending' AND EXISTS \
             (SELECT 1 FROM outbox_files f WHERE f.client_id = outbox.client_id \
              AND f.attachment IS NULL)",
        )
        .bind(client_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok((gone == 1).then_some(files))
    }

    /// Every pending send's files, by client_id (for [`Cache::pending`]).
    pub(super) async fn pending_files(
        &self,
    ) -> Result<std::collections::HashMap<String, Vec<OutboxFile>>, CacheError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM outbox_files f JOIN outbox o USING (client_id) \
             WHERE o.state = 'pending' ORDER BY f.client_id, f.position",
            FILE_COLUMNS
                .split(", ")
                .map(|c| format!("f.{c} AS {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut by_item: std::collections::HashMap<String, Vec<OutboxFile>> = Default::default();
        for row in &rows {
            let client_id: String = row.try_get("client_id")?;
            by_item
                .entry(client_id)
                .or_default()
                .push(file_from_row(row)?);
        }
        Ok(by_item)
    }
}

fn file_from_row(row: &SqliteRow) -> Result<OutboxFile, CacheError> {
    let size: i64 = row.try_get("size")?;
    let attachment = match row.try_get::<Option<String>, _>("attachment")? {
        Some(json) => Some(
            serde_json::from_str(&json)
                .map_err(|e| CacheError::Corrupt(format!("outbox file attachment: {e}")))?,
        ),
        None => None,
    };
    Ok(OutboxFile {
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        size: u64::try_from(size).unwrap_or_default(),
        local_path: row.try_get("local_path")?,
        attachment,
    })
}
