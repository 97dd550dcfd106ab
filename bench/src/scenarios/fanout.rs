//! Room fan-out: R rooms of M sockets each (by default 10 × 100 = 1,000 clients; K sockets per
//! user, users spread over the rooms so each socket is in exactly one of them besides
//! `general`). One socket per room is also its sender: it sends `message:send` open-loop at a
//! fixed rate (not waiting for acks), and every socket of the room, the sender's included, gets
//! each message: one send = M deliveries. The senders' clocks are spread evenly over one send
//! interval and their ticks over one tick, so the rooms' sends do not leave at the same instant.
//!
//! The offered load climbs in steps (deliveries/s, doubling from `start_rate`, then two
//! bisection steps between the last pass and the first failure). Each step sends for
//! `step_seconds`, then waits (bounded) for the last deliveries. Latency is send → delivery read
//! by the receiving socket (the send instant travels in the body; one process, one clock). A step
//! passes when every send was acked `ok`, ≥ 99% of the deliveries arrived within the drain,
//! and the delivery p99 ≤ `p99_limit`. Server CPU-seconds (utime + stime of its process) are
//! read around each step. The bench's own CPU is reported too: a step where the bench used its
//! whole core measured the bench, and is marked so. A socket the server closed connects
//! again, so the ladder goes on after such a step as after any other failure.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use natter_protocol::events::MessageEvent;
use natter_protocol::requests::SendMessage;
use natter_protocol::AckResult;
use serde::Serialize;
use tokio::sync::watch;

use super::{create_room, Error};
use crate::eio::{Client, Incoming};
use crate::procfs;
use crate::relay::{run_prefix, Target};
use crate::stats::{Recorder, Summary};

/// Connects in flight at once while the rooms fill.
const CONNECT_CONCURRENCY: usize = 32;
/// How often a sender wakes to send what its rate allows by now.
const SEND_TICK: Duration = Duration::from_millis(5);
/// Longest wait for a step's last deliveries after its senders stopped.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a step waits for senders that missed their report time before giving up.
const LATE_TALLIES: Duration = Duration::from_secs(60);
/// Bodies of this scenario start so: `fo STEP NANOS N`.
const TAG: &str = "fo";

#[derive(Debug, Clone, Copy)]
pub struct FanoutOptions {
    pub rooms: usize,
    /// Sockets per room (the sender included).
    pub members: usize,
    pub sockets_per_user: usize,
    pub step_seconds: f64,
    /// The first step's offered deliveries/s.
    pub start_rate: f64,
    /// Steps at most (doubling ones; two bisection steps come on top).
    pub max_steps: usize,
    pub p99_limit: Duration,
}

