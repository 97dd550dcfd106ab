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
    Ok(())
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
