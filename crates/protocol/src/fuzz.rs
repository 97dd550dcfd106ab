//! The fuzz targets' bodies as plain functions (feature `fuzz`, off in every product build), so
//! that the main workspace compiles them and the reliability suite's seeded decode test (S1,
//! `cargo test`) runs them over its generated corpus: the targets cannot rot unbuilt, and their
//! entry points are exercised without a nightly toolchain. Used by `fuzz/fuzz_targets/*.rs`.

use crate::requests::{
    BlockUser, CreateRoom, DeleteMessage, EditMessage, History, InviteToRoom, LeaveRoom,
    ListBlocked, ListRooms, MarkRead, OpenDm, React, RemoveFromRoom, SendMessage, SetTyping, Sync,
    UnblockUser,
};
use crate::{decode_request as decode, validate, Request};
use serde_json::Value;

/// `value` through every request's decode-and-validate, as the relay does for an incoming
/// event; how many accepted it.
pub fn decode_value(value: &Value) -> usize {
    fn one<R: Request>(value: &Value) -> usize {
        usize::from(decode::<R>(value.clone()).is_ok())
    }
    one::<ListRooms>(value)
        + one::<CreateRoom>(value)
        + one::<InviteToRoom>(value)
        + one::<LeaveRoom>(value)
        + one::<OpenDm>(value)
        + one::<SendMessage>(value)
        + one::<SetTyping>(value)
        + one::<MarkRead>(value)
        + one::<History>(value)
        + one::<Sync>(value)
        + one::<RemoveFromRoom>(value)
        + one::<BlockUser>(value)
        + one::<UnblockUser>(value)
        + one::<ListBlocked>(value)
        + one::<EditMessage>(value)
        + one::<DeleteMessage>(value)
        + one::<React>(value)
}

/// Target `decode_request`: any bytes, read as a JSON event payload, through [`decode_value`].
/// Must never panic.
pub fn decode_request(data: &[u8]) -> usize {
    serde_json::from_slice::<Value>(data).map_or(0, |value| decode_value(&value))
}

/// Target `validate_fields`: any text through each field validator (usernames, passwords,
/// bodies, room names, ids, client ids, emoji, member lists, seqs). Must never panic.
pub fn validate_fields(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = validate::username(&text);
    let _ = validate::username_shape(&text);
    let _ = validate::password(&text);
    let _ = validate::body(&text);
    let _ = validate::room_name(&text);
    let _ = validate::id(&text);
    let _ = validate::client_id(&text);
    let _ = validate::emoji(&text);
    let members: Vec<String> = text.split(',').map(str::to_owned).collect();
    let _ = validate::member_list(&members);
    if data.len() >= 8 {
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&data[..8]);
        let _ = validate::seq(i64::from_le_bytes(seq));
    }
}
