//! The one place where rust_socketio's raw payloads become protocol types: event arguments,
//! ack arguments and connect_error messages.

use natter_protocol::events::{
    MessageEvent, PresenceEvent, ReceiptEvent, RoomEvent, RoomRemovedEvent, TypingEvent,
};
use natter_protocol::{decode, Event, WireError};
use rust_socketio::Payload;
use serde_json::Value;

/// What rust_socketio prefixes a CONNECT_ERROR payload with when it reports it as `Event::Error`.
const CONNECT_ERROR: &str = "Received an ConnectError frame: ";

/// A relay → client event, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    Message(MessageEvent),
    Typing(TypingEvent),
    Presence(PresenceEvent),
    Receipt(ReceiptEvent),
    Room(RoomEvent),
    RoomRemoved(RoomRemovedEvent),
}

impl ServerEvent {
    /// Decodes event `name`; `None` for a name this client does not know (a newer relay's).
    pub fn decode(name: &str, value: Value) -> Option<Result<Self, WireError>> {
        Some(match name {
            MessageEvent::NAME => decode(name, value).map(Self::Message),
            TypingEvent::NAME => decode(name, value).map(Self::Typing),
            PresenceEvent::NAME => decode(name, value).map(Self::Presence),
            ReceiptEvent::NAME => decode(name, value).map(Self::Receipt),
            RoomEvent::NAME => decode(name, value).map(Self::Room),
            RoomRemovedEvent::NAME => decode(name, value).map(Self::RoomRemoved),
            _ => return None,
        })
    }
}

/// The first argument of an event or ack payload. rust_socketio hands an ack's arguments as one
/// JSON array (`[{ok,...}]`) wrapped in `Payload::Text`.
pub(crate) fn first_arg(payload: Payload, is_ack: bool) -> Value {
    #[allow(deprecated)]
    let mut args = match payload {
        Payload::Text(args) => args,
        Payload::String(s) => vec![serde_json::from_str(&s).unwrap_or(Value::String(s))],
        Payload::Binary(_) => vec![Value::Null],
    };
    if is_ack && args.len() == 1 {
        if let Some(Value::Array(inner)) = args.first_mut() {
            args = std::mem::take(inner);
        }
    }
    args.into_iter().next().unwrap_or(Value::Null)
}

/// The text of an `Event::Error` payload.
pub(crate) fn error_text(payload: Payload) -> String {
    match first_arg(payload, false) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The `message` of a connect_error reported through `Event::Error`, if it is one.
pub(crate) fn connect_error_message(text: &str) -> Option<String> {
    let raw = text.strip_prefix(CONNECT_ERROR)?;
    let message = serde_json::from_str::<Value>(raw)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned));
    Some(message.unwrap_or_else(|| raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_decode_by_name_and_unknown_names_are_skipped() {
        let typing = json!({"room_id": "general", "user": "bob", "typing": true});
        assert!(matches!(
            ServerEvent::decode("typing", typing),
            Some(Ok(ServerEvent::Typing(t))) if t.user == "bob"
        ));
        assert!(matches!(
            ServerEvent::decode("receipt", json!({"room_id": 1})),
            Some(Err(_))
        ));
        assert!(ServerEvent::decode("future:event", json!({})).is_none());
    }

    #[test]
    fn ack_arguments_are_unwrapped() {
        let ack = Payload::Text(vec![json!([{"ok": true}])]);
        assert_eq!(first_arg(ack, true), json!({"ok": true}));
        let event = Payload::Text(vec![json!({"a": 1}), json!(2)]);
        assert_eq!(first_arg(event, false), json!({"a": 1}));
    }

    #[test]
    fn connect_errors_are_recognised() {
        let text = format!("{CONNECT_ERROR}{{\"message\":\"unauthorized\"}}");
        assert_eq!(
            connect_error_message(&text).as_deref(),
            Some("unauthorized")
        );
        assert_eq!(connect_error_message("Network error"), None);
    }
}
