//! The outbox: every send is written here before any network I/O and retried in order until the
//! relay acks it (`sent`, with its seq) or refuses it for good (`failed`, which the user sees).

use natter_protocol::model::Seq;
use natter_protocol::{Attachment, ErrorCode, WireError};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{Cache, CacheError};

/// Where one send stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxState {
    /// Not acked yet: retried on every (re)connect, in order.
    Pending,
    /// Acked by the relay: the message is committed with this seq.
    Sent { seq: Seq },
    /// Refused for good (`forbidden`, `invalid`, `too_large`, …); never retried.
    Failed(WireError),
}

impl OutboxState {
    fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent { .. } => "sent",
            Self::Failed(_) => "failed",
        }
    }
}

/// One send: its `client_id` is the idempotency key of `message:send`, kept across retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub client_id: String,
    pub room_id: String,
    pub body: String,
    /// RFC 3339 UTC, when the user sent it.
    pub created_at: String,
    pub state: OutboxState,
    /// The message of the room this one answers (`message:send`'s `reply_to`).
    pub reply_to: Option<String>,
    /// The files it carries (`uploads.rs`), uploaded before it is sent.
    pub files: Vec<OutboxFile>,
}

/// One file of a send, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxFile {
    pub name: String,
    /// The type the sender's system claims (the relay sniffs images itself).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Bytes.
    pub size: u64,
    /// The copy in the profile, relative to the profile directory (the app never shows it).
    #[serde(skip)]
    pub local_path: String,
    /// The relay's record of it, once uploaded.
    #[serde(skip)]
    pub attachment: Option<Attachment>,
}

pub(super) const COLUMNS: &str =
    "client_id, room_id, body, created_at, state, seq, error_code, error_message, reply_to";

impl Cache {
    /// Writes a new send (a fresh UUID as `client_id`) as `pending` and returns it.
    pub async fn enqueue(&self, room_id: &str, body: &str) -> Result<OutboxItem, CacheError> {
        self.enqueue_reply(room_id, body, None).await
    }

    /// [`enqueue`](Self::enqueue), answering the message `reply_to` when given.
    pub async fn enqueue_reply(
        &self,
        room_id: &str,
        body: &str,
        reply_to: Option<&str>,
    ) -> Result<OutboxItem, CacheError> {
        // A send without files: the one outbox INSERT lives in `uploads.rs`.
        self.enqueue_with_files(room_id, body, reply_to, Vec::new())
            .await
    }

    /// Every pending send with its files, oldest first: the order they are (re)sent in.
    pub async fn pending(&self) -> Result<Vec<OutboxItem>, CacheError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY position"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut files = self.pending_files().await?;
        rows.iter()
            .map(|row| {
                let mut item = item_from_row(row)?;
                item.files = files.remove(&item.client_id).unwrap_or_default();
                Ok(item)
            })
            .collect()
    }

    /// One send with its files, whatever its state.
    pub async fn outbox_item(&self, client_id: &str) -> Result<Option<OutboxItem>, CacheError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE client_id = ?"))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(mut item) = row.as_ref().map(item_from_row).transpose()? else {
            return Ok(None);
        };
        item.files = self.outbox_files(client_id).await?;
        Ok(Some(item))
    }

    /// pending → sent. Marking an item sent again is a no-op (a retry acked twice).
    pub async fn mark_sent(&self, client_id: &str, seq: Seq) -> Result<(), CacheError> {
        let changed = sqlx::query(
            "UPDATE outbox SET state = 'sent', seq = ? WHERE client_id = ? AND state = 'pending'",
        )
        .bind(seq)
        .bind(client_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 1 {
            return Ok(());
        }
        match self.outbox_item(client_id).await? {
            Some(OutboxItem {
                state: OutboxState::Sent { .. },
                ..
            }) => Ok(()),
            Some(item) => Err(CacheError::NotPending {
                client_id: client_id.to_owned(),
                state: item.state.name().to_owned(),
            }),
            None => Err(CacheError::UnknownOutboxItem(client_id.to_owned())),
        }
    }

    /// Forgets a failed item (the person deleted it, or sends its text again as a new message).
    /// Only a failed one: a pending item may be on its way. Says whether one was forgotten.
    pub async fn discard_failed(&self, client_id: &str) -> Result<bool, CacheError> {
        Ok(self.discard_failed_with_files(client_id).await?.is_some())
    }

    /// [`discard_failed`](Self::discard_failed), answering the files it carried (whose copies
    /// in the profile the caller removes).
    pub async fn discard_failed_with_files(
        &self,
        client_id: &str,
    ) -> Result<Option<Vec<OutboxFile>>, CacheError> {
        let files = self.outbox_files(client_id).await?;
        let gone = sqlx::query("DELETE FROM outbox WHERE client_id = ? AND state = 'failed'")
            .bind(client_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok((gone == 1).then_some(files))
    }

    /// pending → failed, only for a permanent refusal; a transient code is refused with
    /// [`CacheError::NotPermanent`] and the item stays pending.
    pub async fn mark_failed(&self, client_id: &str, error: &WireError) -> Result<(), CacheError> {
        if error.code.is_transient() {
            return Err(CacheError::NotPermanent(error.code));
        }
        let changed = sqlx::query(
            "UPDATE outbox SET state = 'failed', error_code = ?, error_message = ? \
             WHERE client_id = ? AND state = 'pending'",
        )
        .bind(error.code.as_str())
        .bind(&error.message)
        .bind(client_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 1 {
            return Ok(());
        }
        match self.outbox_item(client_id).await? {
            Some(item) => Err(CacheError::NotPending {
                client_id: client_id.to_owned(),
                state: item.state.name().to_owned(),
            }),
            None => Err(CacheError::UnknownOutboxItem(client_id.to_owned())),
        }
    }
}

/// A new pending send (a fresh UUID as `client_id`, sent now), not written yet.
pub(super) fn new_item(room_id: &str, body: &str, reply_to: Option<&str>) -> OutboxItem {
    OutboxItem {
        client_id: uuid::Uuid::new_v4().to_string(),
        room_id: room_id.to_owned(),
        body: body.to_owned(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        state: OutboxState::Pending,
        reply_to: reply_to.map(str::to_owned),
        files: Vec::new(),
    }
}

/// A row of `outbox` (its files are not in it: `files` is empty).
pub(super) fn item_from_row(row: &SqliteRow) -> Result<OutboxItem, CacheError> {
    let client_id: String = row.try_get("client_id")?;
    let state: String = row.try_get("state")?;
    let state = match state.as_str() {
        "pending" => OutboxState::Pending,
        "sent" => OutboxState::Sent {
            seq: row
                .try_get::<Option<Seq>, _>("seq")?
                .ok_or_else(|| CacheError::Corrupt(format!("sent item {client_id} has no seq")))?,
        },
        "failed" => {
            let code: String = row
                .try_get::<Option<String>, _>("error_code")?
                .unwrap_or_default();
            let code = parse_code(&code).ok_or_else(|| {
                CacheError::Corrupt(format!("failed item {client_id} has code {code:?}"))
            })?;
            let message: Option<String> = row.try_get("error_message")?;
            OutboxState::Failed(WireError::new(code, message.unwrap_or_default()))
        }
        other => {
            return Err(CacheError::Corrupt(format!(
                "outbox item {client_id} in state {other:?}"
            )))
        }
    };
    Ok(OutboxItem {
        room_id: row.try_get("room_id")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        state,
        client_id,
        reply_to: row.try_get("reply_to")?,
        files: Vec::new(),
    })
}

fn parse_code(code: &str) -> Option<ErrorCode> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}
