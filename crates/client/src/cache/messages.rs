//! Messages, kept once per (room, seq), and per-room cursors: the highest seq up to which the
//! cache holds every message, so `sync` can resume there and gaps above it can be fetched.

use std::collections::{BTreeMap, BTreeSet};

use natter_protocol::model::{Id, Seq};
use natter_protocol::{Attachment, Change, Message, Reaction, ReplyPreview};
use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};

use super::{erase, Cache, CacheError};

/// Seqs `first..=last` of one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange {
    pub first: Seq,
    pub last: Seq,
}

pub(super) const COLUMNS: &str = "id, room_id, seq, sender, body, client_id, sent_at, state";

/// A message's fields beyond its text, as the `state` column keeps them (JSON, the wire's
/// names; NULL when all are empty).
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    change: Option<Box<Change>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<Box<ReplyPreview>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    edited_at: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    reactions: Vec<Reaction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mentions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment>,
}

impl State {
    fn of(m: &Message) -> Self {
        Self {
            change: m.change.clone(),
            reply_to: m.reply_to.clone(),
            edited_at: m.edited_at.clone(),
            deleted: m.deleted,
            reactions: m.reactions.clone(),
            mentions: m.mentions.clone(),
            attachments: m.attachments.clone(),
        }
    }

    /// The column's value: NULL for a plain message.
    fn column(m: &Message) -> Option<String> {
        let state = Self::of(m);
        let plain = state.change.is_none()
            && state.reply_to.is_none()
            && state.edited_at.is_none()
            && !state.deleted
            && state.reactions.is_empty()
            && state.mentions.is_empty()
            && state.attachments.is_empty();
        if plain {
            None
        } else {
            serde_json::to_string(&state).ok()
        }
    }

    fn put_into(self, m: &mut Message) {
        m.change = self.change;
        m.reply_to = self.reply_to;
        m.edited_at = self.edited_at;
        m.deleted = self.deleted;
        m.reactions = self.reactions;
        m.mentions = self.mentions;
        m.attachments = self.attachments;
    }
}

/// What the relay last said a message was: its body and state (the `base` column, JSON).
#[derive(Debug, Serialize, Deserialize)]
struct Base {
    body: String,
    #[serde(flatten)]
    state: State,
}

impl Base {
    fn of(m: &Message) -> Self {
        Self {
            body: m.body.clone(),
            state: State::of(m),
        }
    }

    fn put_into(self, m: &mut Message) {
        m.body = self.body;
        self.state.put_into(m);
    }
}

/// A stored row back as a message; a `state` the cache cannot read is left out (logged).
pub(super) fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Message, sqlx::Error> {
    let mut message = Message {
        id: row.try_get("id")?,
        room_id: row.try_get("room_id")?,
        seq: row.try_get("seq")?,
        sender: row.try_get("sender")?,
        body: row.try_get("body")?,
        client_id: row.try_get("client_id")?,
        sent_at: row.try_get("sent_at")?,
        ..Message::default()
    };
    if let Some(json) = row.try_get::<Option<String>, _>("state")? {
        match serde_json::from_str::<State>(&json) {
            Ok(state) => state.put_into(&mut message),
            Err(e) => {
                tracing::warn!(error = %e, seq = message.seq, "a cached message's state is unreadable")
            }
        }
    }
    Ok(message)
}

/// What applying `entry`'s change does to `target` (the rule of docs/protocol.md, "Changes to
/// messages": applying a room's entries in seq order ends at each message's current state).
fn apply(change: &Change, entry: &Message, target: &mut Message) {
    match change {
        Change::Edit { body, .. } => {
            target.body.clone_from(body);
            target.edited_at = Some(entry.sent_at.clone());
            target.mentions.clone_from(&entry.mentions);
        }
        Change::Delete { .. } => {
            target.body.clear();
            target.deleted = true;
            target.reactions.clear();
            target.mentions.clear();
            // The relay removes a deleted message's files.
            target.attachments.clear();
        }
        Change::Reaction { emoji, on, .. } => {
            let at = target.reactions.iter().position(|r| &r.emoji == emoji);
            match (at, *on) {
                (Some(i), true) => {
                    let users = &mut target.reactions[i].users;
                    if !users.contains(&entry.sender) {
                        users.push(entry.sender.clone());
                    }
                }
                (None, true) => target.reactions.push(Reaction {
                    emoji: emoji.clone(),
                    users: vec![entry.sender.clone()],
                }),
                (Some(i), false) => {
                    target.reactions[i].users.retain(|u| u != &entry.sender);
                    if target.reactions[i].users.is_empty() {
                        target.reactions.remove(i);
                    }
                }
                (None, false) => {}
            }
        }
        Change::Unknown => {}
    }
}

