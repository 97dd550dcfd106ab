//! Any bytes, as a JSON event payload, through every request's decode-and-validate: what the
//! relay does with each incoming event. Must never panic. (The body is `natter_protocol::fuzz`.)
#![no_main]

use libfuzzer_sys::fuzz_target;

use natter_protocol::fuzz;

fuzz_target!(|data: &[u8]| {
    fuzz::decode_request(data);
});
