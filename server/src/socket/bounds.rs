//! What one socket, one user and one client address may hold of the relay: Socket.IO connections
//! per user and per address (checked at connect), and read requests (`history`, `sync`,
//! `rooms:list`, `search`) per socket in flight, by the reply bytes its client has not read yet (what its
//! WebSocket connection wrote, or for a long-polling session what its polls took: `polls.rs`), and per user and address per second (checked before one is served). A read's reply is
//! the one thing a client can make the relay build and queue for it at will (up to a page
//! each); with the byte-capped pages, these bound what a socket can make the relay hold.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ConnectInfo;
use natter_protocol::requests::{History, ListMembers, ListRooms, Search, Sync};
use natter_protocol::{Event, User, WireError};
use socketioxide::extract::SocketRef;

use super::polls::{Delivered, Polls};
use crate::config::{Cidr, Config};
use crate::metrics::{Limit, Metrics};
use crate::ratelimit::{address_key, Limits};
use crate::serve::Written;

/// Sockets held now, per user id and per address key (this process's).
#[derive(Debug, Default)]
struct Counts {
    users: HashMap<String, usize>,
    addrs: HashMap<IpAddr, usize>,
}

/// The bounds and what they count; a cheap handle, given to socketioxide as state.
#[derive(Clone)]
pub struct Bounds {
    limits: Limits,
    trusted_proxies: Arc<[Cidr]>,
    reads_in_flight: usize,
    unread_reply_bytes: u64,
    sockets_per_user: usize,
    sockets_per_address: usize,
    counts: Arc<Mutex<Counts>>,
    polls: Polls,
    /// Each refusal counted by its limit.
    metrics: Metrics,
}

impl std::fmt::Debug for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bounds").finish_non_exhaustive()
    }
}

/// A socket's place in the counts, kept in its extensions: given back at its disconnect, or
/// when the socket is dropped (one that never got connected has no disconnect), whichever
/// comes first. (A socket outlives its disconnect for a while: tasks hold it, e.g. the
/// connect's `settle` for a second, and a client reconnecting in a loop would pile them up.)
#[derive(Clone)]
pub(super) struct Held(Arc<Place>);

struct Place {
    user_id: String,
    addr: IpAddr,
    reads: AtomicUsize,
    /// What its client has not read yet (`None` only off `serve.rs`, e.g. a test seam).
    unread: Option<Unread>,
    /// A long-polling session's counters, dropped with the socket.
    polled: Option<(Polls, String)>,
    released: AtomicBool,
    counts: Arc<Mutex<Counts>>,
}

/// Read replies handed to a socket, against the bytes its client has taken: the difference is
/// what the client has not taken yet (an over-estimate never: everything else written, pings
/// and broadcasts, counts as taken too).
struct Unread {
    taken: Taken,
    /// Bytes taken before the socket connected, plus every read reply handed to it since.
    handed: AtomicU64,
}

/// Where what a client took is counted.
enum Taken {
    /// The socket's own WebSocket connection.
    Connection(Written),
    /// A long-polling session's polls (and its connection once upgraded).
    Polls(Delivered),
}

impl Unread {
    fn bytes(&self) -> u64 {
        let taken = match &self.taken {
            Taken::Connection(written) => written.bytes(),
            Taken::Polls(delivered) => delivered.bytes(),
        };
        self.handed.load(Ordering::Acquire).saturating_sub(taken)
    }
}

impl Held {
    /// Gives the socket's place back (once; later calls do nothing).
    pub(super) fn release(&self) {
        self.0.release();
    }
}

