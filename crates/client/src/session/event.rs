//! The one typed stream of events a session sends to the app (and, later, the Tauri shell to the
//! webview): serde-tagged so it can be forwarded as JSON unchanged.

use natter_protocol::events::{PresenceEvent, ReceiptEvent, TypingEvent};
use natter_protocol::model::Seq;
use natter_protocol::{Message, Room, WireError};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::cache::{OutboxFile, OutboxItem};
use crate::supervisor::{ConnectionState, OfflineReason};
use crate::transport::TransportKind;
use crate::trust::CertificateError;

/// Something the app should show. Each (room, seq) arrives as [`AppEvent::Message`] exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    /// A message new to this profile (live, caught up, or the ack of our own send).
    Message {
        message: Message,
    },
    /// A message already announced changed (edited, deleted, reacted to): its state now. Sent
    /// right after the change entry's own [`AppEvent::Message`].
    MessageChanged {
        message: Message,
    },
    /// One of our sends moved: pending (queued, with what the app needs to draw it), sent
    /// (committed with a seq) or failed for good. The app hears `pending` first for every send
    /// of this session, whether written now or left in the outbox by an earlier run.
    MessageState {
        client_id: String,
        room_id: String,
        state: DeliveryState,
    },
    /// How far the upload of a pending send's files is: `sent` of `total` bytes (after a
    /// retry, it starts again from the files already up). Then `MessageState` as for any send.
    Upload {
        client_id: String,
        room_id: String,
        sent: u64,
        total: u64,
    },
    /// A room was created, changed, or listed by a catch-up: replace the app's copy.
    Room {
        room: Room,
    },
    /// How many messages from others in a room this account has not read (change entries are
    /// not news), as the cache counts it now: sent when new messages or a read move it. A
    /// [`AppEvent::Room`] carries the same count in its `unread`.
    Unread {
        room_id: String,
        count: u32,
    },
    /// A room is no longer ours: its creator removed us, or a catch-up found it gone (left on
    /// another device). Its cached messages, cursor and draft are forgotten already.
    RoomGone {
        room_id: String,
    },
    Typing(TypingEvent),
    Presence(PresenceEvent),
    Receipt(ReceiptEvent),
    /// The connection moved. `connected` is sent once the catch-up after a connect is done.
    Connection {
        state: ConnectionView,
    },
}

/// Where one of our sends stands, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeliveryState {
    /// Written to the outbox, not acked yet: the body and when the user sent it (RFC 3339),
    /// and the files it carries (name, size, type), if any.
    Pending {
        body: String,
        created_at: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<OutboxFile>,
    },
    Sent {
        seq: Seq,
    },
    Failed {
        error: WireError,
    },
}

impl AppEvent {
    /// The `pending` announcement of a send in the outbox.
    pub fn pending(item: &OutboxItem) -> Self {
        Self::MessageState {
            client_id: item.client_id.clone(),
            room_id: item.room_id.clone(),
            state: DeliveryState::Pending {
                body: item.body.clone(),
                created_at: item.created_at.clone(),
                files: item.files.clone(),
            },
        }
    }
}

/// The connection state without its handles: what a status indicator needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionView {
    /// Attempt `attempt` runs (`retry_in_ms: None`) or the next one starts in `retry_in_ms`
    /// (counted from when the event was made: a countdown for the status line).
    Connecting {
        attempt: u32,
        retry_in_ms: Option<u64>,
    },
    /// Connected and caught up, over `transport` (`websocket`, or `polling` after a failed
    /// WebSocket handshake).
    Connected { transport: TransportKind },
    /// Not trying: `unauthorized` (log in again), `certificate` (with the problem: the relay's
    /// certificate is untrusted, or changed since it was pinned) or `stopped`.
    Offline {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<CertificateError>,
    },
}

impl ConnectionView {
    /// The `offline` reason of a stopped session.
    pub const STOPPED: &'static str = "stopped";
    /// The `offline` reason when the relay refused the token.
    pub const UNAUTHORIZED: &'static str = "unauthorized";
    /// The `offline` reason when the relay's certificate is not trusted or changed.
    pub const CERTIFICATE: &'static str = "certificate";

    /// The view of a supervisor state that is not `Connected` (that one is announced only after
    /// the catch-up, so the worker builds it itself).
    pub(crate) fn of(state: &ConnectionState) -> Option<Self> {
        match state {
            ConnectionState::Connecting { attempt, retry_at } => Some(Self::Connecting {
                attempt: *attempt,
                retry_in_ms: retry_at.map(|at| {
                    let left = at.saturating_duration_since(Instant::now());
                    u64::try_from(left.as_millis()).unwrap_or(u64::MAX)
                }),
            }),
            ConnectionState::Connected { .. } => None,
            ConnectionState::Offline { reason } => Some(Self::Offline {
                reason: match reason {
                    OfflineReason::Unauthorized => Self::UNAUTHORIZED,
                    OfflineReason::Certificate(_) => Self::CERTIFICATE,
                    OfflineReason::Stopped => Self::STOPPED,
                }
                .to_owned(),
                certificate: match reason {
                    OfflineReason::Certificate(problem) => Some(problem.clone()),
                    _ => None,
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_protocol::ErrorCode;
    use serde_json::json;

    #[test]
    fn events_are_tagged_json() -> Result<(), serde_json::Error> {
        let state = AppEvent::MessageState {
            client_id: "c-1".into(),
            room_id: "general".into(),
            state: DeliveryState::Failed {
                error: WireError::new(ErrorCode::Forbidden, "not a member"),
            },
        };
        let value = serde_json::to_value(&state)?;
        assert_eq!(
            value,
            json!({"type": "message_state", "client_id": "c-1", "room_id": "general",
                   "state": {"state": "failed",
                             "error": {"code": "forbidden", "message": "not a member"}}})
        );
        assert_eq!(serde_json::from_value::<AppEvent>(value)?, state);

        let pending = AppEvent::MessageState {
            client_id: "c-2".into(),
            room_id: "general".into(),
            state: DeliveryState::Pending {
                body: "hi".into(),
                created_at: "2026-01-01T00:00:00.000Z".into(),
                files: Vec::new(),
            },
        };
        assert_eq!(
            serde_json::to_value(&pending)?,
            json!({"type": "message_state", "client_id": "c-2", "room_id": "general",
                   "state": {"state": "pending", "body": "hi",
                             "created_at": "2026-01-01T00:00:00.000Z"}})
        );

        let typing = AppEvent::Typing(TypingEvent {
            room_id: "general".into(),
            user: "bob".into(),
            typing: true,
        });
        let value = serde_json::to_value(&typing)?;
        assert_eq!(
            value,
            json!({"type": "typing", "room_id": "general", "user": "bob", "typing": true})
        );
        assert_eq!(serde_json::from_value::<AppEvent>(value)?, typing);

        let connected = AppEvent::Connection {
            state: ConnectionView::Connected {
                transport: TransportKind::WebSocket,
            },
        };
        assert_eq!(
            serde_json::to_value(&connected)?,
            json!({"type": "connection", "state": {"state": "connected", "transport": "websocket"}})
        );
        let retrying = AppEvent::Connection {
            state: ConnectionView::Connecting {
                attempt: 3,
                retry_in_ms: Some(1500),
            },
        };
        assert_eq!(
            serde_json::to_value(&retrying)?,
            json!({"type": "connection",
                   "state": {"state": "connecting", "attempt": 3, "retry_in_ms": 1500}})
        );
        Ok(())
    }
}
