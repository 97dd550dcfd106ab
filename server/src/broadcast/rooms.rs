//! Names of the Socket.IO rooms the relay puts sockets in (server-side only; never on the wire).

/// Every socket of a user: for per-user events and presence counting.
pub fn user(user_id: &str) -> String {
    format!("u:{user_id}")
}

/// Every socket opened with one session token: disconnected together at logout.
pub fn session(session_id: &str) -> String {
    format!("s:{session_id}")
}

/// Every socket of every member of a chat room.
pub fn chat(room_id: &str) -> String {
    format!("r:{room_id}")
}

/// Whether a Socket.IO room name is a chat room.
pub fn is_chat(name: &str) -> bool {
    name.starts_with("r:")
}

/// The user whose sockets a Socket.IO room name gathers, if it is a user's room.
pub fn user_of(name: &str) -> Option<&str> {
    name.strip_prefix("u:")
}

/// The chat room a Socket.IO room name stands for, if it is a chat room.
pub fn chat_of(name: &str) -> Option<&str> {
    name.strip_prefix("r:")
}
