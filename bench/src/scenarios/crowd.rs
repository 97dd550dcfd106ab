//! Idle density and the reconnect storm, on one crowd of N idle connections; the method is
//! docs/benchmarks.md's (Scenarios: `crowd`). On several nodes socket `i` goes to node `i` in
//! turn, the nodes' memory is added up, and the prober on the first node reaches the others'
//! sockets through them.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use natter_protocol::events::MessageEvent;
use natter_protocol::http::AuthResponse;
use natter_protocol::requests::{ListRooms, SendMessage};
use natter_protocol::GENERAL_ROOM_ID;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{expect_ok, millis, seconds, Error, REQUEST_TIMEOUT};
use crate::relay::{run_prefix, Target};
use crate::stats::{Recorder, Summary};
use natter_testkit::procfs::{self, Memory, SockStat};
use natter_testkit::sio::Client;

/// Connects in flight at once while the crowd gathers.
const CONNECT_CONCURRENCY: usize = 64;
/// How long a probe may take to reach every socket.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// Pause between reconnect attempts of one client.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The density and storm options, and their flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct CrowdOptions {
    /// Density and storm: idle connections.
    #[arg(long, default_value_t = 5_000)]
    pub connections: usize,
    /// Density and storm: sockets per user (one token each user; the relay hashes a password
    /// per registration).
    #[arg(
        id = "crowd_sockets_per_user",
        long = "crowd-sockets-per-user",
        default_value_t = 100
    )]
    pub sockets_per_user: usize,
    /// Pause before each memory reading, for the server to settle.
    #[arg(skip = Duration::from_secs(2))]
    pub settle: Duration,
    /// Storm: each client reconnects after a random delay below this, in ms.
    #[arg(long = "storm-jitter-ms", default_value = "500", value_parser = millis)]
    pub jitter: Duration,
    /// Storm: clients not re-joined this many seconds after the drop are lost.
    #[arg(long = "storm-deadline-seconds", default_value = "30", value_parser = seconds)]
    pub deadline: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DensityReport {
    pub connections: usize,
    pub users: usize,
    /// Wall time to connect all N (CONNECT_CONCURRENCY in flight).
    pub connect_seconds: f64,
    pub server_before: Memory,
    pub server_after: Memory,
    /// (after − before) / N, bytes.
    pub rss_per_connection: f64,
    pub pss_per_connection: f64,
    pub kernel_before: SockStat,
    pub kernel_after: SockStat,
    /// Kernel TCP memory delta / N, bytes (both ends of each loopback connection).
    pub kernel_per_connection: f64,
    /// Sockets that got the probe to `general` (must be all N).
    pub probe_received: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StormReport {
    pub connections: usize,
    pub jitter_ms: f64,
    /// Drop → CONNECT acked, of the sockets that made it.
    pub rejoin: Summary,
    /// Drop → the moment 99% of N were re-joined; `None` if fewer than 99% made it.
    pub to_99_percent_ms: Option<f64>,
    pub to_all_ms: Option<f64>,
    pub reconnected: u64,
    /// Connect attempts refused or failed before success (retried).
    pub failed_attempts: u64,
    /// Reconnected sockets that got the second probe.
    pub probe_received: u64,
    /// Not re-joined by the deadline, or re-joined but missing the probe.
    pub lost: u64,
    /// Connections the kernel dropped for a full accept queue during the storm (machine-wide
    /// counter; the client retries its SYN after 1 s, 3 s, 7 s …).
    pub listen_overflows: u64,
}

/// What a holder task reports: it saw the probe with this body.
type ProbeSeen = mpsc::UnboundedSender<String>;

pub async fn run(
    target: &Target,
    pids: &[u32],
    opts: CrowdOptions,
) -> Result<(DensityReport, StormReport), Error> {
    let n = opts.connections;
    if n == 0 || opts.sockets_per_user == 0 {
        return Err(Error::Setup(
            "connections and sockets per user must be > 0".into(),
        ));
    }
    if pids.is_empty() {
        return Err(Error::Setup("the server's pid is unknown".into()));
    }
    let prefix = run_prefix();
    let users_n = n.div_ceil(opts.sockets_per_user);
    let names: Vec<String> = (0..=users_n).map(|u| format!("{prefix}-c{u}")).collect();
    let users = target.register_users(&names).await?;
    // The last user is the prober's, outside the crowd.
    let (prober_account, crowd_users) = users
        .split_last()
        .ok_or_else(|| Error::Setup("no users".into()))?;
    // The prober connects only to probe (an idle socket nobody reads gets dropped).
    let prober = Prober {
        addr: target.addr(),
        token: &prober_account.token,
    };
    let general = prober.general_room().await?;

    let read = |what| memory(pids).map_err(|e| Error::Setup(format!("{what}: {e}")));
    let socks = || procfs::sockstat().map_err(|e| Error::Setup(e.to_string()));
    tokio::time::sleep(opts.settle).await;
    let server_before = read("memory before")?;
    let kernel_before = socks()?;

    let started = Instant::now();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let clients: Vec<Client> = futures_util::stream::iter(0..n)
        .map(|i| {
            let token = crowd_users[i % crowd_users.len()].token.clone();
            let addr = target.node(i).to_owned();
            async move { Client::connect_from(&addr, &token, Some(source(i))).await }
        })
        .buffered(CONNECT_CONCURRENCY)
        .try_collect()
        .await?;
    let connect_seconds = started.elapsed().as_secs_f64();
    let holders: Vec<JoinHandle<()>> = clients
        .into_iter()
        .map(|c| tokio::spawn(hold(c, seen_tx.clone())))
        .collect();
    tokio::time::sleep(opts.settle).await;
    let server_after = read("memory after")?;
    let kernel_after = socks()?;
    let per = |after: u64, before: u64| (after as f64 - before as f64) * 1024.0 / n as f64;
    let probe_received = prober
        .probe(&general, "probe-1", n as u64, &mut seen_rx)
        .await?;
    let density = DensityReport {
        connections: n,
        users: crowd_users.len(),
        connect_seconds,
        server_before,
        server_after,
        rss_per_connection: per(server_after.rss_kib, server_before.rss_kib),
        pss_per_connection: per(server_after.pss_kib, server_before.pss_kib),
        kernel_before,
        kernel_after,
        kernel_per_connection: per(kernel_after.tcp_mem_kib, kernel_before.tcp_mem_kib),
        probe_received,
    };

    let overflows = || procfs::listen_overflows().map_err(|e| Error::Setup(e.to_string()));
    let overflows_before = overflows()?;
    let storm = storm(target, crowd_users, holders, opts, &seen_tx).await?;
    let listen_overflows = overflows()?.saturating_sub(overflows_before);
    let (times, failed_attempts, holders) = storm;
    let reconnected = times.len() as u64;
    let probe_received = prober
        .probe(&general, "probe-2", reconnected, &mut seen_rx)
        .await?;
    for h in &holders {
        h.abort();
    }
    let mut rejoin = Recorder::new();
    let mut sorted = times;
    sorted.sort_unstable();
    for t in &sorted {
        rejoin.record(*t);
    }
    let nth = |count: usize| {
        (count > 0 && sorted.len() >= count).then(|| sorted[count - 1].as_secs_f64() * 1_000.0)
    };
    let storm = StormReport {
        connections: n,
        jitter_ms: opts.jitter.as_secs_f64() * 1_000.0,
        rejoin: rejoin.summary(),
        to_99_percent_ms: nth((n * 99).div_ceil(100)),
        to_all_ms: nth(n),
        reconnected,
        failed_attempts,
        probe_received,
        lost: n as u64 - probe_received,
        listen_overflows,
    };
    Ok((density, storm))
}

/// The memory of every process of the server, added up.
fn memory(pids: &[u32]) -> Result<Memory, procfs::Error> {
    let mut sum = Memory::default();
    for &pid in pids {
        let m = procfs::memory(pid)?;
        sum.rss_kib += m.rss_kib;
        sum.pss_kib += m.pss_kib;
    }
    Ok(sum)
}

/// 127.0.0.2 … 127.0.0.251 in turn: each source address has its own ephemeral ports.
fn source(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % 250) as u8))
}

