//! Relay configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;
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
/// Seconds between opening an Engine.IO session and sending the Socket.IO CONNECT before the
/// relay drops the session. Real clients send CONNECT right after the open packet.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
/// Seconds between Engine.IO pings (the Socket.IO default).
pub const DEFAULT_PING_INTERVAL_SECS: u64 = 25;
/// Seconds a client may take to answer a ping before it is disconnected (the Socket.IO default).
pub const DEFAULT_PING_TIMEOUT_SECS: u64 = 20;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "natter-relay",
    version,
    about = "Natter relay: the self-hostable chat server"
)]
pub struct Config {
    /// Address to listen on. Keep it on loopback unless a TLS reverse proxy is in front.
    #[arg(long, env = "NATTER_BIND", default_value_t = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)))]
    pub bind: SocketAddr,

    /// Directory for the SQLite database (natter.db). Default: the OS data directory.
    #[arg(long, env = "NATTER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

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

    /// Login attempts per minute, counted per username and per client address.
    #[arg(long, env = "NATTER_LOGIN_PER_MINUTE", default_value_t = DEFAULT_LOGIN_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_per_minute: u32,

    /// Seconds a client may take to send its HTTP request headers before it is disconnected.
    #[arg(long, env = "NATTER_HEADER_READ_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_READ_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,

    /// Seconds a client may take from opening Engine.IO to the Socket.IO CONNECT.
    #[arg(long, env = "NATTER_CONNECT_TIMEOUT_SECS", default_value_t = DEFAULT_CONNECT_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout_secs: u64,

    /// Seconds between Engine.IO pings to each client.
    #[arg(long, env = "NATTER_PING_INTERVAL_SECS", default_value_t = DEFAULT_PING_INTERVAL_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_interval_secs: u64,

    /// Seconds a client may take to answer a ping before it is disconnected.
    #[arg(long, env = "NATTER_PING_TIMEOUT_SECS", default_value_t = DEFAULT_PING_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_timeout_secs: u64,

    /// Log filter (tracing EnvFilter syntax), e.g. "info" or "natter_relay=debug".
    #[arg(long, env = "NATTER_LOG", default_value = "info")]
    pub log: String,
}

impl Config {
    /// Defaults (ignoring the environment) with an explicit data directory: what tests and
    /// the embedded relay use.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            data_dir: Some(data_dir.into()),
            send_burst: limits::SEND_BURST,
            send_per_second: limits::SEND_PER_SECOND,
            typing_per_second: limits::TYPING_PER_SECOND,
            room_changes_per_minute: limits::ROOM_CHANGES_PER_MINUTE,
            login_per_minute: DEFAULT_LOGIN_PER_MINUTE,
            header_read_timeout_secs: DEFAULT_HEADER_READ_TIMEOUT_SECS,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            ping_interval_secs: DEFAULT_PING_INTERVAL_SECS,
            ping_timeout_secs: DEFAULT_PING_TIMEOUT_SECS,
            log: "info".to_owned(),
        }
    }

    /// How long a client may take to send a request head; see [`serve::serve`](crate::serve::serve).
    pub fn header_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.header_read_timeout_secs)
    }

    /// The data directory in effect: the flag, or the OS data dir.
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.data_dir.clone().or_else(|| {
            directories::ProjectDirs::from("org", "Natter", "natter-relay")
                .map(|dirs| dirs.data_dir().to_path_buf())
        })
    }
}
