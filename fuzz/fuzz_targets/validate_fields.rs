//! Any text through each field validator (usernames, passwords, bodies, room names, ids,
//! client ids, seqs): Unicode edge cases must give an answer, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_protocol::validate;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = validate::username(&text);
    let _ = validate::username_shape(&text);
    let _ = validate::password(&text);
    let _ = validate::body(&text);
    let _ = validate::room_name(&text);
    let _ = validate::id(&text);
    let _ = validate::client_id(&text);
    let members: Vec<String> = text.split(',').map(str::to_owned).collect();
    let _ = validate::member_list(&members);
    if data.len() >= 8 {
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&data[..8]);
        let _ = validate::seq(i64::from_le_bytes(seq));
    }
});
