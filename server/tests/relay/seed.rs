//! Many accounts at once, written straight into a relay's SQLite database (no argon2, one
//! transaction): what the big-room tests and `examples/big_room.rs` (which includes this file)
//! need to stand for 5,000 or 100,000 registered users. Each is a member of `general`, like a
//! registered user; none can sign in (their password hash matches nothing).

use std::path::Path;

/// Adds `count` accounts named `{prefix}{i:06}` (i from `first`) to the database at `db`,
/// each in `general`. The relay may be running: SQLite's WAL lets it read on meanwhile.
pub fn seed_accounts(db: &Path, prefix: &str, first: u32, count: u32) -> rusqlite::Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut user = tx.prepare(
            "INSERT INTO users (id, username, username_key, password_hash, created_at) \
             VALUES (?1, ?2, ?3, '!', '2026-01-01T00:00:00.000Z')",
        )?;
        let mut member = tx.prepare(
            "INSERT INTO members (room_id, user_id, read_seq, joined_at) \
             VALUES ('general', ?1, 0, '2026-01-01T00:00:00.000Z')",
        )?;
        for i in first..first + count {
            let name = format!("{prefix}{i:06}");
            let id = format!("seeded-{name}");
            user.execute([&id, &name, &name.to_lowercase()])?;
            member.execute([&id])?;
        }
    }
    tx.commit()
}
