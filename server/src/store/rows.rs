//! What every backend's message rows share, so both build the same `Message`: ids, the
//! mentions column, what a client that knows only messages shows for a change entry, and a
//! page's reactions from their rows.

use std::collections::HashMap;

use natter_protocol::model::Seq;
use natter_protocol::{Change, Message, Reaction};

/// Time-ordered ids (UUID v7): new rows land at the end of the primary-key index instead of
/// dirtying a random page.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The mentions column: names joined by spaces, NULL for none.
pub(crate) fn mentions_column(mentions: &[String]) -> Option<String> {
    (!mentions.is_empty()).then(|| mentions.join(" "))
}

/// The names of a mentions column ([`mentions_column`]).
pub(crate) fn mentions_from_column(column: Option<String>) -> Vec<String> {
    column
        .map(|names| names.split(' ').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// What a client that knows only messages shows for a change entry (docs/protocol.md).
pub(crate) fn fallback_body(change: &Change) -> String {
    match change {
        Change::Edit { body, .. } if body.is_empty() => "edited a message (since deleted)".into(),
        Change::Edit { body, .. } => format!("✎ {body}"),
        Change::Delete { .. } => "deleted a message".into(),
        Change::Reaction {
            emoji, on: true, ..
        } => format!("reacted {emoji}"),
        Change::Reaction {
            emoji, on: false, ..
        } => format!("took back {emoji}"),
        Change::Unknown => String::new(),
    }
}

/// A change entry from its stored kind (`None`: a message), target id, body, emoji and on.
pub(crate) fn change_from_columns(
    kind: Option<String>,
    target: Option<String>,
    body: &str,
    emoji: Option<String>,
    on: Option<bool>,
) -> Option<Change> {
    let kind = kind?;
    let target = target.unwrap_or_default();
    Some(match kind.as_str() {
        "edit" => Change::Edit {
            target,
            body: body.to_owned(),
        },
        "delete" => Change::Delete { target },
        "reaction" => Change::Reaction {
            target,
            emoji: emoji.unwrap_or_default(),
            on: on.unwrap_or(false),
        },
        _ => Change::Unknown,
    })
}

/// A page's rooms, each with the seqs of its messages: whose reactions a backend reads (a
/// history page is one room; a search page may be many, far apart and newest first).
pub(crate) fn reaction_seqs(page: &[Message]) -> Vec<(String, Vec<Seq>)> {
    let mut rooms: Vec<(String, Vec<Seq>)> = Vec::new();
    for m in page {
        match rooms.iter_mut().find(|(room, _)| *room == m.room_id) {
            Some((_, seqs)) => seqs.push(m.seq),
            None => rooms.push((m.room_id.clone(), vec![m.seq])),
        }
    }
    rooms
}

/// Fills in one room's reactions from its rows `(message seq, emoji, username)` in the order
/// they were made: each emoji in the order it first appeared, its users in the order they
/// reacted.
pub(crate) fn fold_reactions(
    page: &mut [Message],
    room_id: &str,
    rows: Vec<(Seq, String, String)>,
) {
    let mut found: HashMap<Seq, Vec<Reaction>> = HashMap::new();
    for (seq, emoji, user) in rows {
        let reactions = found.entry(seq).or_default();
        match reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.users.push(user),
            None => reactions.push(Reaction {
                emoji,
                users: vec![user],
            }),
        }
    }
    for m in page.iter_mut().filter(|m| m.room_id == room_id) {
        if let Some(reactions) = found.remove(&m.seq) {
            m.reactions = reactions;
        }
    }
}
