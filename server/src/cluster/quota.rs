//! Per-user rate limits shared by every node (GCRA in one Lua script, on Redis's clock), so a
//! user whose sockets are spread over N nodes gets the limit once, not N times.

use std::time::Duration;

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

#[derive(Clone)]
pub struct RedisQuota {
    conn: ConnectionManager,
    script: std::sync::Arc<Script>,
}

impl RedisQuota {
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            script: std::sync::Arc::new(Script::new(GCRA)),
        }
    }
}

#[async_trait]
impl SharedQuota for RedisQuota {
    async fn allow(&self, key: &str, every: Duration, burst: u32) -> Option<bool> {
        let mut conn = self.conn.clone();
        let every_us = u64::try_from(every.as_micros()).unwrap_or(u64::MAX).max(1);
        let allowed: redis::RedisResult<i64> = self
            .script
            .key(format!("natter:rate:{key}"))
            .arg(every_us)
            .arg(burst.max(1))
            .invoke_async(&mut conn)
            .await;
        match allowed {
            Ok(allowed) => Some(allowed == 1),
            Err(e) => {
                tracing::warn!(error = %e, "rate limit: Redis unreachable; this node's own count decides");
                None
            }
        }
    }
}
