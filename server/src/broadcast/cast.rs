//! What the broadcaster does to sockets, as data, so that the same act can be done here and, on
//! a relay of several nodes, by every other node to its own sockets (see [`super::Bus`]).

use natter_protocol::model::Seq;
use natter_protocol::Message;
use serde::{Deserialize, Serialize};
use socketioxide::operators::BroadcastOperators;

/// One act on sockets, addressed by Socket.IO room names ([`super::rooms`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Cast {
    /// A committed message or change entry for its room, in the room's seq order (each node
    /// hands these to its [`Feed`](super::feed::Feed), which fills holes from the store).
    Committed { message: Message },
    /// An event to every socket in `to`, except those also in `except`.
    Emit {
        to: Vec<String>,
        except: Option<String>,
        event: String,
        data: serde_json::Value,
    },
    /// Every socket in `within` joins `room`. `since`: the chat room's last seq the joining
    /// users are told (their clients take what is at or below it as history), where the
    /// room's feed on each node starts for them ([`Feed::joined`](super::feed::Feed::joined)).
    Join {
        within: String,
        room: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Seq>,
    },
    /// Every socket in `within` leaves `room`.
    Leave { within: String, room: String },
    /// Every socket in `within` is disconnected.
    Disconnect { within: String },
    /// The sender lost some of its casts (its link to the others failed): every node catches
    /// its sockets up from the store.
    CatchUp,
}

impl Cast {
    /// Does this act to the sockets of this node. `Committed` and `CatchUp` are the feed's, not
    /// done here.
    pub(super) async fn apply(&self, ns: BroadcastOperators) {
        let done = match self {
            Cast::Emit {
                to,
                except,
                event,
                data,
            } => {
                let mut op = ns.to(to.clone());
                if let Some(except) = except {
                    op = op.except(except.clone());
                }
                op.emit(event, data).await.map_err(|e| e.to_string())
            }
            Cast::Join { within, room, .. } => ns
                .within(within.clone())
                .join(room.clone())
                .await
                .map_err(|e| e.to_string()),
            Cast::Leave { within, room } => ns
                .within(within.clone())
                .leave(room.clone())
                .await
                .map_err(|e| e.to_string()),
            Cast::Disconnect { within } => ns
                .within(within.clone())
                .disconnect()
                .await
                .map_err(|e| e.to_string()),
            Cast::Committed { .. } | Cast::CatchUp => Ok(()),
        };
        if let Err(error) = done {
            tracing::debug!(%error, "a broadcast reached not every socket");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cast_survives_the_wire() {
        let casts = [
            Cast::Emit {
                to: vec!["r:1".into(), "r:2".into()],
                except: Some("u:7".into()),
                event: "presence".into(),
                data: serde_json::json!({"user": "ann", "online": true}),
            },
            Cast::Join {
                within: "u:7".into(),
                room: "r:1".into(),
                since: None,
            },
            Cast::Join {
                within: "u:7".into(),
                room: "r:1".into(),
                since: Some(12),
            },
            Cast::Disconnect {
                within: "s:9".into(),
            },
            Cast::CatchUp,
        ];
        for cast in casts {
            let text = serde_json::to_string(&cast).expect("serializes");
            let back: Cast = serde_json::from_str(&text).expect("parses");
            assert_eq!(back, cast);
        }
    }
}
