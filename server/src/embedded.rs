//! A relay running in the background of this process: what "host on this computer" in the
//! desktop app and the test harnesses start. Dropping the handle stops the relay too.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{run, Config, StartError};

/// How long [`Relay::stop`] waits for the relay to finish.
const STOP_WAIT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), StartError>>,
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
    /// Spawns the relay on `listener`. It serves until [`stop`](Self::stop) or drop; a failure
    /// to start (e.g. the database cannot be opened) shows at `stop`.
    pub fn spawn(listener: TcpListener, config: Config) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            // A dropped handle counts as a stop.
            let _ = stopped.await;
        };
        let task = tokio::spawn(run(listener, config, shutdown));
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
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
        let joined = tokio::time::timeout(STOP_WAIT, &mut self.task)
            .await
            .map_err(|_| StopError::Timeout(STOP_WAIT))?;
        Ok(joined??)
    }
}
