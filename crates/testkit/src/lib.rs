//! Natter's one test kit, used by every test suite and the bench; its README lists what each
//! module holds.
//!
//! Start a relay (or any TCP server) on loopback, start a [`FaultProxy`] in front of it, point the
//! client at [`FaultProxy::addr`], then turn faults on and off while the test runs:
//!
//! ```no_run
//! # async fn demo(relay: std::net::SocketAddr) -> Result<(), natter_testkit::ProxyError> {
//! use natter_testkit::{Direction, Fault, FaultProxy};
//! use std::time::Duration;
//!
//! let proxy = FaultProxy::start(relay).await?;
//! // ... connect the client to proxy.addr() ...
//! proxy.set(Direction::Both, Fault::Latency(Duration::from_millis(200)));
//! proxy.set(Direction::Downstream, Fault::Blackhole); // the laptop went to sleep
//! proxy.clear(); // and woke up
//! assert!(proxy.stats().connections_accepted >= 1);
//! # Ok(()) }
//! ```

pub mod api;
pub mod certs;
pub mod client;
pub mod cluster;
mod connection;
mod control;
mod daemon;
mod error;
mod fault;
mod http;
pub mod nginx;
pub mod postgres;
pub mod process;
pub mod procfs;
mod proxy;
mod pump;
pub mod raw;
pub mod redis;
pub mod relay;
pub mod session;
pub mod sio;
pub mod tmpfs;

pub use api::{Api, HttpFailure, PASSWORD};
pub use client::{Client, ClientError, WAIT};
pub use relay::TestRelay;

pub use control::{ProxyControl, Stats};
pub use daemon::ServerError;
pub use error::ProxyError;
pub use fault::{Direction, Fault};
pub use process::{RelayProcess, RelaySpec};
pub use proxy::FaultProxy;
pub use raw::{RawFrame, RawWs};
pub use tmpfs::Tmpfs;
