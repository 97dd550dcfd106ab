//! Relay configuration: command-line flags, each with an environment variable and a key in
//! the config file (`file.rs`).

mod file;

pub use file::{command, load_from, ConfigError, CONFIG_ENV, CONFIG_FLAG};

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;
use natter_protocol::limits;

/// The default port, documented in docs/self-hosting.md.
pub const DEFAULT_PORT: u16 = 7447;
/// Login attempts per minute, per username and per address.
pub const DEFAULT_LOGIN_PER_MINUTE: u32 = 10;
/// Seconds a client may take to send a complete request head (HTTP headers) before the relay
/// closes its connection. Real clients send theirs in one packet; 10 s is generous on a slow
/// mobile link, and bounds what a client that dribbles its headers (slowloris) can hold.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Seconds a client may take to send a request's body (an API call's, or a polling POST's)
/// once its head is in. Bodies are at most 64 KiB: 30 s is generous even for a slow link, and
/// bounds what a client that dribbles its body can hold.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
/// Seconds an API call (`/api/...`) may take in all, from its head to its answer: its body
/// (bounded by the body timeout as well) and the work (a password hash waits its turn).
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 60;
/// TCP connections one client address (IPv6: one /64) may have open at once. A desktop client
/// holds one (two while long-polling); a trusted proxy's are not counted.
pub const DEFAULT_CONNECTIONS_PER_ADDRESS: u32 = 512;
/// Seconds between opening an Engine.IO session and sending the Socket.IO CONNECT before the
/// relay drops the session. Real clients send CONNECT right after the open packet.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
/// Read requests (`history`, `sync`, `rooms:list`) one socket may have served at once; more are
/// answered `rate_limited` at once, so nothing is held for them. A client asks one at a time.
pub const DEFAULT_READS_IN_FLIGHT: u32 = 4;
/// Bytes of read replies a client may leave unread (handed to its WebSocket connection and not
/// yet taken by the kernel, or not yet taken by its polls) before its further reads are
/// answered `rate_limited`: a few pages.
pub const DEFAULT_UNREAD_REPLY_BYTES: u64 = 1024 * 1024;
/// Read requests per user: a burst, then a steady rate per second. A reconnect costs a client
/// `rooms:list` and a few `sync` pages; opening rooms a `history` each.
pub const DEFAULT_READ_BURST: u32 = 60;
pub const DEFAULT_READS_PER_SECOND: u32 = 10;
/// Socket.IO connections one user may hold on this relay (one per device is usual).
pub const DEFAULT_SOCKETS_PER_USER: u32 = 64;
/// Socket.IO connections from one client address (IPv6: one /64): a household or an office
/// behind one NAT shares it.
pub const DEFAULT_SOCKETS_PER_ADDRESS: u32 = 256;
/// Seconds a session (a login's token) may go unused before it expires: 30 days.
pub const DEFAULT_SESSION_IDLE_SECS: u64 = 30 * 24 * 60 * 60;
/// Sessions one user may hold (one per device and login); a login past it ends the one used
/// longest ago.
pub const DEFAULT_SESSIONS_PER_USER: u32 = 20;
/// Seconds an upload no message carries is kept before it is removed: a day.
pub const DEFAULT_ORPHAN_FILE_SECS: u64 = 24 * 60 * 60;
/// The slowest an upload may come, averaged from its start (after its first body timeout):
/// a client that dribbles a large body is cut off rather than holding a connection for hours.
pub const MIN_UPLOAD_BYTES_PER_SEC: u64 = 16 * 1024;
/// Seconds between Engine.IO pings (the Socket.IO default).
pub const DEFAULT_PING_INTERVAL_SECS: u64 = 25;
/// Seconds a client may take to answer a ping before it is disconnected (the Socket.IO default).
pub const DEFAULT_PING_TIMEOUT_SECS: u64 = 20;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "natter-relay",
    version,
    // A flag given twice takes its last value (scripts and tests add to default flags).
    args_override_self = true,
    about = "Natter relay: the self-hostable chat server"
)]
pub struct Config {
    /// Address to listen on. Keep it on loopback unless a TLS reverse proxy is in front.
    #[arg(long, env = "NATTER_BIND", default_value_t = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)))]
    pub bind: SocketAddr,

