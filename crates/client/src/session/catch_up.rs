//! The worker's steps that talk to the relay: `sync` until `more` is false, gap filling with
//! `history`, storing messages once per (room, seq), and draining the outbox in order.

use std::collections::{BTreeMap, BTreeSet};

use natter_protocol::limits::{HISTORY_MAX_LIMIT, MAX_SYNC_CURSORS};
use natter_protocol::model::{Id, Seq};
use natter_protocol::requests::{History, MarkRead, SendMessage, Sync};
use natter_protocol::{ErrorCode, Message, Room};

use super::event::{AppEvent, DeliveryState};
use super::worker::{Halt, Worker};
use crate::cache::SeqRange;
use crate::transport::{Connection, RequestError};

/// Upper bound on `sync` pages per catch-up and `history` pages per gap: a relay that keeps
/// answering `more` without progress cannot hold the worker forever.
const MAX_PAGES: usize = 10_000;

impl Worker {
    /// `sync` from the cached cursors until `more` is false, then fill every gap.
    pub(super) async fn catch_up(&mut self, conn: &Connection) -> Result<(), Halt> {
        let known = self.cache.cursors().await?;
        let mut cursors = known.clone();
        if cursors.len() > MAX_SYNC_CURSORS {
            // The relay refuses more; the rest catch up through live events and gap filling.
            tracing::warn!(rooms = cursors.len(), "more rooms than one sync names");
            cursors = cursors.into_iter().take(MAX_SYNC_CURSORS).collect();
        }
        for page in 0..MAX_PAGES {
            let ack = conn
                .request(&Sync {
                    cursors: cursors.clone(),
                })
                .await
                .map_err(|e| self.halt(e))?;
            if page == 0 {
                self.push_read_positions(conn, &ack.rooms).await?;
                for room_id in self.cache.replace_rooms(&ack.rooms).await? {
                    self.emit(AppEvent::RoomGone { room_id });
                }
                // As the cache now holds them: its unread counts include what it holds above
                // the relay's.
                for room in self.cache.rooms().await? {
                    self.emit(AppEvent::Room { room });
                }
            }
            // Rooms this profile never tracked start at their last message: older ones are
            // history, paged when the room is opened, not gaps.
            for room in &ack.rooms {
                if !known.contains_key(&room.id) && !cursors.contains_key(&room.id) {
                    let base = self.cache.set_cursor_base(&room.id, room.last_seq).await?;
                    if cursors.len() < MAX_SYNC_CURSORS {
                        cursors.insert(room.id.clone(), base);
                    }
                }
            }
            for m in &ack.messages {
                if let Some(cursor) = cursors.get_mut(&m.room_id) {
                    *cursor = (*cursor).max(m.seq);
                }
            }
            let progressed = !ack.messages.is_empty();
            self.store_messages(None, ack.messages).await?;
            if !ack.more || !progressed {
                break;
            }
        }
        for room_id in self.cache.cursors().await?.into_keys() {
            let filled = self.fill_gaps(conn, &room_id).await?;
            self.announce(filled).await?;
        }
        Ok(())
    }

    /// Tells the relay about read positions this profile moved while offline (the cache holds a
    /// higher `read_seq` than the relay's copy of the room).
    async fn push_read_positions(&self, conn: &Connection, rooms: &[Room]) -> Result<(), Halt> {
        let cached = self.cache.rooms().await?;
        for room in rooms {
            let ahead = cached
                .iter()
                .find(|c| c.id == room.id)
                .filter(|c| c.read_seq > room.read_seq);
            if let Some(c) = ahead {
                let read = MarkRead {
                    room_id: room.id.clone(),
                    seq: c.read_seq,
                };
                match conn.request(&read).await {
                    Ok(_) => {}
                    // Best effort: a refusal must not hold up the catch-up.
                    Err(RequestError::Refused(error)) => {
                        tracing::info!(room_id = room.id, %error, "read position refused");
                    }
                    Err(e) => return Err(self.halt(e)),
                }
            }
        }
        Ok(())
    }

