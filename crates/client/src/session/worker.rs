//! The session's one network task: reacts to connection changes (catch-up, then outbox drain on
//! every new connection), to live relay events, to nudges from `send`, and to its retry timer.
//! One task, one step at a time, so the cache sees every change in a single order.

use std::sync::{Arc, Weak};
use std::time::Duration;

use natter_protocol::requests::ListRooms;
use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tokio::time::Instant;

use super::event::{AppEvent, ConnectionView};
use super::outlet::Outlet;
use super::typing::RemoteTyping;
use crate::cache::{Cache, CacheError};
use crate::supervisor::ConnectionState;
use crate::transport::{Connection, RequestError, ServerEvent};

/// How long to wait before trying again after the cache itself failed.
const CACHE_RETRY: Duration = Duration::from_secs(5);

/// Why a step stopped before the end.
#[derive(Debug)]
pub(super) enum Halt {
    /// The connection is dead: the supervisor reconnects and the next connect resumes.
    Dead,
    /// Worth retrying on this connection after a while (`rate_limited`, `internal`, …).
    Later(Duration),
    Cache(CacheError),
}

impl From<CacheError> for Halt {
    fn from(e: CacheError) -> Self {
        Self::Cache(e)
    }
}

pub(super) struct Worker {
    pub(super) cache: Cache,
    pub(super) outlet: Outlet,
    pub(super) username: Option<String>,
    pub(super) retry_after: Duration,
    pub(super) outbox_lock: Arc<Mutex<()>>,
    pub(super) state: watch::Receiver<ConnectionState>,
    /// The connection the last complete catch-up ran on.
    pub(super) caught_up: Option<Weak<Connection>>,
    pub(super) retry_at: Option<Instant>,
    /// Remote typing indicators and when each runs out.
    pub(super) remote_typing: RemoteTyping,
    /// Nudges the uploader (a send whose uploads the relay lost is uploaded again).
    pub(super) uploads: mpsc::UnboundedSender<()>,
}

