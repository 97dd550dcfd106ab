//! Unloaded latency: one sender and one receiver share a fresh room; the sender sends one message
//! at a time and waits for both its ack and the receiver's copy of the broadcast before the next.
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
    /// Broadcasts the receiver got, each once and in `seq` order.
    pub received: u64,
    /// `message:send` emitted → its ack read by the sender.
    pub ack: Summary,
    /// `message:send` emitted → the `message` broadcast read by the receiver.
    pub broadcast: Summary,
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
    let names = [format!("{prefix}-lat-tx"), format!("{prefix}-lat-rx")];
    let mut users = target.connect_users(&names).await?.into_iter();
    let (Some((_, mut sender)), Some((receiver_account, receiver))) = (users.next(), users.next())
    else {
        return Err(Error::Setup("two users were not connected".into()));
    };
    let room_id = create_room(
        &mut sender,
        format!("{prefix} latency"),
        vec![receiver_account.user.username],
    )
    .await?;

    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::spawn(listen(receiver, room_id.clone(), seen_tx, stop_rx));

    let mut ack = Recorder::new();
    let mut broadcast = Recorder::new();
    let mut check = SeqCheck::strict();
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
        let seen = match tokio::time::timeout(REQUEST_TIMEOUT, seen_rx.recv()).await {
            Ok(Some(seen)) => seen,
            // The listener stopped: its own error says why.
            Ok(None) => {
                return Err(listener
                    .await?
                    .err()
                    .unwrap_or(Error::Broken("the receiver stopped".into())))
            }
            Err(_) => return Err(Error::Timeout("the broadcast at the receiver")),
        };
        check.see(seen.seq)?;
        if seen.seq != message.seq {
            return Err(Error::Broken(format!(
                "receiver got seq {} while seq {} was expected",
                seen.seq, message.seq
            )));
        }
        if (opts.warmup..opts.warmup + opts.messages).contains(&n) {
            ack.record(acked.at - start);
            broadcast.record(seen.at.saturating_duration_since(start));
        }
    }

    let _ = stop_tx.send(());
    let receiver = listener.await??;
    tokio::join!(sender.close(), receiver.close());
    Ok(LatencyReport {
        messages: opts.messages,
        warmup: opts.warmup,
        sent,
        received: check.seen,
        ack: ack.summary(),
        broadcast: broadcast.summary(),
        ack_curve: ack.curve(),
    })
}

/// Forwards every `message` broadcast of `room_id` with the instant it was read, until stopped.
async fn listen(
    mut client: Client,
    room_id: String,
    seen: mpsc::UnboundedSender<Seen>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<Client, Error> {
    loop {
        let incoming = tokio::select! {
            incoming = client.recv() => incoming?,
            _ = &mut stop => return Ok(client),
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