impl Cache {
    /// Stores messages, each (room, seq) once, advances the cursors of their rooms and the rooms'
    /// `last_seq`. Returns the messages that were new, in the order given.
    ///
    /// `messages` are one answer of the relay (or one live event): a message's state in it is as
    /// of at least the highest seq of its room in the answer, which becomes its base seq. Change
    /// entries are folded into their targets in seq order whatever order they arrive in.
    pub async fn insert_messages(&self, messages: &[Message]) -> Result<Vec<Message>, CacheError> {
        let mut as_of: BTreeMap<&str, Seq> = BTreeMap::new();
        for m in messages {
            let seq = as_of.entry(m.room_id.as_str()).or_default();
            *seq = (*seq).max(m.seq);
        }
        let mut tx = self.pool.begin().await?;
        let mut fresh = Vec::new();
        let mut touched = BTreeSet::new();
        let mut refold = BTreeSet::new();
        for m in messages {
            let target = m.change.as_deref().and_then(Change::target);
            let base = match target {
                Some(_) => None,
                None => serde_json::to_string(&Base::of(m)).ok(),
            };
            let inserted = sqlx::query(
                "INSERT INTO messages (id, room_id, seq, sender, body, client_id, sent_at, state, \
                 base, base_seq, target_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (room_id, seq) DO NOTHING",
            )
            .bind(&m.id)
            .bind(&m.room_id)
            .bind(m.seq)
            .bind(&m.sender)
            .bind(&m.body)
            .bind(&m.client_id)
            .bind(&m.sent_at)
            .bind(State::column(m))
            .bind(base)
            .bind(target.is_none().then(|| as_of[m.room_id.as_str()]))
            .bind(target)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                match target {
                    Some(target) => {
                        refold.insert((m.room_id.as_str(), target));
                    }
                    // A message whose entries came first (they could not change it then).
                    None if has_entries_above(&mut tx, m, as_of[m.room_id.as_str()]).await? => {
                        refold.insert((m.room_id.as_str(), m.id.as_str()));
                    }
                    None => {}
                }
                sqlx::query("UPDATE rooms SET last_seq = MAX(last_seq, ?) WHERE id = ?")
                    .bind(m.seq)
                    .bind(&m.room_id)
                    .execute(&mut *tx)
                    .await?;
                touched.insert(m.room_id.as_str());
                fresh.push(m.clone());
            }
        }
        let mut erased = false;
        for (room_id, id) in refold {
            erased |= fold(&mut tx, room_id, id).await?;
        }
        // A reply that came after its target's delete: its excerpt goes as the others' did.
        for m in &fresh {
            if let Some(reply_to) = &m.reply_to {
                if erase::delete_held(&mut tx, &m.room_id, &reply_to.id).await? {
                    erased |= erase::words_of(&mut tx, &m.room_id, &reply_to.id, None).await? > 0;
                }
            }
        }
        for room_id in touched {
            advance_cursor(&mut tx, room_id, 0).await?;
        }
        tx.commit().await?;
        if erased {
            self.empty_wal().await;
        }
        Ok(fresh)
    }

    /// Starts (or moves forward) a room's cursor at `seq`: older messages are history, paged on
    /// demand, not gaps. Returns the cursor now held.
    pub async fn set_cursor_base(&self, room_id: &str, seq: Seq) -> Result<Seq, CacheError> {
        let mut tx = self.pool.begin().await?;
        let cursor = advance_cursor(&mut tx, room_id, seq).await?;
        tx.commit().await?;
        Ok(cursor)
    }

    /// Drops messages stored above a hole that could not be filled, before anyone was told
    /// about them: the next `sync` (from the cursor, below them) brings them back in order.
    pub async fn forget_above_cursor(&self, room_id: &str, seqs: &[Seq]) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        for seq in seqs {
            sqlx::query(
                "DELETE FROM messages WHERE room_id = ? AND seq = ? \
                 AND seq > COALESCE((SELECT cursor FROM cursors WHERE room_id = ?), 0)",
            )
            .bind(room_id)
            .bind(seq)
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The room's cursor: every seq in (base, cursor] is held. 0 for a room never tracked.
    pub async fn cursor(&self, room_id: &str) -> Result<Seq, CacheError> {
        let cursor = sqlx::query_scalar("SELECT cursor FROM cursors WHERE room_id = ?")
            .bind(room_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(cursor.unwrap_or(0))
    }

    /// Every tracked room's cursor: the `cursors` of a `sync` request.
    pub async fn cursors(&self) -> Result<BTreeMap<Id, Seq>, CacheError> {
        let rows: Vec<(String, Seq)> = sqlx::query_as("SELECT room_id, cursor FROM cursors")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The seqs missing between the room's cursor and the highest seq held, oldest first.
    pub async fn gaps(&self, room_id: &str) -> Result<Vec<SeqRange>, CacheError> {
        let cursor = self.cursor(room_id).await?;
        let rows: Vec<(Seq, Seq)> = sqlx::query_as(
            "SELECT prev + 1, seq - 1 FROM ( \
                SELECT seq, LAG(seq, 1, ?) OVER (ORDER BY seq) AS prev \
                FROM messages WHERE room_id = ? AND seq > ?) \
             WHERE seq > prev + 1 ORDER BY seq",
        )
        .bind(cursor)
        .bind(room_id)
        .bind(cursor)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(first, last)| SeqRange { first, last })
            .collect())
    }

    /// Up to `limit` cached messages of a room with seq < `before_seq` (the newest when `None`),
    /// oldest first: what the UI shows before the relay answers. Change entries are not among
    /// them: they are folded into their targets already, so a room whose newest seqs are
    /// thousands of reactions still pages by its messages.
    pub async fn messages(
        &self,
        room_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<Message>, CacheError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM messages WHERE room_id = ? AND seq < ? AND target_id IS NULL \
             ORDER BY seq DESC LIMIT ?"
        ))
        .bind(room_id)
        .bind(before_seq.unwrap_or(Seq::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut messages = rows
            .iter()
            .map(from_row)
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        messages.reverse();
        Ok(messages)
    }

    /// Up to `limit` cached messages (no change entries) of a room with `after < seq <= up_to`,
    /// oldest first: the page below the newest that a window scrolled back down asks for.
    pub async fn messages_after(
        &self,
        room_id: &str,
        after: Seq,
        up_to: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, CacheError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM messages WHERE room_id = ? AND seq > ? AND seq <= ? \
             AND target_id IS NULL ORDER BY seq LIMIT ?"
        ))
        .bind(room_id)
        .bind(after)
        .bind(up_to)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<Result<Vec<_>, sqlx::Error>>()?)
    }

    /// Whether the cache holds every seq `first..=last` of a room (messages and change entries),
    /// so no message in that range can be missing from a page; true for an empty range.
    pub async fn holds_every_seq(
        &self,
        room_id: &str,
        first: Seq,
        last: Seq,
    ) -> Result<bool, CacheError> {
        if last < first {
            return Ok(true);
        }
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE room_id = ? AND seq >= ? AND seq <= ?",
        )
        .bind(room_id)
        .bind(first)
        .bind(last)
        .fetch_one(&self.pool)
        .await?;
        Ok(held == last - first + 1)
    }

    /// The cached message `id` of a room as it is now, if held.
    pub async fn message(&self, room_id: &str, id: &str) -> Result<Option<Message>, CacheError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM messages WHERE room_id = ? AND id = ?"
        ))
        .bind(room_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }
}

