//! Changing messages from this profile: edit or delete one of ours, react to any. Each is one
//! request on the live connection (offline: `Offline`, nothing is queued — unlike a send, a
//! change waits for the person to try again); the room, this profile included, hears the entry
//! as a `message` event, which the cache applies (`cache/messages.rs`).

use natter_protocol::requests::{DeleteMessage, EditMessage, React};
use natter_protocol::Message;

use super::{Session, SessionError};

fn client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Session {
    /// Replaces the body of one of our messages; answers the edit entry.
    pub async fn edit(
        &self,
        room_id: &str,
        message_id: &str,
        body: &str,
    ) -> Result<Message, SessionError> {
        let request = EditMessage {
            room_id: room_id.to_owned(),
            client_id: client_id(),
            message_id: message_id.to_owned(),
            body: body.to_owned(),
        };
        Ok(self.ask(&request).await?.message)
    }

    /// Takes one of our messages back; answers the delete entry.
    pub async fn delete(&self, room_id: &str, message_id: &str) -> Result<Message, SessionError> {
        let request = DeleteMessage {
            room_id: room_id.to_owned(),
            client_id: client_id(),
            message_id: message_id.to_owned(),
        };
        Ok(self.ask(&request).await?.message)
    }

    /// Adds (`on`) or takes back one emoji on a message; answers the reaction entry.
    pub async fn react(
        &self,
        room_id: &str,
        message_id: &str,
        emoji: &str,
        on: bool,
    ) -> Result<Message, SessionError> {
        let request = React {
            room_id: room_id.to_owned(),
            client_id: client_id(),
            message_id: message_id.to_owned(),
            emoji: emoji.to_owned(),
            on,
        };
        Ok(self.ask(&request).await?.message)
    }
}
