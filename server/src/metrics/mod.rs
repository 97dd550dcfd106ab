//! The relay's metrics: one registry of relaxed atomics (counters, gauges, fixed-bucket
//! histograms), recorded at the one place each fact happens and read only to be rendered in
//! Prometheus text (`render.rs`) by the `--metrics-bind` listener (`endpoint.rs`).
//!
//! Recording is a relaxed atomic add or two: no lock, no allocation. Every label value comes
//! from a fixed set (request names, error codes, limit kinds, transports, HTTP status codes),
//! never from what a client sent: no usernames, room ids, addresses or unknown event names.
//! The counts are this process's; each relay node is scraped on its own.

mod commits;
mod endpoint;
mod histogram;
mod render;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use natter_protocol::{requests, ErrorCode};

pub use commits::CommitMetrics;
pub use endpoint::{serve, Census};
pub use render::render;

/// Request labels: every request name, then `other` (an unknown event).
const EVENTS: usize = requests::NAMES.len() + 1;
/// Outcome labels: `ok`, then every error code.
const OUTCOMES: usize = ErrorCode::ALL.len() + 1;
/// HTTP status codes counted: 100..=999 (what `http::StatusCode` can hold).
const STATUSES: usize = 900;
const FIRST_STATUS: u16 = 100;

/// A limit that refused something (each once, where it is decided): the label of
/// `natter_rate_limited_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `message:send` per user (`ratelimit.rs`).
    Send,
    /// `typing` per user.
    Typing,
    /// `room:create`, `room:invite`, `dm:open`, … per user.
    RoomChanges,
    /// Reads (`history`, `sync`, `rooms:list`) per user.
    ReadsPerUser,
    /// Reads per client address.
    ReadsPerAddress,
    /// Reads one socket has in flight (`socket/bounds.rs`).
    ReadsInFlight,
    /// Reads refused while the client leaves earlier replies unread.
    UnreadReplies,
    /// Login and register attempts per client address.
    LoginPerAddress,
    /// Login attempts per username from an address that has been guessing it.
    LoginPerUsername,
    /// Socket.IO connects per user, per minute (`connect_limit.rs`).
    ConnectsPerUser,
    /// Socket.IO connects per client address, per minute.
    ConnectsPerAddress,
    /// Socket.IO connections one user holds at once (`socket/bounds.rs`).
    SocketsPerUser,
    /// Socket.IO connections one client address holds at once.
    SocketsPerAddress,
    /// TCP connections one client address holds at once (`serve.rs`).
    ConnectionsPerAddress,
    /// Admin requests per admin (`admin.rs`).
    AdminActions,
}

impl Limit {
    pub const ALL: [Self; 15] = [
        Self::Send,
        Self::Typing,
        Self::RoomChanges,
        Self::ReadsPerUser,
        Self::ReadsPerAddress,
        Self::ReadsInFlight,
        Self::UnreadReplies,
        Self::LoginPerAddress,
        Self::LoginPerUsername,
        Self::ConnectsPerUser,
        Self::ConnectsPerAddress,
        Self::SocketsPerUser,
        Self::SocketsPerAddress,
        Self::ConnectionsPerAddress,
        Self::AdminActions,
    ];

    /// The label value.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Typing => "typing",
            Self::RoomChanges => "room_changes",
            Self::ReadsPerUser => "reads_per_user",
            Self::ReadsPerAddress => "reads_per_address",
            Self::ReadsInFlight => "reads_in_flight",
            Self::UnreadReplies => "unread_replies",
            Self::LoginPerAddress => "login_per_address",
            Self::LoginPerUsername => "login_per_username",
            Self::ConnectsPerUser => "connects_per_user",
            Self::ConnectsPerAddress => "connects_per_address",
            Self::SocketsPerUser => "sockets_per_user",
            Self::SocketsPerAddress => "sockets_per_address",
            Self::ConnectionsPerAddress => "connections_per_address",
            Self::AdminActions => "admin_actions",
        }
    }
}

/// Socket.IO sockets open now, by the transport each uses now; counted when scraped
/// (`socket::census`), so nothing is recorded per connect or upgrade.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketsOpen {
    pub websocket: u64,
    pub polling: u64,
}

