//! Messages and what happens around them: sending, typing, read positions, history, catch-up.

use natter_protocol::events::{ReceiptEvent, TypingEvent};
use natter_protocol::limits::{
    HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, SYNC_PAGE_BYTES, SYNC_PAGE_MESSAGES,
};
use natter_protocol::model::Seq;
use natter_protocol::requests::{
    self, DeleteMessage, EditMessage, History, MarkRead, React, SendMessage, SetTyping, SyncAck,
};
use natter_protocol::{mentions, Message, User};

use super::{not_member, Chat};
use crate::error::{Error, Result};
use crate::store::{AppendRefusal, Appended, NewEntry, NewMessage, PageFrom};
use crate::time::now_rfc3339;

impl Chat {
    /// Commits a message (or finds the original of a repeated client_id). The room hears of a
    /// new message from the commit stage's stream, in commit order, not from here.
    pub async fn send_message(&self, user: &User, req: SendMessage) -> Result<Appended> {
        let entry = NewEntry::Message {
            reply_to: req.reply_to,
            attachments: req.attachments,
        };
        self.append(user, req.room_id, req.client_id, req.body, entry)
            .await
    }

    /// Commits an edit entry: the sender's message gets a new body.
    pub async fn edit_message(&self, user: &User, req: EditMessage) -> Result<Appended> {
        let entry = NewEntry::Edit {
            target: req.message_id,
        };
        self.append(user, req.room_id, req.client_id, req.body, entry)
            .await
    }

    /// Commits a delete entry: the sender's message and its edits lose their text, and its
    /// files go (the bytes too, once no other upload uses them).
    pub async fn delete_message(&self, user: &User, req: DeleteMessage) -> Result<Appended> {
        let entry = NewEntry::Delete {
            target: req.message_id,
        };
        let appended = self
            .append(user, req.room_id, req.client_id, String::new(), entry)
            .await?;
        if !appended.freed_files.is_empty() {
            self.blobs
                .release(&*self.store, &appended.freed_files)
                .await;
        }
        Ok(appended)
    }

    /// Commits a reaction entry (any member, any message of the room not deleted).
    pub async fn react(&self, user: &User, req: React) -> Result<Appended> {
        let entry = NewEntry::Reaction {
            target: req.message_id,
            emoji: req.emoji,
            on: req.on,
        };
        self.append(user, req.room_id, req.client_id, String::new(), entry)
            .await
    }

    /// Every room entry goes through here: one send budget, one commit stage, one set of
    /// refusals.
    async fn append(
        &self,
        user: &User,
        room_id: String,
        client_id: String,
        body: String,
        entry: NewEntry,
    ) -> Result<Appended> {
        if !self.limits.allow_send(&user.id).await {
            return Err(Error::rate_limited());
        }
        let mentions = self.mentioned(&room_id, &body).await?;
        let outcome = self
            .commits
            .append(NewMessage {
                room_id,
                sender: user.clone(),
                client_id,
                body,
                sent_at: now_rfc3339(),
                entry,
                mentions,
            })
            .await?;
        outcome.map_err(|refusal| match refusal {
            AppendRefusal::NotMember => not_member(),
            AppendRefusal::NoSuchMessage => Error::not_found("no such message in this room"),
            AppendRefusal::NotSender => {
                Error::forbidden("only its sender can edit or delete a message")
            }
            AppendRefusal::NoSuchFile => {
                Error::not_found("no such file among your uploads (attach only your own)")
            }
        })
    }

    /// The room's members `body` mentions, in the order it names them. Only bodies with an
    /// `@name` cost a look-up (a few reads, off the commit stage).
    async fn mentioned(&self, room_id: &str, body: &str) -> Result<Vec<String>> {
        let names: Vec<String> = mentions::candidates(body)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut members = Vec::new();
        for user in self.store.users_by_name(&names).await? {
            if self.store.is_member(room_id, &user.id).await? {
                members.push(user.username);
            }
        }
        Ok(members)
    }

    /// Moves the read position; the receipt to announce if it moved.
    pub async fn mark_read(&self, user: &User, req: MarkRead) -> Result<Option<ReceiptEvent>> {
        self.require_member(user, &req.room_id).await?;
        let moved = self
            .store
            .mark_read(&req.room_id, &user.id, req.seq)
            .await?;
        Ok(moved.map(|seq| ReceiptEvent {
            room_id: req.room_id,
            user: user.username.clone(),
            seq,
        }))
    }

    /// The typing event to announce to the room (not to the typist's own sockets).
    pub async fn set_typing(&self, user: &User, req: SetTyping) -> Result<TypingEvent> {
        if !self.limits.allow_typing(&user.id).await {
            return Err(Error::rate_limited());
        }
        self.require_member(user, &req.room_id).await?;
        Ok(TypingEvent {
            room_id: req.room_id,
            user: user.username.clone(),
            typing: req.typing,
        })
    }

