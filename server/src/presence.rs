//! Presence: who is online, counted per socket. Behind the [`Presence`] trait so that a relay
//! of several nodes can count across them (e.g. in Redis) without touching the rules that use
//! it; [`LocalPresence`] counts the sockets of this process only, which is exact for one node.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use socketioxide::socket::Sid;

/// Counts each user's open sockets. "First" and "last" must be exact even when sockets of one
/// user come and go at once: they decide the `presence` events. Async, because a count shared
/// between nodes lives across the network.
#[async_trait]
pub trait Presence: Send + Sync + 'static {
    /// Records a socket; true if it is the user's first.
    async fn add(&self, user_id: &str, sid: Sid) -> bool;
    /// Forgets a socket; true if it was the user's last.
    async fn remove(&self, user_id: &str, sid: Sid) -> bool;
    async fn is_online(&self, user_id: &str) -> bool;
}

/// Which sockets each user has open in this process, one mutex-guarded map.
#[derive(Clone, Debug, Default)]
pub struct LocalPresence {
    sockets: Arc<Mutex<HashMap<String, HashSet<Sid>>>>,
}

impl LocalPresence {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<Sid>>> {
        // The map stays consistent even if a holder panicked: every update is one insert/remove.
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Presence for LocalPresence {
    async fn add(&self, user_id: &str, sid: Sid) -> bool {
        let mut map = self.lock();
        let set = map.entry(user_id.to_owned()).or_default();
        set.insert(sid) && set.len() == 1
    }

    async fn remove(&self, user_id: &str, sid: Sid) -> bool {
        let mut map = self.lock();
        let Some(set) = map.get_mut(user_id) else {
            return false;
        };
        if !set.remove(&sid) || !set.is_empty() {
            return false;
        }
        map.remove(user_id);
        true
    }

    async fn is_online(&self, user_id: &str) -> bool {
        self.lock().contains_key(user_id)
    }
}