    /// Directory for the SQLite database (natter.db). Default: the OS data directory.
    #[arg(long, env = "NATTER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// PostgreSQL database instead of SQLite in --data-dir, for several relay nodes on one
    /// database: postgres://user:password@host:port/database. Needs a relay built with the
    /// `postgres` feature (docs/scaling.md).
    #[arg(long, env = "NATTER_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// message:send burst allowed per user before the steady rate applies.
    #[arg(long, env = "NATTER_SEND_BURST", default_value_t = limits::SEND_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub send_burst: u32,

    /// Steady message:send rate per user, per second.
    #[arg(long, env = "NATTER_SEND_PER_SECOND", default_value_t = limits::SEND_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..))]
    pub send_per_second: u32,

    /// typing events per user, per second.
    #[arg(long, env = "NATTER_TYPING_PER_SECOND", default_value_t = limits::TYPING_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..))]
    pub typing_per_second: u32,

    /// room:create, room:invite and dm:open together, per user, per minute (also the burst).
    #[arg(long, env = "NATTER_ROOM_CHANGES_PER_MINUTE", default_value_t = limits::ROOM_CHANGES_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..))]
    pub room_changes_per_minute: u32,

    /// Socket.IO connects per user, per minute (also the burst); more are refused `rate_limited`.
    #[arg(long, env = "NATTER_CONNECTS_PER_MINUTE", default_value_t = limits::CONNECTS_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..))]
    pub connects_per_minute: u32,

    /// Socket.IO connects per client address (IPv6: per /64), per minute (also the burst).
    #[arg(long, env = "NATTER_CONNECTS_PER_MINUTE_PER_ADDRESS", default_value_t = limits::CONNECTS_PER_MINUTE_PER_ADDRESS, value_parser = clap::value_parser!(u32).range(1..))]
    pub connects_per_minute_per_address: u32,

    /// Milliseconds a user whose last socket closed still counts as online: reconnecting within
    /// it announces neither "offline" nor "online" again (0: announce at once).
    #[arg(long, env = "NATTER_PRESENCE_GRACE_MS", default_value_t = limits::PRESENCE_GRACE_MS)]
    pub presence_grace_ms: u64,

    /// Rooms one user can be a member of (general and direct rooms included); room:create,
    /// room:invite and dm:open that would put anyone in more are refused `too_large`.
    #[arg(long, env = "NATTER_MAX_ROOMS_PER_USER", default_value_t = limits::MAX_ROOMS_PER_USER, value_parser = clap::value_parser!(u32).range(2..))]
    pub max_rooms_per_user: u32,

    /// Login attempts per minute, counted per username and per client address.
    #[arg(long, env = "NATTER_LOGIN_PER_MINUTE", default_value_t = DEFAULT_LOGIN_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_per_minute: u32,

    /// Seconds a client may take to send its HTTP request headers before it is disconnected.
    #[arg(long, env = "NATTER_HEADER_READ_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_READ_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,

    /// Seconds a client may take to send a request body (API or polling POST) after its headers.
    #[arg(long, env = "NATTER_BODY_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,

    /// Seconds an API call (/api/...) may take in all, from its headers to its answer.
    #[arg(long, env = "NATTER_REQUEST_TIMEOUT_SECS", default_value_t = DEFAULT_REQUEST_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,

    /// TCP connections one client address (IPv6: per /64) may have open at once; a further one
    /// is closed at once. A --trusted-proxy's connections are not counted.
    #[arg(long, env = "NATTER_CONNECTIONS_PER_ADDRESS", default_value_t = DEFAULT_CONNECTIONS_PER_ADDRESS, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections_per_address: u32,

    /// Seconds a client may take from opening Engine.IO to the Socket.IO CONNECT.
    #[arg(long, env = "NATTER_CONNECT_TIMEOUT_SECS", default_value_t = DEFAULT_CONNECT_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout_secs: u64,

    /// Read requests (history, sync, rooms:list) one socket may have served at once.
    #[arg(long, env = "NATTER_READS_IN_FLIGHT", default_value_t = DEFAULT_READS_IN_FLIGHT, value_parser = clap::value_parser!(u32).range(1..))]
    pub reads_in_flight: u32,

