//! Validation rules shared by relay and client; each returns an `invalid` or `too_large` error.

use std::collections::BTreeMap;

use crate::ack::{ErrorCode, WireError};
use crate::limits::*;
use crate::model::Seq;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// 3–32 characters of `A–Z a–z 0–9 _ . -`.
pub fn username(name: &str) -> Result<(), WireError> {
    let n = chars(name);
    if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&n) {
        return Err(WireError::invalid(format!(
            "username must be {USERNAME_MIN_CHARS}-{USERNAME_MAX_CHARS} characters"
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(WireError::invalid(
            "username may contain only letters, digits, '_', '.' and '-'",
        ));
    }
    Ok(())
}

/// A username someone else picked: same rules, reported as `not_found` when it cannot exist.
pub fn username_shape(name: &str) -> Result<(), WireError> {
    username(name).map_err(|_| WireError::new(ErrorCode::NotFound, "no such user"))
}

pub fn password(password: &str) -> Result<(), WireError> {
    let n = chars(password);
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n) {
        return Err(WireError::invalid(format!(
            "password must be {PASSWORD_MIN_CHARS}-{PASSWORD_MAX_CHARS} characters"
        )));
    }
    Ok(())
}

/// A display name: empty (none), or at most [`DISPLAY_NAME_MAX_CHARS`] characters with no
/// control, invisible or text-reordering characters and not blank, like a room name.
pub fn display_name(name: &str) -> Result<(), WireError> {
    if name.is_empty() {
        return Ok(());
    }
    if name.trim().is_empty() || chars(name) > DISPLAY_NAME_MAX_CHARS {
        return Err(WireError::invalid(format!(
            "display name must be 1-{DISPLAY_NAME_MAX_CHARS} characters, or empty for none"
        )));
    }
    if name.chars().any(char::is_control) || has_hidden(name) {
        return Err(WireError::invalid(
            "display name contains control, invisible or text-reordering characters",
        ));
    }
    Ok(())
}

/// A message body: not blank, at most [`MAX_BODY_CHARS`].
pub fn body(body: &str) -> Result<(), WireError> {
    if body.trim().is_empty() {
        return Err(WireError::invalid("message body is empty"));
    }
    if chars(body) > MAX_BODY_CHARS {
        return Err(WireError::new(
            ErrorCode::TooLarge,
            format!("message body is over {MAX_BODY_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A search query: not blank, at most [`SEARCH_QUERY_MAX_CHARS`], no control characters.
pub fn search_query(query: &str) -> Result<(), WireError> {
    if query.trim().is_empty() {
        return Err(WireError::invalid("search query is empty"));
    }
    if chars(query) > SEARCH_QUERY_MAX_CHARS {
        return Err(WireError::new(
            ErrorCode::TooLarge,
            format!("search query is over {SEARCH_QUERY_MAX_CHARS} characters"),
        ));
    }
    if query.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(WireError::invalid(
            "search query contains control characters",
        ));
    }
    Ok(())
}

pub fn room_name(name: &str) -> Result<(), WireError> {
    let n = chars(name.trim());
    if n == 0 || chars(name) > ROOM_NAME_MAX_CHARS {
        return Err(WireError::invalid(format!(
            "room name must be 1-{ROOM_NAME_MAX_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(WireError::invalid("room name contains control characters"));
    }
    if has_hidden(name) {
        return Err(WireError::invalid(
            "room name contains invisible or text-reordering characters",
        ));
    }
    Ok(())
}

/// Whether `text` holds a character that hides or reorders text, so one name could pass for
/// another (issue 22 item 14): format characters (Unicode category Cf: bidi overrides and
/// isolates, zero-width spaces and marks, tags, …), line and paragraph separators, and the
/// Hangul fillers that render as nothing. A zero-width joiner is allowed only between two
/// emoji, where it builds one (👨‍👩‍👧). Usernames need no such check: their alphabet is ASCII.
pub fn has_hidden(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        if c == ZERO_WIDTH_JOINER {
            let before = i.checked_sub(1).and_then(|j| chars.get(j));
            let after = chars.get(i + 1);
            !(before.is_some_and(|&b| is_emoji_part(b)) && after.is_some_and(|&a| is_emoji(a)))
        } else {
            is_hidden(c)
        }
    })
}

const ZERO_WIDTH_JOINER: char = '\u{200D}';

/// Unicode 15's category Cf (except the joiner, see [`has_hidden`]), line and paragraph
/// separators, and the Hangul fillers.
fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061C}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08E2}'
        | '\u{115F}'..='\u{1160}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}'
    )
}

/// Pictographs a joiner may join (the emoji blocks, roughly; a joiner next to anything else
/// is refused).
fn is_emoji(c: char) -> bool {
    matches!(c, '\u{2600}'..='\u{27BF}' | '\u{1F000}'..='\u{1FAFF}')
}

/// What may stand before a joiner: an emoji, or the end of one (variation selector 16, a skin
/// tone modifier is itself in the emoji blocks).
fn is_emoji_part(c: char) -> bool {
    is_emoji(c) || c == '\u{FE0F}'
}

/// A reaction: exactly one emoji — one pictograph with its variation selector, skin tone and
/// tags, several such joined by zero-width joiners (👨‍👩‍👧), a flag (two regional indicators)
/// or a keycap (1️⃣) — at most [`MAX_EMOJI_BYTES`] bytes.
pub fn emoji(emoji: &str) -> Result<(), WireError> {
    if emoji.len() > MAX_EMOJI_BYTES {
        return Err(WireError::new(
            ErrorCode::TooLarge,
            format!("emoji is over {MAX_EMOJI_BYTES} bytes"),
        ));
    }
    let chars: Vec<char> = emoji.chars().collect();
    let one = is_flag(&chars)
        || is_keycap(&chars)
        || (!chars.is_empty()
            && chars
                .split(|&c| c == ZERO_WIDTH_JOINER)
                .all(is_one_pictograph));
    if one {
        Ok(())
    } else {
        Err(WireError::invalid("a reaction must be exactly one emoji"))
    }
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

fn is_flag(chars: &[char]) -> bool {
    matches!(chars, [a, b] if is_regional_indicator(*a) && is_regional_indicator(*b))
}

fn is_keycap(chars: &[char]) -> bool {
    match chars {
        [base, '\u{FE0F}', '\u{20E3}'] | [base, '\u{20E3}'] => {
            base.is_ascii_digit() || matches!(base, '#' | '*')
        }
        _ => false,
    }
}

/// One pictograph, then what may follow it inside one emoji: variation selector 16, a skin
/// tone, tag characters ending in the cancel tag (subdivision flags such as Scotland's).
fn is_one_pictograph(part: &[char]) -> bool {
    let Some((&base, rest)) = part.split_first() else {
        return false;
    };
    let pictograph = (is_emoji(base) && !is_regional_indicator(base))
        || matches!(base, '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}'
            | '\u{2139}' | '\u{2194}'..='\u{21AA}' | '\u{231A}'..='\u{23FF}' | '\u{24C2}'
            | '\u{25AA}'..='\u{25FE}' | '\u{2B05}'..='\u{2B55}' | '\u{3030}' | '\u{303D}'
            | '\u{3297}' | '\u{3299}');
    let modifier =
        |c: &char| matches!(c, '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}');
    pictograph && rest.iter().all(modifier)
}

pub fn member_list(members: &[String]) -> Result<(), WireError> {
    if members.len() > MAX_CREATE_MEMBERS {
        return Err(WireError::new(
            ErrorCode::TooLarge,
            format!("at most {MAX_CREATE_MEMBERS} members at creation"),
        ));
    }
    members.iter().try_for_each(|m| username_shape(m))
}

/// An opaque id sent by a client (room id).
pub fn id(id: &str) -> Result<(), WireError> {
    if id.is_empty() || chars(id) > MAX_ID_CHARS {
        return Err(WireError::invalid(format!(
            "id must be 1-{MAX_ID_CHARS} characters"
        )));
    }
    Ok(())
}

/// A client-chosen message id (a UUID is recommended): printable, 1–64 characters.
pub fn client_id(client_id: &str) -> Result<(), WireError> {
    id(client_id).map_err(|_| {
        WireError::invalid(format!("client_id must be 1-{MAX_ID_CHARS} characters"))
    })?;
    if client_id.chars().any(char::is_control) {
        return Err(WireError::invalid("client_id contains control characters"));
    }
    Ok(())
}

/// A message's files: at most [`MAX_ATTACHMENTS`] ids, each an id and named once.
pub fn attachments(ids: &[String]) -> Result<(), WireError> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(WireError::new(
            ErrorCode::TooLarge,
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    for (i, file) in ids.iter().enumerate() {
        id(file)?;
        if ids[..i].contains(file) {
            return Err(WireError::invalid("an attachment is named twice"));
        }
    }
    Ok(())
}

/// The text of a message that carries files: like [`body`], but it may be empty.
pub fn caption(caption: &str) -> Result<(), WireError> {
    if caption.is_empty() {
        return Ok(());
    }
    body(caption)
}

pub fn seq(seq: Seq) -> Result<(), WireError> {
    if seq < 0 {
        return Err(WireError::invalid("seq must not be negative"));
    }
    Ok(())
}

pub fn cursors(cursors: &BTreeMap<String, Seq>) -> Result<(), WireError> {
    if cursors.len() > MAX_SYNC_CURSORS {
        return Err(WireError::new(
            ErrorCode::TooLarge,
            format!("at most {MAX_SYNC_CURSORS} cursors"),
        ));
    }
    cursors.iter().try_for_each(|(room, &s)| {
        id(room)?;
        seq(s)
    })
}
