//! Presence across nodes in Redis: a user is online while any node holds a socket of theirs.
//! Each user has a set of `<node> <sid>`; each node a set of `<user> <sid>` (what to clean up
//! if it dies) and a liveness key it renews. Every node reaps the sockets of nodes whose key
//! expired; of several reapers, the one whose RENAME of the dead node's set succeeds does it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::Script;
use socketioxide::socket::Sid;
use tokio::sync::mpsc;

use super::breaker::Breaker;
use crate::presence::Presence;

/// A node that has not renewed its key for this long is dead.
pub const NODE_TTL: Duration = Duration::from_secs(15);
/// How often a node renews its key and looks for dead nodes.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

const NODES: &str = "natter:nodes";

/// What reaping a dead node found.
#[derive(Debug, PartialEq)]
pub enum Reaped {
    /// A user whose last socket was on the dead node.
    Offline(String),
    /// A node died: what it committed but had not published yet never reached the others.
    NodeDied,
}

fn online_key(user_id: &str) -> String {
    format!("natter:online:{user_id}")
}

fn sockets_key(node: &str) -> String {
    format!("natter:node:{node}:sockets")
}

fn alive_key(node: &str) -> String {
    format!("natter:node:{node}:alive")
}

/// Adds the socket to both sets; 1 if it is the user's first anywhere.
const ADD: &str = r"
local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if added == 1 and redis.call('SCARD', KEYS[1]) == 1 then return 1 end
return 0";

/// Removes the socket from both sets (KEYS[2] may be a reaped node's); 1 if it was the
/// user's last anywhere.
const REMOVE: &str = r"
local removed = redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
if removed == 1 and redis.call('SCARD', KEYS[1]) == 0 then return 1 end
return 0";

#[derive(Clone)]
pub struct RedisPresence {
    conn: ConnectionManager,
    node: String,
    add: Arc<Script>,
    remove: Arc<Script>,
    /// This node's sockets (user id → sids), to write into Redis again if it lost them (a
    /// restart without persistence).
    mine: Arc<Mutex<HashMap<String, HashSet<String>>>>,
    /// For the calls on a request's path (a connect, a close, a member page).
    breaker: Breaker,
}

impl RedisPresence {
    pub fn new(conn: ConnectionManager, node: String) -> Self {
        Self {
            conn,
            node,
            add: Arc::new(Script::new(ADD)),
            remove: Arc::new(Script::new(REMOVE)),
            mine: Arc::default(),
            breaker: Breaker::default(),
        }
    }

