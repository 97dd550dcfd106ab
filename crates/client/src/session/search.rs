//! Search (issue 20): the cache at once, the relay when it answers in time; one merged list,
//! each (room, seq) once, newest first. Offline, the cache's results are the answer.

use std::collections::HashMap;
use std::time::Duration;

use natter_protocol::limits::{SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT};
use natter_protocol::model::Seq;
use natter_protocol::requests::Search;
use natter_protocol::{search, validate, Message};
use serde::Serialize;

use super::{Session, SessionError};
use crate::transport::RequestError;

/// How long a search waits for the relay before answering with the cache's results alone.
pub const RELAY_SEARCH_WAIT: Duration = Duration::from_secs(3);

/// What one search found (the desktop hands it to the UI as is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SearchResults {
    /// Newest first (by `sent_at`), each (room, seq) once; the relay's copy where both had it.
    pub messages: Vec<Message>,
    /// The relay's cursor for the next, older page (pass it back); `None` at the end, or when
    /// the relay did not answer.
    pub next_cursor: Option<String>,
    /// Whether the relay answered: `false` means the cache's results only (offline, or the
    /// relay took longer than [`RELAY_SEARCH_WAIT`]).
    pub online: bool,
}

impl Session {
    /// Searches the current text of the user's messages for every term of `query` (only in
    /// `room_id` if given). The first page (`cursor` `None`) merges the cache's results with
    /// the relay's; later pages (`cursor` from `next_cursor`) come from the relay only, and need
    /// the connection ([`SessionError::Offline`]). A refusal (`forbidden`, `invalid`) is an
    /// error.
    pub async fn search(
        &self,
        query: &str,
        room_id: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<SearchResults, SessionError> {
        let limit = limit.unwrap_or(SEARCH_DEFAULT_LIMIT).min(SEARCH_MAX_LIMIT);
        let cached = match cursor {
            None => {
                self.search_cache(query, room_id, Some(limit))
                    .await?
                    .messages
            }
            Some(_) => {
                checked(query, room_id)?;
                Vec::new()
            }
        };
        let request = Search {
            query: query.to_owned(),
            room_id: room_id.map(str::to_owned),
            limit: Some(limit),
            cursor: cursor.map(str::to_owned),
        };
        let answer = match self.live_connection() {
            Some(conn) => tokio::time::timeout(RELAY_SEARCH_WAIT, conn.request(&request))
                .await
                .ok(),
            None => None,
        };
        match answer {
            Some(Ok(ack)) => Ok(SearchResults {
                messages: merge(cached, ack.messages),
                next_cursor: ack.next_cursor,
                online: true,
            }),
            Some(Err(RequestError::Refused(error))) => Err(SessionError::Refused(error)),
            failed => {
                if let Some(Err(e)) = failed {
                    tracing::debug!(error = %e, "search: the relay failed; answering from the cache");
                }
                if cursor.is_some() {
                    return Err(SessionError::Offline);
                }
                Ok(SearchResults {
                    messages: merge(cached, Vec::new()),
                    next_cursor: None,
                    online: false,
                })
            }
        }
    }

    /// The first page of [`Session::search`] from the cache alone, at once (a UI shows it while
    /// the relay is asked): the same checks of `query` and `room_id`, `online` false.
    pub async fn search_cache(
        &self,
        query: &str,
        room_id: Option<&str>,
        limit: Option<u32>,
    ) -> Result<SearchResults, SessionError> {
        checked(query, room_id)?;
        let limit = limit.unwrap_or(SEARCH_DEFAULT_LIMIT).min(SEARCH_MAX_LIMIT);
        let found = self
            .cache
            .search(&search::terms(query), room_id, limit)
            .await?;
        Ok(SearchResults {
            messages: merge(found, Vec::new()),
            next_cursor: None,
            online: false,
        })
    }
}

/// The request's own checks, before the cache or the relay is asked.
fn checked(query: &str, room_id: Option<&str>) -> Result<(), SessionError> {
    validate::search_query(query).map_err(SessionError::Refused)?;
    room_id
        .map_or(Ok(()), validate::id)
        .map_err(SessionError::Refused)
}

/// One list, each (room, seq) once (the relay's copy wins: it is the message as the relay has
/// it now), newest first by `sent_at` (RFC 3339 UTC from one relay sorts as text).
pub fn merge(cached: Vec<Message>, relayed: Vec<Message>) -> Vec<Message> {
    let mut by_key: HashMap<(String, Seq), Message> = HashMap::new();
    for m in cached.into_iter().chain(relayed) {
        by_key.insert((m.room_id.clone(), m.seq), m);
    }
    let mut merged: Vec<Message> = by_key.into_values().collect();
    merged.sort_by(|a, b| {
        b.sent_at
            .cmp(&a.sent_at)
            .then_with(|| a.room_id.cmp(&b.room_id))
            .then_with(|| b.seq.cmp(&a.seq))
    });
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(room: &str, seq: Seq, sent_at: &str, body: &str) -> Message {
        Message {
            id: format!("{room}-{seq}"),
            room_id: room.into(),
            seq,
            sender: "alice".into(),
            body: body.into(),
            client_id: format!("c{seq}"),
            sent_at: sent_at.into(),
            ..Message::default()
        }
    }

    #[test]
    fn merged_results_are_each_once_newest_first_the_relays_copy_kept() {
        let cached = vec![
            at("a", 2, "2026-01-01T00:00:02.000Z", "cached two"),
            at("b", 1, "2026-01-01T00:00:01.000Z", "b one"),
        ];
        let relayed = vec![
            at("a", 3, "2026-01-01T00:00:03.000Z", "three"),
            at("a", 2, "2026-01-01T00:00:02.000Z", "relayed two"),
        ];
        let merged = merge(cached, relayed);
        let seen: Vec<_> = merged
            .iter()
            .map(|m| (m.room_id.as_str(), m.seq, m.body.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("a", 3, "three"),
                ("a", 2, "relayed two"),
                ("b", 1, "b one")
            ]
        );
    }
}
