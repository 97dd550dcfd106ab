//! Natter wire protocol v1: the one place where event names, payloads, limits and error codes live.
//!
//! Every payload type is bound to its Socket.IO event name through [`Event::NAME`]; requests
//! (client → relay, always acknowledged) also name their ack type through [`Request::Ack`].
//! The relay, the desktop client and `docs/protocol.md` all take names from here.

pub mod account;
pub mod ack;
pub mod admin;
mod declare;
mod decode;
pub mod events;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod http;
pub mod invite;
pub mod limits;
pub mod mentions;
pub mod model;
pub mod requests;
pub mod search;
pub mod validate;

pub use ack::{AckResult, Empty, ErrorCode, WireError};
pub use decode::{decode, decode_request};
pub use model::{
    Attachment, Change, Member, Message, Reaction, ReplyPreview, Room, RoomKind, User,
};

use serde::{de::DeserializeOwned, Serialize};

/// A payload that travels as one Socket.IO event with a fixed name.
pub trait Event: Serialize + DeserializeOwned {
    /// The event name on the wire.
    const NAME: &'static str;
}

/// A client → relay event; the relay always answers through the Socket.IO ack.
pub trait Request: Event {
    /// The fields merged into `{ok:true, ...}` on success.
    type Ack: Serialize + DeserializeOwned;

    /// Checks the payload against the protocol's rules before anything touches state.
    fn validate(&self) -> Result<(), WireError> {
        Ok(())
    }
}

/// Version of this wire protocol.
pub const PROTOCOL_VERSION: u32 = 1;

/// The room every user belongs to; its id is fixed so clients can recognise it.
pub const GENERAL_ROOM_ID: &str = "general";