/// Keeps one idle socket alive (answering pings) and reports each probe it sees.
async fn hold(mut client: Client, seen: ProbeSeen) {
    while let Ok(incoming) = client.recv().await {
        if let Some(Ok(event)) = incoming.event::<MessageEvent>() {
            if event.message.body.starts_with("probe-") {
                let _ = seen.send(event.message.body);
            }
        }
    }
}

/// A user outside the crowd who sends the probes, each over a fresh connection.
struct Prober<'a> {
    addr: &'a str,
    token: &'a str,
}

impl Prober<'_> {
    /// The id of `general`, checked against the prober's `rooms:list`.
    async fn general_room(&self) -> Result<String, Error> {
        let mut client = Client::connect(self.addr, self.token).await?;
        let ack = client.request(&ListRooms {}, REQUEST_TIMEOUT).await?;
        client.close().await;
        expect_ok::<ListRooms>(ack)?
            .rooms
            .into_iter()
            .find(|r| r.id == GENERAL_ROOM_ID)
            .map(|r| r.id)
            .ok_or_else(|| Error::Setup("rooms:list has no general room".into()))
    }

    /// Sends `body` to `general` and counts the holders that see it, until `expected` did or
    /// [`PROBE_TIMEOUT`] passed.
    async fn probe(
        &self,
        general: &str,
        body: &str,
        expected: u64,
        seen: &mut mpsc::UnboundedReceiver<String>,
    ) -> Result<u64, Error> {
        let mut client = Client::connect(self.addr, self.token).await?;
        let req = SendMessage {
            room_id: general.to_owned(),
            client_id: format!("{body}-{}", run_prefix()),
            body: body.to_owned(),
            reply_to: None,
            attachments: Vec::new(),
        };
        let ack = client.request(&req, REQUEST_TIMEOUT).await;
        client.close().await;
        expect_ok::<SendMessage>(ack?)?;
        let deadline = tokio::time::Instant::now() + PROBE_TIMEOUT;
        let mut count = 0;
        while count < expected {
            match tokio::time::timeout_at(deadline, seen.recv()).await {
                Ok(Some(b)) if b == body => count += 1,
                Ok(Some(_)) => {} // a late copy of an earlier probe
                Ok(None) | Err(_) => break,
            }
        }
        Ok(count)
    }
}

