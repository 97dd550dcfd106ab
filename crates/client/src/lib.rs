//! natter-client: the Tauri-free core of the Natter desktop app — the [`account`] calls over HTTP
//! (and the [`files`] transfers, on the same HTTP home),
//! the local cache of a profile,
//! the transport boundary over rust_socketio, the [`trust`] of https relays (system roots or a pin), the connection supervisor, and the [`session`] that
//! ties them together and keeps the delivery promises.

pub mod account;
pub mod cache;
pub mod files;
mod http;
pub mod profile;
pub mod session;
pub mod supervisor;
pub mod transport;
pub mod trust;

pub use cache::{Cache, CacheError, OutboxItem, OutboxState, SeqRange, SignIn};
pub use profile::{profile_dir, profiles_root, ProfileError, ProfileName};
