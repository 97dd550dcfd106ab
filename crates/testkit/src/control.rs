//! The cheap, cloneable handle that steers a running proxy and reads its counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use crate::fault::{Direction, Fault, FaultState};

/// State shared by the proxy, its handles and every connection task.
pub(crate) struct Shared {
    pub state: watch::Sender<FaultState>,
    pub counters: Counters,
}

/// Live counters; read them through [`Stats`].
#[derive(Default)]
pub(crate) struct Counters {
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub upgrades_rejected: AtomicU64,
    pub live: AtomicU64,
    pub bytes_upstream: AtomicU64,
    pub bytes_downstream: AtomicU64,
    pub writes_upstream: AtomicU64,
    pub writes_downstream: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }
}

/// A snapshot of the proxy's counters, for assertions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted on the listening socket, including refused and rejected ones.
    pub connections_accepted: u64,
    /// Connections closed at once because of [`Fault::RefuseNew`].
    pub connections_refused: u64,
    /// Connections answered `403` because of [`Fault::RejectWebSocketUpgrade`].
    pub upgrades_rejected: u64,
    /// Connections currently open through the proxy.
    pub live_connections: u64,
    /// Bytes handed to the upstream socket (client → upstream).
    pub bytes_upstream: u64,
    /// Bytes handed to the client socket (upstream → client).
    pub bytes_downstream: u64,
    /// Writes to the upstream socket (under [`Fault::Slice1`], one per byte).
    pub writes_upstream: u64,
    /// Writes to the client socket.
    pub writes_downstream: u64,
}

/// Steers a [`FaultProxy`](crate::FaultProxy). Cloning is cheap; every clone controls the same
/// proxy, and changes reach live connections at once.
#[derive(Clone)]
pub struct ProxyControl {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ProxyControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyControl")
            .field("state", &*self.shared.state.borrow())
            .field("stats", &self.stats())
            .finish()
    }
}

impl ProxyControl {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Turn a fault on in the given direction (replacing an earlier fault of the same kind).
    pub fn set(&self, direction: Direction, fault: Fault) {
        tracing::debug!(?direction, ?fault, "proxy fault set");
        self.shared.state.send_modify(|s| s.apply(direction, fault));
    }

    /// Lift every standing fault, in both directions. Held bytes flow again.
    pub fn clear(&self) {
        tracing::debug!("proxy faults cleared");
        self.shared.state.send_modify(FaultState::clear);
    }

    /// Close every live connection (plain close, no RST). New connections are unaffected.
    pub fn drop_all(&self) {
        self.shared.state.send_modify(FaultState::drop_all);
    }

    /// The counters as they are now.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            connections_accepted: get(&c.accepted),
            connections_refused: get(&c.refused),
            upgrades_rejected: get(&c.upgrades_rejected),
            live_connections: get(&c.live),
            bytes_upstream: get(&c.bytes_upstream),
            bytes_downstream: get(&c.bytes_downstream),
            writes_upstream: get(&c.writes_upstream),
            writes_downstream: get(&c.writes_downstream),
        }
    }
}
