//! On a relay of several nodes: each room's committed messages reach this node's sockets in seq
//! order, each once, with no hole. They come from this node's commit stage and, through the bus,
//! from the other nodes; the bus can reorder them (two nodes committing to one room) or lose
//! them (Redis restarted). A message above a hole waits for the bus to bring what is missing,
//! at most [`HOLD`]; then the hole is filled from the store, the one source of truth. (Filled
//! from the store at once, a room busy on two nodes cost a store read for nearly every message
//! of the other node, and every room here waited for each read.) What is at or below a room's
//! mark was sent already. A room's mark starts where a socket here joined it (the last seq it
//! was synced up to), so a room's first message lost on the bus is still found by a catch-up.
//!
//! One node alone needs none of this: its commit stage hands out its messages in commit order.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use natter_protocol::events::{MessageEvent, RoomEvent, RoomRemovedEvent};
use natter_protocol::model::Seq;
use natter_protocol::{Event, Message};
use socketioxide::extract::SocketRef;
use socketioxide::SocketIo;
use tokio::time::Instant;

use super::rooms;
use crate::metrics::Metrics;
use crate::store::{RoomSeq, Store};

/// Messages fetched from the store per page when filling a hole or catching up.
const PAGE: u32 = 200;
/// Rooms whose mark is kept; past this, rooms with no socket here are forgotten.
const MARKS_KEPT: usize = 100_000;
/// How long a message above a hole waits for the bus before the hole is filled from the store.
/// The bus brings a reordered message within milliseconds; a lost one is nearly always
/// followed by a catch-up (see `cluster/bus.rs`), so this bounds only the rare rest.
const HOLD: Duration = Duration::from_millis(100);

pub struct Feed {
    io: SocketIo,
    store: Arc<dyn Store>,
    /// Room id → what of it was sent to this node's sockets.
    rooms: HashMap<String, Sent>,
    /// Rooms that began holding messages above a hole, by when their hole is filled from the
    /// store, oldest first; an entry whose room stopped holding meanwhile is skipped.
    holding: VecDeque<(Instant, String)>,
    metrics: Metrics,
}

/// What of one room was sent to this node's sockets: everything from `start` to `mark`, and
/// what is in `below`; seqs in (`floor`, `start`) not in `below` may still be owed to a socket
/// here (see [`Feed::deliver`] and [`Feed::joined`]), those at or below `floor` to none.
#[derive(Debug)]
struct Sent {
    /// The highest seq sent to this node's sockets.
    mark: Seq,
    start: Seq,
    floor: Seq,
    below: BTreeSet<Seq>,
    /// Messages above a hole over `mark`, by seq, waiting for it to be filled.
    held: BTreeMap<Seq, Message>,
    /// When the hole is filled from the store if the bus has not filled it (with `held`).
    due: Option<Instant>,
}

impl Sent {
    fn new(mark: Seq, start: Seq, floor: Seq) -> Self {
        Self {
            mark,
            start,
            floor,
            below: BTreeSet::new(),
            held: BTreeMap::new(),
            due: None,
        }
    }
}

impl Feed {
    pub fn new(io: SocketIo, store: Arc<dyn Store>, metrics: Metrics) -> Self {
        Self {
            io,
            store,
            rooms: HashMap::new(),
            holding: VecDeque::new(),
            metrics,
        }
    }

    /// Sends `message` to its room's sockets here, once whatever of the room is missing below
    /// it was sent (until then it is held, see [`HOLD`]); nothing if it was sent already. A
    /// room seen for the first time, no socket having told where it joined it
    /// ([`Feed::joined`]), starts at `message`; what another node committed just before it may
    /// come after it on the bus (two nodes sending into a new room at once): a seq below the
    /// start is sent too, once.
    pub async fn deliver(&mut self, message: Message) {
        let room = message.room_id.clone();
        match self.rooms.get_mut(&room) {
            Some(sent) if message.seq > sent.mark + 1 => {
                sent.held.insert(message.seq, message);
            }
            _ => self.offer(message).await,
        }
        self.release(&room).await;
        self.bound();
    }

    /// When the oldest hole is due to be filled from the store, if a room holds messages.
    pub fn due(&self) -> Option<Instant> {
        self.holding.front().map(|(due, _)| *due)
    }

    /// Fills from the store each hole that waited [`HOLD`] for the bus, then sends what it
    /// held above it. What the store does not give (it failed) is missed live, as by a socket
    /// with a full buffer: clients sync.
    pub async fn fill_due(&mut self) {
        let now = Instant::now();
        while let Some((due, room)) = self.holding.front().cloned() {
            if due > now {
                break;
            }
            self.holding.pop_front();
            let Some(sent) = self.rooms.get_mut(&room) else {
                continue; // forgotten meanwhile (see `bound`)
            };
            if sent.due != Some(due) {
                continue; // filled by the bus meanwhile; a later hole has its own entry
            }
            sent.due = None;
            self.metrics.hole_filled(true);
            let mark = sent.mark;
            let Some(lowest) = sent.held.keys().next().copied() else {
                continue;
            };
            self.fill(&room, mark, lowest).await;
            let held = self
                .rooms
                .get_mut(&room)
                .and_then(|s| s.held.remove(&lowest));
            if let Some(message) = held {
                self.offer(message).await;
            }
            self.release(&room).await;
        }
    }

