//! The `Store` trait: everything the relay keeps durably, behind one async interface that says
//! nothing of the database behind it (a PostgreSQL backend would sit beside `sqlite/`).
//!
//! Backends must keep the delivery promises: a message is committed before its outcome from
//! [`Commits::append`] resolves and before it is on the [`Store::committed`] stream, which
//! has new messages in commit order; `seq` is gap-free per room; (sender, client_id) is unique
//! across all rooms. The conformance suite in `tests/store_conformance.rs` runs against every
//! backend.

mod api;
pub mod commit;
mod sqlite;
mod types;

pub use api::Store;
pub use commit::Commits;
pub use sqlite::SqliteStore;
pub use types::*;