impl Worker {
    pub(super) async fn run(
        mut self,
        mut server: mpsc::UnboundedReceiver<ServerEvent>,
        mut nudges: mpsc::UnboundedReceiver<()>,
        mut stopped: oneshot::Receiver<()>,
    ) {
        self.on_state().await;
        loop {
            let retry = sleep_until(self.retry_at);
            let typing_expires = sleep_until(self.remote_typing.next_deadline());
            tokio::select! {
                biased;
                _ = &mut stopped => break,
                changed = self.state.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    self.on_state().await;
                }
                Some(event) = server.recv() => self.on_server_event(event).await,
                Some(()) = nudges.recv() => {
                    let outcome = match self.ready() {
                        Some(conn) => self.drain(&conn).await,
                        None => Ok(()),
                    };
                    self.settle(outcome);
                }
                () = retry => {
                    self.retry_at = None;
                    self.resume().await;
                }
                () = typing_expires => {
                    for stopped in self.remote_typing.expire(Instant::now()) {
                        self.emit(AppEvent::Typing(stopped));
                    }
                }
            }
        }
    }

    pub(super) fn emit(&self, event: AppEvent) {
        self.outlet.emit(event);
    }

    /// The current connection if it is usable.
    pub(super) fn connection(&self) -> Option<Arc<Connection>> {
        match &*self.state.borrow() {
            ConnectionState::Connected { transport } if transport.is_alive() => {
                Some(transport.clone())
            }
            _ => None,
        }
    }

    /// The current connection if it is usable and caught up: only then may the outbox drain.
    fn ready(&self) -> Option<Arc<Connection>> {
        let conn = self.connection()?;
        let caught_up = self
            .caught_up
            .as_ref()
            .is_some_and(|done| std::ptr::eq(done.as_ptr(), Arc::as_ptr(&conn)));
        caught_up.then_some(conn)
    }

    async fn on_state(&mut self) {
        let state = self.state.borrow_and_update().clone();
        match ConnectionView::of(&state) {
            Some(view) => self.emit(AppEvent::Connection { state: view }),
            None => self.resume().await,
        }
    }

    /// On a connection not caught up yet: catch up, then drain. On a caught-up one: drain.
    async fn resume(&mut self) {
        let Some(conn) = self.connection() else {
            return;
        };
        if self.ready().is_some() {
            let outcome = self.drain(&conn).await;
            self.settle(outcome);
            return;
        }
        let outcome = self.catch_up(&conn).await;
        if outcome.is_ok() {
            self.caught_up = Some(Arc::downgrade(&conn));
            self.emit(AppEvent::Connection {
                state: ConnectionView::Connected {
                    transport: conn.kind(),
                },
            });
            let drained = self.drain(&conn).await;
            self.settle(drained);
        } else {
            self.settle(outcome);
        }
    }

    /// Files a step's outcome: a transient stop sets the retry timer; a dead connection waits
    /// for the supervisor's next connect.
    pub(super) fn settle(&mut self, outcome: Result<(), Halt>) {
        let wait = match outcome {
            Ok(()) | Err(Halt::Dead) => return,
            Err(Halt::Later(wait)) => wait,
            Err(Halt::Cache(e)) => {
                tracing::error!(error = %e, "session cache failed; retrying later");
                CACHE_RETRY
            }
        };
        let at = Instant::now() + wait;
        self.retry_at = Some(self.retry_at.map_or(at, |current| current.min(at)));
    }

    /// How a failed request affects the step it was part of.
    pub(super) fn halt(&self, e: RequestError) -> Halt {
        match e {
            RequestError::Dead(reason) => {
                tracing::debug!(%reason, "request on a dead connection");
                Halt::Dead
            }
            RequestError::Refused(error) => {
                tracing::info!(%error, "request refused; retrying later");
                Halt::Later(self.retry_after)
            }
            RequestError::Decode { name, reason } => {
                tracing::warn!(name, %reason, "undecodable ack; retrying later");
                Halt::Later(self.retry_after)
            }
        }
    }

    async fn on_server_event(&mut self, event: ServerEvent) {
        let outcome = match event {
            ServerEvent::Message(event) => {
                let m = &event.message;
                if let Some(stopped) = self.remote_typing.message_from(&m.room_id, &m.sender) {
                    self.emit(AppEvent::Typing(stopped));
                }
                let (room_id, sender) = (m.room_id.clone(), m.sender.clone());
                let stored = match self.connection() {
                    Some(conn) => self.store_messages(Some(&conn), vec![event.message]).await,
                    // No usable connection to fetch a hole with (a live event still arriving on
                    // a transport given up): keep it only if nothing is missing below it; the
                    // next catch-up brings the rest, in order.
                    None => self.store_contiguous(vec![event.message]).await,
                };
                match stored {
                    Ok(()) => self.refresh_members(&room_id, &sender).await,
                    Err(halt) => Err(halt),
                }
            }
            ServerEvent::Room(event) => self.store_room(event.room).await,
            ServerEvent::RoomRemoved(event) => {
                let removed = self.cache.remove_room(&event.room_id).await;
                self.emit(AppEvent::RoomGone {
                    room_id: event.room_id,
                });
                removed.map_err(Halt::from)
            }
            ServerEvent::Receipt(event) => {
                let mine = self.username.as_deref() == Some(event.user.as_str());
                // Ours moves our read state; another member's is kept, so "read" on our own
                // messages still shows after a restart.
                let moved = if mine {
                    self.cache
                        .mark_read(&event.room_id, event.seq)
                        .await
                        .map(drop)
                } else {
                    self.cache.others_read(&event.room_id, event.seq).await
                };
                let room_id = event.room_id.clone();
                self.emit(AppEvent::Receipt(event));
                match moved {
                    // Read on another device: fewer unread here too.
                    Ok(()) if mine => self.emit_unread(&room_id).await,
                    moved => moved.map_err(Halt::from),
                }
            }
            ServerEvent::Typing(event) => {
                if self.remote_typing.heard(&event, Instant::now()) {
                    self.emit(AppEvent::Typing(event));
                }
                Ok(())
            }
            ServerEvent::Presence(event) => {
                self.emit(AppEvent::Presence(event));
                Ok(())
            }
        };
        self.settle(outcome);
    }
}

impl Worker {
    /// A live message from someone the cached room does not list: a member who joined after the
    /// last room list (the relay announces no joins to `general`). Only members can post, so
    /// the room is asked for again and its new copy announced. A big room lists no names
    /// (`Room::members_complete`): its members are paged on demand, not refreshed here.
    async fn refresh_members(&mut self, room_id: &str, sender: &str) -> Result<(), Halt> {
        if self.username.as_deref() == Some(sender) {
            return Ok(()); // our own echo: no cache read per message we send
        }
        let listed = self.cache.room(room_id).await?.is_some_and(|room| {
            !room.members_complete() || room.members.iter().any(|member| member == sender)
        });
        let Some(conn) = self.connection().filter(|_| !listed) else {
            return Ok(());
        };
        let ack = conn
            .request(&ListRooms {})
            .await
            .map_err(|e| self.halt(e))?;
        match ack.rooms.into_iter().find(|room| room.id == room_id) {
            Some(room) => self.store_room(room).await,
            None => Ok(()),
        }
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
