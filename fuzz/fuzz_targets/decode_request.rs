//! Any bytes, as a JSON event payload, through every request's decode-and-validate: what the
//! relay does with each incoming event. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_protocol::requests::{
    CreateRoom, History, InviteToRoom, LeaveRoom, ListRooms, MarkRead, OpenDm, SendMessage,
    SetTyping, Sync,
};
use natter_protocol::{decode_request, Request};
use serde_json::Value;

fn one<R: Request>(value: &Value) {
    let _ = decode_request::<R>(value.clone());
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    one::<ListRooms>(&value);
    one::<CreateRoom>(&value);
    one::<InviteToRoom>(&value);
    one::<LeaveRoom>(&value);
    one::<OpenDm>(&value);
    one::<SendMessage>(&value);
    one::<SetTyping>(&value);
    one::<MarkRead>(&value);
    one::<History>(&value);
    one::<Sync>(&value);
});
