//! The desktop client core (natter-client) against a relay restart, and at rest.
//!
//! **Catch-up**: bob's [`Session`] connects once (so its profile knows the room) and stops; alice
//! sends N messages with the bench's own Socket.IO client; the relay is killed and started again
//! on the same port and data directory; bob's session starts again from the same profile. Timed
//! from `Session::start` (the relay is already listening) until the N-th message event, and
//! until the session says `connected` (announced once its catch-up is done). Every run uses a
//! fresh relay database and a fresh profile, and must deliver seqs 1..=N, each once, in order,
//! both as events and in the cache.
//!
//! **Idle**: bob stays connected after the last run while nothing happens; the bench process's
//! own CPU time (`/proc/self/stat`: utime + stime of every thread) is read before and after.
//! The relay is another process, so what is counted is the client (and the bench's idle runtime).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use natter_client::session::{AppEvent, AppEvents, ConnectionView, Session, SessionConfig};
use natter_protocol::model::Seq;
use natter_protocol::requests::SendMessage;
use serde::Serialize;

use natter_testkit::process::RelayProcess;
use natter_testkit::{procfs, sio};

use super::{body, create_room, expect_ok, Error, SeqCheck, REQUEST_TIMEOUT};
use crate::relay::{self, run_prefix, Target};

/// How long a session may take to connect the first time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the catch-up after the restart may take before the run is declared broken.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);
/// Quiet time after the last catch-up before the idle window opens.
const SETTLE: Duration = Duration::from_secs(1);

/// Starts and kills relays for the scenario: the release binary as a child process, or (in
/// tests) a relay in-process.
pub trait RelayHost {
    /// Starts a relay listening on `bind` (`host:port`, port 0 for a fresh one) with its
    /// database in `data_dir`, and returns where it listens once it does.
    fn start(&mut self, bind: &str, data_dir: &Path)
        -> impl Future<Output = Result<Target, Error>>;
    /// Stops the running relay (the child process is killed: a crash, not a shutdown) and waits
    /// until it is gone.
    fn kill(&mut self) -> impl Future<Output = ()>;
}

/// The relay binary, started as a child process.
#[derive(Debug)]
pub struct ChildRelays {
    bin: PathBuf,
    running: Option<RelayProcess>,
}

impl ChildRelays {
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        Self {
            bin: bin.into(),
            running: None,
        }
    }
}

impl RelayHost for ChildRelays {
    async fn start(&mut self, bind: &str, data_dir: &Path) -> Result<Target, Error> {
        self.kill().await;
        let bind = bind
            .parse()
            .map_err(|_| Error::Setup(format!("not an address and port: {bind}")))?;
        let relay = relay::start_at(&self.bin, bind, data_dir).await?;
        let target = Target::from(relay.addr());
        self.running = Some(relay);
        Ok(target)
    }

    async fn kill(&mut self) {
        if let Some(relay) = self.running.take() {
            let _ = relay.kill9().await;
        }
    }
}

/// The client scenario's options, and their flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ClientOptions {
    /// Messages sent while the client is away, caught up after the relay restart.
    #[arg(long, default_value_t = 1_000)]
    pub messages: usize,
    /// Catch-up runs, each with a fresh relay database and a fresh profile.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// The idle window after the last run, in seconds (0: no idle measurement).
    #[arg(long = "idle-seconds", default_value = "30", value_parser = super::seconds)]
    pub idle: Duration,
}

/// One catch-up after a relay restart.
#[derive(Debug, Clone, Serialize)]
pub struct CatchUpRun {
    /// Relay killed → the new one listening on the same port (not part of the catch-up time).
    pub relay_restart_ms: f64,
    /// `Session::start` → the first missed message announced.
    pub first_message_ms: f64,
    /// `Session::start` → the last missed message announced (all of them in the cache).
    pub all_messages_ms: f64,
    /// `Session::start` → `connected` announced (the catch-up loop finished: `more` is false).
    pub connected_ms: f64,
    /// Distinct seqs announced, each once and in order (= `messages`).
    pub received: u64,
    /// Messages of the room in the cache afterwards, seqs 1..=N (= `messages`).
    pub cached: usize,
}