/// Whether the cache holds entries changing `m` above seq `after`.
async fn has_entries_above(
    conn: &mut SqliteConnection,
    m: &Message,
    after: Seq,
) -> Result<bool, CacheError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE room_id = ? AND target_id = ? AND seq > ?)",
    )
    .bind(&m.room_id)
    .bind(&m.id)
    .bind(after)
    .fetch_one(&mut *conn)
    .await?)
}

/// Rebuilds message `id` of a room, if the cache holds it: its base with the room's entries
/// that change it above the base seq, in seq order. Once it is deleted, its base becomes the
/// deleted state (as of the newest entry applied) and the words it left elsewhere go too
/// (`erase.rs`), like at the relay; that holds for a deleted message the cache does not hold
/// but whose entries it does. Answers whether text was erased (the caller empties the WAL).
async fn fold(conn: &mut SqliteConnection, room_id: &str, id: &str) -> Result<bool, CacheError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, base, base_seq FROM messages \
         WHERE room_id = ? AND id = ? AND target_id IS NULL"
    ))
    .bind(room_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        if erase::delete_held(conn, room_id, id).await? {
            return Ok(erase::words_of(conn, room_id, id, None).await? > 0);
        }
        return Ok(false);
    };
    let mut target = from_row(&row)?;
    let was_deleted = target.deleted;
    let base_seq: Seq = row
        .try_get::<Option<Seq>, _>("base_seq")?
        .unwrap_or(target.seq);
    match row
        .try_get::<Option<String>, _>("base")?
        .map(|b| serde_json::from_str::<Base>(&b))
    {
        Some(Ok(base)) => base.put_into(&mut target),
        Some(Err(e)) => {
            tracing::warn!(error = %e, seq = target.seq, "a cached message's base is unreadable")
        }
        None => {}
    }
    let entries = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM messages WHERE room_id = ? AND target_id = ? AND seq > ? \
         ORDER BY seq"
    ))
    .bind(room_id)
    .bind(id)
    .bind(base_seq)
    .fetch_all(&mut *conn)
    .await?;
    let mut folded_to = base_seq;
    for row in &entries {
        let entry = from_row(row)?;
        if let Some(change) = &entry.change {
            apply(change, &entry, &mut target);
        }
        folded_to = entry.seq;
    }
    if !target.deleted {
        sqlx::query("UPDATE messages SET body = ?, state = ? WHERE room_id = ? AND seq = ?")
            .bind(&target.body)
            .bind(State::column(&target))
            .bind(room_id)
            .bind(target.seq)
            .execute(&mut *conn)
            .await?;
        return Ok(false);
    }
    // Deleted: nothing above can change it any more (the relay refuses changes to a deleted
    // message), and an entry below that comes later changes nothing a delete leaves. So the
    // deleted state is its base: the text that was the base is gone from the row.
    sqlx::query(
        "UPDATE messages SET body = ?, state = ?, base = ?, base_seq = ? \
         WHERE room_id = ? AND seq = ?",
    )
    .bind(&target.body)
    .bind(State::column(&target))
    .bind(serde_json::to_string(&Base::of(&target)).ok())
    .bind(folded_to)
    .bind(room_id)
    .bind(target.seq)
    .execute(&mut *conn)
    .await?;
    let erased = erase::words_of(conn, room_id, id, Some(target.seq)).await?;
    Ok(!was_deleted || erased > 0)
}

