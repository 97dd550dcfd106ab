//! The bare-socketioxide peer: Natter's events served from memory by socketioxide + axum with
//! no application logic beyond what the bench checks (token lookup, rooms, `message:send` with
//! ack, per-room seq and idempotency, `typing`). No database, no password hashing, no presence,
//! no rate limits: the floor that the relay's own work sits on.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::State as HttpState;
use axum::http::StatusCode;
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use natter_protocol::events::{MessageEvent, RoomEvent, TypingEvent};
use natter_protocol::http::{AuthResponse, ConnectAuth, Credentials, REGISTER_PATH};
use natter_protocol::limits::MAX_PAYLOAD_BYTES;
use natter_protocol::model::{Message, Room, RoomKind, Seq, User};
use natter_protocol::requests::{
    CreateRoom, ListRooms, MessageAck, RoomAck, RoomsAck, SendMessage, SetTyping,
};
use natter_protocol::{AckResult, Empty, ErrorCode, Event, Request, WireError};
use serde_json::Value;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use tokio::net::TcpListener;

use natter_protocol::GENERAL_ROOM_ID as GENERAL;

#[derive(Debug)]
struct PeerRoom {
    name: String,
    members: HashSet<String>,
    last_seq: Seq,
}

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<String, User>, // lower-case username → user
    by_id: HashMap<String, User>,
    tokens: HashMap<String, User>,
    rooms: HashMap<String, PeerRoom>,
    sent: HashMap<(String, String), Message>, // (user id, client_id) → message
}

#[derive(Debug, Clone, Default)]
struct Peer(Arc<Mutex<Inner>>);

impl Peer {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A handler that panicked left consistent maps behind (every write is one insert).
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn view(&self, id: &str, room: &PeerRoom) -> Room {
        let mut members: Vec<String> = room
            .members
            .iter()
            .filter_map(|u| self.by_id.get(u).map(|u| u.username.clone()))
            .collect();
        members.sort_by_key(|m| m.to_lowercase());
        Room {
            id: id.to_owned(),
            name: room.name.clone(),
            kind: RoomKind::Group,
            members,
            last_seq: room.last_seq,
            read_seq: 0,
            member_count: 0,
            others_read_seq: 0,
            unread: None,
        }
    }
}

fn chat_room(id: &str) -> String {
    format!("r:{id}")
}

fn user_room(id: &str) -> String {
    format!("u:{id}")
}

/// Serves the peer on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    let peer = Peer::default();
    peer.lock().rooms.insert(
        GENERAL.into(),
        PeerRoom {
            name: GENERAL.into(),
            members: HashSet::new(),
            last_seq: 0,
        },
    );
    let max = MAX_PAYLOAD_BYTES;
    let (layer, io) = SocketIo::builder()
        .max_payload(max as u64)
        .ws_max_message_size(max)
        .ws_max_frame_size(max)
        .with_state(peer.clone())
        .build_layer();
    io.ns("/", on_connect.with(authenticate));
    let app = Router::new()
        .route(REGISTER_PATH, post(register))
        .with_state(peer)
        .layer(layer);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}

async fn register(
    HttpState(peer): HttpState<Peer>,
    Json(creds): Json<Credentials>,
) -> Result<(StatusCode, Json<AuthResponse>), StatusCode> {
    let key = creds.username.to_lowercase();
    let mut inner = peer.lock();
    if inner.users.contains_key(&key) {
        return Err(StatusCode::CONFLICT);
    }
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        username: creds.username,
        ..User::default()
    };
    let token = uuid::Uuid::new_v4().simple().to_string();
    inner.users.insert(key, user.clone());
    inner.by_id.insert(user.id.clone(), user.clone());
    inner.tokens.insert(token.clone(), user.clone());
    if let Some(general) = inner.rooms.get_mut(GENERAL) {
        general.members.insert(user.id.clone());
    }
    Ok((StatusCode::CREATED, Json(AuthResponse { user, token })))
}

#[derive(Debug, thiserror::Error)]
#[error("{}", ErrorCode::Unauthorized.as_str())]
struct Unauthorized;

async fn authenticate(
    s: SocketRef,
    State(peer): State<Peer>,
    TryData(auth): TryData<ConnectAuth>,
) -> Result<(), Unauthorized> {
    let auth = auth.map_err(|_| Unauthorized)?;
    let inner = peer.lock();
    let user = inner.tokens.get(&auth.token).cloned().ok_or(Unauthorized)?;
    let mut joined: Vec<String> = inner
        .rooms
        .iter()
        .filter(|(_, r)| r.members.contains(&user.id))
        .map(|(id, _)| chat_room(id))
        .collect();
    drop(inner);
    joined.push(user_room(&user.id));
    s.join(joined);
    s.extensions.insert(user);
    // Here, before the CONNECT ack: a handler registered after it (in the connect handler)
    // can miss the client's first event, which socketioxide then drops silently.
    register_handlers(&s);
    Ok(())
}

/// Nothing left to do once connected: the middleware did it all before the ack.
async fn on_connect(_: SocketRef) {}

