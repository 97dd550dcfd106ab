//! Users and sessions in PostgreSQL: sign-up, credentials, names, last seen; sessions made,
//! found at sign-on, kept alive, expired and ended. Invites, roles and account changes:
//! `admin.rs`.

use natter_protocol::admin::Role;
use natter_protocol::{User, GENERAL_ROOM_ID};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::is_unique_violation;
use super::rooms::insert_member;
use crate::store::rows::new_id;
use crate::store::types::{Credentials, NewSession, SignOn, StoreError};
use crate::time::now_rfc3339;

/// A new member, in `general`; `Conflict` when the name is taken (ignoring case).
pub(super) async fn create_user(
    pool: &PgPool,
    username: &str,
    password_hash: &str,
) -> Result<User, StoreError> {
    let mut tx = pool.begin().await?;
    let user = insert_user(&mut tx, username, password_hash, Role::Member).await?;
    tx.commit().await?;
    Ok(user)
}

/// Inserts a user of `role` and makes them a member of `general`, inside the caller's
/// transaction; `Conflict` when the name is taken (ignoring case). After `Conflict` the
/// transaction is aborted: the caller drops it (a rollback).
pub(super) async fn insert_user(
    tx: &mut PgConnection,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, StoreError> {
    let user = User {
        id: new_id(),
        username: username.to_owned(),
        ..User::default()
    };
    let inserted = sqlx::query(
        "INSERT INTO users (id, username, username_key, password_hash, created_at, role) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&user.id)
    .bind(username)
    .bind(username.to_lowercase())
    .bind(password_hash)
    .bind(now_rfc3339())
    .bind(role.as_str())
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict),
        other => other?,
    };
    insert_member(tx, GENERAL_ROOM_ID, &user.id, u32::MAX).await?;
    Ok(user)
}

/// The columns [`user_from_row`] reads, from `users u`.
pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.display_name";

/// A user from [`USER_COLUMNS`] starting at column `at`.
pub(super) fn user_from_row(row: &PgRow, at: usize) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get(at)?,
        username: row.try_get(at + 1)?,
        display_name: row.try_get(at + 2)?,
    })
}

pub(super) async fn credentials(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}, u.password_hash, u.disabled_at IS NOT NULL \
         FROM users u WHERE u.username_key = $1 AND u.deleted_at IS NULL"
    ))
    .bind(username.to_lowercase())
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(Credentials {
            user: user_from_row(&row, 0)?,
            password_hash: row.try_get(3)?,
            disabled: row.try_get(4)?,
        })
    })
    .transpose()
}

/// The users of those names (ignoring case) that exist and are not deleted, in the order asked.
pub(super) async fn users_by_name(
    conn: &mut PgConnection,
    names: &[String],
) -> Result<Vec<User>, sqlx::Error> {
    let keys: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let rows = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}, u.username_key FROM users u \
         WHERE u.username_key = ANY($1) AND u.deleted_at IS NULL"
    ))
    .bind(&keys)
    .fetch_all(conn)
    .await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        found.push((row.try_get::<String, _>(3)?, user_from_row(row, 0)?));
    }
    Ok(keys
        .iter()
        .filter_map(|key| found.iter().find(|(k, _)| k == key).map(|(_, u)| u.clone()))
        .collect())
}

pub(super) async fn last_seen(
    conn: &mut PgConnection,
    user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let seen: Option<Option<String>> =
        sqlx::query_scalar("SELECT last_seen FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(seen.flatten())
}

pub(super) async fn set_last_seen(
    conn: &mut PgConnection,
    user_id: &str,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_seen = $1 WHERE id = $2")
        .bind(at)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A new session, from `device`; the user's sessions past the `per_user` used last (the new one
/// first) end, and their ids are answered. `Inactive` (nothing written) for a disabled or
/// deleted user: the user's row is locked first, so a login racing a disable on another node
/// either sees it or is ended by it.
pub(super) async fn create_session(
    pool: &PgPool,
    user_id: &str,
    token_hash: &str,
    device: &str,
    per_user: u32,
) -> Result<NewSession, StoreError> {
    let id = new_id();
    let now = now_rfc3339();
    let mut tx = pool.begin().await?;
    // Two logins of one user on two nodes at once must not both keep their cap's worth.
    let active: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL AND deleted_at IS NULL \
         FOR NO KEY UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    if active.is_none() {
        return Err(StoreError::Inactive);
    }
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, created_at, last_used_at, device) \
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(&id)
    .bind(token_hash)
    .bind(user_id)
    .bind(&now)
    .bind(device)
    .execute(&mut *tx)
    .await?;
    let ended: Vec<String> = sqlx::query_scalar(
        "DELETE FROM sessions WHERE user_id = $1 AND id NOT IN ( \
             SELECT id FROM sessions WHERE user_id = $1 \
             ORDER BY id = $2 DESC, COALESCE(last_used_at, created_at) DESC, created_at DESC \
             LIMIT $3) \
         RETURNING id",
    )
    .bind(user_id)
    .bind(&id)
    .bind(i64::from(per_user))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(NewSession { id, ended })
}

/// The session, user and rooms (with their last seqs) behind a token hash (never a disabled or deleted user's),
/// and when the session was last used.
pub(super) async fn sign_on(
    conn: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<(SignOn, String)>, sqlx::Error> {
    let found = sqlx::query(&format!(
        "SELECT s.id, COALESCE(s.last_used_at, s.created_at), {USER_COLUMNS} \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND u.disabled_at IS NULL AND u.deleted_at IS NULL"
    ))
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = found else {
        return Ok(None);
    };
    let user = user_from_row(&row, 2)?;
    let rooms = super::rooms::room_seqs_of(conn, &user.id).await?;
    let signed_on = SignOn {
        session_id: row.try_get(0)?,
        user,
        rooms,
    };
    Ok(Some((signed_on, row.try_get(1)?)))
}

/// Records that session `id` was used now.
pub(super) async fn touch_session(conn: &mut PgConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
        .bind(now_rfc3339())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn end_session(conn: &mut PgConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends the session of a token hash; its id, if there was one.
pub(super) async fn delete_session(
    conn: &mut PgConnection,
    token_hash: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = $1 RETURNING id")
        .bind(token_hash)
        .fetch_optional(conn)
        .await
}