    pub async fn history(&self, user: &User, req: History) -> Result<Vec<Message>> {
        self.require_member(user, &req.room_id).await?;
        let limit = req
            .limit
            .unwrap_or(HISTORY_DEFAULT_LIMIT)
            .min(HISTORY_MAX_LIMIT);
        if limit == 0 {
            return Ok(Vec::new());
        }
        if let Some(around) = req.around {
            return self.history_around(&req.room_id, around, limit).await;
        }
        let room = req.room_id.as_str();
        Ok(match (req.after_seq, req.messages_only) {
            (None, false) => {
                let page = self.store.history(room, req.before_seq, limit).await?;
                newest_within(page, SYNC_PAGE_BYTES)
            }
            (None, true) => {
                let from = PageFrom::Before(req.before_seq);
                let page = self.store.messages_page(room, from, limit).await?;
                newest_within(page, SYNC_PAGE_BYTES)
            }
            (Some(after), false) => {
                let page = self.store.messages_after(room, after, limit).await?;
                oldest_within(page, SYNC_PAGE_BYTES)
            }
            (Some(after), true) => {
                let from = PageFrom::After(after);
                let page = self.store.messages_page(room, from, limit).await?;
                oldest_within(page, SYNC_PAGE_BYTES)
            }
        })
    }

    /// Up to `limit / 2` messages before `around`, then `around` and those after it: a search
    /// result in its context. Each half keeps to half the page's bytes, nearest `around` first.
    async fn history_around(&self, room_id: &str, around: Seq, limit: u32) -> Result<Vec<Message>> {
        let older = self.store.history(room_id, Some(around), limit / 2).await?;
        let mut page = newest_within(older, SYNC_PAGE_BYTES / 2);
        let rest = limit - u32::try_from(page.len()).unwrap_or(limit);
        let newer = self
            .store
            .messages_after(room_id, around.saturating_sub(1), rest)
            .await?;
        let mut bytes = 0usize;
        for m in newer {
            if bytes + m.body.len() > SYNC_PAGE_BYTES / 2 && bytes > 0 {
                break;
            }
            bytes += m.body.len();
            page.push(m);
        }
        Ok(page)
    }

    /// One page of catch-up: messages after each cursor, bounded in count and bytes.
    pub async fn sync(&self, user: &User, req: requests::Sync) -> Result<SyncAck> {
        let rooms = self.store.rooms_of(&user.id).await?;
        let mut messages = Vec::new();
        let mut bytes = 0usize;
        let mut more = false;
        for room in &rooms {
            let Some(&cursor) = req.cursors.get(&room.id) else {
                continue;
            };
            if room.last_seq <= cursor {
                continue;
            }
            let room_left = SYNC_PAGE_MESSAGES.saturating_sub(messages.len());
            if room_left == 0 || bytes >= SYNC_PAGE_BYTES {
                more = true;
                break;
            }
            let limit = u32::try_from(room_left).unwrap_or(u32::MAX);
            let page = self.store.messages_after(&room.id, cursor, limit).await?;
            let mut last = cursor;
            for m in page {
                if bytes + m.body.len() > SYNC_PAGE_BYTES && !messages.is_empty() {
                    break;
                }
                bytes += m.body.len();
                last = m.seq;
                messages.push(m);
            }
            if last < room.last_seq {
                more = true;
            }
        }
        Ok(SyncAck {
            rooms,
            messages,
            more,
        })
    }
}

/// The newest messages of `page` (oldest first) whose bodies fit in `bytes`, at least one: a
/// `history` reply is bounded like a `sync` page (100 bodies of 4,000 characters would be
/// ~1.6 MB). The client pages on with `before_seq` = the oldest seq it got.
fn newest_within(mut page: Vec<Message>, bytes: usize) -> Vec<Message> {
    let mut total = 0usize;
    let mut keep = 0;
    for m in page.iter().rev() {
        if keep > 0 && total + m.body.len() > bytes {
            break;
        }
        total += m.body.len();
        keep += 1;
    }
    page.drain(..page.len() - keep);
    page
}

/// The oldest messages of `page` (oldest first) whose bodies fit in `bytes`, at least one: a
/// page after `after_seq`, paged on from the newest seq received.
fn oldest_within(mut page: Vec<Message>, bytes: usize) -> Vec<Message> {
    let mut total = 0usize;
    let mut keep = 0;
    for m in &page {
        if keep > 0 && total + m.body.len() > bytes {
            break;
        }
        total += m.body.len();
        keep += 1;
    }
    page.truncate(keep);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(bodies: &[usize]) -> Vec<Message> {
        bodies
            .iter()
            .enumerate()
            .map(|(i, &len)| Message {
                id: format!("m{i}"),
                room_id: "r".into(),
                seq: i as i64 + 1,
                sender: "alice".into(),
                body: "x".repeat(len),
                client_id: format!("c{i}"),
                sent_at: "2026-01-01T00:00:00.000Z".into(),
                ..Message::default()
            })
            .collect()
    }

    fn seqs(messages: &[Message]) -> Vec<i64> {
        messages.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn a_history_page_keeps_its_newest_messages_within_the_bytes() {
        assert_eq!(seqs(&newest_within(page(&[4, 4, 4]), 12)), [1, 2, 3]);
        assert_eq!(seqs(&newest_within(page(&[4, 4, 4]), 11)), [2, 3]);
        assert_eq!(
            seqs(&newest_within(page(&[4, 4, 9]), 8)),
            [3],
            "at least one"
        );
        assert!(newest_within(page(&[]), 8).is_empty());
    }

    #[test]
    fn a_page_after_a_seq_keeps_its_oldest_messages_within_the_bytes() {
        assert_eq!(seqs(&oldest_within(page(&[4, 4, 4]), 12)), [1, 2, 3]);
        assert_eq!(seqs(&oldest_within(page(&[4, 4, 4]), 11)), [1, 2]);
        assert_eq!(
            seqs(&oldest_within(page(&[9, 4, 4]), 8)),
            [1],
            "at least one"
        );
        assert!(oldest_within(page(&[]), 8).is_empty());
    }
}
