//! Per-user rate limits shared by every node (GCRA in one Lua script, on Redis's clock), so a
//! user whose sockets are spread over N nodes gets the limit once, not N times.
//!
//! An event far under its limit does not wait for Redis: asking on every send put a Redis round
//! trip on every message's path, and on a busy machine that wait was much of a delivery's p99
//! (docs/benchmarks.md, "Two nodes"). Each node keeps what Redis last said of a key and counts
//! the events it lets through without asking; while that says the key has used at most half its
//! burst, the event passes at once, and such events are counted in Redis together a moment later
//! (counted even past the limit: they were let through). Nearer the limit, or for a key this node
//! has not heard of, Redis decides as before. So over any stretch of time a user gets the rate
//! once; only a burst sent to N nodes at the same instant can pass N/2 bursts before the nodes
//! hear of each other's counts (one burst for two nodes).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::future::join_all;
use redis::aio::ConnectionManager;
use redis::Script;

use super::breaker::Breaker;
use crate::ratelimit::SharedQuota;

/// KEYS[1]: the key's theoretical arrival time (TAT) in µs. ARGV: the interval in µs, the burst,
/// and how many events to count even past the limit (this node let them through already), or 0
/// to count one event only if it is allowed. Returns {1 if counted, how far the TAT is ahead of
/// now in µs}.
const GCRA: &str = r"
local every = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + every * math.max(n, 1)
if n == 0 and next_tat - now > every * burst then return {0, tat - now} end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
return {1, next_tat - now}";

/// The share of a burst a node spends without asking Redis: 1/2.
const UNASKED_SHARE: u32 = 2;
/// How long events let through wait to be counted in Redis together.
const COUNT_EVERY: Duration = Duration::from_millis(50);
/// Keys whose last answer is kept; past this, keys with nothing pending and no debt are dropped
/// (a key not kept is asked about, as before).
const KNOWN_MAX: usize = 65_536;

#[derive(Clone)]
pub struct RedisQuota {
    conn: ConnectionManager,
    script: Arc<Script>,
    breaker: Breaker,
    known: Arc<Mutex<Counts>>,
    /// A task is about to count the events let through.
    counting: Arc<AtomicBool>,
}

#[derive(Default)]
struct Counts {
    known: HashMap<String, Known>,
    /// Keys with events not sent to Redis yet.
    unsent: Vec<String>,
}

/// What this node knows of one key's shared count.
#[derive(Debug, Clone, Copy)]
struct Known {
    /// The shared TAT, no later than it is: Redis's last answer, from when it was asked.
    tat: Instant,
    /// Events let through without asking whose count Redis has not answered yet.
    pending: u32,
    /// Of those, the ones not sent to Redis yet.
    unsent: u32,
    every: Duration,
    burst: u32,
}

/// What this node can tell of one more event without asking Redis.
enum Guess {
    /// Well under the limit: let it through and count it afterwards.
    Under,
    /// Over the limit even by what this node knows (the other nodes can only add to it).
    Over,
    Ask,
}

