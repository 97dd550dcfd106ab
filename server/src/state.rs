//! `AppState`: the cheap, cloned handle every handler gets. No statics.

use std::sync::Arc;

use crate::auth::Passwords;
use crate::commit::Committer;
use crate::ratelimit::Limits;
use crate::socket::Presence;
use crate::store::Store;

#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub committer: Committer,
    pub limits: Limits,
    pub passwords: Passwords,
    /// Who is online on this node (sockets per user).
    pub presence: Presence,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}
