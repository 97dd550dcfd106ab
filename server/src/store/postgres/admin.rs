//! Who may come in, in PostgreSQL (migration 0002): registration through an invite (spent in
//! the user's own transaction), invites, the account list, roles (never the last admin away),
//! disabling, passwords, one's sessions, display names and deleting an account. Several nodes
//! write these at once: the invite's use is one conditional UPDATE, and every change that could
//! take away the last admin holds one advisory lock while it counts and writes.

use natter_protocol::admin::{Account, Invite, Role};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::accounts::{insert_user, user_from_row, USER_COLUMNS};
use super::rooms::lock_users;
use crate::store::rows::new_id;
use crate::store::types::{Admission, NewInvite, SessionRow, StoreError};
use crate::time::now_rfc3339;

/// An account that can act: neither disabled nor deleted.
const ACTIVE: &str = "disabled_at IS NULL AND deleted_at IS NULL";

/// The advisory lock (`pg_advisory_xact_lock`) of changes to who is an active admin: held
/// while one counts the admins and writes, so two nodes demoting the last two admins at once
/// cannot both see the other one left. The first-admin registration holds it too.
const ADMINS_LOCK: i64 = 0x6e61_7474_6164_6d6e; // "nattadmn"

async fn lock_admins(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(ADMINS_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn register(
    pool: &PgPool,
    username: &str,
    password_hash: &str,
    admission: &Admission,
) -> Result<natter_protocol::User, StoreError> {
    let mut tx = pool.begin().await?;
    let role = match admission {
        Admission::Open(role) => *role,
        Admission::FirstAdmin => {
            // Two owners' registrations racing must not both find the relay empty.
            lock_admins(&mut tx).await?;
            if user_count(&mut tx).await? == 0 {
                Role::Admin
            } else {
                Role::Member
            }
        }
        Admission::Invite { code_hash, now } => spend_invite(&mut tx, code_hash, now).await?,
    };
    // A taken name rolls the invite's use back with the transaction (dropped unfinished).
    let user = insert_user(&mut tx, username, password_hash, role).await?;
    tx.commit().await?;
    Ok(user)
}

/// Spends one use of the invite, in one conditional UPDATE: a registration racing for the same
/// row waits for the other's transaction, then checks `used < uses` again on the row as that
/// left it (READ COMMITTED's re-check of an updated row), so of racers for the last use one
/// changes the row and the others change none.
async fn spend_invite(
    conn: &mut PgConnection,
    code_hash: &str,
    now: &str,
) -> Result<Role, StoreError> {
    let role: Option<String> = sqlx::query_scalar(
        "UPDATE invites SET used = used + 1 WHERE code_hash = $1 AND used < uses \
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) RETURNING role",
    )
    .bind(code_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    let role = role.ok_or(StoreError::InviteRefused)?;
    Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("invite role {role:?}")))
}

pub(super) async fn user_count(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL")
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

const INVITE_COLUMNS: &str = "i.id, i.role, i.uses, i.used, i.expires_at, i.created_at, \
     c.username, i.revoked_at IS NOT NULL";
const INVITES: &str = "invites i LEFT JOIN users c ON c.id = i.created_by";

fn invite_from_row(row: &PgRow) -> Result<Invite, sqlx::Error> {
    let role: String = row.try_get(1)?;
    Ok(Invite {
        id: row.try_get(0)?,
        role: Role::parse(&role).unwrap_or_default(),
        uses: u32::try_from(row.try_get::<i64, _>(2)?).unwrap_or(u32::MAX),
        used: u32::try_from(row.try_get::<i64, _>(3)?).unwrap_or(u32::MAX),
        expires_at: row.try_get(4)?,
        created_at: row.try_get(5)?,
        created_by: row.try_get(6)?,
        revoked: row.try_get(7)?,
    })
}

pub(super) async fn create_invite(
    conn: &mut PgConnection,
    new: &NewInvite,
) -> Result<Invite, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO invites (id, code_hash, role, uses, expires_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&new.code_hash)
    .bind(new.role.as_str())
    .bind(i64::from(new.uses))
    .bind(&new.expires_at)
    .bind(&new.created_by)
    .bind(now_rfc3339())
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {INVITE_COLUMNS} FROM {INVITES} WHERE i.id = $1"
    ))
    .bind(&id)
    .fetch_one(conn)
    .await?;
    invite_from_row(&row)
}

pub(super) async fn invites(
    conn: &mut PgConnection,
    limit: u32,
) -> Result<Vec<Invite>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {INVITE_COLUMNS} FROM {INVITES} ORDER BY i.created_at DESC, i.id DESC LIMIT $1"
    ))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .iter()
    .map(invite_from_row)
    .collect()
}

