//! The reliability and security suite (issue 6): the relay binary as a child process (so it can be
//! `kill -9`ed, measured and seen to panic), real natter-client sessions, real SQLite files,
//! faults from natter-testkit's proxy, malformed input from the seeded generator (`gen.rs`).
//!
//! Short forms run in `cargo test` (CI); the long forms run with `NATTER_RELIABILITY=long`
//! (and `--ignored` for the soak) through `cargo xtask reliability --long`. See docs/reliability.md.

/// The test kit's HTTP API and Socket.IO client, under the names the relay tests use.
mod util {
    pub use natter_testkit::{Api, Client, PASSWORD, WAIT};
}

mod chat;
mod control;
mod corpus;
mod gen;
mod harness;
mod probe;

mod r1_kill_loop;
mod r2_network;
mod r3_disk_full;
mod s10_slow_body;
#[cfg(unix)]
mod s11_file_modes;
mod s12_polling;
mod s12_read_bounds;
mod s13_connections;
mod s14_sessions;
mod s15_presence;
mod s1_malformed;
mod s2_oversize;
mod s3_auth;
mod s4_flood;
mod s5_slow;
mod s6_soak;
mod s7_lockout;
mod s8_log_abuse;
mod s9_proxy;
