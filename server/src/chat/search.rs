//! `search` (issue 20): the query's terms, its scope (membership checked at every request),
//! its page size and cursor; the store finds the messages.

use natter_protocol::limits::{SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT};
use natter_protocol::requests::{Search, SearchAck};
use natter_protocol::search::terms;
use natter_protocol::{User, WireError};

use super::Chat;
use crate::error::Result;
use crate::store::SearchQuery;

impl Chat {
    /// One page of results, newest first. With a `room_id`, the sender must be a member of it
    /// (`forbidden`, as for a room that does not exist); without, the store keeps to the rooms
    /// the sender is a member of at this moment.
    pub async fn search(&self, user: &User, req: Search) -> Result<SearchAck> {
        if let Some(room_id) = &req.room_id {
            self.require_member(user, room_id).await?;
        }
        let before = req.cursor.as_deref().map(parse_cursor).transpose()?;
        let limit = req
            .limit
            .unwrap_or(SEARCH_DEFAULT_LIMIT)
            .min(SEARCH_MAX_LIMIT);
        if limit == 0 {
            return Ok(SearchAck {
                messages: Vec::new(),
                next_cursor: None,
            });
        }
        let query = SearchQuery {
            terms: terms(&req.query),
            room_id: req.room_id,
            before,
            limit,
        };
        let page = self.store.search(&user.id, &query).await?;
        Ok(SearchAck {
            messages: page.messages,
            next_cursor: page.next.map(|n| n.to_string()),
        })
    }
}

/// A cursor is a `next_cursor` this relay gave: a positive integer.
fn parse_cursor(cursor: &str) -> std::result::Result<i64, WireError> {
    cursor
        .parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| WireError::invalid("unknown search cursor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_positive_integers() {
        assert_eq!(parse_cursor("42"), Ok(42));
        for bad in ["0", "-3", "abc", "", "1e3"] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