pub(super) async fn revoke_invite(conn: &mut PgConnection, id: &str) -> Result<bool, sqlx::Error> {
    let changed =
        sqlx::query("UPDATE invites SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
            .bind(id)
            .bind(now_rfc3339())
            .execute(conn)
            .await?
            .rows_affected();
    Ok(changed > 0)
}

fn account_columns() -> String {
    format!("{USER_COLUMNS}, u.role, u.disabled_at IS NOT NULL, u.created_at, u.last_seen")
}

fn account_from_row(row: &PgRow) -> Result<Account, sqlx::Error> {
    let role: String = row.try_get(3)?;
    Ok(Account {
        user: user_from_row(row, 0)?,
        role: Role::parse(&role).unwrap_or_default(),
        disabled: row.try_get(4)?,
        created_at: row.try_get(5)?,
        last_seen: row.try_get(6)?,
    })
}

pub(super) async fn accounts(
    conn: &mut PgConnection,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Account>, sqlx::Error> {
    let after = after.map(str::to_lowercase).unwrap_or_default();
    sqlx::query(&format!(
        "SELECT {} FROM users u WHERE u.deleted_at IS NULL AND u.username_key > $1 \
         ORDER BY u.username_key LIMIT $2",
        account_columns()
    ))
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .iter()
    .map(account_from_row)
    .collect()
}

pub(super) async fn account(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {} FROM users u WHERE u.deleted_at IS NULL AND u.username_key = $1",
        account_columns()
    ))
    .bind(username.to_lowercase())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(account_from_row)
    .transpose()
}

pub(super) async fn active_role(
    conn: &mut PgConnection,
    user_id: &str,
) -> Result<Option<Role>, sqlx::Error> {
    let role: Option<String> = sqlx::query_scalar(&format!(
        "SELECT role FROM users WHERE id = $1 AND {ACTIVE}"
    ))
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// Refuses (`LastAdmin`) when `user_id` is the only active admin. Takes the admins' lock
/// first (held to the end of the caller's transaction), then counts what is committed now.
async fn keep_an_admin(conn: &mut PgConnection, user_id: &str) -> Result<(), StoreError> {
    lock_admins(&mut *conn).await?;
    let (is_admin, others): (bool, i64) = sqlx::query_as(&format!(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'admin' AND {ACTIVE}), \
         (SELECT COUNT(*) FROM users WHERE id <> $1 AND role = 'admin' AND {ACTIVE})"
    ))
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    if is_admin && others == 0 {
        return Err(StoreError::LastAdmin);
    }
    Ok(())
}

/// Ends every session of the user but `keep`; their ids.
async fn end_sessions(
    conn: &mut PgConnection,
    user_id: &str,
    keep: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2 RETURNING id",
    )
    .bind(user_id)
    .bind(keep)
    .fetch_all(conn)
    .await
}

pub(super) async fn set_disabled(
    pool: &PgPool,
    user_id: &str,
    disabled: bool,
) -> Result<Vec<String>, StoreError> {
    let mut tx = pool.begin().await?;
    let ended = if disabled {
        keep_an_admin(&mut tx, user_id).await?;
        // After this UPDATE a login on any node waits for the row (`create_session` locks
        // it), then finds the account disabled.
        sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $2) WHERE id = $1")
            .bind(user_id)
            .bind(now_rfc3339())
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut tx, user_id, None).await?
    } else {
        sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        Vec::new()
    };
    tx.commit().await?;
    Ok(ended)
}

pub(super) async fn set_role(pool: &PgPool, user_id: &str, role: Role) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    if role != Role::Admin {
        keep_an_admin(&mut tx, user_id).await?;
    }
    sqlx::query("UPDATE users SET role = $2 WHERE id = $1 AND deleted_at IS NULL")
        .bind(user_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_password(
    pool: &PgPool,
    user_id: &str,
    password_hash: &str,
    keep: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1 AND deleted_at IS NULL")
        .bind(user_id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
    let ended = end_sessions(&mut tx, user_id, keep).await?;
    tx.commit().await?;
    Ok(ended)
}

pub(super) async fn password_hash(
    conn: &mut PgConnection,
    user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT password_hash FROM users WHERE id = $1 AND {ACTIVE}"
    ))
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

pub(super) async fn sessions_of(
    conn: &mut PgConnection,
    user_id: &str,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, device, created_at, COALESCE(last_used_at, created_at) FROM sessions \
         WHERE user_id = $1 \
         ORDER BY COALESCE(last_used_at, created_at) COLLATE \"C\" DESC, id COLLATE \"C\"",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, device, created_at, last_used_at)| SessionRow {
            id,
            device,
            created_at,
            last_used_at,
        })
        .collect())
}

pub(super) async fn end_session_of(
    conn: &mut PgConnection,
    user_id: &str,
    session_id: &str,
) -> Result<bool, sqlx::Error> {
    let ended = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(session_id)
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(ended > 0)
}

pub(super) async fn set_display_name(
    conn: &mut PgConnection,
    user_id: &str,
    display_name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
        .bind(user_id)
        .bind(display_name)
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn delete_user(pool: &PgPool, user_id: &str) -> Result<Vec<String>, StoreError> {
    let mut tx = pool.begin().await?;
    keep_an_admin(&mut tx, user_id).await?;
    // Membership writes lock the user's row first (`rooms.rs`): none adds them back meanwhile.
    lock_users(&mut tx, &[user_id]).await?;
    let ended = end_sessions(&mut tx, user_id, None).await?;
    sqlx::query("DELETE FROM members WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    // No hash verifies against '': nobody signs in as the tombstone.
    sqlx::query(
        "UPDATE users SET deleted_at = $2, password_hash = '', role = 'member', \
         display_name = '', disabled_at = NULL WHERE id = $1",
    )
    .bind(user_id)
    .bind(now_rfc3339())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ended)
}
