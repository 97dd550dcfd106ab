//! The faults a [`FaultProxy`](crate::FaultProxy) can inject, and the state its connections watch.

use std::{net::SocketAddr, time::Duration};

/// Which way bytes flow through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client → upstream (requests, sends).
    Upstream,
    /// Upstream → client (responses, events).
    Downstream,
    /// Both of the above.
    Both,
}

/// One fault. Set with [`ProxyControl::set`](crate::ProxyControl::set); standing faults stay on
/// until [`ProxyControl::clear`](crate::ProxyControl::clear) and apply to live and new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Hold every chunk until this long after the proxy read it (pipelined, not serialised).
    Latency(Duration),
    /// Cap throughput at this many bytes per second (0 is treated as 1).
    Bandwidth(u64),
    /// Half-open: stop reading and stop forwarding, close nothing — a laptop that slept. Bytes
    /// already read are held and delivered after `clear`.
    Blackhole,
    /// One-shot: abort every current connection with RST (`SO_LINGER 0`) on the chosen side(s):
    /// `Downstream` resets the client's socket, `Upstream` the upstream's; the other side gets a
    /// plain close. New connections are not affected (combine with `RefuseNew` for that).
    Reset,
    /// Forward one byte per write, with a flush between (the proxy's sockets are `TCP_NODELAY`).
    Slice1,
    /// Close the whole connection once this many bytes have been forwarded in that direction,
    /// counted from when the fault was set (or from the start, for new connections).
    CloseAfter(u64),
    /// Accept new connections and close them at once, never dialling upstream. Direction ignored.
    RefuseNew,
    /// For HTTP: if the first request head of a new connection carries `Upgrade: websocket`,
    /// answer `403 Forbidden` and close without dialling upstream; pass anything else through
    /// untouched. Direction ignored (it is always the client's request that is inspected).
    RejectWebSocketUpgrade,
}

/// One direction only; what a pump works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Upstream,
    Downstream,
}

impl Direction {
    fn includes(self, flow: Flow) -> bool {
        matches!(
            (self, flow),
            (Direction::Both, _)
                | (Direction::Upstream, Flow::Upstream)
                | (Direction::Downstream, Flow::Downstream)
        )
    }
}

/// A `CloseAfter` as armed at a given `set`, so a pump can tell a new one from the one it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CloseAfter {
    pub bytes: u64,
    pub generation: u64,
}

/// The standing faults of one direction.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FlowFaults {
    pub latency: Option<Duration>,
    pub bandwidth: Option<u64>,
    pub blackhole: bool,
    pub slice1: bool,
    pub close_after: Option<CloseAfter>,
}

/// The last one-shot reset: connections that saw an older epoch act on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ResetEvent {
    pub epoch: u64,
    pub upstream: bool,
    pub downstream: bool,
}

/// Everything connections need to know, published through a `watch` channel.
#[derive(Debug, Clone)]
pub(crate) struct FaultState {
    pub upstream_addr: SocketAddr,
    pub upstream: FlowFaults,
    pub downstream: FlowFaults,
    pub refuse_new: bool,
    pub reject_ws_upgrade: bool,
    pub reset: ResetEvent,
    pub drop_epoch: u64,
    generation: u64,
}

impl FaultState {
    pub fn new(upstream_addr: SocketAddr) -> Self {
        Self {
            upstream_addr,
            upstream: FlowFaults::default(),
            downstream: FlowFaults::default(),
            refuse_new: false,
            reject_ws_upgrade: false,
            reset: ResetEvent::default(),
            drop_epoch: 0,
            generation: 0,
        }
    }

    pub fn flow(&self, flow: Flow) -> &FlowFaults {
        match flow {
            Flow::Upstream => &self.upstream,
            Flow::Downstream => &self.downstream,
        }
    }

    pub fn apply(&mut self, direction: Direction, fault: Fault) {
        self.generation += 1;
        let generation = self.generation;
        match fault {
            Fault::RefuseNew => self.refuse_new = true,
            Fault::RejectWebSocketUpgrade => self.reject_ws_upgrade = true,
            Fault::Reset => {
                self.reset = ResetEvent {
                    epoch: self.reset.epoch + 1,
                    upstream: direction.includes(Flow::Upstream),
                    downstream: direction.includes(Flow::Downstream),
                }
            }
            _ => {
                let flows = [
                    (Flow::Upstream, &mut self.upstream),
                    (Flow::Downstream, &mut self.downstream),
                ];
                for (flow, faults) in flows {
                    if direction.includes(flow) {
                        apply_to_flow(faults, fault, generation);
                    }
                }
            }
        }
    }

    /// Lift every standing fault; one-shot events and the upstream address are kept.
    pub fn clear(&mut self) {
        self.upstream = FlowFaults::default();
        self.downstream = FlowFaults::default();
        self.refuse_new = false;
        self.reject_ws_upgrade = false;
    }

    pub fn drop_all(&mut self) {
        self.drop_epoch += 1;
    }
}

fn apply_to_flow(faults: &mut FlowFaults, fault: Fault, generation: u64) {
    match fault {
        Fault::Latency(delay) => faults.latency = Some(delay),
        Fault::Bandwidth(rate) => faults.bandwidth = Some(rate.max(1)),
        Fault::Blackhole => faults.blackhole = true,
        Fault::Slice1 => faults.slice1 = true,
        Fault::CloseAfter(bytes) => faults.close_after = Some(CloseAfter { bytes, generation }),
        Fault::Reset | Fault::RefuseNew | Fault::RejectWebSocketUpgrade => {}
    }
}
