//! A room's sender task: sends open-loop at the ordered rate, spread over the send interval,
//! reading acks and its own deliveries meanwhile, and reports its tally per step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_protocol::requests::SendMessage;
use natter_protocol::AckResult;
use natter_testkit::sio::Client;
use tokio::sync::{mpsc, watch};

use super::receive::{deliver, Rejoin};
use super::step::{Order, SenderTally, Shared};
use super::{DRAIN_TIMEOUT, TAG};
use crate::scenarios::mix::ChangeMix;
use crate::scenarios::Error;

/// How often a sender wakes to send what its rate allows by now.
const SEND_TICK: Duration = Duration::from_millis(5);

/// The room a sender sends to, and where in its send interval its clock starts, in [0, 1).
pub(super) struct SenderRoom {
    pub(super) id: String,
    pub(super) phase: f64,
    /// The share of sends that are edits of the sender's last message.
    pub(super) mix: ChangeMix,
}

/// What a sender has sent so far: how many, and its last message (what its edits change).
#[derive(Default)]
struct Own {
    n: u64,
    target: Option<String>,
}

/// A room's sender: on each order, sends at the given rate until its end, reading acks (and
/// its own deliveries) meanwhile, waits for the outstanding acks, and reports its tally. A step
/// in which the server closed its connection reports `closed: 1`; at the next order it connects
/// again (and reports `closed: 1` at once if it cannot).
pub(super) async fn send(
    mut client: Client,
    rejoin: Rejoin,
    room: SenderRoom,
    shared: Arc<Shared>,
    mut orders: watch::Receiver<Order>,
    tallies: mpsc::UnboundedSender<SenderTally>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    let mut last_seq = 0;
    let mut own = Own::default();
    let mut lost: Option<Error> = None;
    loop {
        let order = tokio::select! {
            changed = orders.changed() => match changed {
                Ok(()) => *orders.borrow_and_update(),
                Err(_) => break,
            },
            _ = stop.changed() => break,
            incoming = client.recv(), if lost.is_none() => {
                match incoming {
                    Ok(incoming) => deliver(&incoming, &room.id, &shared, &mut last_seq),
                    Err(e) => lost = Some(said_lost(e.into())),
                }
                continue;
            }
        };
        let Some((step, rate, until)) = order else {
            continue;
        };
        let mut tally = SenderTally::default();
        if lost.is_some() {
            match rejoin.connect().await {
                Ok(again) => {
                    client = again;
                    lost = None;
                }
                Err(e) => eprintln!("natter-bench: a fan-out sender could not connect again: {e}"),
            }
        }
        if lost.is_none() {
            let order = (step, rate, until);
            let sent = one_order(
                &mut client,
                &room,
                &shared,
                order,
                &mut own,
                &mut last_seq,
                &mut tally,
            );
            if let Err(e) = sent.await {
                lost = Some(said_lost(e));
            }
        }
        tally.closed = u64::from(lost.is_some());
        if tallies.send(tally).is_err() {
            break;
        }
    }
    match lost {
        Some(e) => Err(e),
        None => {
            client.close().await;
            Ok(())
        }
    }
}

fn said_lost(e: Error) -> Error {
    eprintln!("natter-bench: a fan-out sender lost its connection: {e}");
    e
}

/// Sends due `elapsed` into a step at `rate`/s, for a sender whose clock runs `phase` of a send
/// interval ahead: senders with phases 0, 1/R, 2/R… send at evenly spread instants.
fn sends_due(rate: f64, phase: f64, elapsed: Duration) -> u64 {
    (rate * elapsed.as_secs_f64() + phase) as u64
}

/// Sends at the order's rate (step, sends/s, until) until its end, then waits (bounded) for
/// the outstanding acks.
async fn one_order(
    client: &mut Client,
    room: &SenderRoom,
    shared: &Shared,
    (step, rate, until): (usize, f64, Instant),
    own: &mut Own,
    last_seq: &mut i64,
    tally: &mut SenderTally,
) -> Result<(), Error> {
    let (phase, mix) = (room.phase, room.mix);
    let start = Instant::now();
    // Ticks `phase` of a tick late, so the senders' ticks fall at different instants too.
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + SEND_TICK.mul_f64(phase),
        SEND_TICK,
    );
    let mut pending = std::collections::HashSet::new();
    let ack_deadline = until + DRAIN_TIMEOUT;
    loop {
        let now = Instant::now();
        if now >= until && pending.is_empty() || now >= ack_deadline {
            return Ok(());
        }
        tokio::select! {
            biased;
            incoming = client.recv() => {
                let incoming = incoming?;
                if let Some(id) = incoming.ack_id() {
                    if pending.remove(&id) {
                        match incoming.ack::<SendMessage>()? {
                            AckResult::Ok(ack) => {
                                tally.acked_ok += 1;
                                if ack.message.change.is_none() {
                                    own.target = Some(ack.message.id);
                                }
                            }
                            AckResult::Err(_) => tally.errors += 1,
                        }
                    }
                } else {
                    deliver(&incoming, &room.id, shared, last_seq);
                }
            }
            _ = tick.tick() => {
                let now = Instant::now().min(until);
                let due = sends_due(rate, phase, now - start);
                while tally.sends < due {
                    let nanos = u64::try_from(Instant::now().duration_since(shared.base).as_nanos()).unwrap_or(u64::MAX);
                    let n = own.n;
                    // An edit's new text carries the send time like a message's text.
                    let entry = mix.entry(
                        n,
                        &room.id,
                        format!("fo-{n}"),
                        format!("{TAG} {step} {nanos} {n}"),
                        own.target.as_deref(),
                        true,
                    );
                    own.n += 1;
                    pending.insert(entry.emit(client).await?);
                    tally.sends += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_with_their_own_phase_send_at_spread_instants() {
        // Ten senders at 10 sends/s each: the millisecond of each one's first send.
        let first = |phase: f64| {
            (0..=200u64)
                .find(|&ms| sends_due(10.0, phase, Duration::from_millis(ms)) >= 1)
                .expect("a first send within 200 ms")
        };
        let firsts: Vec<u64> = (0..10).map(|r| first(f64::from(r) / 10.0)).collect();
        assert!(
            firsts.windows(2).all(|w| w[0] > w[1]),
            "no two senders share an instant: {firsts:?}"
        );
        assert!(
            firsts[0] - firsts[9] >= 80,
            "spread over the interval: {firsts:?}"
        );
        // The phase moves the sends, not their number.
        for r in 0..10 {
            assert_eq!(
                sends_due(10.0, f64::from(r) / 10.0, Duration::from_secs(2)),
                20
            );
        }
    }
}
