//! Per-user rate limits shared by every node (GCRA in one Lua script, on Redis's clock), so a
//! user whose sockets are spread over N nodes gets the limit once, not N times.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::Script;

use super::breaker::Breaker;
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
    script: Arc<Script>,
    breaker: Breaker,
}

impl RedisQuota {
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            script: Arc::new(Script::new(GCRA)),
            breaker: Breaker::default(),
        }
    }
}

#[async_trait]
impl SharedQuota for RedisQuota {
    async fn allow(&self, key: &str, every: Duration, burst: u32) -> Option<bool> {
        let mut conn = self.conn.clone();
        let every_us = u64::try_from(every.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut script = self.script.key(format!("natter:rate:{key}"));
        script.arg(every_us).arg(burst.max(1));
        let allowed = self
            .breaker
            .call("rate limit", script.invoke_async::<i64>(&mut conn))
            .await?;
        Some(allowed == 1)
    }
}
