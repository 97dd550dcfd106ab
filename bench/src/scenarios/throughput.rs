//! Durable sends per second: C clients, each with exactly one `message:send` in flight (the next
//! goes out when the ack comes back), for a warm-up and then a measured window. Each client sends
//! to a room of its own, so the number is about commits, not fan-out; `shared_room` puts them
//! all in one room instead, and then every send is also delivered to every client.

use std::time::{Duration, Instant};

use natter_protocol::events::MessageEvent;
use natter_protocol::limits::MAX_CREATE_MEMBERS;
use natter_protocol::model::Seq;
use natter_protocol::requests::SendMessage;
use natter_protocol::AckResult;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::{body, create_room, wait_ack, Error, SeqCheck, REQUEST_TIMEOUT};
use crate::eio::{Client, Incoming};
use crate::relay::{run_prefix, Target};
use crate::stats::{Recorder, Summary};

#[derive(Debug, Clone, Copy)]
pub struct ThroughputOptions {
    pub clients: usize,
    /// The measured window.
    pub seconds: Duration,
    /// Sending before the window opens; not counted.
    pub warmup: Duration,
    /// One room for everyone (fan-out to every client) instead of one room per client.
    pub shared_room: bool,
}

impl Default for ThroughputOptions {
    fn default() -> Self {
        Self {
            clients: 50,
            seconds: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            shared_room: false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ThroughputReport {
    pub clients: usize,
    pub seconds: f64,
    pub warmup_seconds: f64,
    pub shared_room: bool,
    /// Sends emitted in the whole run, warm-up included.
    pub sent: u64,
    /// Sends acked `ok:true` in the whole run.
    pub acked_ok: u64,
    /// Sends acked `ok:false`; a correct run has none.
    pub errors: u64,
    /// The first refusal, if any.
    pub first_error: Option<String>,
    /// Acks (`ok:true`) read inside the measured window.
    pub acked_in_window: u64,
    pub sends_per_second: f64,
    /// Broadcasts read, summed over clients, each once and in `seq` order.
    pub broadcasts_received: u64,
    /// Live broadcasts the relay skipped for a slow reader (shared room only; clients catch up
    /// with `sync`). Always 0 with one room per client.
    pub broadcasts_missed: u64,
    /// Send → ack of the sends started inside the window.
    pub ack: Summary,
}

/// When the window opens and closes; sent to every client once all are ready.
#[derive(Debug, Clone, Copy)]
struct Window {
    open: Instant,
    close: Instant,
}

/// What one client did while sending.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    acked_ok: u64,
    errors: u64,
    first_error: Option<String>,
    in_window: u64,
    /// The highest seq this client's sends were given.
    last_acked: Seq,
    check: SeqCheck,
    ack: Recorder,
}

pub async fn run(target: &Target, opts: ThroughputOptions) -> Result<ThroughputReport, Error> {
    if opts.clients == 0 {
        return Err(Error::Setup("at least one client is needed".into()));
    }
    if opts.shared_room && opts.clients > MAX_CREATE_MEMBERS + 1 {
        return Err(Error::Setup(format!(
            "a shared room holds at most {} clients here",
            MAX_CREATE_MEMBERS + 1
        )));
    }
    let prefix = run_prefix();
    let names: Vec<String> = (0..opts.clients)
        .map(|c| format!("{prefix}-tp-{c}"))
        .collect();
    let mut clients: Vec<Client> = target
        .connect_users(&names)
        .await?
        .into_iter()
        .map(|(_, client)| client)
        .collect();

    let shared = match (opts.shared_room, clients.first_mut()) {
        (true, Some(first)) => {
            let others = names[1..].to_vec();
            Some(create_room(first, format!("{prefix} throughput"), others).await?)
        }
        _ => None,
    };

    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(opts.clients);
    let (window_tx, window_rx) = watch::channel(None::<Window>);
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(c, client)| {
            let room = shared.clone();
            let ready = ready_tx.clone();
            let window = window_rx.clone();
            let label = format!("{prefix}-{c}");
            tokio::spawn(send_loop(client, room, label, ready, window))
        })
        .collect();
    drop(ready_tx);
    for _ in 0..opts.clients {
        if ready_rx.recv().await.is_none() {
            break; // a task failed; joining it below reports why
        }
    }
    let open = Instant::now() + opts.warmup;
    let _ = window_tx.send(Some(Window {
        open,
        close: open + opts.seconds,
    }));

    let mut done = Vec::with_capacity(tasks.len());
    for task in tasks {
        done.push(task.await??);
    }
    // Every broadcast for a send that was acked must still arrive: the room's last seq for a
    // shared room, each client's own last seq otherwise.
    let room_last = done.iter().map(|(_, t)| t.last_acked).max().unwrap_or(0);
    let drains: Vec<_> = done
        .into_iter()
        .map(|(client, tally)| {
            let until = if opts.shared_room {
                room_last
            } else {
                tally.last_acked
            };
            tokio::spawn(drain(client, tally, until))
        })
        .collect();
    let mut report = ThroughputReport {
        clients: opts.clients,
        seconds: opts.seconds.as_secs_f64(),
        warmup_seconds: opts.warmup.as_secs_f64(),
        shared_room: opts.shared_room,
        sent: 0,
        acked_ok: 0,
        errors: 0,
        first_error: None,
        acked_in_window: 0,
        sends_per_second: 0.0,
        broadcasts_received: 0,
        broadcasts_missed: 0,
        ack: Recorder::new().summary(),
    };
    let mut ack = Recorder::new();
    for drain in drains {
        let tally = drain.await??;
        report.sent += tally.sent;
        report.acked_ok += tally.acked_ok;
        report.errors += tally.errors;
        report.first_error = report.first_error.or(tally.first_error);
        report.acked_in_window += tally.acked_in_window();
        report.broadcasts_received += tally.check.seen;
        report.broadcasts_missed += tally.check.missed;
        ack.merge(&tally.ack);
    }
    if !opts.shared_room && report.broadcasts_missed > 0 {
        return Err(Error::Broken(format!(
            "{} broadcasts to their own sender went missing",
            report.broadcasts_missed
        )));
    }
    report.sends_per_second = report.acked_in_window as f64 / opts.seconds.as_secs_f64();
    report.ack = ack.summary();
    Ok(report)
}

impl Tally {
    fn acked_in_window(&self) -> u64 {
        self.in_window
    }
}

/// One client: make its room (unless shared), report ready, then send one at a time until the
/// window closes.
async fn send_loop(
    mut client: Client,
    shared: Option<String>,
    label: String,
    ready: mpsc::Sender<()>,
    mut window: watch::Receiver<Option<Window>>,
) -> Result<(Client, Tally), Error> {
    let room_id = match shared {
        Some(room) => room,
        None => create_room(&mut client, format!("{label} throughput"), Vec::new()).await?,
    };
    let _ = ready.send(()).await;
    drop(ready);
    let window = match window.wait_for(Option::is_some).await {
        Ok(w) => (*w).ok_or(Error::Setup("no window".into()))?,
        Err(_) => return Err(Error::Setup("the coordinator stopped".into())),
    };
    let mut tally = Tally::default();
    for n in 0.. {
        let start = Instant::now();
        if start >= window.close {
            break;
        }
        let req = SendMessage {
            room_id: room_id.clone(),
            client_id: format!("{label}-{n}"),
            body: body(n),
        };
        let id = client.emit(&req).await?;
        tally.sent += 1;
        let check = &mut tally.check;
        let acked = wait_ack(&mut client, id, |incoming| see(check, incoming, &room_id)).await?;
        match acked.ack::<SendMessage>()? {
            AckResult::Ok(ack) => {
                tally.acked_ok += 1;
                if ack.message.seq <= tally.last_acked {
                    return Err(Error::Broken(format!(
                        "ack seq {} after {} in one room",
                        ack.message.seq, tally.last_acked
                    )));
                }
                tally.last_acked = ack.message.seq;
                if (window.open..window.close).contains(&acked.at) {
                    tally.in_window += 1;
                }
                if start >= window.open {
                    tally.ack.record(acked.at - start);
                }
            }
            AckResult::Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    let _ = room_id;
    Ok((client, tally))
}

/// Reads the broadcasts still on their way, up to `until`, then closes the client.
async fn drain(mut client: Client, mut tally: Tally, until: Seq) -> Result<Tally, Error> {
    tokio::time::timeout(REQUEST_TIMEOUT, async {
        while tally.check.last < until {
            let incoming = client.recv().await?;
            if let Some(event) = incoming.event::<MessageEvent>() {
                tally.check.see(event?.message.seq)?;
            }
        }
        Ok::<_, Error>(())
    })
    .await
    .map_err(|_| Error::Timeout("the last broadcasts"))??;
    client.close().await;
    Ok(tally)
}

/// Checks a broadcast of `room_id` that arrived while waiting for an ack.
fn see(check: &mut SeqCheck, incoming: &Incoming, room_id: &str) -> Result<(), Error> {
    if let Some(event) = incoming.event::<MessageEvent>() {
        let message = event?.message;
        if message.room_id == room_id {
            check.see(message.seq)?;
        }
    }
    Ok(())
}
