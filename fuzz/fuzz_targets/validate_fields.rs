//! Any text through each field validator (usernames, passwords, bodies, room names, ids,
//! client ids, seqs): Unicode edge cases must give an answer, never a panic. (The body is in
//! `../bodies.rs`.)
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies.rs"]
mod bodies;

fuzz_target!(|data: &[u8]| bodies::validate_fields(data));
