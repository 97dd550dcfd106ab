//! Who may come in, in SQLite (migration 0008): registration through an invite (checked and
//! spent in the user's own transaction), invites, the account list, roles (never the last
//! admin away), disabling, passwords, one's sessions, display names and deleting an account.

use natter_protocol::admin::{Account, Invite, Role};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::accounts::{insert_user, user_from_row, USER_COLUMNS};
use super::sql::new_id;
use crate::store::types::{Admission, NewInvite, SessionRow, StoreError};
use crate::time::now_rfc3339;

/// An account that can act: neither disabled nor deleted.
const ACTIVE: &str = "disabled_at IS NULL AND deleted_at IS NULL";

pub(super) fn register(
    conn: &mut Connection,
    username: &str,
    password_hash: &str,
    admission: &Admission,
) -> Result<natter_protocol::User, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let role = match admission {
        Admission::Open(role) => *role,
        Admission::FirstAdmin if count_users(&tx)? == 0 => Role::Admin,
        Admission::FirstAdmin => Role::Member,
        Admission::Invite { code_hash, now } => spend_invite(&tx, code_hash, now)?,
    };
    // A taken name rolls the invite's use back with the transaction.
    let user = insert_user(&tx, username, password_hash, role)?;
    tx.commit()?;
    Ok(user)
}

/// Spends one use of the invite, in one conditional UPDATE: racing registrations serialize on
/// the write lock, and the one that finds no use left changes no row.
fn spend_invite(tx: &Transaction<'_>, code_hash: &str, now: &str) -> Result<Role, StoreError> {
    let role: Option<String> = tx
        .prepare_cached(
            "UPDATE invites SET used = used + 1 WHERE code_hash = ?1 AND used < uses \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2) RETURNING role",
        )?
        .query_row(params![code_hash, now], |row| row.get(0))
        .optional()?;
    let role = role.ok_or(StoreError::InviteRefused)?;
    Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("invite role {role:?}")))
}

fn count_users(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL")?
        .query_row([], |row| row.get(0))
}

pub(super) fn user_count(conn: &Connection) -> rusqlite::Result<u64> {
    count_users(conn)
}

const INVITE_COLUMNS: &str = "i.id, i.role, i.uses, i.used, i.expires_at, i.created_at, \
     c.username, i.revoked_at IS NOT NULL";
const INVITES: &str = "invites i LEFT JOIN users c ON c.id = i.created_by";

fn invite_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Invite> {
    let role: String = row.get(1)?;
    Ok(Invite {
        id: row.get(0)?,
        role: Role::parse(&role).unwrap_or_default(),
        uses: row.get(2)?,
        used: row.get(3)?,
        expires_at: row.get(4)?,
        created_at: row.get(5)?,
        created_by: row.get(6)?,
        revoked: row.get(7)?,
    })
}

pub(super) fn create_invite(conn: &Connection, new: &NewInvite) -> rusqlite::Result<Invite> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO invites (id, code_hash, role, uses, expires_at, created_by, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id,
        new.code_hash,
        new.role.as_str(),
        new.uses,
        new.expires_at,
        new.created_by,
        now_rfc3339()
    ])?;
    conn.prepare_cached(&format!(
        "SELECT {INVITE_COLUMNS} FROM {INVITES} WHERE i.id = ?1"
    ))?
    .query_row([id], invite_from_row)
}

pub(super) fn invites(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Invite>> {
    conn.prepare_cached(&format!(
        "SELECT {INVITE_COLUMNS} FROM {INVITES} ORDER BY i.created_at DESC, i.id DESC LIMIT ?1"
    ))?
    .query_map([limit], invite_from_row)?
    .collect()
}

pub(super) fn revoke_invite(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE invites SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1")?
        .execute(params![id, now_rfc3339()])?;
    Ok(changed > 0)
}

fn account_columns() -> String {
    format!("{USER_COLUMNS}, u.role, u.disabled_at IS NOT NULL, u.created_at, u.last_seen")
}

fn account_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    let role: String = row.get(3)?;
    Ok(Account {
        user: user_from_row(row, 0)?,
        role: Role::parse(&role).unwrap_or_default(),
        disabled: row.get(4)?,
        created_at: row.get(5)?,
        last_seen: row.get(6)?,
    })
}

