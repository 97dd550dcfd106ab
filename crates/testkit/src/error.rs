//! Why a [`FaultProxy`](crate::FaultProxy) could not start.

use std::{io, net::SocketAddr};

/// Starting the proxy failed; once started, the proxy itself never fails (a broken connection
/// simply closes, which is what the test is there to observe).
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address we tried to bind.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The bound listener could not report its address.
    #[error("cannot read the proxy listener's local address")]
    LocalAddr(#[source] io::Error),
}