/// Raises the cursor to at least `floor`, then past every held seq that follows it without a gap.
async fn advance_cursor(
    conn: &mut SqliteConnection,
    room_id: &str,
    floor: Seq,
) -> Result<Seq, CacheError> {
    let cursor: Seq = sqlx::query_scalar(
        "INSERT INTO cursors (room_id, cursor) VALUES (?, ?) \
         ON CONFLICT (room_id) DO UPDATE SET cursor = MAX(cursor, excluded.cursor) \
         RETURNING cursor",
    )
    .bind(room_id)
    .bind(floor)
    .fetch_one(&mut *conn)
    .await?;
    // The end of the run of held seqs starting right after the cursor: the first held seq
    // above it whose successor is missing. Only meaningful when cursor + 1 is held.
    let run_end: Option<Seq> = sqlx::query_scalar(
        "SELECT MIN(m.seq) FROM messages m WHERE m.room_id = ?1 AND m.seq > ?2 \
         AND EXISTS (SELECT 1 FROM messages WHERE room_id = ?1 AND seq = ?2 + 1) \
         AND NOT EXISTS (SELECT 1 FROM messages n WHERE n.room_id = ?1 AND n.seq = m.seq + 1)",
    )
    .bind(room_id)
    .bind(cursor)
    .fetch_one(&mut *conn)
    .await?;
    match run_end {
        Some(end) if end > cursor => {
            sqlx::query("UPDATE cursors SET cursor = ? WHERE room_id = ?")
                .bind(end)
                .bind(room_id)
                .execute(&mut *conn)
                .await?;
            Ok(end)
        }
        _ => Ok(cursor),
    }
}