impl Default for FanoutOptions {
    fn default() -> Self {
        Self {
            rooms: 10,
            members: 100,
            sockets_per_user: 10,
            step_seconds: 3.0,
            start_rate: 2_500.0,
            max_steps: 9,
            p99_limit: Duration::from_millis(50),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Offered load: deliveries/s (sends/s × members).
    pub offered: f64,
    pub sends: u64,
    pub acked_ok: u64,
    pub errors: u64,
    /// acked_ok × members.
    pub expected_deliveries: u64,
    pub delivered: u64,
    /// Deliveries of this step read after its drain ended (not counted as delivered).
    pub late: u64,
    /// Delivered / step seconds.
    pub deliveries_per_second: f64,
    /// Broadcasts that arrived after one with a higher seq of the same room.
    pub out_of_order: u64,
    pub latency: Summary,
    pub latency_curve: Vec<(f64, f64)>,
    pub server_cpu_seconds: f64,
    pub bench_cpu_seconds: f64,
    pub wall_seconds: f64,
    /// Server CPU-seconds per million deliveries.
    pub cpu_per_million: f64,
    pub bench_bound: bool,
    /// Senders the server had closed by the end of this step (the step fails; they connect
    /// again before the next one).
    pub senders_closed: u64,
    pub pass: bool,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FanoutReport {
    pub rooms: usize,
    pub members: usize,
    pub users: usize,
    pub step_seconds: f64,
    pub p99_limit_ms: f64,
    pub steps: Vec<Step>,
    /// Index in `steps` of the highest delivered rate that passed.
    pub best: Option<usize>,
}

impl FanoutReport {
    pub fn best_step(&self) -> Option<&Step> {
        self.best.and_then(|i| self.steps.get(i))
    }

    /// The step at `offered` deliveries/s, if one ran.
    pub fn at(&self, offered: f64) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| (s.offered - offered).abs() < 0.5)
    }
}

/// Counters shared by every socket's task; swapped out at the end of each step.
#[derive(Debug)]
struct Shared {
    step: AtomicUsize,
    base: Instant,
    delivered: AtomicU64,
    late: AtomicU64,
    out_of_order: AtomicU64,
    latency: Mutex<Recorder>,
}

/// What each sender is told: (step, sends/s for its room, until).
type Order = Option<(usize, f64, Instant)>;

#[derive(Debug, Default)]
struct SenderTally {
    sends: u64,
    acked_ok: u64,
    errors: u64,
    /// Senders whose connection the server closed (e.g. engineioxide closes a socket whose
    /// outgoing queue is full when a ping is due, or whose ping went unanswered).
    closed: u64,
}

pub async fn run(
    target: &Target,
    pid: Option<u32>,
    opts: FanoutOptions,
) -> Result<FanoutReport, Error> {
    let pid = pid.ok_or_else(|| Error::Setup("the server's pid is unknown".into()))?;
    if opts.rooms == 0 || opts.members == 0 || opts.sockets_per_user == 0 {
        return Err(Error::Setup(
            "rooms, members and sockets per user must be > 0".into(),
        ));
    }
    if opts.members % opts.sockets_per_user != 0 {
        return Err(Error::Setup(
            "members must be a multiple of sockets per user".into(),
        ));
    }
    let users_per_room = opts.members / opts.sockets_per_user;
    let prefix = run_prefix();
    let names: Vec<String> = (0..opts.rooms * users_per_room)
        .map(|u| format!("{prefix}-f{u}"))
        .collect();
    let users = target.register_users(&names).await?;

    // Each room's first user creates it, before its other sockets connect (and join at connect).
    let mut room_ids = Vec::with_capacity(opts.rooms);
    let mut senders = Vec::with_capacity(opts.rooms);
    for r in 0..opts.rooms {
        let group = &users[r * users_per_room..(r + 1) * users_per_room];
        let mut owner = Client::connect(target.addr(), &group[0].token).await?;
        let others = group[1..].iter().map(|u| u.user.username.clone()).collect();
        room_ids.push(create_room(&mut owner, format!("{prefix} fanout {r}"), others).await?);
        senders.push(owner);
    }
    let mut plan = Vec::new(); // (room, token) for every socket but the senders
    for (r, _) in room_ids.iter().enumerate() {
        for s in 1..opts.members {
            let user = &users[r * users_per_room + s / opts.sockets_per_user];
            plan.push((r, user.token.clone()));
        }
    }
    let addr = target.addr().to_owned();
    let receivers: Vec<(usize, Rejoin, Client)> = futures_util::stream::iter(plan)
        .map(|(r, token)| {
            let rejoin = Rejoin {
                addr: addr.clone(),
                token,
            };
            async move {
                let client = rejoin.connect().await?;
                Ok::<_, Error>((r, rejoin, client))
            }
        })
        .buffered(CONNECT_CONCURRENCY)
        .try_collect()
        .await?;

    let shared = Arc::new(Shared {
        step: AtomicUsize::new(usize::MAX),
        base: Instant::now(),
        delivered: AtomicU64::new(0),
        late: AtomicU64::new(0),
        out_of_order: AtomicU64::new(0),
        latency: Mutex::new(Recorder::new()),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers = Vec::new();
    for (r, rejoin, client) in receivers {
        let room = room_ids[r].clone();
        readers.push(tokio::spawn(receive(
            client,
            rejoin,
            room,
            Arc::clone(&shared),
            stop_rx.clone(),
        )));
    }
    let (order_tx, order_rx) = watch::channel::<Order>(None);
    let (tally_tx, mut tally_rx) = tokio::sync::mpsc::unbounded_channel::<SenderTally>();
    let mut sender_tasks = Vec::new();
    for (r, client) in senders.into_iter().enumerate() {
        let room = room_ids[r].clone();
        let shared = Arc::clone(&shared);
        let (orders, tallies, stop) = (order_rx.clone(), tally_tx.clone(), stop_rx.clone());
        let rejoin = Rejoin {
            addr: addr.clone(),
            token: users[r * users_per_room].token.clone(),
        };
        // Spread the senders' clocks evenly over one send interval: started together, they
        // would send at the same instant and every step would be bursts of `rooms` sends.
        let phase = r as f64 / opts.rooms as f64;
        let room = SenderRoom { id: room, phase };
        sender_tasks.push(tokio::spawn(send(
            client, rejoin, room, shared, orders, tallies, stop,
        )));
    }

    let mut steps: Vec<Step> = Vec::new();
    let mut rate = opts.start_rate;
    let mut pass_rate: Option<f64> = None;
    let mut fail_rate: Option<f64> = None;
    let mut bisections = 0;
    for index in 0..opts.max_steps + 2 {
        let sends_per_room = rate / opts.members as f64 / opts.rooms as f64;
        let step = run_step(
            index,
            rate,
            sends_per_room,
            &opts,
            pid,
            &shared,
            &order_tx,
            &mut tally_rx,
        )
        .await?;
        let passed = step.pass;
        steps.push(step);
        if passed {
            pass_rate = Some(rate);
        } else {
            fail_rate = Some(rate);
        }
        rate = match (pass_rate, fail_rate) {
            (Some(_), None) if index + 1 < opts.max_steps => rate * 2.0,
            (Some(p), Some(f)) if bisections < 2 && f > p * 1.15 => {
                bisections += 1;
                (p * f).sqrt()
            }
            _ => break,
        };
    }
    let _ = stop_tx.send(true);
    for task in sender_tasks {
        let _ = task.await?;
    }
    for task in readers {
        task.await?;
    }
    let best = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.pass)
        .max_by(|a, b| {
            a.1.deliveries_per_second
                .total_cmp(&b.1.deliveries_per_second)
        })
        .map(|(i, _)| i);
    Ok(FanoutReport {
        rooms: opts.rooms,
        members: opts.members,
        users: users.len(),
        step_seconds: opts.step_seconds,
        p99_limit_ms: opts.p99_limit.as_secs_f64() * 1_000.0,
        steps,
        best,
    })
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    index: usize,
    offered: f64,
    sends_per_room: f64,
    opts: &FanoutOptions,
    pid: u32,
    shared: &Shared,
    orders: &watch::Sender<Order>,
    tallies: &mut tokio::sync::mpsc::UnboundedReceiver<SenderTally>,
) -> Result<Step, Error> {
    let cpu = |p| procfs::cpu_seconds(p).map_err(|e| Error::Setup(e.to_string()));
    let own = || procfs::own_cpu_seconds().map_err(|e| Error::Setup(e.to_string()));
    // Reset the counters, then open the step.
    shared.delivered.store(0, Ordering::SeqCst);
    shared.late.store(0, Ordering::SeqCst);
    shared.out_of_order.store(0, Ordering::SeqCst);
    *shared.latency.lock().unwrap_or_else(|e| e.into_inner()) = Recorder::new();
    shared.step.store(index, Ordering::SeqCst);
    let (server0, bench0, start) = (cpu(pid)?, own()?, Instant::now());
    let until = start + Duration::from_secs_f64(opts.step_seconds);
    let _ = orders.send(Some((index, sends_per_room, until)));
    let mut tally = SenderTally::default();
    // Each sender reports by the end of its step plus the drain; one that reports later was
    // starved by the bench's own saturated thread: the step fails rather than the scenario
    // (the next tallies must still be this step's, so wait for them, within a bound).
    let on_time = tokio::time::Instant::now()
        + Duration::from_secs_f64(opts.step_seconds)
        + DRAIN_TIMEOUT * 2;
    let mut senders_late = false;
    for _ in 0..opts.rooms {
        let t = match tokio::time::timeout_at(on_time, tallies.recv()).await {
            Ok(t) => t,
            Err(_) => {
                senders_late = true;
                tokio::time::timeout(LATE_TALLIES, tallies.recv())
                    .await
                    .map_err(|_| Error::Timeout("the fan-out senders"))?
            }
        }
        .ok_or_else(|| Error::Setup("a fan-out sender stopped".into()))?;
        tally.sends += t.sends;
        tally.acked_ok += t.acked_ok;
        tally.errors += t.errors;
        tally.closed += t.closed;
    }
    let expected = tally.acked_ok * opts.members as u64;
    let drain_until = Instant::now() + DRAIN_TIMEOUT;
    while shared.delivered.load(Ordering::SeqCst) < expected && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Close the step: later deliveries count as late.
    shared.step.store(usize::MAX - 1 - index, Ordering::SeqCst);
    let wall = start.elapsed().as_secs_f64();
    let (server1, bench1) = (cpu(pid)?, own()?);
    let delivered = shared.delivered.load(Ordering::SeqCst);
    let recorder = std::mem::take(&mut *shared.latency.lock().unwrap_or_else(|e| e.into_inner()));
    let latency = recorder.summary();
    let server_cpu = server1 - server0;
    let bench_cpu = bench1 - bench0;
    let bench_bound = bench_cpu >= 0.9 * wall;
    let p99_ok = latency.p99_us <= opts.p99_limit.as_secs_f64() * 1e6;
    let verdict = if tally.closed > 0 {
        format!("the server closed {} sender(s)", tally.closed)
    } else if senders_late {
        "the bench fell behind (senders reported late)".to_owned()
    } else if tally.errors > 0 {
        format!("{} sends refused", tally.errors)
    } else if tally.acked_ok < tally.sends {
        format!("{} sends not acked", tally.sends - tally.acked_ok)
    } else if (delivered as f64) < 0.99 * expected as f64 {
        format!("{delivered} of {expected} deliveries arrived")
    } else if !p99_ok {
        format!("p99 {:.1} ms over the limit", latency.p99_us / 1_000.0)
    } else {
        "pass".to_owned()
    };
    let delivered_f = delivered as f64;
    Ok(Step {
        offered,
        sends: tally.sends,
        acked_ok: tally.acked_ok,
        errors: tally.errors,
        expected_deliveries: expected,
        delivered,
        late: shared.late.load(Ordering::SeqCst),
        deliveries_per_second: delivered_f / opts.step_seconds,
        out_of_order: shared.out_of_order.load(Ordering::SeqCst),
        latency,
        latency_curve: recorder.curve(),
        server_cpu_seconds: server_cpu,
        bench_cpu_seconds: bench_cpu,
        wall_seconds: wall,
        cpu_per_million: if delivered > 0 {
            server_cpu / delivered_f * 1e6
        } else {
            0.0
        },
        bench_bound,
        senders_closed: tally.closed,
        pass: verdict == "pass",
        verdict,
    })
}

/// Records one delivery read by a socket of `room` (the sender's own copies included).
fn deliver(incoming: &Incoming, room: &str, shared: &Shared, last_seq: &mut i64) {
    let Some(Ok(event)) = incoming.event::<MessageEvent>() else {
        return;
    };
    let m = event.message;
    if m.room_id != room {
        return;
    }
    let mut words = m.body.split(' ');
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
struct Rejoin {
    addr: String,
    token: String,
}

impl Rejoin {
    async fn connect(&self) -> Result<Client, Error> {
        Ok(Client::connect(&self.addr, &self.token).await?)
    }
}

/// A receiving socket: records deliveries until told to stop. Closed by the server, it connects
/// again at once; the deliveries it missed meanwhile count as missing.
async fn receive(
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

/// The room a sender sends to, and where in its send interval its clock starts, in [0, 1).
struct SenderRoom {
    id: String,
    phase: f64,
}

/// A room's sender: on each order, sends at the given rate until its end, reading acks (and
/// its own deliveries) meanwhile, waits for the outstanding acks, and reports its tally. A step
/// in which the server closed its connection reports `closed: 1`; at the next order it connects
/// again (and reports `closed: 1` at once if it cannot).
async fn send(
    mut client: Client,
    rejoin: Rejoin,
    room: SenderRoom,
    shared: Arc<Shared>,
    mut orders: watch::Receiver<Order>,
    tallies: tokio::sync::mpsc::UnboundedSender<SenderTally>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    let mut last_seq = 0;
    let mut n: u64 = 0;
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
            let order = Order1 {
                step,
                rate,
                phase: room.phase,
                until,
            };
            let sent = one_order(
                &mut client,
                &room.id,
                &shared,
                order,
                &mut n,
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

/// One step's orders for one sender.
#[derive(Clone, Copy)]
struct Order1 {
    step: usize,
    rate: f64,
    /// Where in its send interval this sender's clock starts, in [0, 1).
    phase: f64,
    until: Instant,
}

/// Sends at `order.rate` until `order.until`, then waits (bounded) for the outstanding acks.
async fn one_order(
    client: &mut Client,
    room: &str,
    shared: &Shared,
    order: Order1,
    n: &mut u64,
    last_seq: &mut i64,
    tally: &mut SenderTally,
) -> Result<(), Error> {
    let Order1 {
        step,
        rate,
        phase,
        until,
    } = order;
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
                            AckResult::Ok(_) => tally.acked_ok += 1,
                            AckResult::Err(_) => tally.errors += 1,
                        }
                    }
                } else {
                    deliver(&incoming, room, shared, last_seq);
                }
            }
            _ = tick.tick() => {
                let now = Instant::now().min(until);
                let due = sends_due(rate, phase, now - start);
                while tally.sends < due {
                    let nanos = u64::try_from(Instant::now().duration_since(shared.base).as_nanos()).unwrap_or(u64::MAX);
                    let req = SendMessage {
                        room_id: room.to_owned(),
                        client_id: format!("fo-{n}"),
                        body: format!("{TAG} {step} {nanos} {n}"),
                    };
                    *n += 1;
                    pending.insert(client.emit(&req).await?);
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
