//! Durable sends per second: C clients, each with exactly one `message:send` in flight (the next
//! goes out when the ack comes back), for a warm-up and then a measured window. Each client sends
//! to a room of its own, so the number is about commits, not fan-out; `shared_room` puts them
//! all in one room instead, and then every send is also delivered to every client. With
//! `--change-share`, a share of the sends are reactions and edits (`mix.rs`).

use std::time::{Duration, Instant};

use natter_protocol::events::MessageEvent;
use natter_protocol::limits::MAX_CREATE_MEMBERS;
use natter_protocol::model::Seq;
use natter_protocol::requests::SendMessage;
use natter_protocol::AckResult;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::mix::ChangeMix;
use super::{body, create_room, seconds, wait_ack, Error, SeqCheck, REQUEST_TIMEOUT};

/// In a shared room, how long a client waits for a broadcast before counting the rest missed.
const DRAIN_IDLE: Duration = Duration::from_secs(2);
use crate::relay::{run_prefix, Target};
use crate::stats::{Recorder, Summary};
use natter_testkit::sio::{Client, Incoming};

/// The durable sends' options, and their flags (`--durable-…` or, shorter, without it).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ThroughputOptions {
    /// Durable sends: concurrent clients, each with one send in flight.
    #[arg(
        long = "durable-clients",
        visible_alias = "clients",
        default_value_t = 50
    )]
    pub clients: usize,
    /// Durable sends: the measured window, in seconds.
    #[arg(long = "durable-seconds", visible_alias = "seconds", default_value = "10", value_parser = seconds)]
    pub seconds: Duration,
    /// Durable sends: sending before the window opens (not counted), in seconds.
    #[arg(id = "warmup_seconds", value_name = "SECONDS", long = "warmup-seconds", default_value = "2", value_parser = seconds)]
    pub warmup: Duration,
    /// Durable sends: all clients in one room (every send fans out to every client) instead of
    /// one room per client.
    #[arg(long)]
    pub shared_room: bool,
    /// The share of sends that are changes (`--change-share`, set by the caller).
    #[arg(skip)]
    pub mix: ChangeMix,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Broadcasts that arrived after one with a higher seq (shared room only: sends of several
    /// clients committed in one batch are broadcast by concurrent tasks).
    pub broadcasts_out_of_order: u64,
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
    room_id: String,
    sent: u64,
    acked_ok: u64,
    errors: u64,
    first_error: Option<String>,
    in_window: u64,
    /// The highest seq this client's sends were given.
    last_acked: Seq,
    check: SeqCheck,
    /// Broadcasts that never came (set when draining).
    missed: u64,
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
            tokio::spawn(send_loop(client, room, label, ready, window, opts.mix))
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
            tokio::spawn(drain(client, tally, until, opts.shared_room))
        })
        .collect();
    let mut report = ThroughputReport {
        clients: opts.clients,
        seconds: opts.seconds.as_secs_f64(),
        warmup_seconds: opts.warmup.as_secs_f64(),
        shared_room: opts.shared_room,
        ..ThroughputReport::default()
    };
    let mut ack = Recorder::new();
    for drain in drains {
        let tally = drain.await??;
        report.sent += tally.sent;
        report.acked_ok += tally.acked_ok;
        report.errors += tally.errors;
        report.first_error = report.first_error.or(tally.first_error);
        report.acked_in_window += tally.in_window;
        report.broadcasts_received += tally.check.seen;
        report.broadcasts_missed += tally.missed;
        report.broadcasts_out_of_order += tally.check.out_of_order;
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

/// One client: make its room (unless shared), report ready, then send one at a time until the
/// window closes.
async fn send_loop(
    mut client: Client,
    shared: Option<String>,
    label: String,
    ready: mpsc::Sender<()>,
    mut window: watch::Receiver<Option<Window>>,
    mix: ChangeMix,
) -> Result<(Client, Tally), Error> {
    let (room_id, shared) = match shared {
        Some(room) => (room, true),
        None => {
            let name = format!("{label} throughput");
            (create_room(&mut client, name, Vec::new()).await?, false)
        }
    };
    let _ = ready.send(()).await;
    drop(ready);
    let window = match window.wait_for(Option::is_some).await {
        Ok(w) => (*w).ok_or(Error::Setup("no window".into()))?,
        Err(_) => return Err(Error::Setup("the coordinator stopped".into())),
    };
    let mut tally = Tally {
        room_id,
        check: if shared {
            SeqCheck::tolerant()
        } else {
            SeqCheck::strict()
        },
        ..Tally::default()
    };
    // The sender's last message: what its changes change.
    let mut target: Option<String> = None;
    for n in 0u64.. {
        let start = Instant::now();
        if start >= window.close {
            break;
        }
        let entry = mix.entry(
            n,
            &tally.room_id,
            format!("{label}-{n}"),
            body(n),
            target.as_deref(),
            false,
        );
        let id = entry.emit(&mut client).await?;
        tally.sent += 1;
        let (check, room_id) = (&mut tally.check, &tally.room_id);
        let acked = wait_ack(&mut client, id, |incoming| see(check, incoming, room_id)).await?;
        match acked.ack::<SendMessage>()? {
            AckResult::Ok(ack) => {
                tally.acked_ok += 1;
                if ack.message.change.is_none() {
                    target = Some(ack.message.id.clone());
                }
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
    Ok((client, tally))
}

/// Reads the broadcasts still on their way, up to seq `until`, then closes the client. In a
/// shared room the relay may have skipped some for a slow reader: once nothing has come for
/// [`DRAIN_IDLE`], the rest count as missed.
async fn drain(
    mut client: Client,
    mut tally: Tally,
    until: Seq,
    shared: bool,
) -> Result<Tally, Error> {
    let deadline = tokio::time::Instant::now() + REQUEST_TIMEOUT;
    while tally.check.missing(until) > 0 {
        let wait = if shared {
            deadline.min(tokio::time::Instant::now() + DRAIN_IDLE)
        } else {
            deadline
        };
        match tokio::time::timeout_at(wait, client.recv()).await {
            Ok(incoming) => see(&mut tally.check, &incoming?, &tally.room_id)?,
            Err(_) if shared => break,
            Err(_) => return Err(Error::Timeout("the last broadcasts")),
        }
    }
    tally.missed = tally.check.missing(until);
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
