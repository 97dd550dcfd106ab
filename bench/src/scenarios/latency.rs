//! Unloaded latency: one sender and one receiver share a fresh room; the sender sends one message
//! at a time and waits for both its ack and the receiver's copy of the broadcast before the next.
//! On several nodes a second receiver on another node is in the room too, and the sender waits
//! for its copy as well: same-node and cross-node delivery timed on the same sends.
//! Both clients live in this process, so one monotonic clock times send → ack and
//! send → broadcast received.

use std::time::Instant;

use natter_protocol::events::MessageEvent;
use natter_protocol::model::Seq;
use natter_protocol::requests::SendMessage;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{body, create_room, expect_ok, wait_ack, Error, SeqCheck, REQUEST_TIMEOUT};
use crate::relay::{run_prefix, Target};
use crate::stats::{Recorder, Summary};
use natter_testkit::sio::Client;

/// The quiet round trip's options, and its flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LatencyOptions {
    /// Quiet round trip: sends measured.
    #[arg(long, default_value_t = 2_000)]
    pub messages: usize,
    /// Quiet round trip: sends before measuring, to warm caches, the allocator and the database.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyReport {
    pub messages: usize,
    pub warmup: usize,
    /// Every send, warm-up and closing fence included; all acked `ok`.
    pub sent: usize,
    /// Broadcasts each receiver got, each once and in `seq` order (the fewest of any).
    pub received: u64,
    /// `message:send` emitted → its ack read by the sender.
    pub ack: Summary,
    /// `message:send` emitted → the `message` broadcast read by the receiver (on the sender's
    /// node).
    pub broadcast: Summary,
    /// The same for a receiver on another node, of the same sends; `None` with one node.
    #[serde(default)]
    pub cross_node: Option<Summary>,
    /// The send → ack distribution at [`crate::stats::CURVE_QUANTILES`]: (quantile, µs).
    pub ack_curve: Vec<(f64, f64)>,
}

/// A broadcast as the receiver saw it.
#[derive(Debug)]
struct Seen {
    seq: Seq,
    at: Instant,
}

pub async fn run(target: &Target, opts: LatencyOptions) -> Result<LatencyReport, Error> {
    let prefix = run_prefix();
    // The sender and the first receiver on the first node; on several nodes, a second receiver
    // on another one, seeing the same sends.
    let nodes = if target.node_count() > 1 {
        [0, 0, 1].as_slice()
    } else {
        &[0, 0]
    };
    let names: Vec<String> = (0..nodes.len())
        .map(|i| format!("{prefix}-lat-{i}"))
        .collect();
    let accounts = target.register_users(&names).await?;
    let mut clients = Vec::with_capacity(nodes.len());
    for (account, &node) in accounts.iter().zip(nodes) {
        clients.push(Client::connect(target.node(node), &account.token).await?);
    }
    let mut clients = clients.into_iter();
    let Some(mut sender) = clients.next() else {
        return Err(Error::Setup("no sender was connected".into()));
    };
    let members = accounts
        .iter()
        .skip(1)
        .map(|a| a.user.username.clone())
        .collect();
    let room_id = create_room(&mut sender, format!("{prefix} latency"), members).await?;

    let (stop_tx, _) = tokio::sync::watch::channel(false);
    let mut receivers = Vec::new();
    for client in clients {
        let (seen_tx, seen_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(listen(
            client,
            room_id.clone(),
            seen_tx,
            stop_tx.subscribe(),
        ));
        receivers.push(Receiver {
            seen: seen_rx,
            task,
            check: SeqCheck::strict(),
            broadcast: Recorder::new(),
        });
    }

    let mut ack = Recorder::new();
    // The extra last send is a fence: a duplicate of the last measured broadcast would arrive
    // before the fence's own and be caught.
    let sent = opts.warmup + opts.messages + 1;
    for n in 0..sent {
        let req = SendMessage {
            room_id: room_id.clone(),
            client_id: format!("{prefix}-{n}"),
            body: body(n),
            reply_to: None,
            attachments: Vec::new(),
        };
        let start = Instant::now();
        let id = sender.emit(&req).await?;
        let acked = wait_ack(&mut sender, id, |_| Ok(())).await?;
        let message = expect_ok::<SendMessage>(acked.ack::<SendMessage>()?)?.message;
        let expected = Seq::try_from(n + 1).unwrap_or(Seq::MAX);
        if message.seq != expected || message.client_id != req.client_id {
            return Err(Error::Broken(format!(
                "send {n} was acked as seq {} ({}), expected seq {expected}",
                message.seq, message.client_id
            )));
        }
        let measured = (opts.warmup..opts.warmup + opts.messages).contains(&n);
        if measured {
            ack.record(acked.at - start);
        }
        for receiver in &mut receivers {
            let seen = receiver.next().await?;
            receiver.check.see(seen.seq)?;
            if seen.seq != message.seq {
                return Err(Error::Broken(format!(
                    "receiver got seq {} while seq {} was expected",
                    seen.seq, message.seq
                )));
            }
            if measured {
                receiver
                    .broadcast
                    .record(seen.at.saturating_duration_since(start));
            }
        }
    }

    let _ = stop_tx.send(true);
    let mut received = u64::MAX;
    let mut summaries = Vec::new();
    for receiver in receivers {
        received = received.min(receiver.check.seen);
        summaries.push(receiver.broadcast.summary());
        receiver.task.await??.close().await;
    }
    sender.close().await;
    let mut summaries = summaries.into_iter();
    Ok(LatencyReport {
        messages: opts.messages,
        warmup: opts.warmup,
        sent,
        received,
        ack: ack.summary(),
        broadcast: summaries.next().unwrap_or_default(),
        cross_node: summaries.next(),
        ack_curve: ack.curve(),
    })
}

/// A receiving client's task and what it saw.
struct Receiver {
    seen: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<Result<Client, Error>>,
    check: SeqCheck,
    broadcast: Recorder,
}

impl Receiver {
    /// The next broadcast it saw, within [`REQUEST_TIMEOUT`].
    async fn next(&mut self) -> Result<Seen, Error> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.seen.recv()).await {
            Ok(Some(seen)) => Ok(seen),
            // The listener stopped: its own error says why.
            Ok(None) => Err((&mut self.task)
                .await?
                .err()
                .unwrap_or(Error::Broken("the receiver stopped".into()))),
            Err(_) => Err(Error::Timeout("the broadcast at the receiver")),
        }
    }
}

/// Forwards every `message` broadcast of `room_id` with the instant it was read, until stopped.
async fn listen(
    mut client: Client,
    room_id: String,
    seen: mpsc::UnboundedSender<Seen>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Client, Error> {
    loop {
        let incoming = tokio::select! {
            incoming = client.recv() => incoming?,
            _ = stop.changed() => return Ok(client),
        };
        let Some(event) = incoming.event::<MessageEvent>() else {
            continue;
        };
        let message = event?.message;
        if message.room_id == room_id {
            let _ = seen.send(Seen {
                seq: message.seq,
                at: incoming.at,
            });
        }
    }
}
