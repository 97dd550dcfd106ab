//! On a relay of several nodes: each room's committed messages reach this node's sockets in seq
//! order, each once, with no hole. They come from this node's commit stage and, through the bus,
//! from the other nodes; the bus can reorder them (two nodes committing to one room) or lose
//! them (Redis restarted). A hole is filled from the store, the one source of truth, before the
//! message above it is sent; what is at or below a room's mark was sent already.
//!
//! One node alone needs none of this: its commit stage hands out its messages in commit order.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use natter_protocol::events::{MessageEvent, RoomEvent, RoomRemovedEvent};
use natter_protocol::model::Seq;
use natter_protocol::{Event, Message};
use socketioxide::extract::SocketRef;
use socketioxide::SocketIo;

use super::rooms;
use crate::store::Store;

/// Messages fetched from the store per page when filling a hole or catching up.
const PAGE: u32 = 200;
/// Rooms whose mark is kept; past this, rooms with no socket here are forgotten.
const MARKS_KEPT: usize = 100_000;

pub struct Feed {
    io: SocketIo,
    store: Arc<dyn Store>,
    /// Room id → the highest seq sent to this node's sockets.
    marks: HashMap<String, Seq>,
    /// Room id → the seq this node started the room at, and what it sent below it since: see
    /// [`Feed::deliver`].
    starts: HashMap<String, (Seq, BTreeSet<Seq>)>,
}

impl Feed {
    pub fn new(io: SocketIo, store: Arc<dyn Store>) -> Self {
        Self {
            io,
            store,
            marks: HashMap::new(),
            starts: HashMap::new(),
        }
    }

    /// Sends `message` to its room's sockets here, after whatever of the room is missing below
    /// it; nothing if it was sent already. A room seen for the first time starts at `message`
    /// (its sockets caught up with `sync` when they connected), but what another node committed
    /// just before it may come after it on the bus (two nodes sending into a new room at once):
    /// a seq below the start is sent too, once.
    pub async fn deliver(&mut self, message: Message) {
        let room = message.room_id.clone();
        match self.marks.get(&room).copied() {
            Some(mark) if message.seq <= mark => {
                if self.below_start(&room, message.seq) {
                    self.emit(message).await;
                }
                return;
            }
            Some(mark) if message.seq > mark + 1 => self.fill(&room, mark, message.seq).await,
            Some(_) => {}
            None => {
                self.starts
                    .insert(room.clone(), (message.seq, BTreeSet::new()));
            }
        }
        self.send(message).await;
        self.bound();
    }

    /// Whether `seq` is below where this node started `room` and not sent yet (then it counts
    /// as sent).
    fn below_start(&mut self, room: &str, seq: Seq) -> bool {
        match self.starts.get_mut(room) {
            Some((start, sent)) if seq < *start => sent.insert(seq),
            _ => false,
        }
    }

    /// After a loss on the bus: each socket here is put in the rooms the store says its user
    /// is in (told of rooms it joined or left meanwhile), then everything committed above each
    /// room's mark is sent from the store.
    pub async fn catch_up(&mut self) {
        self.rejoin().await;
        let rooms: Vec<String> = self.marks.keys().cloned().collect();
        for room in rooms {
            let mark = self.marks.get(&room).copied().unwrap_or(0);
            self.fill(&room, mark, Seq::MAX).await;
        }
    }

    async fn rejoin(&self) {
        let Some(ns) = self.io.of("/") else {
            return;
        };
        let mut by_user: HashMap<String, Vec<SocketRef>> = HashMap::new();
        for s in ns.sockets() {
            let user = s
                .rooms()
                .iter()
                .find_map(|r| rooms::user_of(r).map(str::to_owned));
            if let Some(user) = user {
                by_user.entry(user).or_default().push(s);
            }
        }
        for (user_id, sockets) in by_user {
            let member_of: BTreeSet<String> = match self.store.room_ids_of(&user_id).await {
                Ok(ids) => ids.into_iter().collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "catch-up: could not load a user's rooms");
                    continue;
                }
            };
            for s in sockets {
                self.rejoin_socket(&s, &user_id, &member_of).await;
            }
        }
    }

    async fn rejoin_socket(&self, s: &SocketRef, user_id: &str, member_of: &BTreeSet<String>) {
        let joined: BTreeSet<String> = s
            .rooms()
            .iter()
            .filter_map(|r| rooms::chat_of(r).map(str::to_owned))
            .collect();
        for room_id in member_of.difference(&joined) {
            s.join(rooms::chat(room_id));
            match self.store.room_for(room_id, user_id).await {
                Ok(Some(room)) => {
                    let _ = s.emit(RoomEvent::NAME, &RoomEvent { room });
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "catch-up: could not load a room"),
            }
        }
        for room_id in joined.difference(member_of) {
            s.leave(rooms::chat(room_id));
            let event = RoomRemovedEvent {
                room_id: room_id.clone(),
            };
            let _ = s.emit(RoomRemovedEvent::NAME, &event);
        }
    }

    /// Sends the room's messages with `after` < seq < `before` from the store.
    async fn fill(&mut self, room: &str, mut after: Seq, before: Seq) {
        while after + 1 < before {
            let page = match self.store.messages_after(room, after, PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "could not fill a room's hole from the store");
                    return;
                }
            };
            let full = page.len() >= PAGE as usize;
            let start = after;
            for message in page.into_iter().filter(|m| m.seq < before) {
                after = message.seq;
                self.send(message).await;
            }
            if !full || after == start {
                return;
            }
        }
    }

    async fn send(&mut self, message: Message) {
        self.marks.insert(message.room_id.clone(), message.seq);
        self.emit(message).await;
    }

    /// Emits `message` to its room's sockets here, its mark untouched.
    async fn emit(&self, message: Message) {
        let Some(ns) = self.io.of("/") else {
            return; // shutting down
        };
        let room = rooms::chat(&message.room_id);
        let event = MessageEvent { message };
        if let Err(e) = ns.to(room).emit(MessageEvent::NAME, &event).await {
            tracing::debug!(error = %e, "message broadcast incomplete");
        }
    }

    /// Keeps the marks bounded: past [`MARKS_KEPT`], rooms without a socket here are dropped.
    fn bound(&mut self) {
        if self.marks.len() <= MARKS_KEPT {
            return;
        }
        let Some(ns) = self.io.of("/") else {
            return;
        };
        self.marks
            .retain(|room, _| !ns.clone().within(rooms::chat(room)).sockets().is_empty());
        let marks = &self.marks;
        self.starts.retain(|room, _| marks.contains_key(room));
    }
}
