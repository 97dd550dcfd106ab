//! Any bytes, as a JSON event payload, through every request's decode-and-validate: what the
//! relay does with each incoming event. Must never panic. (The body is in `../bodies.rs`.)
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies.rs"]
mod bodies;

fuzz_target!(|data: &[u8]| {
    bodies::decode_request(data);
});