    /// Stores messages (each (room, seq) once) and tells the app about the new ones, in seq
    /// order. With a connection, gaps they leave are fetched first, so the app sees no holes.
    pub(super) async fn store_messages(
        &mut self,
        conn: Option<&Connection>,
        messages: Vec<Message>,
    ) -> Result<(), Halt> {
        // A message in a room this profile never tracked (e.g. just invited) starts its cursor
        // right below it, like a room first seen in a sync.
        let cursors = self.cache.cursors().await?;
        let mut untracked: BTreeMap<&str, Seq> = BTreeMap::new();
        for m in messages
            .iter()
            .filter(|m| !cursors.contains_key(&m.room_id))
        {
            let base = untracked.entry(&m.room_id).or_insert(m.seq);
            *base = (*base).min(m.seq);
        }
        for (room_id, first) in untracked {
            self.cache
                .set_cursor_base(room_id, first.saturating_sub(1))
                .await?;
        }
        let mut fresh = self.cache.insert_messages(&messages).await?;
        let mut halted = Ok(());
        if let Some(conn) = conn {
            let rooms: BTreeSet<Id> = fresh.iter().map(|m| m.room_id.clone()).collect();
            for room_id in rooms {
                match self.fill_gaps(conn, &room_id).await {
                    Ok(filled) => fresh.extend(filled),
                    Err(halt) => {
                        // The fill broke off (the connection died): what lies above the hole
                        // waits for the next catch-up, which fetches the hole and it again, in
                        // order. Announcing it now would show a later seq before earlier ones.
                        fresh = self.withhold_above_holes(fresh).await?;
                        halted = Err(halt);
                        break;
                    }
                }
            }
        }
        self.announce(fresh).await?;
        halted
    }

    /// Stores messages without fetching gaps, and announces those that leave no hole below them;
    /// the others are forgotten again, for the next catch-up to bring in order.
    pub(super) async fn store_contiguous(&mut self, messages: Vec<Message>) -> Result<(), Halt> {
        let fresh = self.cache.insert_messages(&messages).await?;
        let fresh = self.withhold_above_holes(fresh).await?;
        self.announce(fresh).await
    }

    /// Keeps the messages at or below their room's cursor; forgets (un-announced) the others.
    async fn withhold_above_holes(&self, fresh: Vec<Message>) -> Result<Vec<Message>, Halt> {
        let mut cursors = BTreeMap::new();
        for m in &fresh {
            if !cursors.contains_key(&m.room_id) {
                cursors.insert(m.room_id.clone(), self.cache.cursor(&m.room_id).await?);
            }
        }
        let (keep, above): (Vec<Message>, Vec<Message>) = fresh
            .into_iter()
            .partition(|m| cursors.get(&m.room_id).is_some_and(|c| m.seq <= *c));
        let mut by_room: BTreeMap<&str, Vec<Seq>> = BTreeMap::new();
        for m in &above {
            by_room.entry(&m.room_id).or_default().push(m.seq);
        }
        for (room_id, seqs) in by_room {
            tracing::debug!(
                room_id,
                held = seqs.len(),
                "messages above a hole wait for the next catch-up"
            );
            self.cache.forget_above_cursor(room_id, &seqs).await?;
        }
        Ok(keep)
    }

    /// Each new entry in room and seq order; after a change entry, its target as the cache now
    /// holds it (the change was applied as it was stored), if the cache holds it.
    async fn announce(&self, mut messages: Vec<Message>) -> Result<(), Halt> {
        messages.sort_by(|a, b| (&a.room_id, a.seq).cmp(&(&b.room_id, b.seq)));
        // Rooms with news (a message from someone else): their unread count moved.
        let news: BTreeSet<Id> = messages
            .iter()
            .filter(|m| m.change.is_none() && self.username.as_deref() != Some(m.sender.as_str()))
            .map(|m| m.room_id.clone())
            .collect();
        for message in messages {
            let target = message
                .change
                .as_ref()
                .and_then(|c| c.target())
                .map(str::to_owned);
            let room_id = message.room_id.clone();
            self.emit(AppEvent::Message { message });
            if let Some(target) = target {
                if let Some(message) = self.cache.message(&room_id, &target).await? {
                    self.emit(AppEvent::MessageChanged { message });
                }
            }
        }
        for room_id in news {
            self.emit_unread(&room_id).await?;
        }
        Ok(())
    }

    /// Tells the app a room's unread count as the cache holds it now.
    pub(super) async fn emit_unread(&self, room_id: &str) -> Result<(), Halt> {
        if let Some(count) = self.cache.unread(room_id).await? {
            self.emit(AppEvent::Unread {
                room_id: room_id.to_owned(),
                count,
            });
        }
        Ok(())
    }

