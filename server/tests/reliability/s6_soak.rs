//! S6 soak: many connections held for a long time while messages fan out to them. Long form
//! (`NATTER_RELIABILITY=long`, `--ignored`): 10,000 connections for 30 minutes at 100 messages/s,
//! each message fanned out to the 100 connections of its room. Short form (in CI): 200
//! connections for 10 s. Afterwards: 0 unexpected disconnects, the relay's memory flat after
//! warm-up, its sockets back to the baseline once everyone has left.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_protocol::events::MessageEvent;
use natter_protocol::requests::SendMessage;
use natter_protocol::Event;
use natter_testkit::raw::RawError;
use natter_testkit::RawWs;

use crate::harness::{self, assert_alive, group, long};

const WAIT: Duration = Duration::from_secs(60);
/// Users per room, and connections per user.
const ROOM_USERS: usize = 10;
const CONNS_PER_USER: usize = 10;
/// Messages per second, all rooms together.
const RATE: u64 = 100;

struct Shape {
    conns: usize,
    duration: Duration,
    sample_every: Duration,
}

fn shape() -> Shape {
    let secs = std::env::var("NATTER_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    if long() {
        Shape {
            conns: std::env::var("NATTER_SOAK_CONNS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(10_000),
            duration: Duration::from_secs(secs.unwrap_or(30 * 60)),
            sample_every: Duration::from_secs(10),
        }
    } else {
        Shape {
            conns: 200,
            duration: Duration::from_secs(secs.unwrap_or(10)),
            sample_every: Duration::from_secs(1),
        }
    }
}

/// Counters shared by every receiving connection.
#[derive(Default)]
struct Tally {
    connected: AtomicU64,
    delivered: AtomicU64,
    unexpected_closes: AtomicU64,
}

/// One receiving connection: counts message events until `stop`, then leaves politely.
async fn receiver(
    addr: SocketAddr,
    local: IpAddr,
    token: String,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let mut ws = match RawWs::connect(addr, &token, Some(local), WAIT).await {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("S6: a connection failed: {e}");
            tally.unexpected_closes.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    tally.connected.fetch_add(1, Ordering::SeqCst);
    let prefix = format!("42[\"{}\"", MessageEvent::NAME);
    // Bounded: at most the soak's length plus a margin, checked every second.
    let deadline = Instant::now() + Duration::from_secs(4 * 3600);
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match ws.next_text(Duration::from_secs(1)).await {
            Ok(text) => {
                if text.starts_with(&prefix) {
                    tally.delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(RawError::Timeout(_)) => {}
            Err(e) => {
                if !stop.load(Ordering::SeqCst) {
                    eprintln!("S6: unexpected disconnect: {e}");
                    tally.unexpected_closes.fetch_add(1, Ordering::SeqCst);
                }
                return;
            }
        }
    }
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_soak_short() {
    let _serial = crate::harness::serial().await;
    if long() {
        return; // the long form is `s6_soak_long`
    }
    soak().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "30 minutes: run by `cargo xtask reliability --long`"]
async fn s6_soak_long() {
    let _serial = crate::harness::serial().await;
    assert!(long(), "run with NATTER_RELIABILITY=long");
    soak().await;
}

async fn soak() {
    let shape = shape();
    let soft = natter_testkit::procfs::raise_nofile().unwrap_or(0);
    assert!(
        soft as usize > shape.conns + 1_000,
        "RLIMIT_NOFILE {soft} is too low for {} connections",
        shape.conns
    );
    let dir = tempfile::tempdir().expect("a data dir");
    let mut spec = harness::spec(
        dir.path(),
        &["--send-burst", "100000", "--send-per-second", "100000"],
    );
    spec.raise_nofile = true;
    let (mut relay, api) = harness::start(&spec).await;
    let addr = relay.addr();
    eprintln!(
        "S6: relay RSS at start {} KiB",
        relay.rss_kib().unwrap_or(0)
    );
    let sockets_before = relay.socket_count().expect("socket count");

    // Users in rooms of ten; the first of each room sends into it.
    let users = shape.conns / CONNS_PER_USER;
    let started = Instant::now();
    let mut tokens = Vec::with_capacity(users);
    for chunk in (0..users).collect::<Vec<_>>().chunks(8) {
        let regs = chunk.iter().map(|i| {
            let api = &api;
            async move { api.user(&format!("soak{i:05}")).await.token }
        });
        tokens.extend(futures_util::future::join_all(regs).await);
    }
    let mut senders = Vec::new();
    for room in 0..users / ROOM_USERS {
        let first = room * ROOM_USERS;
        let members: Vec<String> = (first + 1..first + ROOM_USERS)
            .map(|i| format!("soak{i:05}"))
            .collect();
        let members: Vec<&str> = members.iter().map(String::as_str).collect();
        let owner = api
            .connect(&format!("soak{first:05}"), &tokens[first])
            .await
            .expect("connect");
        let r = group(&owner, &format!("soak room {room}"), &members).await;
        owner.close().await;
        senders.push((r.id, first));
    }
    eprintln!(
        "S6: {users} users, {} rooms set up in {:?}",
        senders.len(),
        started.elapsed()
    );

    // Everyone connects, from 127.0.0.2.. so no one source address runs out of ports.
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut receivers = Vec::with_capacity(shape.conns);
    let started = Instant::now();
    for i in 0..shape.conns {
        let local = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            (i / 250) as u8 % 250,
            2 + (i % 250) as u8,
        ));
        let token = tokens[i / CONNS_PER_USER].clone();
        receivers.push(tokio::spawn(receiver(
            addr,
            local,
            token,
            stop.clone(),
            tally.clone(),
        )));
        // A steady pace instead of a thundering herd.
        if i % 100 == 99 {
            while (tally.connected.load(Ordering::SeqCst) as usize) + 50 < i {
                tokio::time::sleep(Duration::from_millis(20)).await;
                assert!(
                    started.elapsed() < Duration::from_secs(900),
                    "connecting takes too long"
                );
            }
        }
    }
    while (tally.connected.load(Ordering::SeqCst) as usize) < shape.conns {
        assert_eq!(
            tally.unexpected_closes.load(Ordering::SeqCst),
            0,
            "every connection succeeds"
        );
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "connecting takes too long"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "S6: {} connections up in {:?}; relay RSS {} KiB",
        shape.conns,
        started.elapsed(),
        relay.rss_kib().unwrap_or(0)
    );

    // The senders connect last: idle while everyone else connects, they would miss their pings.
    let mut senders_ws = Vec::with_capacity(senders.len());
    for (room, first) in senders {
        let ws = RawWs::connect(addr, &tokens[first], None, WAIT)
            .await
            .expect("a sender connects");
        senders_ws.push((room, ws));
    }
    let mut senders = senders_ws;

    // The soak: RATE messages/s round-robin over the rooms; acks read as they come.
    let started = Instant::now();
    let mut next_sample = Instant::now();
    let mut samples: Vec<(Duration, u64, usize)> = Vec::new();
    let mut sent = 0u64;
    let rooms = senders.len();
    // Per sender: sends made, acks read.
    let mut sent_by = vec![0u64; rooms];
    let mut acked_by = vec![0u64; rooms];
    while started.elapsed() < shape.duration {
        let due = started.elapsed().as_millis() as u64 * RATE / 1_000;
        while sent < due {
            let k = (sent as usize) % rooms;
            let (room, ws) = &mut senders[k];
            sent_by[k] += 1;
            let req = SendMessage {
                room_id: room.clone(),
                client_id: format!("soak-{sent}"),
                body: format!("soak message {sent}"),
                reply_to: None,
                attachments: Vec::new(),
            };
            let json = serde_json::to_string(&req).expect("serializes");
            ws.emit(SendMessage::NAME, &json)
                .await
                .expect("a sender stays connected");
            sent += 1;
        }
        for (k, (_, ws)) in senders.iter_mut().enumerate() {
            while let Ok(text) = ws.next_text(Duration::from_millis(1)).await {
                if text.starts_with("43") {
                    assert!(
                        text.contains("\"ok\":true"),
                        "a soak send refused: {text:.200}"
                    );
                    acked_by[k] += 1;
                }
            }
        }
        if Instant::now() >= next_sample {
            next_sample += shape.sample_every;
            let rss = relay.rss_kib().expect("RSS");
            let sockets = relay.socket_count().expect("sockets");
            samples.push((started.elapsed(), rss, sockets));
            assert_alive(&mut relay, "during the soak");
            assert_eq!(
                tally.unexpected_closes.load(Ordering::SeqCst),
                0,
                "no unexpected disconnect"
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let soak_time = started.elapsed();
    // The last acks.
    for (k, (_, ws)) in senders.iter_mut().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(10);
        while acked_by[k] < sent_by[k] && Instant::now() < deadline {
            match ws.next_text(Duration::from_millis(200)).await {
                Ok(text) if text.starts_with("43") => acked_by[k] += 1,
                Ok(_) | Err(RawError::Timeout(_)) => {}
                Err(e) => panic!("a sender lost its connection: {e}"),
            }
        }
    }
    // Every acked message goes to each of its room's connections: wait (bounded) for the last
    // broadcasts to arrive, then everyone leaves.
    let expected = sent * (ROOM_USERS * CONNS_PER_USER) as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.delivered.load(Ordering::SeqCst) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // (A duplicate arriving after that is still counted: each receiver reads until it sees
    // `stop`, up to a second later.)
    let unexpected = tally.unexpected_closes.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    for r in receivers {
        r.await.expect("a receiver task");
    }
    for (_, ws) in senders {
        ws.close().await;
    }
    let mut sockets_after = relay.socket_count().expect("sockets");
    for _ in 0..240 {
        if sockets_after <= sockets_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        sockets_after = relay.socket_count().expect("sockets");
    }
    assert_alive(&mut relay, "after the soak");

    let acked: u64 = acked_by.iter().sum();
    let delivered = tally.delivered.load(Ordering::SeqCst);
    // Memory after warm-up (the first fifth): its highest and lowest sample.
    let warm: Vec<u64> = samples
        .iter()
        .filter(|(at, _, _)| *at >= shape.duration / 5)
        .map(|(_, rss, _)| *rss)
        .collect();
    let (warm_min, warm_max) = (
        warm.iter().copied().min().unwrap_or(0),
        warm.iter().copied().max().unwrap_or(0),
    );
    let first_warm = warm.first().copied().unwrap_or(0);
    let last = warm.last().copied().unwrap_or(0);
    eprintln!(
        "S6: {} connections for {soak_time:?}: {sent} messages sent ({acked} acked), {delivered} \
         of {expected} deliveries; {unexpected} unexpected disconnects; relay RSS after warm-up \
         {first_warm} → {last} KiB (min {warm_min}, max {warm_max}); relay sockets {sockets_before} \
         before, {} at peak, {sockets_after} after everyone left",
        shape.conns,
        samples.iter().map(|s| s.2).max().unwrap_or(0)
    );
    assert_eq!(unexpected, 0, "no unexpected disconnects");
    assert_eq!(acked, sent, "every send acked");
    // Exactly: every receiver stays connected for the whole soak (asserted above) and reads
    // until it stops, so a message missed or delivered twice is a fault, not noise.
    assert_eq!(
        delivered,
        expected,
        "every acked message reaches each of its room's {} connections once",
        ROOM_USERS * CONNS_PER_USER
    );
    assert!(sockets_after <= sockets_before, "sockets back to baseline");
    // Flat: the last sample within 10 % (+16 MiB of allocator slack) of the first after warm-up.
    assert!(
        last <= first_warm + first_warm / 10 + 16 * 1024,
        "RSS grew after warm-up: {first_warm} → {last} KiB"
    );
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