/// Median, min and max over the runs, in ms.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.into_iter().collect();
        v.sort_by(f64::total_cmp);
        let median = match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Self {
            median,
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// The connected client at rest.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    pub seconds: f64,
    /// utime + stime of the bench process over the window (resolution: one clock tick).
    pub cpu_seconds: f64,
    pub cpu_seconds_per_minute: f64,
    /// The kernel's clock ticks per second (`AT_CLKTCK`), i.e. the resolution of `cpu_seconds`.
    pub clock_ticks_per_second: u64,
    /// The same window from the scheduler, per thread (`/proc/self/task/*/schedstat`, ns
    /// precision): on-CPU time of the threads alive at the end (a thread that exited during the
    /// window is not counted, see `threads_exited`).
    pub thread_cpu_ms: f64,
    pub thread_cpu_ms_per_minute: f64,
    /// Times a thread of the process was scheduled in: roughly its wakeups.
    pub thread_wakeups: u64,
    pub thread_wakeups_per_minute: f64,
    /// Threads at the start / the end of the window, and those gone by the end.
    pub threads_before: usize,
    pub threads_after: usize,
    pub threads_exited: usize,
    /// App events during the window (0 when nothing happened: no reconnects, no messages).
    pub events: u64,
    /// Whether the session was still connected at the end.
    pub connected_at_end: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientReport {
    pub messages: usize,
    pub runs: Vec<CatchUpRun>,
    pub all_messages_ms: Spread,
    pub connected_ms: Spread,
    pub first_message_ms: Spread,
    pub relay_restart_ms: Spread,
    pub idle: Option<IdleReport>,
}

impl ClientReport {
    /// The results as markdown tables.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| catch-up of {} missed messages after a relay restart ({} runs) | median | min | max |",
            self.messages,
            self.runs.len()
        );
        out.push_str("|---|---:|---:|---:|\n");
        let mut row = |what: &str, s: &Spread| {
            let _ = writeln!(
                out,
                "| {what} | {:.0} ms | {:.0} ms | {:.0} ms |",
                s.median, s.min, s.max
            );
        };
        row(
            "`Session::start` → last missed message in the cache",
            &self.all_messages_ms,
        );
        row(
            "`Session::start` → `connected` (catch-up done)",
            &self.connected_ms,
        );
        row(
            "`Session::start` → first missed message",
            &self.first_message_ms,
        );
        row(
            "relay killed → listening again (not counted above)",
            &self.relay_restart_ms,
        );
        let ok = self
            .runs
            .iter()
            .all(|r| r.received == self.messages as u64 && r.cached == self.messages);
        let _ = writeln!(
            out,
            "\nevery run: {} distinct seqs announced once, in order, and cached: {}",
            self.messages,
            if ok { "yes" } else { "NO" }
        );
        if let Some(idle) = &self.idle {
            let _ = writeln!(
                out,
                "\n| idle, connected | window | CPU (utime+stime) | CPU-s per minute \
                 | threads' CPU (schedstat) | per minute | wakeups per minute | events \
                 | connected at end |"
            );
            out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
            let _ = writeln!(
                out,
                "| bench process (the client) | {:.0} s | {:.2} s | {:.4} | {:.2} ms | {:.2} ms \
                 | {:.0} | {} | {} |",
                idle.seconds,
                idle.cpu_seconds,
                idle.cpu_seconds_per_minute,
                idle.thread_cpu_ms,
                idle.thread_cpu_ms_per_minute,
                idle.thread_wakeups_per_minute,
                idle.events,
                idle.connected_at_end
            );
        }
        out
    }
}

pub async fn run(relays: &mut impl RelayHost, opts: ClientOptions) -> Result<ClientReport, Error> {
    if opts.runs == 0 || opts.messages == 0 {
        return Err(Error::Setup("runs and messages must be at least 1".into()));
    }
    let prefix = run_prefix();
    let mut runs = Vec::with_capacity(opts.runs);
    let mut idle = None;
    for i in 0..opts.runs {
        let last = i + 1 == opts.runs;
        let data = tempdir("natter-bench-client-relay-")?;
        let profile = tempdir("natter-bench-client-profile-")?;
        let result = catch_up(relays, &prefix, i, data.path(), profile.path(), opts).await;
        let (run, session, events) = match result {
            Ok(done) => done,
            Err(e) => {
                relays.kill().await;
                return Err(e);
            }
        };
        runs.push(run);
        if last && !opts.idle.is_zero() {
            idle = Some(measure_idle(&session, events, opts.idle).await);
        }
        session.stop().await;
        relays.kill().await;
    }
    Ok(ClientReport {
        messages: opts.messages,
        all_messages_ms: Spread::of(runs.iter().map(|r| r.all_messages_ms)),
        connected_ms: Spread::of(runs.iter().map(|r| r.connected_ms)),
        first_message_ms: Spread::of(runs.iter().map(|r| r.first_message_ms)),
        relay_restart_ms: Spread::of(runs.iter().map(|r| r.relay_restart_ms)),
        runs,
        idle,
    })
}

