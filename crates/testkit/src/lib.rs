//! Natter test support: a fault-injecting TCP proxy to put between a client and a real relay,
//! the relay binary as a measurable child process, a raw Engine.IO / Socket.IO peer, seeded
//! malformed-input generation, `/proc` readings and a size-limited tmpfs.
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

mod connection;
mod control;
mod error;
mod fault;
pub mod gen;
mod http;
pub mod process;
pub mod procfs;
mod proxy;
mod pump;
pub mod raw;
pub mod tmpfs;

pub use control::{ProxyControl, Stats};
pub use error::ProxyError;
pub use fault::{Direction, Fault};
pub use process::{RelayProcess, RelaySpec};
pub use proxy::FaultProxy;
pub use raw::{RawFrame, RawWs};
pub use tmpfs::Tmpfs;