    /// Fetches a room's missing seqs with `history`, newest part of the oldest gap first, until
    /// none is left or the relay has nothing more. Returns the messages that were new.
    async fn fill_gaps(&self, conn: &Connection, room_id: &str) -> Result<Vec<Message>, Halt> {
        let mut fresh = Vec::new();
        for _ in 0..MAX_PAGES {
            let Some(SeqRange { first, last }) = self.cache.gaps(room_id).await?.first().copied()
            else {
                break;
            };
            let missing = u32::try_from(last - first + 1).unwrap_or(u32::MAX);
            let ack = conn
                .request(&History {
                    around: None,
                    room_id: room_id.to_owned(),
                    before_seq: Some(last + 1),
                    limit: Some(missing.min(HISTORY_MAX_LIMIT)),
                    ..History::default()
                })
                .await
                .map_err(|e| self.halt(e))?;
            let new = self.cache.insert_messages(&ack.messages).await?;
            if new.is_empty() {
                tracing::warn!(room_id, first, last, "the relay has no messages for a gap");
                break;
            }
            fresh.extend(new);
        }
        Ok(fresh)
    }

    /// Stores a room from a `room` event and forwards it; a room new to this profile starts its
    /// cursor at its last message.
    pub(super) async fn store_room(&mut self, room: Room) -> Result<(), Halt> {
        self.cache.upsert_room(&room).await?;
        if !self.cache.cursors().await?.contains_key(&room.id) {
            self.cache.set_cursor_base(&room.id, room.last_seq).await?;
        }
        // The cache's copy: its unread count includes what it holds above the relay's.
        let room = self.cache.room(&room.id).await?.unwrap_or(room);
        self.emit(AppEvent::Room { room });
        Ok(())
    }

    /// Sends every pending item in order. Acked → sent; refused for good → failed; anything
    /// transient stops the drain (the item stays pending and goes first next time), and so
    /// does an item whose files are still uploading, or are to be uploaded again (`not_found`:
    /// the relay lost them; once per send, a second `not_found` fails it).
    pub(super) async fn drain(&mut self, conn: &Connection) -> Result<(), Halt> {
        let pending = {
            let _outbox = self.outbox_lock.lock().await;
            self.cache.pending().await?
        };
        for item in pending {
            // A send whose files are not all up waits (and those behind it, to keep the order):
            // the uploader nudges when they are.
            let Some(attachments) = item
                .files
                .iter()
                .map(|f| f.attachment.as_ref().map(|a| a.id.clone()))
                .collect::<Option<Vec<_>>>()
            else {
                return Ok(());
            };
            let request = SendMessage {
                room_id: item.room_id.clone(),
                client_id: item.client_id.clone(),
                body: item.body.clone(),
                reply_to: item.reply_to.clone(),
                attachments,
            };
            match conn.request(&request).await {
                Ok(ack) if ack.message.client_id != item.client_id => {
                    // Never file another request's answer: drop this connection and resend.
                    tracing::error!(
                        expected = item.client_id,
                        got = ack.message.client_id,
                        "message:send answered for another client_id"
                    );
                    conn.kill("an ack for another request");
                    return Err(Halt::Dead);
                }
                Ok(ack) => {
                    let seq = ack.message.seq;
                    self.cache.mark_sent(&item.client_id, seq).await?;
                    self.emit(AppEvent::MessageState {
                        client_id: item.client_id,
                        room_id: item.room_id,
                        state: DeliveryState::Sent { seq },
                    });
                    self.store_messages(Some(conn), vec![ack.message]).await?;
                }
                Err(RequestError::Refused(error)) if !error.code.is_transient() => {
                    // The relay lost the uploads (an orphan swept before the send went, a
                    // restored backup): upload them again from the profile's copies and send
                    // then, once.
                    if error.code == ErrorCode::NotFound
                        && !item.files.is_empty()
                        && self.cache.upload_again(&item.client_id).await?
                    {
                        tracing::info!(client_id = item.client_id, %error, "uploading a send's files again");
                        let _ = self.uploads.send(());
                        return Ok(()); // the uploader nudges when they are up; the order holds
                    }
                    tracing::info!(client_id = item.client_id, %error, "send refused for good");
                    self.cache.mark_failed(&item.client_id, &error).await?;
                    self.emit(AppEvent::MessageState {
                        client_id: item.client_id,
                        room_id: item.room_id,
                        state: DeliveryState::Failed { error },
                    });
                }
                Err(e) => return Err(self.halt(e)),
            }
        }
        Ok(())
    }
}