    /// Sends the room's held messages that no hole separates from its mark any more and
    /// forgets those sent already; a hole left above the mark waits for the bus until its due
    /// time (set when it began waiting).
    async fn release(&mut self, room: &str) {
        loop {
            let Some(sent) = self.rooms.get_mut(room) else {
                return;
            };
            let mark = sent.mark;
            sent.held.retain(|seq, _| *seq > mark);
            match sent.held.keys().next().copied() {
                None => {
                    if sent.due.take().is_some() {
                        self.metrics.hole_filled(false);
                    }
                    return;
                }
                Some(next) if next == mark + 1 => {
                    if let Some(message) = sent.held.remove(&next) {
                        self.offer(message).await;
                    }
                }
                Some(_) => {
                    if sent.due.is_none() {
                        let due = Instant::now() + HOLD;
                        sent.due = Some(due);
                        self.holding.push_back((due, room.to_owned()));
                    }
                    return;
                }
            }
        }
    }

    /// A socket here joined `room` synced up to `seq` (its sign-on read the room's last seq
    /// before it joined, or it was told the room at `seq`): from then on, everything above
    /// `seq` is owed to it. A room with nothing sent here yet starts at `seq`, so a loss above
    /// it is filled by the next message or a catch-up. A room started above `seq` (a message
    /// came before this word) is sent what lies between from the store, each seq once. Never
    /// lowers a mark: a seq sent already is not sent again.
    pub async fn joined(&mut self, room: &str, seq: Seq) {
        let Some(sent) = self.rooms.get_mut(room) else {
            self.rooms
                .insert(room.to_owned(), Sent::new(seq, seq + 1, seq));
            self.bound();
            return;
        };
        if seq + 1 >= sent.start {
            return; // everything above `seq` was sent as it came, after this socket joined
        }
        sent.floor = sent.floor.min(seq);
        let start = sent.start;
        if self.fill(room, seq, start).await {
            if let Some(sent) = self.rooms.get_mut(room) {
                sent.start = seq + 1;
                let (floor, start) = (sent.floor, sent.start);
                sent.below.retain(|s| *s > floor && *s < start);
            }
        }
    }

    /// Sends `message` if it is owed: above its room's mark (the caller filled any hole
    /// below it first), or in a room's unsent range below its start; counts it as sent.
    async fn offer(&mut self, message: Message) {
        let owed = match self.rooms.get_mut(&message.room_id) {
            None => {
                let sent = Sent::new(message.seq, message.seq, 0);
                self.rooms.insert(message.room_id.clone(), sent);
                true
            }
            Some(sent) if message.seq > sent.mark => {
                sent.mark = message.seq;
                true
            }
            Some(sent) => {
                message.seq < sent.start
                    && message.seq > sent.floor
                    && sent.below.insert(message.seq)
            }
        };
        if owed {
            self.emit(message).await;
        }
    }

    /// After a loss on the bus: each socket here is put in the rooms the store says its user
    /// is in (told of rooms it joined or left meanwhile), then everything committed above each
    /// room's mark is sent from the store.
    pub async fn catch_up(&mut self) {
        for room in self.rejoin().await {
            self.joined(&room.room_id, room.last_seq).await;
        }
        let rooms: Vec<(String, Seq)> = self
            .rooms
            .iter()
            .map(|(room, sent)| (room.clone(), sent.mark))
            .collect();
        for (room, mark) in rooms {
            if let Some(sent) = self.rooms.get_mut(&room) {
                if sent.due.take().is_some() {
                    self.metrics.hole_filled(true);
                }
            }
            self.fill(&room, mark, Seq::MAX).await;
            self.release(&room).await;
        }
    }

    /// Puts sockets in the rooms the store names; the rooms they joined, at the seq they were
    /// told.
    async fn rejoin(&self) -> Vec<RoomSeq> {
        let mut joined = Vec::new();
        let Some(ns) = self.io.of("/") else {
            return joined;
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
                self.rejoin_socket(&s, &user_id, &member_of, &mut joined)
                    .await;
            }
        }
        joined
    }

    async fn rejoin_socket(
        &self,
        s: &SocketRef,
        user_id: &str,
        member_of: &BTreeSet<String>,
        told: &mut Vec<RoomSeq>,
    ) {
        let joined: BTreeSet<String> = s
            .rooms()
            .iter()
            .filter_map(|r| rooms::chat_of(r).map(str::to_owned))
            .collect();
        for room_id in member_of.difference(&joined) {
            s.join(rooms::chat(room_id));
            match self.store.room_for(room_id, user_id).await {
                Ok(Some(room)) => {
                    told.push(RoomSeq {
                        room_id: room.id.clone(),
                        last_seq: room.last_seq,
                    });
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

    /// Offers the room's messages with `after` < seq < `before` from the store, in seq order;
    /// false if the store failed before the end.
    async fn fill(&mut self, room: &str, mut after: Seq, before: Seq) -> bool {
        while after + 1 < before {
            let page = match self.store.messages_after(room, after, PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "could not fill a room's hole from the store");
                    return false;
                }
            };
            let full = page.len() >= PAGE as usize;
            let start = after;
            for message in page.into_iter().filter(|m| m.seq < before) {
                after = message.seq;
                self.offer(message).await;
            }
            if !full || after == start {
                return true;
            }
        }
        true
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

    /// Keeps the rooms bounded: past [`MARKS_KEPT`], rooms without a socket here are dropped.
    fn bound(&mut self) {
        if self.rooms.len() <= MARKS_KEPT {
            return;
        }
        let Some(ns) = self.io.of("/") else {
            return;
        };
        self.rooms
            .retain(|room, _| !ns.clone().within(rooms::chat(room)).sockets().is_empty());
    }
}
