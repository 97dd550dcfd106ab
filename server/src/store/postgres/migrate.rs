//! The PostgreSQL schema's migrations (`server/migrations_pg/*.sql`, built in), run by sqlx's
//! migrator: it records them in `_sqlx_migrations` with their checksums, refuses a database
//! whose applied migrations differ from or are unknown to this relay, and holds an advisory
//! lock while it runs, so nodes starting at once migrate one at a time.

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::PgPool;

use crate::store::types::StoreError;

/// Every migration, in version order: (version, description, SQL). A new file goes here too
/// (a test checks the list against the directory).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations_pg/0001_init.sql"),
    ),
    (
        2,
        "accounts",
        include_str!("../../../migrations_pg/0002_accounts.sql"),
    ),
    (
        3,
        "files",
        include_str!("../../../migrations_pg/0003_files.sql"),
    ),
    (
        4,
        "search",
        include_str!("../../../migrations_pg/0004_search.sql"),
    ),
    (
        5,
        "room sizes",
        include_str!("../../../migrations_pg/0005_room_sizes.sql"),
    ),
    (
        6,
        "room last seq",
        include_str!("../../../migrations_pg/0006_room_last_seq.sql"),
    ),
    (
        7,
        "append plain",
        include_str!("../../../migrations_pg/0007_append_plain.sql"),
    ),
];

/// The built-in list as sqlx's migrator takes it.
#[derive(Debug)]
struct BuiltIn;

impl MigrationSource<'static> for BuiltIn {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

/// Applies the migrations the database lacks.
pub(super) async fn run(pool: &PgPool) -> Result<(), StoreError> {
    let migrator = Migrator::new(BuiltIn).await.map_err(boxed)?;
    migrator.run(pool).await.map_err(boxed)
}

fn boxed(e: sqlx::migrate::MigrateError) -> StoreError {
    StoreError::Database(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `migrations_pg/` is in [`MIGRATIONS`], with sqlx's version and description.
    #[test]
    fn the_list_is_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations_pg");
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
            .map(|(version, description, _)| (*version, (*description).to_owned()))
            .collect();
        assert_eq!(listed, files);
    }
}