    /// Bytes of read replies a client (WebSocket or long-polling) may leave unread before its
    /// further reads are refused (rate_limited) until it reads.
    #[arg(long, env = "NATTER_UNREAD_REPLY_BYTES", default_value_t = DEFAULT_UNREAD_REPLY_BYTES, value_parser = clap::value_parser!(u64).range(1..))]
    pub unread_reply_bytes: u64,

    /// Read requests (history, sync, rooms:list) a user may burst before the steady rate
    /// applies; a client address gets four times as many.
    #[arg(long, env = "NATTER_READ_BURST", default_value_t = DEFAULT_READ_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub read_burst: u32,

    /// Steady read requests per user, per second; a client address gets four times as many.
    #[arg(long, env = "NATTER_READS_PER_SECOND", default_value_t = DEFAULT_READS_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..))]
    pub reads_per_second: u32,

    /// Socket.IO connections one user may hold; a further connect is refused.
    #[arg(long, env = "NATTER_SOCKETS_PER_USER", default_value_t = DEFAULT_SOCKETS_PER_USER, value_parser = clap::value_parser!(u32).range(1..))]
    pub sockets_per_user: u32,

    /// Socket.IO connections from one client address (IPv6: per /64); a further connect is refused.
    #[arg(long, env = "NATTER_SOCKETS_PER_ADDRESS", default_value_t = DEFAULT_SOCKETS_PER_ADDRESS, value_parser = clap::value_parser!(u32).range(1..))]
    pub sockets_per_address: u32,

    /// Seconds a session (a login's token) may go unused (no login, no connect) before it
    /// expires and its token is refused. Default: 30 days.
    #[arg(long, env = "NATTER_SESSION_IDLE_SECS", default_value_t = DEFAULT_SESSION_IDLE_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub session_idle_secs: u64,

    /// Sessions one user may hold; a login past it ends the one used longest ago (its sockets
    /// are disconnected).
    #[arg(long, env = "NATTER_SESSIONS_PER_USER", default_value_t = DEFAULT_SESSIONS_PER_USER, value_parser = clap::value_parser!(u32).range(1..))]
    pub sessions_per_user: u32,

    /// Seconds between Engine.IO pings to each client.
    #[arg(long, env = "NATTER_PING_INTERVAL_SECS", default_value_t = DEFAULT_PING_INTERVAL_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_interval_secs: u64,

    /// Seconds a client may take to answer a ping before it is disconnected.
    #[arg(long, env = "NATTER_PING_TIMEOUT_SECS", default_value_t = DEFAULT_PING_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_timeout_secs: u64,

    /// A reverse proxy (CIDR, e.g. 127.0.0.1/32) whose `X-Forwarded-For` names the client:
    /// repeat the flag or separate with commas. Off by default: the header is ignored, since
    /// anyone can send it.
    #[arg(long, env = "NATTER_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<Cidr>,

    /// Threads that serve connections and run the relay's tasks. Default: one per CPU. With
    /// several nodes on one machine, give each its share of the CPUs (docs/scaling.md).
    #[arg(long, env = "NATTER_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
    pub worker_threads: Option<u16>,

