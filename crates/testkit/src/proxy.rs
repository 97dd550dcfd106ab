//! [`FaultProxy`]: the listener, its accept loop, and the owner of every connection task.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::{JoinHandle, JoinSet},
};
use tokio_util::sync::CancellationToken;

use crate::{
    connection::{self, Admission},
    control::{Counters, ProxyControl, Shared},
    error::ProxyError,
    fault::FaultState,
};

/// A TCP proxy on loopback that forwards every connection to one upstream and injects faults.
///
/// Dropping it (or [`stop`](Self::stop)) closes the listener and every connection; no task
/// outlives it: connection tasks live in a `JoinSet` owned by the accept task, which is aborted.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    control: ProxyControl,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listen on `127.0.0.1:0` and forward to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Result<Self, ProxyError> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), upstream).await
    }

    /// Listen on `listen` (e.g. a fixed port, to restart a proxy where clients expect it).
    pub async fn bind(listen: SocketAddr, upstream: SocketAddr) -> Result<Self, ProxyError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ProxyError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(ProxyError::LocalAddr)?;
        let (state, _) = watch::channel(FaultState::new(upstream));
        let shared = Arc::new(Shared {
            state,
            counters: Counters::default(),
        });
        let cancel = CancellationToken::new();
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), cancel.clone()));
        Ok(Self {
            addr,
            control: ProxyControl::new(shared),
            cancel,
            task: Some(task),
        })
    }

    /// Where clients should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A cloneable handle to steer this proxy from elsewhere (it stops working once the proxy
    /// is gone: faults set then have nothing to act on).
    pub fn control(&self) -> ProxyControl {
        self.control.clone()
    }

    /// Close the listener and every connection (plain close), and wait until all tasks ended.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// `set`, `clear`, `drop_all` and `stats` are its [`ProxyControl`]'s.
impl std::ops::Deref for FaultProxy {
    type Target = ProxyControl;
    fn deref(&self) -> &ProxyControl {
        &self.control
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, cancel: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((socket, _peer)) => admit(socket, &shared, &cancel, &mut connections),
                Err(error) => {
                    // e.g. out of file descriptors: back off instead of spinning.
                    tracing::debug!(%error, "proxy accept failed");
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_millis(10)) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    // Connections see the same token and close themselves; give them a moment, then abort.
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(1), drained)
        .await
        .is_err()
    {
        connections.shutdown().await;
    }
}

fn admit(
    socket: TcpStream,
    shared: &Arc<Shared>,
    cancel: &CancellationToken,
    connections: &mut JoinSet<()>,
) {
    Counters::bump(&shared.counters.accepted, 1);
    let (refuse, admission) = {
        let state = shared.state.borrow();
        (state.refuse_new, Admission::from_state(&state))
    };
    if refuse {
        Counters::bump(&shared.counters.refused, 1);
        drop(socket);
        return;
    }
    connections.spawn(connection::serve(
        socket,
        Arc::clone(shared),
        cancel.child_token(),
        admission,
    ));
}
