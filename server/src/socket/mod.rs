//! Socket.IO: the layer and its limits. Connecting is `connect.rs`'s, requests `handlers.rs`'s;
//! everything sent unasked leaves through the broadcaster (`crate::broadcast`).

mod bounds;
mod connect;
mod handlers;
mod people;
mod polls;
mod request;
pub mod session;

use std::time::Duration;

use natter_protocol::limits::MAX_PAYLOAD_BYTES;
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;

pub use bounds::Bounds;
pub use polls::{track as track_polls, Polls};
pub use request::People;

use crate::chat::Chat;
use crate::metrics::{Metrics, SocketsOpen};
use crate::Config;

/// Packets queued per socket before emits to it fail (a slow reader is not waited for).
const MAX_BUFFERED_PACKETS: usize = 1_024;
/// Each WebSocket's read buffer, allocated per connection (socketioxide's default is 4 KiB).
/// Chat frames are mostly far smaller; a larger frame is read in several chunks.
const WS_READ_BUFFER: usize = 1_024;

/// The Socket.IO layer for the axum router, with every limit set explicitly.
/// The timeouts (CONNECT, pings) come from `config`; `bounds` caps what a socket may hold.
pub fn layer(
    chat: Chat,
    people: People,
    bounds: Bounds,
    metrics: Metrics,
    config: &Config,
) -> (SocketIoLayer, SocketIo) {
    let max = MAX_PAYLOAD_BYTES;
    let (layer, io) = SocketIo::builder()
        .max_payload(max as u64)
        .ws_max_message_size(max)
        .ws_max_frame_size(max)
        .ws_read_buffer_size(WS_READ_BUFFER)
        .max_buffer_size(MAX_BUFFERED_PACKETS)
        .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
        .ping_interval(Duration::from_secs(config.ping_interval_secs))
        .ping_timeout(Duration::from_secs(config.ping_timeout_secs))
        .with_state(chat)
        .with_state(people)
        .with_state(bounds)
        .with_state(metrics)
        .build_layer();
    io.ns("/", connect::on_connect.with(connect::authenticate));
    (layer, io)
}

/// The sockets connected now, by the transport each uses now (a session that upgraded from
/// long-polling counts as WebSocket): read when metrics are scraped, not kept per socket.
pub fn census(io: &SocketIo) -> SocketsOpen {
    let mut open = SocketsOpen::default();
    for socket in io.of("/").map(|ns| ns.sockets()).unwrap_or_default() {
        match socket.transport_type() {
            socketioxide::TransportType::Websocket => open.websocket += 1,
            socketioxide::TransportType::Polling => open.polling += 1,
        }
    }
    open
}