fn tempdir(prefix: &str) -> Result<tempfile::TempDir, Error> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| Error::Setup(format!("cannot create a temporary directory: {e}")))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// One run; returns bob's session, still connected after its catch-up, with its events.
async fn catch_up(
    relays: &mut impl RelayHost,
    prefix: &str,
    run: usize,
    data_dir: &Path,
    profile_dir: &Path,
    opts: ClientOptions,
) -> Result<(CatchUpRun, Session, AppEvents), Error> {
    let target = relays.start("127.0.0.1:0", data_dir).await?;
    let addr = target.addr().to_owned();
    let url = format!("http://{addr}");
    let alice = target.register(&format!("{prefix}-c{run}-alice")).await?;
    let bob = target.register(&format!("{prefix}-c{run}-bob")).await?;
    let mut sender = sio::Client::connect(&addr, &alice.token).await?;
    let room_id = create_room(
        &mut sender,
        format!("{prefix} client {run}"),
        vec![bob.user.username.clone()],
    )
    .await?;

    // Bob connects once, so his profile knows the room and its cursor (0), then goes away.
    let config = SessionConfig::new(profile_dir, url.clone(), bob.token.clone());
    let (session, mut events) = Session::start(config.clone()).await?;
    wait_connected(&mut events, CONNECT_TIMEOUT).await?;
    session.stop().await;

    for n in 0..opts.messages {
        let req = SendMessage {
            room_id: room_id.clone(),
            client_id: format!("{prefix}-c{run}-{n}"),
            body: body(n),
        };
        let ack = expect_ok::<SendMessage>(sender.request(&req, REQUEST_TIMEOUT).await?)?;
        let expected = Seq::try_from(n + 1).unwrap_or(Seq::MAX);
        if ack.message.seq != expected {
            return Err(Error::Broken(format!(
                "send {n} was acked as seq {}, expected {expected}",
                ack.message.seq
            )));
        }
    }
    sender.close().await;

    let restart = Instant::now();
    relays.kill().await;
    relays.start(&addr, data_dir).await?;
    let relay_restart = restart.elapsed();

    let start = Instant::now();
    let (session, mut events) = Session::start(config).await?;
    let watched = watch_catch_up(&mut events, &room_id, opts.messages, start).await;
    let (first, all, connected, received) = match watched {
        Ok(times) => times,
        Err(e) => {
            session.stop().await;
            return Err(e);
        }
    };
    let cached = check_cache(&session, &room_id, opts.messages).await;
    let cached = match cached {
        Ok(n) => n,
        Err(e) => {
            session.stop().await;
            return Err(e);
        }
    };
    let run = CatchUpRun {
        relay_restart_ms: ms(relay_restart),
        first_message_ms: ms(first),
        all_messages_ms: ms(all),
        connected_ms: ms(connected),
        received,
        cached,
    };
    Ok((run, session, events))
}

/// Waits until the session announces `connected`.
async fn wait_connected(events: &mut AppEvents, timeout: Duration) -> Result<(), Error> {
    tokio::time::timeout(timeout, async {
        loop {
            match events.recv().await {
                Some(AppEvent::Connection {
                    state: ConnectionView::Connected { .. },
                }) => return Ok(()),
                Some(_) => {}
                None => return Err(Error::Broken("the session stopped".into())),
            }
        }
    })
    .await
    .map_err(|_| Error::Timeout("the client session to connect"))?
}

