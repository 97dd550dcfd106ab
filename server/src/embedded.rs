//! A relay running in the background of this process: what "host on this computer" in the
//! desktop app and the test harnesses start. Dropping the handle stops the relay too.
//!
//! The relay runs on a tokio runtime of its own, so every task it spawns (one per connection,
//! the broadcaster) belongs to it and ends with it: `Relay::crash` (tests only) can drop them
//! all at once, as a crashed process would. The store's threads end when the store is dropped.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{run, Config, StartError};

/// How long [`Relay::stop`] waits for the relay to finish.
const STOP_WAIT: Duration = Duration::from_secs(15);
/// The relay's own worker threads.
const WORKER_THREADS: usize = 2;

#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    /// `None` once stopped or crashed.
    task: Option<JoinHandle<Result<(), StartError>>>,
    /// The relay's runtime: every task of the relay runs on it. `None` once stopped or crashed.
    runtime: Option<Runtime>,
}

#[derive(Debug, thiserror::Error)]
pub enum StopError {
    #[error(transparent)]
    Run(#[from] StartError),
    #[error("the relay task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the relay did not stop within {0:?}")]
    Timeout(Duration),
}

impl Relay {
    /// Spawns the relay on `listener`, on a runtime of its own. It serves until
    /// [`stop`](Self::stop) or drop; a failure to start (e.g. the database cannot be opened)
    /// shows at `stop`.
    pub fn spawn(listener: TcpListener, config: Config) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        // Move the socket to the relay's runtime, so its I/O does not depend on the caller's.
        let listener = listener.into_std()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("natter-relay")
            .enable_all()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(listener)?
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            // A dropped handle counts as a stop.
            let _ = stopped.await;
        };
        let task = runtime.spawn(run(listener, config, shutdown));
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
            runtime: Some(runtime),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, for HTTP and Socket.IO clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts the relay down gracefully and waits (bounded) until it has.
    pub async fn stop(mut self) -> Result<(), StopError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        let joined = tokio::time::timeout(STOP_WAIT, task).await;
        // Whatever is left (a connection task past its grace period) ends with the runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        Ok(joined.map_err(|_| StopError::Timeout(STOP_WAIT))???)
    }

    /// For tests (feature `test-support`): stops the relay like a crash — the task is aborted, every connection drops
    /// without a Socket.IO DISCONNECT, nothing is flushed beyond what was already committed.
    ///
    /// Aborting the `run` task alone would not do: the per-connection tasks it spawned would
    /// keep serving. So the relay's whole runtime is shut down, dropping every task mid-step
    /// (a commit in flight on SQLite's own thread still completes or not, as in a crash).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn crash(mut self) {
        // Never send nor drop the stop (a dropped one counts as a stop): a graceful shutdown
        // would say DISCONNECT first. Forgetting it leaks one small channel, once per crash.
        std::mem::forget(self.stop.take());
        if let Some(task) = &self.task {
            task.abort();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(STOP_WAIT, task).await;
        }
    }
}

impl Drop for Relay {
    /// Stops the relay gracefully in the background (bounded by the same wait as `stop`); a
    /// runtime cannot be dropped inside an async context, so a thread of its own does it.
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        drop(self.stop.take());
        let task = self.task.take();
        let waiter = std::thread::Builder::new()
            .name("natter-relay-stop".into())
            .spawn(move || {
                if let Some(task) = task {
                    runtime.block_on(async {
                        let _ = tokio::time::timeout(STOP_WAIT, task).await;
                    });
                }
                runtime.shutdown_background();
            });
        if let Err(e) = waiter {
            tracing::warn!(error = %e, "could not wait for the relay to stop");
        }
    }
}