fn register_handlers(s: &SocketRef) {
    on::<ListRooms>(s, |peer, user, _| {
        let inner = peer.lock();
        let rooms = inner
            .rooms
            .iter()
            .filter(|(_, r)| r.members.contains(&user.id))
            .map(|(id, r)| inner.view(id, r))
            .collect();
        Ok(Reply::plain(RoomsAck { rooms }))
    });
    on::<CreateRoom>(s, |peer, user, req| {
        let mut inner = peer.lock();
        let mut members = HashSet::from([user.id.clone()]);
        for name in &req.members {
            let other = inner
                .users
                .get(&name.to_lowercase())
                .ok_or_else(|| WireError::new(ErrorCode::NotFound, format!("no user {name}")))?;
            members.insert(other.id.clone());
        }
        let id = uuid::Uuid::now_v7().to_string();
        let room = PeerRoom {
            name: req.name,
            members,
            last_seq: 0,
        };
        let view = inner.view(&id, &room);
        let users: Vec<String> = room.members.iter().map(|u| user_room(u)).collect();
        inner.rooms.insert(id.clone(), room);
        Ok(Reply {
            ack: RoomAck { room: view.clone() },
            then: After::RoomCreated {
                users,
                room: chat_room(&id),
                event: RoomEvent { room: view },
            },
        })
    });
    on::<SendMessage>(s, |peer, user, req| {
        let mut inner = peer.lock();
        let key = (user.id.clone(), req.client_id.clone());
        if let Some(message) = inner.sent.get(&key) {
            return Ok(Reply::plain(MessageAck {
                message: message.clone(),
            }));
        }
        let room = inner
            .rooms
            .get_mut(&req.room_id)
            .filter(|r| r.members.contains(&user.id))
            .ok_or_else(|| WireError::new(ErrorCode::Forbidden, "not a member of that room"))?;
        room.last_seq += 1;
        let message = Message {
            id: uuid::Uuid::now_v7().to_string(),
            room_id: req.room_id,
            seq: room.last_seq,
            sender: user.username.clone(),
            body: req.body,
            client_id: req.client_id,
            sent_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ..Message::default()
        };
        inner.sent.insert(key, message.clone());
        Ok(Reply {
            ack: MessageAck {
                message: message.clone(),
            },
            then: After::Message(MessageEvent { message }),
        })
    });
    on::<SetTyping>(s, |peer, user, req| {
        let inner = peer.lock();
        let member = inner
            .rooms
            .get(&req.room_id)
            .is_some_and(|r| r.members.contains(&user.id));
        if !member {
            return Err(WireError::new(
                ErrorCode::Forbidden,
                "not a member of that room",
            ));
        }
        Ok(Reply {
            ack: Empty {},
            then: After::Typing(TypingEvent {
                room_id: req.room_id,
                user: user.username.clone(),
                typing: req.typing,
            }),
        })
    });
}

/// What a handler answers, and what to tell others once the state lock is released.
struct Reply<A> {
    ack: A,
    then: After,
}

impl<A> Reply<A> {
    fn plain(ack: A) -> Self {
        Self {
            ack,
            then: After::Nothing,
        }
    }
}

enum After {
    Nothing,
    Message(MessageEvent),
    Typing(TypingEvent),
    RoomCreated {
        users: Vec<String>,
        room: String,
        event: RoomEvent,
    },
}

/// Registers a request handler: decode, run `handle` under the state lock, broadcast, ack.
fn on<R>(
    s: &SocketRef,
    handle: impl Fn(&Peer, &User, R) -> Result<Reply<R::Ack>, WireError> + Clone + Send + Sync + 'static,
) where
    R: Request + Send + 'static,
    R::Ack: Send,
{
    s.on(
        R::NAME,
        move |s: SocketRef,
              io: SocketIo,
              State(peer): State<Peer>,
              TryData(data): TryData<Value>,
              ack: AckSender| {
            let handle = handle.clone();
            async move {
                let Some(user) = s.extensions.get::<User>() else {
                    return;
                };
                let result = natter_protocol::decode_request::<R>(data.unwrap_or_default())
                    .and_then(|req| handle(&peer, &user, req));
                // A message reaches the room first, then the sender gets its ack (as the Node
                // peer does): a client that waits for its ack before the next send sees seq
                // order. Anything else is acked first.
                match result {
                    Ok(reply) if matches!(reply.then, After::Message(_)) => {
                        broadcast(&io, &user, reply.then).await;
                        let _ = ack.send(&AckResult::Ok(reply.ack));
                    }
                    Ok(reply) => {
                        let _ = ack.send(&AckResult::Ok(reply.ack));
                        broadcast(&io, &user, reply.then).await;
                    }
                    Err(e) => {
                        let _ = ack.send(&AckResult::<R::Ack>::Err(e));
                    }
                }
            }
        },
    );
}

async fn broadcast(io: &SocketIo, user: &User, then: After) {
    // Delivery is best effort: a socket with a full buffer misses a live event.
    match then {
        After::Nothing => {}
        After::Message(event) => {
            let room = chat_room(&event.message.room_id);
            let _ = io.to(room).emit(MessageEvent::NAME, &event).await;
        }
        After::Typing(event) => {
            let room = chat_room(&event.room_id);
            let to = io.to(room).except(user_room(&user.id));
            let _ = to.emit(TypingEvent::NAME, &event).await;
        }
        After::RoomCreated { users, room, event } => {
            let _ = io.within(users.clone()).join(room).await;
            let _ = io.to(users).emit(RoomEvent::NAME, &event).await;
        }
    }
}