impl Place {
    fn release(&self) {
        if self.released.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok(mut counts) = self.counts.lock() {
            release(&mut counts.users, &self.user_id);
            release(&mut counts.addrs, &self.addr);
        }
        if let Some((polls, sid)) = &self.polled {
            polls.close(sid);
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.release();
    }
}

fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

/// One read being served on a socket; its slot is given back when this is dropped (after the
/// reply was handed to the socket).
pub(super) struct ReadPermit(Held);

impl ReadPermit {
    /// Counts `reply` (as JSON) as handed to the socket; call before sending it.
    pub(super) fn sent<T: serde::Serialize>(&self, reply: &T) {
        let Some(unread) = &self.0 .0.unread else {
            return;
        };
        let mut bytes = ByteCount(0);
        if serde_json::to_writer(&mut bytes, reply).is_ok() {
            unread.handed.fetch_add(bytes.0, Ordering::AcqRel);
        }
    }
}

/// An `io::Write` that only counts.
struct ByteCount(u64);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ReadPermit {
    fn drop(&mut self) {
        self.0 .0.reads.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Whether `event` is a read request, which [`Bounds::admit_read`] must let through.
pub(super) fn is_read(event: &str) -> bool {
    matches!(
        event,
        ListRooms::NAME | History::NAME | Sync::NAME | Search::NAME | ListMembers::NAME
    )
}

impl Bounds {
    pub fn new(config: &Config, limits: Limits, polls: Polls, metrics: Metrics) -> Self {
        let size = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        Self {
            limits,
            trusted_proxies: config.trusted_proxy.clone().into(),
            reads_in_flight: size(config.reads_in_flight),
            unread_reply_bytes: config.unread_reply_bytes,
            sockets_per_user: size(config.sockets_per_user),
            sockets_per_address: size(config.sockets_per_address),
            counts: Arc::default(),
            polls,
            metrics,
        }
    }

    /// The socket's client address: its connection's peer, or what a trusted proxy says.
    pub(super) fn client_addr(&self, s: &SocketRef) -> Option<IpAddr> {
        let parts = s.req_parts();
        let ConnectInfo(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>()?;
        Some(crate::http::client_addr(
            peer.ip(),
            &parts.headers,
            &self.trusted_proxies,
        ))
    }

    /// Counts the socket against its user's and its address's caps, or says why it may not
    /// connect (the `connect_error` message, logged here).
    pub(super) fn admit_socket(&self, s: &SocketRef, user: &User) -> Result<Held, String> {
        // Without a peer address (not served by `serve.rs`, e.g. a test seam) only the user
        // cap applies; every address key is then this one.
        let addr = self
            .client_addr(s)
            .map_or(IpAddr::from([0, 0, 0, 0]), address_key);
        let mut counts = self
            .counts
            .lock()
            .map_err(|_| natter_protocol::ErrorCode::Internal.as_str().to_owned())?;
        let of_user = counts.users.get(&user.id).copied().unwrap_or(0);
        let of_addr = counts.addrs.get(&addr).copied().unwrap_or(0);
        let refusal = if of_user >= self.sockets_per_user {
            Some((
                Limit::SocketsPerUser,
                format!("rate_limited: this user has {of_user} connections, the most allowed"),
            ))
        } else if of_addr >= self.sockets_per_address {
            Some((
                Limit::SocketsPerAddress,
                format!("rate_limited: this address has {of_addr} connections, the most allowed"),
            ))
        } else {
            None
        };
        if let Some((limit, refusal)) = refusal {
            self.metrics.refused(limit);
            tracing::info!(sid = %s.id, user = %user.username, %addr, reason = %refusal, "connect refused");
            return Err(refusal);
        }
        *counts.users.entry(user.id.clone()).or_default() += 1;
        *counts.addrs.entry(addr).or_default() += 1;
        // A socket that opened as a WebSocket owns its connection, and what that connection
        // has written tells what the client took; one that opened on long-polling is counted
        // by its polls (its id is its Engine.IO session's).
        let (unread, polled) = match s.transport_type() {
            socketioxide::TransportType::Websocket => {
                let unread = s
                    .req_parts()
                    .extensions
                    .get::<Written>()
                    .map(|written| Unread {
                        handed: AtomicU64::new(written.bytes()),
                        taken: Taken::Connection(written.clone()),
                    });
                (unread, None)
            }
            socketioxide::TransportType::Polling => {
                let sid = s.id.to_string();
                let unread = Unread {
                    handed: AtomicU64::new(0),
                    taken: Taken::Polls(self.polls.open(&sid)),
                };
                (Some(unread), Some((self.polls.clone(), sid)))
            }
        };
        Ok(Held(Arc::new(Place {
            user_id: user.id.clone(),
            addr,
            reads: AtomicUsize::new(0),
            unread,
            polled,
            released: AtomicBool::new(false),
            counts: self.counts.clone(),
        })))
    }

    /// Lets one read request of the socket be served, or answers why not (`rate_limited`):
    /// too many of its reads are being served already, or its user or address has read too
    /// often. Refused reads are not queued: nothing is held for them.
    pub(super) fn admit_read(&self, s: &SocketRef) -> Result<ReadPermit, WireError> {
        let Some(Held(place)) = s.extensions.get::<Held>() else {
            return Err(WireError::new(
                natter_protocol::ErrorCode::Internal,
                "socket not signed on",
            ));
        };
        let busy = place.reads.fetch_add(1, Ordering::AcqRel);
        let permit = ReadPermit(Held(place.clone()));
        if busy >= self.reads_in_flight {
            self.metrics.refused(Limit::ReadsInFlight);
            tracing::debug!(sid = %s.id, busy, "read refused: too many in flight");
            return Err(WireError::new(
                natter_protocol::ErrorCode::RateLimited,
                format!(
                    "at most {} reads at once per connection",
                    self.reads_in_flight
                ),
            ));
        }
        let unread = place.unread.as_ref().map_or(0, Unread::bytes);
        if unread > self.unread_reply_bytes {
            self.metrics.refused(Limit::UnreadReplies);
            tracing::debug!(sid = %s.id, unread, "read refused: earlier replies unread");
            return Err(WireError::new(
                natter_protocol::ErrorCode::RateLimited,
                "earlier replies have not been read yet",
            ));
        }
        if !self.limits.allow_read(&place.user_id, place.addr) {
            tracing::debug!(sid = %s.id, "read refused: rate limited");
            return Err(WireError::new(
                natter_protocol::ErrorCode::RateLimited,
                "too many reads; try again shortly",
            ));
        }
        Ok(permit)
    }
}
