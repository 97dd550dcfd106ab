//! What every backend's message rows share, so both build the same `Message`: ids, the
//! mentions column, and what a client that knows only messages shows for a change entry.

use natter_protocol::Change;

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