/// The registry handle: cheap to clone, given to whoever records.
#[derive(Clone, Default)]
pub struct Metrics(Arc<Registry>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

struct Registry {
    connections_open: AtomicI64,
    /// `[event][outcome]`, indexed as [`EVENTS`] and [`OUTCOMES`] say.
    requests: [[AtomicU64; OUTCOMES]; EVENTS],
    rate_limited: [AtomicU64; Limit::ALL.len()],
    /// By status code − [`FIRST_STATUS`].
    http: [AtomicU64; STATUSES],
    /// Holes in rooms' messages on a node of several: `[by the bus, from the store]`.
    holes: [AtomicU64; 2],
    /// The store's commit stage keeps its own, shared here (`store::Commits::metrics`).
    commits: CommitMetrics,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            connections_open: AtomicI64::new(0),
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            rate_limited: std::array::from_fn(|_| AtomicU64::new(0)),
            http: std::array::from_fn(|_| AtomicU64::new(0)),
            holes: std::array::from_fn(|_| AtomicU64::new(0)),
            commits: CommitMetrics::default(),
        }
    }
}

impl Metrics {
    /// A registry that shows the commit stage's `commits` beside its own counts.
    pub fn new(commits: CommitMetrics) -> Self {
        Self(Arc::new(Registry {
            commits,
            ..Registry::default()
        }))
    }

    /// One request answered (or refused before it was served) with `outcome`. `event` is the
    /// client's string: anything not in `requests::NAMES` counts as `other`.
    pub fn request(&self, event: &str, outcome: Result<(), ErrorCode>) {
        let e = requests::NAMES
            .iter()
            .position(|name| *name == event)
            .unwrap_or(EVENTS - 1);
        let o = match outcome {
            Ok(()) => 0,
            Err(code) => 1 + code as usize,
        };
        self.0.requests[e][o].fetch_add(1, Relaxed);
    }

    /// `limit` refused something.
    pub fn refused(&self, limit: Limit) {
        self.0.rate_limited[limit as usize].fetch_add(1, Relaxed);
    }

    /// One HTTP response with `status`.
    pub fn http_response(&self, status: u16) {
        if let Some(n) = status
            .checked_sub(FIRST_STATUS)
            .and_then(|i| self.0.http.get(usize::from(i)))
        {
            n.fetch_add(1, Relaxed);
        }
    }

    /// One TCP connection accepted; it counts as open until the guard is dropped.
    pub fn connection_opened(&self) -> OpenConnection {
        self.0.connections_open.fetch_add(1, Relaxed);
        OpenConnection(self.clone())
    }

    /// A hole in a room's messages was filled: by the bus, or `from_store` (`broadcast/feed.rs`).
    pub fn hole_filled(&self, from_store: bool) {
        self.0.holes[usize::from(from_store)].fetch_add(1, Relaxed);
    }

    /// The commit stage's part.
    pub fn commits(&self) -> &CommitMetrics {
        &self.0.commits
    }
}

/// A TCP connection counted in `natter_connections_open` while this lives.
pub struct OpenConnection(Metrics);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0 .0.connections_open.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_index_their_outcome_in_declaration_order() {
        // `1 + code as usize` relies on it: `ALL` in declaration order, no gaps.
        for (i, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, i, "{code}");
        }
        for (i, limit) in Limit::ALL.into_iter().enumerate() {
            assert_eq!(limit as usize, i, "{limit:?}");
        }
    }

    #[test]
    fn unknown_events_and_odd_statuses_are_counted_without_their_names() {
        let m = Metrics::default();
        m.request("message:send", Ok(()));
        m.request("alice's secret event", Err(ErrorCode::Invalid));
        m.request("another one", Err(ErrorCode::Invalid));
        m.http_response(404);
        m.http_response(42);
        let text = render(&m, SocketsOpen::default());
        assert!(text.contains("natter_requests_total{event=\"message:send\",outcome=\"ok\"} 1\n"));
        assert!(text.contains("natter_requests_total{event=\"other\",outcome=\"invalid\"} 2\n"));
        assert!(!text.contains("secret") && !text.contains("another"));
        assert!(text.contains("natter_http_responses_total{status=\"404\"} 1\n"));
        assert!(!text.contains("status=\"42\""));
    }

    #[test]
    fn a_connection_counts_while_its_guard_lives() {
        let m = Metrics::default();
        let a = m.connection_opened();
        let b = m.connection_opened();
        assert!(render(&m, SocketsOpen::default()).contains("natter_connections_open 2\n"));
        drop(a);
        drop(b);
        assert!(render(&m, SocketsOpen::default()).contains("natter_connections_open 0\n"));
    }
}