type StormOutcome = (Vec<Duration>, u64, Vec<JoinHandle<()>>);
/// One client back: drop → CONNECT acked, and the task holding its socket.
type Rejoined = (Duration, JoinHandle<()>);

/// Drops every holder's socket at once, then reconnects each; returns the re-join times, the
/// failed attempts and the new holders.
async fn storm(
    target: &Target,
    users: &[AuthResponse],
    holders: Vec<JoinHandle<()>>,
    opts: CrowdOptions,
    seen: &ProbeSeen,
) -> Result<StormOutcome, Error> {
    for h in &holders {
        h.abort();
    }
    let dropped = Instant::now();
    // Awaiting the aborted tasks makes sure every socket is closed.
    for h in holders {
        let _ = h.await;
    }
    let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = dropped + opts.deadline;
    let tasks: Vec<JoinHandle<Option<Rejoined>>> = (0..opts.connections)
        .map(|i| {
            let token = users[i % users.len()].token.clone();
            let addr = target.node(i).to_owned();
            let failed = Arc::clone(&failed);
            let seen = seen.clone();
            let delay = opts.jitter.mul_f64(rand::random::<f64>());
            tokio::spawn(async move {
                tokio::time::sleep_until((dropped + delay).into()).await;
                while Instant::now() < deadline {
                    match Client::connect_from(&addr, &token, Some(source(i))).await {
                        Ok(client) => {
                            let at = dropped.elapsed();
                            return Some((at, tokio::spawn(hold(client, seen))));
                        }
                        Err(_) => {
                            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            tokio::time::sleep(RETRY_PAUSE).await;
                        }
                    }
                }
                None
            })
        })
        .collect();
    let mut times = Vec::with_capacity(tasks.len());
    let mut holders = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Some((at, holder)) = task.await? {
            times.push(at);
            holders.push(holder);
        }
    }
    let failed = failed.load(std::sync::atomic::Ordering::Relaxed);
    Ok((times, failed, holders))
}