/// Reads events until all `messages` of `room_id` were announced (strictly seq 1, 2, …, each
/// once) and the session said `connected`. Returns the times of the first message, the last
/// message and `connected` since `start`, and the distinct seqs seen.
async fn watch_catch_up(
    events: &mut AppEvents,
    room_id: &str,
    messages: usize,
    start: Instant,
) -> Result<(Duration, Duration, Duration, u64), Error> {
    let want = messages as u64;
    let mut check = SeqCheck::strict();
    let (mut first, mut all, mut connected) = (None, None, None);
    tokio::time::timeout(CATCH_UP_TIMEOUT, async {
        while all.is_none() || connected.is_none() {
            match events.recv().await {
                Some(AppEvent::Message { message }) if message.room_id == room_id => {
                    check.see(message.seq)?;
                    first.get_or_insert_with(|| start.elapsed());
                    if check.seen == want {
                        all = Some(start.elapsed());
                    } else if check.seen > want {
                        return Err(Error::Broken(format!(
                            "seq {} announced, only {want} were sent",
                            message.seq
                        )));
                    }
                }
                Some(AppEvent::Connection {
                    state: ConnectionView::Connected { .. },
                }) => {
                    connected.get_or_insert_with(|| start.elapsed());
                }
                Some(_) => {}
                None => return Err(Error::Broken("the session stopped".into())),
            }
        }
        Ok(())
    })
    .await
    .map_err(|_| Error::Timeout("the catch-up after the relay restart"))??;
    match (first, all, connected) {
        (Some(first), Some(all), Some(connected)) => Ok((first, all, connected, check.seen)),
        _ => Err(Error::Broken("the catch-up ended early".into())),
    }
}

/// The room's cached messages must be exactly seqs 1..=messages.
async fn check_cache(session: &Session, room_id: &str, messages: usize) -> Result<usize, Error> {
    let limit = u32::try_from(messages + 10).unwrap_or(u32::MAX);
    let cached = session.messages(room_id, None, limit).await?;
    let in_order = cached
        .iter()
        .enumerate()
        .all(|(i, m)| Seq::try_from(i + 1).is_ok_and(|seq| m.seq == seq));
    if cached.len() != messages || !in_order {
        return Err(Error::Broken(format!(
            "the cache holds {} messages of the room, expected seqs 1..={messages}",
            cached.len()
        )));
    }
    Ok(cached.len())
}

/// Leaves the connected session alone for `window` and counts the process's CPU time.
async fn measure_idle(session: &Session, mut events: AppEvents, window: Duration) -> IdleReport {
    // Let the catch-up's tail (cache writes, the first liveness tick) pass.
    let settle = tokio::time::sleep(SETTLE);
    tokio::pin!(settle);
    loop {
        tokio::select! {
            _ = &mut settle => break,
            event = events.recv() => if event.is_none() { break },
        }
    }
    let ticks = procfs::clock_ticks_per_second();
    let threads_before = procfs::thread_schedstats();
    let before = procfs::cpu_ticks(std::process::id()).ok();
    let started = Instant::now();
    let mut count = 0u64;
    let end = tokio::time::sleep(window);
    tokio::pin!(end);
    loop {
        tokio::select! {
            _ = &mut end => break,
            event = events.recv() => match event {
                Some(_) => count += 1,
                None => break,
            },
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = procfs::cpu_ticks(std::process::id()).ok();
    let threads_after = procfs::thread_schedstats();
    let (mut run_ns, mut wakeups) = (0u64, 0u64);
    for (tid, (ns, slices)) in &threads_after {
        let (ns0, slices0) = threads_before.get(tid).copied().unwrap_or_default();
        run_ns += ns.saturating_sub(ns0);
        wakeups += slices.saturating_sub(slices0);
    }
    let threads_exited = threads_before
        .keys()
        .filter(|tid| !threads_after.contains_key(*tid))
        .count();
    let thread_cpu_ms = run_ns as f64 / 1e6;
    let cpu_seconds = match (before, after) {
        (Some(b), Some(a)) => a.saturating_sub(b) as f64 / ticks as f64,
        _ => f64::NAN,
    };
    let connected_at_end = matches!(
        session.connection_view(),
        natter_client::session::ConnectionView::Connected { .. }
    );
    IdleReport {
        seconds,
        cpu_seconds,
        cpu_seconds_per_minute: cpu_seconds * 60.0 / seconds,
        clock_ticks_per_second: ticks,
        thread_cpu_ms,
        thread_cpu_ms_per_minute: thread_cpu_ms * 60.0 / seconds,
        thread_wakeups: wakeups,
        thread_wakeups_per_minute: wakeups as f64 * 60.0 / seconds,
        threads_before: threads_before.len(),
        threads_after: threads_after.len(),
        threads_exited,
        events: count,
        connected_at_end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_counts() {
        let s = Spread::of([3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        let s = Spread::of([4.0, 1.0, 2.0, 3.0]);
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
    }
}
