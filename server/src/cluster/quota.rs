//! Per-user rate limits shared by every node (GCRA in one Lua script, on Redis's clock), so a
//! user whose sockets are spread over N nodes gets the limit once, not N times.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::Script;

use crate::ratelimit::SharedQuota;

/// KEYS[1]: the key's theoretical arrival time in µs; ARGV: the interval in µs, the burst.
const GCRA: &str = r"
local every = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + every
if next_tat - now > every * burst then return 0 end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
return 1";

/// How long one shared count may take before this node's own limiter decides: a send waits
/// for it, and a Redis that is down would otherwise hold every send for the connection
/// manager's reconnect (~5 s, seen in `server/tests/cluster.rs`).
const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failed count, how long this node decides alone before asking Redis again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct RedisQuota {
    conn: ConnectionManager,
    script: Arc<Script>,
    /// Until when Redis is not asked (it just failed).
    down_until: Arc<Mutex<Option<Instant>>>,
}

impl RedisQuota {
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            script: Arc::new(Script::new(GCRA)),
            down_until: Arc::default(),
        }
    }

    /// Whether Redis failed within [`RETRY_AFTER`]; a poisoned lock counts as "no".
    fn resting(&self) -> bool {
        self.down_until
            .lock()
            .is_ok_and(|until| until.is_some_and(|t| Instant::now() < t))
    }

    /// Redis failed: rest a while; says whether it had been working (to log once per outage).
    fn failed(&self) -> bool {
        match self.down_until.lock() {
            Ok(mut until) => until.replace(Instant::now() + RETRY_AFTER).is_none(),
            Err(_) => true,
        }
    }

    fn worked(&self) {
        if let Ok(mut until) = self.down_until.lock() {
            *until = None;
        }
    }
}

#[async_trait]
impl SharedQuota for RedisQuota {
    async fn allow(&self, key: &str, every: Duration, burst: u32) -> Option<bool> {
        if self.resting() {
            return None;
        }
        let mut conn = self.conn.clone();
        let every_us = u64::try_from(every.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut script = self.script.key(format!("natter:rate:{key}"));
        script.arg(every_us).arg(burst.max(1));
        let allowed = tokio::time::timeout(CALL_TIMEOUT, script.invoke_async::<i64>(&mut conn));
        match allowed.await {
            Ok(Ok(allowed)) => {
                self.worked();
                Some(allowed == 1)
            }
            failed => {
                if self.failed() {
                    let error = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => format!("no answer within {CALL_TIMEOUT:?}"),
                    };
                    tracing::warn!(%error, "rate limit: Redis unreachable; this node's own count decides until it answers again");
                }
                None
            }
        }
    }
}
