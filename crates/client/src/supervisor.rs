//! The connection loop: connect with fresh auth and a fresh transport per attempt, watch the
//! connection (dead transport, failed liveness check), and retry with capped, jittered backoff.
//! The state is published on a watch channel for the UI and the session. A wait between
//! attempts can be cut short (`retry_now`: the person pressed "Retry now").

use std::sync::Arc;
use std::time::Duration;

use natter_protocol::requests::ListRooms;
use rand::Rng;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::transport::{self, ConnectError, Connection, EventSink, Timeouts};

/// Where the connection stands.
#[derive(Debug, Clone)]
pub enum ConnectionState {
    /// Attempt `attempt` (1-based) is running (`retry_at: None`) or waits until `retry_at`.
    Connecting {
        attempt: u32,
        retry_at: Option<Instant>,
    },
    /// Ready for requests. Any request error other than a refusal means: wait for the next state.
    Connected { transport: Arc<Connection> },
    /// Not trying: the relay refused the token (log in again), its certificate is not trusted
    /// or changed (the user decides), or the supervisor stopped.
    Offline { reason: OfflineReason },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfflineReason {
    Unauthorized,
    Certificate(crate::trust::CertificateError),
    Stopped,
}

/// Capped exponential backoff.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The wait before retrying after failed attempt `attempt` (1-based), given `jitter` in
    /// [0, 1): between half and all of `min(cap, base · 2^(attempt-1))`, so clients that lost the
    /// same relay do not all come back in the same instant.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let full = self.base.saturating_mul(1u32 << doublings).min(self.cap);
        full.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }
}

/// What the supervisor connects to, and how patiently.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    pub url: String,
    pub token: String,
    pub timeouts: Timeouts,
    pub backoff: Backoff,
    /// How often a connected transport is checked with a cheap `rooms:list`.
    pub liveness_every: Duration,
    /// How long that check may take before the connection is declared dead.
    pub liveness_timeout: Duration,
}

impl SupervisorConfig {
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            token: token.into(),
            timeouts: Timeouts::default(),
            backoff: Backoff {
                base: Duration::from_millis(500),
                cap: Duration::from_secs(30),
            },
            liveness_every: Duration::from_secs(10),
            liveness_timeout: Duration::from_secs(5),
        }
    }
}

/// The running loop; dropping it stops the loop too.
#[derive(Debug)]
pub struct Supervisor {
    state: watch::Receiver<ConnectionState>,
    retry: Arc<Notify>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Supervisor {
    /// Starts connecting at once; decoded events of every connection go to `events`.
    pub fn start(config: SupervisorConfig, events: EventSink) -> Self {
        let (state_tx, state) = watch::channel(ConnectionState::Connecting {
            attempt: 1,
            retry_at: None,
        });
        let (stop, stopped) = oneshot::channel();
        let retry = Arc::new(Notify::new());
        let task = tokio::spawn(run(config, events, state_tx, retry.clone(), stopped));
        Self {
            state,
            retry,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The state, to watch.
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Ends a wait between attempts now: the next attempt starts at once. Does nothing while
    /// connected or connecting (nothing is remembered for a later wait).
    pub fn retry_now(&self) {
        self.retry.notify_waiters();
    }

    /// Stops the loop and closes the connection; waits (bounded) for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

async fn run(
    config: SupervisorConfig,
    events: EventSink,
    state: watch::Sender<ConnectionState>,
    retry: Arc<Notify>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut attempt = 0u32;
    let reason = loop {
        attempt = attempt.saturating_add(1);
        state.send_replace(ConnectionState::Connecting {
            attempt,
            retry_at: None,
        });
        let connecting =
            transport::connect(&config.url, &config.token, config.timeouts, events.clone());
        let outcome = tokio::select! {
            outcome = connecting => outcome,
            _ = &mut stopped => break OfflineReason::Stopped,
        };
        match outcome {
            Ok(conn) => {
                attempt = 0;
                let conn = Arc::new(conn);
                state.send_replace(ConnectionState::Connected {
                    transport: conn.clone(),
                });
                let stop_now = tokio::select! {
                    reason = watch_connection(&conn, &config) => {
                        tracing::info!(%reason, "connection lost");
                        false
                    }
                    _ = &mut stopped => true,
                };
                conn.kill("superseded");
                if stop_now {
                    break OfflineReason::Stopped;
                }
            }
            Err(ConnectError::Unauthorized) => break OfflineReason::Unauthorized,
            // Retrying shows the same certificate: wait for the user.
            Err(ConnectError::Certificate(problem)) => break OfflineReason::Certificate(problem),
            Err(e) => {
                let delay = config.backoff.delay(attempt, rand::thread_rng().gen());
                tracing::debug!(error = %e, attempt, ?delay, "connect failed");
                let retry_at = Instant::now() + delay;
                // Listening before the wait is announced: a "retry now" prompted by it is never lost.
                let asked = retry.notified();
                tokio::pin!(asked);
                asked.as_mut().enable();
                state.send_replace(ConnectionState::Connecting {
                    attempt,
                    retry_at: Some(retry_at),
                });
                tokio::select! {
                    () = tokio::time::sleep_until(retry_at) => {}
                    () = asked => tracing::debug!(attempt, "retry now"),
                    _ = &mut stopped => break OfflineReason::Stopped,
                }
            }
        }
    };
    state.send_replace(ConnectionState::Offline { reason });
}

/// Returns why the connection is no longer usable: it died, or a liveness check failed.
async fn watch_connection(conn: &Connection, config: &SupervisorConfig) -> String {
    let mut tick = tokio::time::interval(config.liveness_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate; the connection was just confirmed
    loop {
        tokio::select! {
            reason = conn.dead() => return reason,
            _ = tick.tick() => {
                match tokio::time::timeout(config.liveness_timeout, conn.request(&ListRooms {})).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return format!("liveness check failed: {e}"),
                    Err(_) => return format!("no liveness answer within {:?}", config.liveness_timeout),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        base: Duration::from_millis(500),
        cap: Duration::from_secs(30),
    };

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let full: Vec<u64> = (1..=9)
            .map(|a| BACKOFF.delay(a, 1.0).as_millis() as u64)
            .collect();
        assert_eq!(
            full,
            vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(BACKOFF.delay(u32::MAX, 1.0), Duration::from_secs(30));
        assert_eq!(BACKOFF.delay(0, 1.0), Duration::from_millis(500));
    }

    #[test]
    fn jitter_keeps_between_half_and_all() {
        assert_eq!(BACKOFF.delay(3, 0.0), Duration::from_millis(1000));
        assert_eq!(BACKOFF.delay(3, 0.5), Duration::from_millis(1500));
        for jitter in [-1.0, 0.0, 0.3, 0.999, 7.0] {
            let d = BACKOFF.delay(20, jitter);
            assert!(
                d >= Duration::from_secs(15) && d <= Duration::from_secs(30),
                "{d:?}"
            );
        }
    }
}
