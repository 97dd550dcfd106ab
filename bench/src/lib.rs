//! natter-bench: the load generator for the Natter relay. It speaks Socket.IO itself
//! ([`eio`]), starts or reaches a relay ([`relay`]), runs the [`scenarios`], and reports
//! percentiles ([`stats`]) as a markdown table and JSON ([`report`]).

pub mod compare;
pub mod docs;
pub mod eio;
pub mod peers;
pub mod procfs;
pub mod relay;
pub mod report;
pub mod scenarios;
pub mod stats;
