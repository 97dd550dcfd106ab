//! natter-bench: the load generator for the Natter relay. It speaks Socket.IO through
//! natter-testkit's fast client (`natter_testkit::sio`), starts or reaches a relay ([`relay`]),
//! runs the [`scenarios`], and reports percentiles ([`stats`]) as a markdown table and JSON
//! ([`report`]).

pub mod compare;
pub mod docs;
pub mod peers;
pub mod relay;
pub mod report;
pub mod scenarios;
pub mod stats;
pub mod two_nodes;