impl RedisQuota {
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            script: Arc::new(Script::new(GCRA)),
            breaker: Breaker::default(),
            known: Arc::default(),
            counting: Arc::default(),
        }
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // Plain numbers, each written whole: consistent even after a panic.
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One more event under `key`, by what this node knows; one let through is counted as
    /// pending and unsent.
    fn guess(&self, key: &str, every: Duration, burst: u32) -> Guess {
        let mut counts = self.counts();
        let Some(k) = counts.known.get_mut(key) else {
            return Guess::Ask;
        };
        let window = every.saturating_mul(burst);
        let ahead = k
            .tat
            .saturating_duration_since(Instant::now())
            .saturating_add(every.saturating_mul(k.pending.saturating_add(1)));
        if ahead <= window / UNASKED_SHARE {
            k.pending += 1;
            k.unsent += 1;
            (k.every, k.burst) = (every, burst);
            if k.unsent == 1 {
                counts.unsent.push(key.to_owned());
            }
            Guess::Under
        } else if ahead > window {
            Guess::Over
        } else {
            Guess::Ask
        }
    }

    /// Has Redis count `n` events under `key` (0: one, only if allowed): whether it counted
    /// them, and the key's TAT as an instant no later than Redis's.
    async fn ask(&self, key: &str, every: Duration, burst: u32, n: u32) -> Option<(bool, Instant)> {
        let every_us = u64::try_from(every.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut script = self.script.key(key);
        script.arg(every_us).arg(burst).arg(n);
        let mut conn = self.conn.clone();
        let asked = Instant::now();
        let (counted, ahead_us) = self
            .breaker
            .call("rate limit", script.invoke_async::<(i64, i64)>(&mut conn))
            .await?;
        let ahead = Duration::from_micros(u64::try_from(ahead_us).unwrap_or(0));
        // Redis answered after `asked`: the TAT it holds is no earlier than this.
        Some((counted == 1, asked.checked_add(ahead).unwrap_or(asked)))
    }

    /// Keeps Redis's word on `key` (its TAT is at least `tat`, if it answered) after it was
    /// sent `counted` pending events.
    fn learn(&self, key: &str, tat: Option<Instant>, counted: u32) {
        let mut counts = self.counts();
        let known = &mut counts.known;
        if let Some(k) = known.get_mut(key) {
            if let Some(tat) = tat {
                k.tat = k.tat.max(tat);
            }
            k.pending = k.pending.saturating_sub(counted);
            return;
        }
        let Some(tat) = tat else { return };
        if known.len() >= KNOWN_MAX {
            let now = Instant::now();
            known.retain(|_, k| k.pending > 0 || k.tat > now);
        }
        if known.len() < KNOWN_MAX {
            let fresh = Known {
                tat,
                pending: 0,
                unsent: 0,
                every: Duration::ZERO,
                burst: 0,
            };
            known.insert(key.to_owned(), fresh);
        }
    }

    /// Counts in Redis, [`COUNT_EVERY`] from now, the events let through without asking: one
    /// call per key however many there were.
    fn count_soon(&self) {
        if self.counting.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(COUNT_EVERY).await;
                let batch: Vec<(String, Known)> = {
                    let mut counts = this.counts();
                    let keys = std::mem::take(&mut counts.unsent);
                    keys.into_iter()
                        .filter_map(|key| {
                            let k = counts.known.get_mut(&key)?;
                            let taken = *k;
                            k.unsent = 0;
                            Some((key, taken))
                        })
                        .collect()
                };
                // All at once: the connection pipelines them.
                join_all(batch.into_iter().map(|(key, k)| {
                    let this = &this;
                    async move {
                        let answer = this.ask(&key, k.every, k.burst, k.unsent).await;
                        this.learn(&key, answer.map(|(_, tat)| tat), k.unsent);
                    }
                }))
                .await;
                this.counting.store(false, Ordering::Release);
                // Events let through while these were being counted: this task counts them next,
                // unless a new call of `count_soon` just started a task of its own for them.
                let more = !this.counts().unsent.is_empty();
                if !more || this.counting.swap(true, Ordering::AcqRel) {
                    return;
                }
            }
        });
    }
}

#[async_trait]
impl SharedQuota for RedisQuota {
    async fn allow(&self, key: &str, every: Duration, burst: u32) -> Option<bool> {
        let key = format!("natter:rate:{key}");
        let burst = burst.max(1);
        match self.guess(&key, every, burst) {
            Guess::Under => {
                self.count_soon();
                return Some(true);
            }
            Guess::Over => return Some(false),
            Guess::Ask => {}
        }
        let (allowed, tat) = self.ask(&key, every, burst, 0).await?;
        self.learn(&key, Some(tat), 0);
        Some(allowed)
    }
}