pub(super) fn accounts(
    conn: &Connection,
    after: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<Account>> {
    let after = after.map(str::to_lowercase).unwrap_or_default();
    conn.prepare_cached(&format!(
        "SELECT {} FROM users u WHERE u.deleted_at IS NULL AND u.username_key > ?1 \
         ORDER BY u.username_key LIMIT ?2",
        account_columns()
    ))?
    .query_map(params![after, limit], account_from_row)?
    .collect()
}

pub(super) fn account(conn: &Connection, username: &str) -> rusqlite::Result<Option<Account>> {
    conn.prepare_cached(&format!(
        "SELECT {} FROM users u WHERE u.deleted_at IS NULL AND u.username_key = ?1",
        account_columns()
    ))?
    .query_row([username.to_lowercase()], account_from_row)
    .optional()
}

pub(super) fn active_role(conn: &Connection, user_id: &str) -> rusqlite::Result<Option<Role>> {
    let role: Option<String> = conn
        .prepare_cached(&format!(
            "SELECT role FROM users WHERE id = ?1 AND {ACTIVE}"
        ))?
        .query_row([user_id], |row| row.get(0))
        .optional()?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// Refuses (`LastAdmin`) when `user_id` is the only active admin.
fn keep_an_admin(tx: &Transaction<'_>, user_id: &str) -> Result<(), StoreError> {
    let (is_admin, others): (bool, u64) = tx
        .prepare_cached(&format!(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND role = 'admin' AND {ACTIVE}), \
             (SELECT COUNT(*) FROM users WHERE id <> ?1 AND role = 'admin' AND {ACTIVE})"
        ))?
        .query_row([user_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if is_admin && others == 0 {
        return Err(StoreError::LastAdmin);
    }
    Ok(())
}

/// Ends every session of the user but `keep`; their ids.
fn end_sessions(
    tx: &Transaction<'_>,
    user_id: &str,
    keep: Option<&str>,
) -> rusqlite::Result<Vec<String>> {
    tx.prepare_cached(
        "DELETE FROM sessions WHERE user_id = ?1 AND id IS NOT COALESCE(?2, '') RETURNING id",
    )?
    .query_map(params![user_id, keep], |row| row.get(0))?
    .collect()
}

pub(super) fn set_disabled(
    conn: &mut Connection,
    user_id: &str,
    disabled: bool,
) -> Result<Vec<String>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ended = if disabled {
        keep_an_admin(&tx, user_id)?;
        tx.prepare_cached(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, ?2) WHERE id = ?1",
        )?
        .execute(params![user_id, now_rfc3339()])?;
        end_sessions(&tx, user_id, None)?
    } else {
        tx.prepare_cached("UPDATE users SET disabled_at = NULL WHERE id = ?1")?
            .execute([user_id])?;
        Vec::new()
    };
    tx.commit()?;
    Ok(ended)
}

pub(super) fn set_role(conn: &mut Connection, user_id: &str, role: Role) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if role != Role::Admin {
        keep_an_admin(&tx, user_id)?;
    }
    tx.prepare_cached("UPDATE users SET role = ?2 WHERE id = ?1 AND deleted_at IS NULL")?
        .execute(params![user_id, role.as_str()])?;
    tx.commit()?;
    Ok(())
}

pub(super) fn set_password(
    conn: &mut Connection,
    user_id: &str,
    password_hash: &str,
    keep: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1 AND deleted_at IS NULL")?
        .execute(params![user_id, password_hash])?;
    let ended = end_sessions(&tx, user_id, keep)?;
    tx.commit()?;
    Ok(ended)
}

pub(super) fn password_hash(conn: &Connection, user_id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(&format!(
        "SELECT password_hash FROM users WHERE id = ?1 AND {ACTIVE}"
    ))?
    .query_row([user_id], |row| row.get(0))
    .optional()
}

pub(super) fn sessions_of(conn: &Connection, user_id: &str) -> rusqlite::Result<Vec<SessionRow>> {
    conn.prepare_cached(
        "SELECT id, device, created_at, COALESCE(last_used_at, created_at) AS used \
         FROM sessions WHERE user_id = ?1 ORDER BY used DESC, id",
    )?
    .query_map([user_id], |row| {
        Ok(SessionRow {
            id: row.get(0)?,
            device: row.get(1)?,
            created_at: row.get(2)?,
            last_used_at: row.get(3)?,
        })
    })?
    .collect()
}

pub(super) fn end_session_of(
    conn: &Connection,
    user_id: &str,
    session_id: &str,
) -> rusqlite::Result<bool> {
    let ended = conn
        .prepare_cached("DELETE FROM sessions WHERE id = ?1 AND user_id = ?2")?
        .execute([session_id, user_id])?;
    Ok(ended > 0)
}

pub(super) fn set_display_name(
    conn: &Connection,
    user_id: &str,
    display_name: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE users SET display_name = ?2 WHERE id = ?1")?
        .execute([user_id, display_name])?;
    Ok(())
}

pub(super) fn delete_user(conn: &mut Connection, user_id: &str) -> Result<Vec<String>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    keep_an_admin(&tx, user_id)?;
    let ended = end_sessions(&tx, user_id, None)?;
    tx.prepare_cached("DELETE FROM members WHERE user_id = ?1")?
        .execute([user_id])?;
    tx.prepare_cached("DELETE FROM blocks WHERE blocker_id = ?1 OR blocked_id = ?1")?
        .execute([user_id])?;
    // No hash verifies against '': nobody signs in as the tombstone.
    tx.prepare_cached(
        "UPDATE users SET deleted_at = ?2, password_hash = '', role = 'member', \
         display_name = '', disabled_at = NULL WHERE id = ?1",
    )?
    .execute(params![user_id, now_rfc3339()])?;
    tx.commit()?;
    Ok(ended)
}
