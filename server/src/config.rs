//! Relay configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use natter_protocol::limits;

/// The default port, documented in docs/self-hosting.md.
pub const DEFAULT_PORT: u16 = 7447;
/// Login attempts per minute, per username and per address.
pub const DEFAULT_LOGIN_PER_MINUTE: u32 = 10;

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

    /// Login attempts per minute, counted per username and per client address.
    #[arg(long, env = "NATTER_LOGIN_PER_MINUTE", default_value_t = DEFAULT_LOGIN_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_per_minute: u32,

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
            login_per_minute: DEFAULT_LOGIN_PER_MINUTE,
            log: "info".to_owned(),
        }
    }

    /// The data directory in effect: the flag, or the OS data dir.
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.data_dir.clone().or_else(|| {
            directories::ProjectDirs::from("org", "Natter", "natter-relay")
                .map(|dirs| dirs.data_dir().to_path_buf())
        })
    }
}
