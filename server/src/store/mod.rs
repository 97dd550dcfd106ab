//! The `Store` trait: everything the relay keeps durably, behind one async interface that says
//! nothing of the database behind it: SQLite (`sqlite/`, the default) or PostgreSQL
//! (`postgres/`, with the `postgres` feature).
//!
//! Backends must keep the delivery promises: a message is committed before its outcome from
//! [`Commits::append`] resolves and before it is on the [`Store::committed`] stream, which
//! has new messages in commit order; `seq` is gap-free per room; (sender, client_id) is unique
//! across all rooms. The conformance suite in `tests/store_conformance.rs` runs against every
//! backend.

mod api;
pub mod commit;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
mod sqlite;
mod types;

pub use api::Store;
pub use commit::Commits;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use types::*;
