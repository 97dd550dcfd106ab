//! Paging older messages when a room is opened: the cache first, the relay for what it lacks.
//!
//! History stops at the room's cursor: everything above it reaches the app once, in order, as
//! [`AppEvent::Message`](super::AppEvent::Message)s from the worker, so a history page never
//! holds a message the event stream has yet to announce.

use natter_protocol::limits::HISTORY_MAX_LIMIT;
use natter_protocol::model::Seq;
use natter_protocol::requests::History;
use natter_protocol::Message;

use super::{Session, SessionError};
use crate::supervisor::ConnectionState;
use crate::transport::RequestError;

impl Session {
    /// Up to `limit` (at most 100) messages of a room with seq < `before_seq` (the newest page,
    /// ending at the cursor, when `None`), oldest first. Answered from the cache when it holds the whole page;
    /// otherwise fetched from the relay and cached. Offline (or if the connection dies), the
    /// cached part is the answer; a refusal (e.g. `forbidden`) is an error.
    pub async fn history(
        &self,
        room_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<Message>, SessionError> {
        let limit = limit.min(HISTORY_MAX_LIMIT);
        let below_cursor = self.cache.cursor(room_id).await?.saturating_add(1);
        let before = before_seq.map_or(below_cursor, |b| b.min(below_cursor));
        let cached = self.cache.messages(room_id, Some(before), limit).await?;
        if is_whole_page(&cached, before, limit) {
            return Ok(cached);
        }
        let conn = match &*self.connection.borrow() {
            ConnectionState::Connected { transport } => transport.clone(),
            _ => return Ok(cached),
        };
        let request = History {
            around: None,
            room_id: room_id.to_owned(),
            before_seq: Some(before),
            limit: Some(limit),
        };
        match conn.request(&request).await {
            Ok(ack) => {
                // The relay answers below `before`, so below the cursor: nothing the worker
                // still has to announce.
                let page: Vec<Message> = ack
                    .messages
                    .into_iter()
                    .filter(|m| m.room_id == room_id && m.seq < before)
                    .collect();
                self.cache.insert_messages(&page).await?;
                Ok(page)
            }
            Err(RequestError::Refused(error)) => Err(SessionError::Refused(error)),
            Err(e) => {
                tracing::debug!(error = %e, "history from the relay failed; answering from the cache");
                Ok(cached)
            }
        }
    }
}

/// Whether `messages` (oldest first) are every seq of the page that ends right below `before`:
/// `limit` of them without a hole, or all of them down to seq 1.
fn is_whole_page(messages: &[Message], before: Seq, limit: u32) -> bool {
    let Some(last) = messages.last() else {
        return before <= 1 || limit == 0;
    };
    let contiguous = messages.windows(2).all(|w| w[1].seq == w[0].seq + 1);
    let reaches_start = messages.first().is_some_and(|m| m.seq == 1);
    let full = messages.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
    last.seq == before - 1 && contiguous && (full || reaches_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seqs: &[Seq]) -> Vec<Message> {
        seqs.iter()
            .map(|&seq| Message {
                id: format!("m{seq}"),
                room_id: "general".into(),
                seq,
                sender: "alice".into(),
                body: "hi".into(),
                client_id: format!("c{seq}"),
                sent_at: "2024-05-01T12:00:00.000Z".into(),
                ..Message::default()
            })
            .collect()
    }

    #[test]
    fn a_page_is_whole_only_without_holes_up_to_before() {
        assert!(is_whole_page(&at(&[3, 4, 5]), 6, 3));
        assert!(is_whole_page(&at(&[1, 2]), 3, 50), "the start of the room");
        assert!(is_whole_page(&[], 1, 50), "nothing before seq 1");
        assert!(!is_whole_page(&at(&[3, 5]), 6, 2), "a hole");
        assert!(!is_whole_page(&at(&[3, 4]), 6, 2), "ends below before - 1");
        assert!(!is_whole_page(&at(&[4, 5]), 6, 3), "short of the limit");
        assert!(!is_whole_page(&[], 6, 3));
    }
}
