//! Fills the fan-out rooms: registers the users, has each room's first user create it (its
//! sender), connects every other socket, and starts a task per socket. Room `r`'s sender is on
//! node `r` and its `s`th socket on node `r + s` (the nodes in turn).

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::{StreamExt, TryStreamExt};
use natter_testkit::sio::Client;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::receive::{receive, Rejoin};
use super::send::{send, SenderRoom};
use super::step::{Order, SenderTally, Shared};
use super::FanoutOptions;
use crate::relay::{run_prefix, Target};
use crate::scenarios::{create_room, Error};
use crate::stats::Recorder;

/// Connects in flight at once while the rooms fill.
const CONNECT_CONCURRENCY: usize = 32;

/// The rooms, full, with a task per socket.
pub(super) struct Running {
    pub(super) users: usize,
    pub(super) shared: Arc<Shared>,
    pub(super) orders: watch::Sender<Order>,
    pub(super) tallies: mpsc::UnboundedReceiver<SenderTally>,
    stop: watch::Sender<bool>,
    readers: Vec<JoinHandle<()>>,
    senders: Vec<JoinHandle<Result<(), Error>>>,
}

pub(super) async fn start(target: &Target, opts: &FanoutOptions) -> Result<Running, Error> {
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
        let mut owner = Client::connect(target.node(r), &group[0].token).await?;
        let others = group[1..].iter().map(|u| u.user.username.clone()).collect();
        room_ids.push(create_room(&mut owner, format!("{prefix} fanout {r}"), others).await?);
        senders.push(owner);
    }
    let mut plan = Vec::new(); // (room, node, token) for every socket but the senders
    for (r, _) in room_ids.iter().enumerate() {
        for s in 1..opts.members {
            let user = &users[r * users_per_room + s / opts.sockets_per_user];
            plan.push((r, target.node(r + s).to_owned(), user.token.clone()));
        }
    }
    let receivers: Vec<(usize, Rejoin, Client)> = futures_util::stream::iter(plan)
        .map(|(r, addr, token)| {
            let rejoin = Rejoin { addr, token };
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
    let (tally_tx, tally_rx) = mpsc::unbounded_channel::<SenderTally>();
    let mut sender_tasks = Vec::new();
    for (r, client) in senders.into_iter().enumerate() {
        let room = room_ids[r].clone();
        let shared = Arc::clone(&shared);
        let (orders, tallies, stop) = (order_rx.clone(), tally_tx.clone(), stop_rx.clone());
        let rejoin = Rejoin {
            addr: target.node(r).to_owned(),
            token: users[r * users_per_room].token.clone(),
        };
        // Spread the senders' clocks evenly over one send interval: started together, they
        // would send at the same instant and every step would be bursts of `rooms` sends.
        let phase = r as f64 / opts.rooms as f64;
        let room = SenderRoom {
            id: room,
            phase,
            mix: opts.mix,
        };
        sender_tasks.push(tokio::spawn(send(
            client, rejoin, room, shared, orders, tallies, stop,
        )));
    }
    Ok(Running {
        users: users.len(),
        shared,
        orders: order_tx,
        tallies: tally_rx,
        stop: stop_tx,
        readers,
        senders: sender_tasks,
    })
}

impl Running {
    /// Stops every socket's task and waits for them.
    pub(super) async fn finish(self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        for task in self.senders {
            let _ = task.await?;
        }
        for task in self.readers {
            task.await?;
        }
        Ok(())
    }
}