    /// Address for a second listener that serves `GET /metrics` (Prometheus text), e.g.
    /// 127.0.0.1:9447. Off by default; never the public port; it has no authentication.
    #[arg(long, env = "NATTER_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// TLS certificate chain (PEM, leaf first): HTTPS and WSS on --bind. Needs --tls-key.
    /// SIGHUP reads both files again for new connections.
    #[arg(
        long,
        env = "NATTER_TLS_CERT",
        value_name = "PATH",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM: PKCS#8, RSA or EC) for --tls-cert. Needs --tls-cert.
    #[arg(
        long,
        env = "NATTER_TLS_KEY",
        value_name = "PATH",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Largest file upload (POST /api/files), in MiB; larger ones are refused 413 (before
    /// reading when their length is announced, at the limit when not).
    #[arg(long, env = "NATTER_MAX_UPLOAD_MB", default_value_t = limits::DEFAULT_MAX_UPLOAD_MB, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_upload_mb: u64,

    /// Seconds an uploaded file that no message carries is kept before it is removed.
    #[arg(long, env = "NATTER_ORPHAN_FILE_SECS", default_value_t = DEFAULT_ORPHAN_FILE_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub orphan_file_secs: u64,

    /// Log filter (tracing EnvFilter syntax), e.g. "info" or "natter_relay=debug".
    #[arg(long, env = "NATTER_LOG", default_value = "info")]
    pub log: String,

    /// Who may create an account: `invite` (with an invite an admin made), `open` (anyone:
    /// for demos and tests) or `closed` (nobody, but the first admin of an empty relay).
    #[arg(long, env = "NATTER_REGISTRATION", value_enum, default_value_t = Registration::Invite)]
    pub registration: Registration,

    /// The relay's address as people reach it (e.g. https://chat.example.org), put in invite
    /// strings. Default: the address the admin's own connection came to.
    #[arg(long, env = "NATTER_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// Redis, for a relay of several nodes on one database (e.g. redis://127.0.0.1:6379): live
    /// events, presence and per-user rate limits are shared through it. Needs a relay built
    /// with the `redis` feature.
    #[arg(long, env = "NATTER_REDIS_URL", value_name = "URL")]
    pub redis_url: Option<String>,

    /// Not a flag: the desktop's hosted relay sets it so its owner's first account becomes
    /// an admin with no code to copy (`embedded.rs`). No first-admin invite is made then.
    #[arg(skip)]
    pub first_account_admin: bool,
}

/// Who may create an account (`--registration`); the rules are `accounts.rs`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Registration {
    /// With an invite only.
    Invite,
    /// Anyone; an invite, if given, must be valid (an admin invite makes an admin).
    Open,
    /// Nobody, except with the first-admin invite of a relay that has no users yet; admins
    /// cannot make invites.
    Closed,
}

impl Config {
    /// Defaults (ignoring the environment) with an explicit data directory: what tests and
    /// the embedded relay use (so the desktop's hosted relay has no metrics listener).
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            data_dir: Some(data_dir.into()),
            database_url: None,
            send_burst: limits::SEND_BURST,
            send_per_second: limits::SEND_PER_SECOND,
            typing_per_second: limits::TYPING_PER_SECOND,
            room_changes_per_minute: limits::ROOM_CHANGES_PER_MINUTE,
            connects_per_minute: limits::CONNECTS_PER_MINUTE,
            connects_per_minute_per_address: limits::CONNECTS_PER_MINUTE_PER_ADDRESS,
            presence_grace_ms: limits::PRESENCE_GRACE_MS,
            max_rooms_per_user: limits::MAX_ROOMS_PER_USER,
            login_per_minute: DEFAULT_LOGIN_PER_MINUTE,
            header_read_timeout_secs: DEFAULT_HEADER_READ_TIMEOUT_SECS,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            connections_per_address: DEFAULT_CONNECTIONS_PER_ADDRESS,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            reads_in_flight: DEFAULT_READS_IN_FLIGHT,
            unread_reply_bytes: DEFAULT_UNREAD_REPLY_BYTES,
            read_burst: DEFAULT_READ_BURST,
            reads_per_second: DEFAULT_READS_PER_SECOND,
            sockets_per_user: DEFAULT_SOCKETS_PER_USER,
            sockets_per_address: DEFAULT_SOCKETS_PER_ADDRESS,
            session_idle_secs: DEFAULT_SESSION_IDLE_SECS,
            sessions_per_user: DEFAULT_SESSIONS_PER_USER,
            ping_interval_secs: DEFAULT_PING_INTERVAL_SECS,
            ping_timeout_secs: DEFAULT_PING_TIMEOUT_SECS,
            trusted_proxy: Vec::new(),
            worker_threads: None,
            metrics_bind: None,
            tls_cert: None,
            tls_key: None,
            max_upload_mb: limits::DEFAULT_MAX_UPLOAD_MB,
            orphan_file_secs: DEFAULT_ORPHAN_FILE_SECS,
            log: "info".to_owned(),
            registration: Registration::Invite,
            public_url: None,
            redis_url: None,
            first_account_admin: false,
        }
    }

    /// How long a client may take to send a request head; see [`serve::serve`](crate::serve::serve).
    pub fn header_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.header_read_timeout_secs)
    }

    /// How long a client may take to send a request body; see [`http::body_deadline`](crate::http::body_deadline).
    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.body_timeout_secs)
    }

    /// The largest upload, in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb.saturating_mul(1024 * 1024)
    }

    /// How long an upload no message carries is kept.
    pub fn orphan_file_age(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.orphan_file_secs)
    }

    /// How long a user whose last socket closed still counts as online.
    pub fn presence_grace(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.presence_grace_ms)
    }

    /// How long an API call may take in all; see [`http::api_deadline`](crate::http::api_deadline).
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout_secs)
    }

    /// The certificate and key files, when TLS is on (clap makes sure both or neither are set).
    pub fn tls_files(&self) -> Option<(&std::path::Path, &std::path::Path)> {
        self.tls_cert.as_deref().zip(self.tls_key.as_deref())
    }

    /// The data directory in effect: the flag, or the OS data dir.
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.data_dir.clone().or_else(|| {
            directories::ProjectDirs::from("org", "Natter", "natter-relay")
                .map(|dirs| dirs.data_dir().to_path_buf())
        })
    }
}

