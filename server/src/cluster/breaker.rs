//! Redis calls on a request's path (a send's shared rate limit, a connect's presence count, a
//! member page's "online"): each gets a short time, and after a failure Redis is not asked for
//! a while. A Redis that is down or hung then costs a request at most [`CALL_TIMEOUT`], once
//! per [`RETRY_AFTER`], instead of the Redis client's reconnect (~5 s a call, seen in
//! `server/tests/cluster.rs`); the caller decides without Redis meanwhile.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failed call, how long Redis is not asked.
const RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, Default)]
pub struct Breaker {
    /// Until when Redis is not asked (it just failed).
    down_until: Arc<Mutex<Option<Instant>>>,
}

impl Breaker {
    /// `call`'s answer; `None` if Redis failed it, did not answer in time, or failed another
    /// call within [`RETRY_AFTER`] (then `call` is not run). `what` names it in the log, once
    /// an outage.
    pub async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        if self.resting() {
            return None;
        }
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(Ok(answer)) => {
                self.set(None);
                Some(answer)
            }
            failed => {
                let first = self.set(Some(Instant::now() + RETRY_AFTER)).is_none();
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {CALL_TIMEOUT:?}"),
                };
                if first {
                    tracing::warn!(%error, what, "Redis unreachable; deciding without it until it answers again");
                } else {
                    tracing::debug!(%error, what, "Redis still unreachable");
                }
                None
            }
        }
    }

    fn resting(&self) -> bool {
        self.lock().is_some_and(|until| Instant::now() < until)
    }

    /// Sets when Redis may be asked again; what it was.
    fn set(&self, until: Option<Instant>) -> Option<Instant> {
        std::mem::replace(&mut *self.lock(), until)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // One `Option` written whole: it stays consistent even after a panic.
        self.down_until.lock().unwrap_or_else(|e| e.into_inner())
    }
}
