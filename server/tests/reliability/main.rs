//! The reliability and security suite (issue 6): the relay binary as a child process (so it can be
//! `kill -9`ed, measured and seen to panic), real natter-client sessions, real SQLite files,
//! faults from natter-testkit's proxy, malformed input from its seeded generator.
//!
//! Short forms run in `cargo test` (CI); the long forms run with `NATTER_RELIABILITY=long`
//! (and `--ignored` for the soak) through `cargo xtask reliability --long`. See docs/reliability.md.

// The relay tests' Socket.IO client and HTTP API, used as they are (not copied).
#[path = "../relay/util/"]
#[allow(dead_code)] // the relay tests use the rest
mod util {
    #[path = "client.rs"]
    pub mod client;
    #[path = "http.rs"]
    pub mod http;

    /// The password `http::Api::user` registers with.
    pub const PASSWORD: &str = "correct horse battery";
    pub use client::{Client, WAIT};
    pub use http::Api;
}

// The client tests' session helpers (short timeouts, bounded event waits), used as they are.
#[path = "../../../crates/client/tests/support/mod.rs"]
mod support;

// The fuzz targets' bodies (`fuzz/`, its own workspace), compiled and run here by S1.
#[path = "../../../fuzz/bodies.rs"]
mod fuzz_bodies;

mod chat;
mod control;
mod corpus;
mod harness;
mod probe;

mod r1_kill_loop;
mod r2_network;
mod r3_disk_full;
mod s10_slow_body;
#[cfg(unix)]
mod s11_file_modes;
mod s1_malformed;
mod s2_oversize;
mod s3_auth;
mod s4_flood;
mod s5_slow;
mod s6_soak;
mod s7_lockout;
mod s8_log_abuse;
mod s9_proxy;