/// An address range, `addr/prefix` (a bare address is the range of that one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, addr: IpAddr) -> bool {
        // An IPv4 client reaching a dual-stack socket shows as ::ffff:a.b.c.d.
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                prefix_eq(u32::from(net).into(), u32::from(a).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                prefix_eq(u128::from(net), u128::from(a), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of `bits` bits of `a` and `b` agree.
fn prefix_eq(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    let shift = u32::from(bits.saturating_sub(prefix));
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IP address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix {p:?} is not 0-{max}"))?,
        };
        Ok(Self { network, prefix })
    }
}

/// Creates the data directory (and its parents) readable by the relay's user only (0700), and
/// the database file `db_file` in it as 0600 if it does not exist yet: it holds password hashes
/// and every message, and the process umask (often 022) would make both world-readable on a
/// shared host. SQLite gives its `-wal` and `-shm` files the database file's permissions.
/// What exists already keeps its permissions (the owner may have chosen them).
pub fn create_data_dir(dir: &std::path::Path, db_file: &str) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(dir.join(db_file)).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().expect("a CIDR")
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn cidrs_parse_and_contain() {
        assert!(cidr("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(cidr("127.0.0.2").contains(ip("127.0.0.2")));
        assert!(!cidr("127.0.0.2").contains(ip("127.0.0.3")));
        assert!(cidr("127.0.0.1/32").contains(ip("::ffff:127.0.0.1")));
        assert!(cidr("fd00::/8").contains(ip("fd12::1")));
        assert!(!cidr("fd00::/8").contains(ip("10.0.0.1")));
        assert!(cidr("0.0.0.0/0").contains(ip("192.0.2.1")));
        assert!(cidr("::/0").contains(ip("2001:db8::1")));
        for bad in ["", "10.0.0.0/33", "::/129", "example.org/8", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_trusted_proxy_flag_repeats_and_splits_on_commas() {
        let config = Config::try_parse_from([
            "natter-relay",
            "--trusted-proxy",
            "127.0.0.1/32,::1",
            "--trusted-proxy",
            "10.0.0.0/8",
            "--login-per-minute",
            "1",
            "--login-per-minute",
            "2",
        ])
        .expect("parses");
        assert_eq!(config.trusted_proxy.len(), 3);
        assert_eq!(config.login_per_minute, 2, "the last one counts");
    }

    #[test]
    fn tls_needs_both_the_certificate_and_the_key() {
        for half in ["--tls-cert", "--tls-key"] {
            let err = Config::try_parse_from(["natter-relay", half, "/x.pem"])
                .expect_err("one of the two is refused");
            let other = if half == "--tls-cert" {
                "--tls-key"
            } else {
                "--tls-cert"
            };
            assert!(err.to_string().contains(other), "{half}: {err}");
        }
        let config = Config::try_parse_from([
            "natter-relay",
            "--tls-cert",
            "/c.pem",
            "--tls-key",
            "/k.pem",
        ])
        .expect("both parse");
        assert!(config.tls_files().is_some());
        assert!(Config::with_data_dir("/d").tls_files().is_none());
    }
}
