//! Any text through each field validator (usernames, passwords, bodies, room names, ids,
//! client ids, seqs): Unicode edge cases must give an answer, never a panic. (The body is
//! `natter_protocol::fuzz`.)
#![no_main]

use libfuzzer_sys::fuzz_target;

use natter_protocol::fuzz;

fuzz_target!(|data: &[u8]| fuzz::validate_fields(data));
