//! What the client's tests share, all from natter-testkit: the relay in-process
//! ([`TestRelay`]), session helpers with short timeouts ([`app`]) and bounded waits.

#![allow(unused_imports)] // each test binary uses a different part

pub use natter_testkit::session as app;
pub use natter_testkit::session::{within, WAIT};
pub use natter_testkit::{TestRelay, PASSWORD};

pub mod tls;