    fn mine(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<String>>> {
        // Each update is one insert or remove: the map stays whole even after a panic.
        self.mine.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes socket `sid` of `user_id` on `node` out; 1 if it was the user's last.
    async fn take_out(
        &self,
        node: &str,
        sockets_set: &str,
        user_id: &str,
        sid: &str,
    ) -> redis::RedisResult<i64> {
        let mut conn = self.conn.clone();
        self.remove
            .key(online_key(user_id))
            .key(sockets_set)
            .arg(format!("{node} {sid}"))
            .arg(format!("{user_id} {sid}"))
            .invoke_async(&mut conn)
            .await
    }

    /// [`take_out`](Self::take_out) for the reaper, which waits for Redis as long as it takes.
    async fn forget(&self, node: &str, sockets_set: &str, user_id: &str, sid: &str) -> bool {
        match self.take_out(node, sockets_set, user_id, sid).await {
            Ok(last) => last == 1,
            Err(e) => {
                tracing::warn!(error = %e, "presence: could not remove a socket in Redis");
                false
            }
        }
    }

    /// Renews this node's key and reaps dead nodes, every [`HEARTBEAT`], for ever; each user
    /// whose last socket was on a dead node goes to `gone` as [`Reaped::Offline`], then a
    /// [`Reaped::NodeDied`] once per dead node this node took off the list.
    pub async fn keep_alive(self, gone: mpsc::Sender<Reaped>) {
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tick.tick().await;
            if let Err(e) = self.renew().await {
                tracing::warn!(error = %e, "presence: could not renew this node's key");
                continue;
            }
            match self.reap().await {
                Ok(reaped) => {
                    for event in reaped {
                        if gone.send(event).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "presence: could not reap dead nodes"),
            }
        }
    }

    /// Renews this node's key; if Redis had lost it (restarted empty, or this node was taken
    /// for dead), writes this node's sockets into it again.
    async fn renew(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let ttl = u64::try_from(NODE_TTL.as_millis()).unwrap_or(u64::MAX);
        let (before,): (Option<String>,) = redis::pipe()
            .cmd("SET")
            .arg(alive_key(&self.node))
            .arg(1)
            .arg("PX")
            .arg(ttl)
            .arg("GET")
            .cmd("SADD")
            .arg(NODES)
            .arg(&self.node)
            .ignore()
            .query_async(&mut conn)
            .await?;
        if before.is_some() {
            return Ok(());
        }
        let held: Vec<(String, String)> = self
            .mine()
            .iter()
            .flat_map(|(user, sids)| sids.iter().map(move |sid| (user.clone(), sid.clone())))
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        tracing::info!(
            sockets = held.len(),
            "presence: writing this node's sockets into Redis again"
        );
        let mut pipe = redis::pipe();
        for (user, sid) in &held {
            pipe.cmd("SADD")
                .arg(online_key(user))
                .arg(format!("{} {sid}", self.node))
                .ignore()
                .cmd("SADD")
                .arg(sockets_key(&self.node))
                .arg(format!("{user} {sid}"))
                .ignore();
        }
        pipe.query_async(&mut conn).await
    }

    /// Users who went offline because their last sockets were on nodes now dead, and each
    /// dead node this node took off the list (one node does, whichever SREM removed it).
    async fn reap(&self) -> redis::RedisResult<Vec<Reaped>> {
        let mut conn = self.conn.clone();
        let nodes: Vec<String> = redis::cmd("SMEMBERS")
            .arg(NODES)
            .query_async(&mut conn)
            .await?;
        let mut gone = Vec::new();
        for node in nodes.into_iter().filter(|n| *n != self.node) {
            let alive: bool = redis::cmd("EXISTS")
                .arg(alive_key(&node))
                .query_async(&mut conn)
                .await?;
            if alive {
                continue;
            }
            // Claim the dead node's sockets; another reaper that got there first wins.
            let claimed = format!("natter:reaping:{node}:{}", self.node);
            let renamed: redis::RedisResult<()> = redis::cmd("RENAME")
                .arg(sockets_key(&node))
                .arg(&claimed)
                .query_async(&mut conn)
                .await;
            let removed: i64 = redis::cmd("SREM")
                .arg(NODES)
                .arg(&node)
                .query_async(&mut conn)
                .await?;
            if removed == 1 {
                gone.push(Reaped::NodeDied);
            }
            if renamed.is_err() {
                continue; // nothing held, or reaped by another node
            }
            let held: Vec<String> = redis::cmd("SMEMBERS")
                .arg(&claimed)
                .query_async(&mut conn)
                .await?;
            tracing::info!(node = %node, sockets = held.len(), "a relay node died; its sockets are gone");
            for entry in held {
                let Some((user_id, sid)) = entry.split_once(' ') else {
                    continue;
                };
                if self.forget(&node, &claimed, user_id, sid).await {
                    gone.push(Reaped::Offline(user_id.to_owned()));
                }
            }
            let _: () = redis::cmd("DEL")
                .arg(&claimed)
                .query_async(&mut conn)
                .await?;
        }
        Ok(gone)
    }

    /// This node stops: its key goes at once, so nobody waits for it to expire. (Its sockets
    /// were disconnected first, each removing itself.)
    pub async fn leave(&self) {
        let mut conn = self.conn.clone();
        let done: redis::RedisResult<()> = redis::pipe()
            .cmd("DEL")
            .arg(alive_key(&self.node))
            .ignore()
            .cmd("SREM")
            .arg(NODES)
            .arg(&self.node)
            .ignore()
            .query_async(&mut conn)
            .await;
        if let Err(e) = done {
            tracing::debug!(error = %e, "presence: could not remove this node's key");
        }
    }
}

#[async_trait]
impl Presence for RedisPresence {
    async fn add(&self, user_id: &str, sid: Sid) -> bool {
        self.mine()
            .entry(user_id.to_owned())
            .or_default()
            .insert(sid.to_string());
        let mut conn = self.conn.clone();
        let mut add = self.add.key(online_key(user_id));
        add.key(sockets_key(&self.node))
            .arg(format!("{} {sid}", self.node))
            .arg(format!("{user_id} {sid}"));
        let first = self
            .breaker
            .call("presence", add.invoke_async::<i64>(&mut conn));
        first.await == Some(1)
    }

    async fn remove(&self, user_id: &str, sid: Sid) -> bool {
        {
            let mut mine = self.mine();
            if let Some(sids) = mine.get_mut(user_id) {
                sids.remove(&sid.to_string());
                if sids.is_empty() {
                    mine.remove(user_id);
                }
            }
        }
        let (set, sid) = (sockets_key(&self.node), sid.to_string());
        let last = self.take_out(&self.node, &set, user_id, &sid);
        self.breaker.call("presence", last).await == Some(1)
    }

    async fn is_online(&self, user_id: &str) -> bool {
        let mut conn = self.conn.clone();
        let mut scard = redis::cmd("SCARD");
        scard.arg(online_key(user_id));
        let count = self
            .breaker
            .call("presence", scard.query_async::<u64>(&mut conn));
        count.await.is_some_and(|count| count > 0)
    }
}
