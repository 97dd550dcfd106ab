//! A receiving socket's task, and what every socket does with a delivery: check it is this
//! step's, in seq order, and record its latency.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use natter_protocol::events::MessageEvent;
use natter_protocol::Change;
use natter_testkit::sio::{Client, Incoming};
use tokio::sync::watch;

use super::step::Shared;
use super::TAG;
use crate::scenarios::Error;

/// Records one delivery read by a socket of `room` (the sender's own copies included).
pub(super) fn deliver(incoming: &Incoming, room: &str, shared: &Shared, last_seq: &mut i64) {
    let Some(Ok(event)) = incoming.event::<MessageEvent>() else {
        return;
    };
    let m = event.message;
    if m.room_id != room {
        return;
    }
    // An edit (`--change-share`) carries the send time in its new text.
    let text = match m.change.as_deref() {
        Some(Change::Edit { body, .. }) => body.as_str(),
        _ => m.body.as_str(),
    };
    let mut words = text.split(' ');
    let (Some(TAG), Some(step), Some(nanos)) = (words.next(), words.next(), words.next()) else {
        return;
    };
    let (Ok(step), Ok(nanos)) = (step.parse::<usize>(), nanos.parse::<u64>()) else {
        return;
    };
    if m.seq < *last_seq {
        shared.out_of_order.fetch_add(1, Ordering::Relaxed);
    }
    *last_seq = (*last_seq).max(m.seq);
    if step != shared.step.load(Ordering::Relaxed) {
        shared.late.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let sent = shared.base + Duration::from_nanos(nanos);
    shared.delivered.fetch_add(1, Ordering::Relaxed);
    shared
        .latency
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .record(incoming.at.saturating_duration_since(sent));
}

/// How often one receiving socket connects again at most, in a whole ladder.
const MAX_REJOINS: u32 = 5;

/// How a socket the server closed connects again (its user's rooms are joined at connect).
#[derive(Clone)]
pub(super) struct Rejoin {
    pub(super) addr: String,
    pub(super) token: String,
}

impl Rejoin {
    pub(super) async fn connect(&self) -> Result<Client, Error> {
        Ok(Client::connect(&self.addr, &self.token).await?)
    }
}

/// A receiving socket: records deliveries until told to stop. Closed by the server, it connects
/// again at once; the deliveries it missed meanwhile count as missing.
pub(super) async fn receive(
    mut client: Client,
    rejoin: Rejoin,
    room: String,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut last_seq = 0;
    let mut rejoins = 0;
    loop {
        tokio::select! {
            incoming = client.recv() => match incoming {
                Ok(incoming) => deliver(&incoming, &room, &shared, &mut last_seq),
                Err(_) if rejoins == MAX_REJOINS => return,
                Err(_) => {
                    rejoins += 1;
                    match rejoin.connect().await {
                        Ok(again) => client = again,
                        Err(e) => {
                            eprintln!("natter-bench: a fan-out receiver could not connect again: {e}");
                            return;
                        }
                    }
                }
            },
            _ = stop.changed() => break,
        }
    }
    client.close().await;
}
