//! The schema migrations (`server/migrations/*.sql`, built in) and their runner. Applied
//! migrations are recorded in `_sqlx_migrations`, in the rows sqlx's migrator wrote (the relay
//! migrated through sqlx before), so databases of either relay open with the other's rules:
//! applied ones are recognised by version and SHA-384 checksum of their SQL, newer ones applied
//! in order, each in one transaction with its row.

use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha384};

use crate::store::types::StoreError;

pub(super) struct Migration {
    pub version: i64,
    /// The file name's words after the version, as sqlx recorded them.
    pub description: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $description:literal, $file:literal) => {
        Migration {
            version: $version,
            description: $description,
            sql: include_str!(concat!("../../../migrations/", $file)),
        }
    };
}

/// Every migration, in version order; a new file goes here too (a test checks the list
/// against the directory).
pub(super) const MIGRATIONS: &[Migration] = &[
    migration!(1, "init", "0001_init.sql"),
    migration!(2, "one statement append", "0002_one_statement_append.sql"),
    migration!(3, "integer keys", "0003_integer_keys.sql"),
    migration!(4, "consent", "0004_consent.sql"),
    migration!(5, "session last used", "0005_session_last_used.sql"),
    migration!(6, "message changes", "0006_message_changes.sql"),
    migration!(7, "mentions", "0007_mentions.sql"),
    migration!(8, "accounts", "0008_accounts.sql"),
    migration!(9, "files", "0009_files.sql"),
    migration!(10, "search", "0010_search.sql"),
    migration!(11, "room sizes", "0011_room_sizes.sql"),
    migration!(12, "search apart", "0012_search_apart.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "the database has migration {0}, which this relay does not know: it was written by a \
         newer relay; run that one (or a backup from before it)"
    )]
    Unknown(i64),
    #[error(
        "migration {version} ({description}) as applied to the database differs from this \
         relay's; refusing to open it"
    )]
    Changed {
        version: i64,
        description: &'static str,
    },
    #[error(
        "migration {0} failed part-way earlier (marked unsuccessful); repair the database by hand"
    )]
    Dirty(i64),
    #[error("migration {version} ({description}) failed: {source}")]
    Failed {
        version: i64,
        description: &'static str,
        source: rusqlite::Error,
    },
}

impl From<MigrationError> for StoreError {
    fn from(e: MigrationError) -> Self {
        Self::Database(Box::new(e))
    }
}

/// Applies every migration of `migrations` the database lacks, after checking those it has.
pub(super) fn run(conn: &mut Connection, migrations: &[Migration]) -> Result<(), StoreError> {
    // sqlx's table, as sqlx creates it.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations ( \
             version BIGINT PRIMARY KEY, \
             description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
             success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, \
             execution_time BIGINT NOT NULL)",
    )?;
    let dirty: Option<i64> = conn
        .query_row(
            "SELECT version FROM _sqlx_migrations WHERE success = false ORDER BY version LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(version) = dirty {
        return Err(MigrationError::Dirty(version).into());
    }
    let applied = conn
        .prepare("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")?
        .query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (version, checksum) in &applied {
        let known = migrations.iter().find(|m| m.version == *version);
        let known = known.ok_or(MigrationError::Unknown(*version))?;
        if checksum.as_slice() != Sha384::digest(known.sql).as_slice() {
            return Err(MigrationError::Changed {
                version: *version,
                description: known.description,
            }
            .into());
        }
    }
    for migration in migrations {
        if !applied
            .iter()
            .any(|(version, _)| *version == migration.version)
        {
            let applied_here = apply(conn, migration).map_err(|source| MigrationError::Failed {
                version: migration.version,
                description: migration.description,
                source,
            })?;
            if !applied_here {
                continue;
            }
            tracing::info!(
                version = migration.version,
                description = migration.description,
                "migration applied"
            );
        }
    }
    Ok(())
}

/// Applies `m` unless another process applied it since the list was read (two relay processes
/// starting on one database): false then.
fn apply(conn: &mut Connection, m: &Migration) -> rusqlite::Result<bool> {
    let started = Instant::now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM _sqlx_migrations WHERE version = ?1)",
        [m.version],
        |row| row.get(0),
    )?;
    if done {
        return Ok(false);
    }
    tx.execute_batch(m.sql)?;
    tx.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (?1, ?2, TRUE, ?3, -1)",
        rusqlite::params![m.version, m.description, Sha384::digest(m.sql).as_slice()],
    )?;
    tx.commit()?;
    // Like sqlx: the time is recorded after the commit.
    let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    conn.execute(
        "UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2",
        rusqlite::params![nanos, m.version],
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `migrations/` is in [`MIGRATIONS`], with sqlx's version and description.
    #[test]
    fn the_list_is_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<(i64, String)> = std::fs::read_dir(&dir)
            .expect("the migrations directory")
            .map(|entry| {
                let name = entry.expect("an entry").file_name();
                let name = name.to_str().expect("a UTF-8 name").to_owned();
                let (version, rest) = name.split_once('_').expect("<version>_<words>.sql");
                let words = rest.strip_suffix(".sql").expect(".sql").replace('_', " ");
                (version.parse().expect("a numeric version"), words)
            })
            .collect();
        files.sort();
        let listed: Vec<(i64, String)> = MIGRATIONS
            .iter()
            .map(|m| (m.version, m.description.to_owned()))
            .collect();
        assert_eq!(listed, files);
    }

    fn versions(conn: &Connection) -> Vec<i64> {
        conn.prepare("SELECT version FROM _sqlx_migrations ORDER BY version")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("the applied versions")
    }

    #[test]
    fn applies_what_is_missing_once_and_refuses_what_it_does_not_know() {
        let mut conn = Connection::open_in_memory().expect("a database");
        run(&mut conn, &MIGRATIONS[..2]).expect("the first two");
        assert_eq!(versions(&conn), [1, 2]);
        run(&mut conn, MIGRATIONS).expect("the rest");
        run(&mut conn, MIGRATIONS).expect("nothing to do");
        let all: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(versions(&conn), all);
        // By version, not position: versions may have gaps (helpers number theirs ahead).
        let last = all.last().copied().unwrap_or_default();
        let refused =
            run(&mut conn, &MIGRATIONS[..all.len() - 1]).expect_err("the last is unknown to it");
        assert!(
            refused.to_string().contains(&format!("migration {last}")),
            "{refused}"
        );
        conn.execute(
            "UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2",
            [],
        )
        .expect("tamper");
        let refused = run(&mut conn, MIGRATIONS).expect_err("2 differs");
        assert!(refused.to_string().contains("differs"), "{refused}");
    }
}
