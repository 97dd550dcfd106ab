//! Users and sessions in SQLite: sign-up, credentials, names, last seen; sessions made, found
//! at sign-on, kept alive, expired and ended. Functions over a connection, run on the writer
//! or a reader thread by `mod.rs`. Invites, roles and account changes: `admin.rs`.

use natter_protocol::admin::Role;
use natter_protocol::{User, GENERAL_ROOM_ID};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::rooms::insert_member;
use super::sql::is_unique_violation;
use crate::store::rows::new_id;
use crate::store::types::{Credentials, NewSession, SignOn, StoreError};
use crate::time::now_rfc3339;

/// A new member, in `general`; `Conflict` when the name is taken (ignoring case).
pub(super) fn create_user(
    conn: &mut Connection,
    username: &str,
    password_hash: &str,
) -> Result<User, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let user = insert_user(&tx, username, password_hash, Role::Member)?;
    tx.commit()?;
    Ok(user)
}

/// Inserts a user of `role` and makes them a member of `general`, inside the caller's
/// transaction; `Conflict` when the name is taken (ignoring case).
pub(super) fn insert_user(
    tx: &rusqlite::Transaction<'_>,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, StoreError> {
    let user = User {
        id: new_id(),
        username: username.to_owned(),
        ..User::default()
    };
    let inserted = tx
        .prepare_cached(
            "INSERT INTO users (id, username, username_key, password_hash, created_at, role) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            user.id,
            username,
            username.to_lowercase(),
            password_hash,
            now_rfc3339(),
            role.as_str()
        ]);
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict),
        other => other?,
    };
    insert_member(tx, GENERAL_ROOM_ID, &user.id, u32::MAX)?;
    Ok(user)
}

/// The columns [`user_from_row`] reads, from `users u`.
pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.display_name";

/// A user from [`USER_COLUMNS`] starting at column `at`.
pub(super) fn user_from_row(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(at)?,
        username: row.get(at + 1)?,
        display_name: row.get(at + 2)?,
    })
}

pub(super) fn credentials(
    conn: &Connection,
    username: &str,
) -> rusqlite::Result<Option<Credentials>> {
    conn.prepare_cached(
        "SELECT u.id, u.username, u.display_name, u.password_hash, u.disabled_at IS NOT NULL \
         FROM users u WHERE u.username_key = ?1 AND u.deleted_at IS NULL",
    )?
    .query_row([username.to_lowercase()], |row| {
        Ok(Credentials {
            user: user_from_row(row, 0)?,
            password_hash: row.get(3)?,
            disabled: row.get(4)?,
        })
    })
    .optional()
}

/// The users of those names (ignoring case) that exist and are not deleted, in the order asked.
pub(super) fn users_by_name(conn: &Connection, names: &[String]) -> rusqlite::Result<Vec<User>> {
    let mut find = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.username_key = ?1 AND u.deleted_at IS NULL"
    ))?;
    let mut users = Vec::with_capacity(names.len());
    for name in names {
        let user = find
            .query_row([name.to_lowercase()], |row| user_from_row(row, 0))
            .optional()?;
        users.extend(user);
    }
    Ok(users)
}

pub(super) fn last_seen(conn: &Connection, user_id: &str) -> rusqlite::Result<Option<String>> {
    let seen = conn
        .prepare_cached("SELECT last_seen FROM users WHERE id = ?1")?
        .query_row([user_id], |row| row.get::<_, Option<String>>(0))
        .optional()?;
    Ok(seen.flatten())
}

pub(super) fn set_last_seen(conn: &Connection, user_id: &str, at: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE users SET last_seen = ?1 WHERE id = ?2")?
        .execute([at, user_id])?;
    Ok(())
}

/// A new session, from `device`; the user's sessions past the `per_user` used last (the new one
/// first) end, and their ids are answered. `Inactive` (nothing written) for a disabled or
/// deleted user: checked in the insert itself, so a login racing a disable cannot slip through.
pub(super) fn create_session(
    conn: &mut Connection,
    user_id: &str,
    token_hash: &str,
    device: &str,
    per_user: u32,
) -> Result<NewSession, StoreError> {
    let id = new_id();
    let now = now_rfc3339();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_used_at, device) \
             SELECT ?1, ?2, u.id, ?4, ?4, ?5 FROM users u \
             WHERE u.id = ?3 AND u.disabled_at IS NULL AND u.deleted_at IS NULL",
        )?
        .execute(params![id, token_hash, user_id, now, device])?;
    if inserted == 0 {
        return Err(StoreError::Inactive);
    }
    let ended = tx
        .prepare_cached(
            "DELETE FROM sessions WHERE user_id = ?1 AND id NOT IN ( \
                 SELECT id FROM sessions WHERE user_id = ?1 \
                 ORDER BY id = ?2 DESC, COALESCE(last_used_at, created_at) DESC, created_at DESC \
                 LIMIT ?3) \
             RETURNING id",
        )?
        .query_map(params![user_id, id, per_user], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    tx.commit()?;
    Ok(NewSession { id, ended })
}

/// The session, user and rooms (with their last seqs) behind a token hash, and when the
/// session was last used.
pub(super) fn sign_on(
    conn: &Connection,
    token_hash: &str,
) -> rusqlite::Result<Option<(SignOn, String)>> {
    let found = conn
        .prepare_cached(
            "SELECT s.id, u.id, u.username, u.display_name, COALESCE(s.last_used_at, s.created_at) \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ?1 AND u.disabled_at IS NULL AND u.deleted_at IS NULL",
        )?
        .query_row([token_hash], |row| {
            let user = user_from_row(row, 1)?;
            Ok((row.get(0)?, user, row.get::<_, String>(4)?))
        })
        .optional()?;
    let Some((session_id, user, last_used)) = found else {
        return Ok(None);
    };
    let rooms = super::rooms::room_seqs_of(conn, &user.id)?;
    let signed_on = SignOn {
        session_id,
        user,
        rooms,
    };
    Ok(Some((signed_on, last_used)))
}

/// Records that session `id` was used now.
pub(super) fn touch_session(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE sessions SET last_used_at = ?1 WHERE id = ?2")?
        .execute([now_rfc3339().as_str(), id])?;
    Ok(())
}

pub(super) fn end_session(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Ends the session of a token hash; its id, if there was one.
pub(super) fn delete_session(
    conn: &Connection,
    token_hash: &str,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1 RETURNING id")?
        .query_row([token_hash], |row| row.get(0))
        .optional()
}
