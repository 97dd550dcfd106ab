//! Paging a room's messages when it is opened or scrolled: the cache first, the relay for what
//! it lacks. Pages hold messages only, each as it is now (change entries are folded into their
//! targets), so a room whose newest seqs are thousands of reactions pages by its messages.
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
    /// ending at the cursor, when `None`), oldest first. Answered from the cache when it holds
    /// every seq the page spans; otherwise fetched from the relay and cached. Offline (or if the
    /// connection dies), the cached part is the answer; a refusal (e.g. `forbidden`) is an error.
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
        // Whole: `limit` messages with every seq from the oldest up held, or fewer with every
        // seq down to the room's first.
        let from = match cached.first() {
            Some(oldest) if full(&cached, limit) => oldest.seq,
            _ => 1,
        };
        if limit == 0
            || self
                .cache
                .holds_every_seq(room_id, from, before - 1)
                .await?
        {
            return Ok(cached);
        }
        let request = History {
            around: None,
            room_id: room_id.to_owned(),
            before_seq: Some(before),
            limit: Some(limit),
            messages_only: true,
            ..History::default()
        };
        // The relay answers below `before`, so below the cursor: nothing the worker still has
        // to announce.
        self.ask_page(request, cached, |seq| seq < before).await
    }

    /// Up to `limit` (at most 100) messages of a room with seq > `after_seq`, up to the cursor,
    /// oldest first: a window scrolled back down towards the newest. Fewer than `limit` means
    /// the page reaches the cursor (what is above comes as events). Cache first, like
    /// [`history`](Self::history).
    pub async fn history_after(
        &self,
        room_id: &str,
        after_seq: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, SessionError> {
        let limit = limit.min(HISTORY_MAX_LIMIT);
        let cursor = self.cache.cursor(room_id).await?;
        if limit == 0 || after_seq >= cursor {
            return Ok(Vec::new());
        }
        let cached = self
            .cache
            .messages_after(room_id, after_seq, cursor, limit)
            .await?;
        let to = match cached.last() {
            Some(newest) if full(&cached, limit) => newest.seq,
            _ => cursor,
        };
        if self
            .cache
            .holds_every_seq(room_id, after_seq + 1, to)
            .await?
        {
            return Ok(cached);
        }
        let request = History {
            room_id: room_id.to_owned(),
            after_seq: Some(after_seq),
            limit: Some(limit),
            messages_only: true,
            ..History::default()
        };
        self.ask_page(request, cached, |seq| seq > after_seq && seq <= cursor)
            .await
    }

    /// Asks the relay for a page, caches what falls `within` the asked range, answers its
    /// messages (a relay before `messages_only` sends change entries too: they are cached, not
    /// answered). Offline or on a dead connection, `cached` is the answer.
    async fn ask_page(
        &self,
        request: History,
        cached: Vec<Message>,
        within: impl Fn(Seq) -> bool,
    ) -> Result<Vec<Message>, SessionError> {
        let conn = match &*self.connection.borrow() {
            ConnectionState::Connected { transport } => transport.clone(),
            _ => return Ok(cached),
        };
        match conn.request(&request).await {
            Ok(ack) => {
                let page: Vec<Message> = ack
                    .messages
                    .into_iter()
                    .filter(|m| m.room_id == request.room_id && within(m.seq))
                    .collect();
                self.cache.insert_messages(&page).await?;
                Ok(page.into_iter().filter(|m| m.change.is_none()).collect())
            }
            Err(RequestError::Refused(error)) => Err(SessionError::Refused(error)),
            Err(e) => {
                tracing::debug!(error = %e, "history from the relay failed; answering from the cache");
                Ok(cached)
            }
        }
    }
}

/// Whether a page holds `limit` messages.
fn full(messages: &[Message], limit: u32) -> bool {
    messages.len() >= usize::try_from(limit).unwrap_or(usize::MAX)
}
