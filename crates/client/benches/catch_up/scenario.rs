//! One catch-up: bob's session learns the room and goes away; alice sends N messages; the
//! relay is killed and started again on the same port and data directory; bob's session starts
//! again from the same profile and is timed until the N-th message and `connected`. Every run
//! must deliver seqs 1..=N once each, in order, both as events and in the cache: a fast wrong
//! answer is a failed run, not a good number.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use natter_client::session::{AppEvent, AppEvents, ConnectionView, Session, SessionConfig};
use natter_protocol::model::Seq;
use natter_protocol::requests::{CreateRoom, SendMessage};
use natter_protocol::AckResult;
use natter_testkit::{sio, Api};

use crate::relays::Relays;
use crate::report::CatchUpRun;
use crate::Result;

/// How long a session may take to connect the first time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the catch-up after the restart may take before the run is declared broken.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a registration or a request may take (argon2 on a busy 2-core machine).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const PASSWORD: &str = "natter-bench-password";

/// One run over a fresh relay database (`data_dir`) and a fresh profile; returns bob's session,
/// still connected after its catch-up, with its events.
pub async fn catch_up(
    relays: &mut Relays,
    run: usize,
    data_dir: &Path,
    profile_dir: &Path,
    messages: usize,
) -> Result<(CatchUpRun, Session, AppEvents)> {
    let addr = relays
        .start(SocketAddr::from(([127, 0, 0, 1], 0)), data_dir)
        .await?;
    let api = Api::with_timeout(addr.to_string(), REQUEST_TIMEOUT);
    let alice = api.register(&format!("alice{run}"), PASSWORD).await?;
    let bob = api.register(&format!("bob{run}"), PASSWORD).await?;
    let mut sender = sio::Client::connect(api.addr(), &alice.token).await?;
    let create = CreateRoom {
        name: format!("catch-up {run}"),
        members: vec![bob.user.username.clone()],
    };
    let room_id = ok(sender.request(&create, REQUEST_TIMEOUT).await?)?.room.id;

    // Bob connects once, so his profile knows the room and its cursor (0), then goes away.
    let url = format!("http://{addr}");
    let config = SessionConfig::new(profile_dir, url, bob.token.clone());
    let (session, mut events) = Session::start(config.clone()).await?;
    wait_connected(&mut events).await?;
    session.stop().await;

    for n in 0..messages {
        let req = SendMessage {
            room_id: room_id.clone(),
            client_id: format!("catch-up-{run}-{n}"),
            body: format!("catch-up message {n}: the quick brown fox jumps over"),
            reply_to: None,
            attachments: Vec::new(),
        };
        let seq = ok(sender.request(&req, REQUEST_TIMEOUT).await?)?
            .message
            .seq;
        if Seq::try_from(n + 1) != Ok(seq) {
            return Err(format!("send {n} was acked as seq {seq}").into());
        }
    }
    sender.close().await;

    let restart = Instant::now();
    relays.kill().await;
    relays.start(addr, data_dir).await?;
    let relay_restart = restart.elapsed();

    let start = Instant::now();
    let (session, mut events) = Session::start(config).await?;
    let checked = async {
        let times = watch(&mut events, &room_id, messages, start).await?;
        let cached = check_cache(&session, &room_id, messages).await?;
        Ok::<_, crate::Error>((times, cached))
    };
    let ((first, all, connected, received), cached) = match checked.await {
        Ok(done) => done,
        Err(e) => {
            session.stop().await;
            return Err(e);
        }
    };
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
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

/// The fields of an `ok:true` ack, or the refusal as an error.
fn ok<T>(ack: AckResult<T>) -> Result<T> {
    match ack {
        AckResult::Ok(fields) => Ok(fields),
        AckResult::Err(error) => Err(format!("refused: {error:?}").into()),
    }
}

fn is_connected(event: &AppEvent) -> bool {
    matches!(
        event,
        AppEvent::Connection {
            state: ConnectionView::Connected { .. }
        }
    )
}

async fn wait_connected(events: &mut AppEvents) -> Result<()> {
    let connected = async {
        while let Some(event) = events.recv().await {
            if is_connected(&event) {
                return Ok(());
            }
        }
        Err("the session stopped".into())
    };
    tokio::time::timeout(CONNECT_TIMEOUT, connected)
        .await
        .map_err(|_| "timed out waiting for the session to connect")?
}

/// Reads events until all `messages` of `room_id` were announced (strictly seq 1, 2, …, each
/// once) and the session said `connected`. Returns the times of the first message, the last
/// message and `connected` since `start`, and the seqs seen.
async fn watch(
    events: &mut AppEvents,
    room_id: &str,
    messages: usize,
    start: Instant,
) -> Result<(Duration, Duration, Duration, u64)> {
    let want = messages as u64;
    let (mut seen, mut first, mut all, mut connected) = (0u64, None, None, None);
    let watched = async {
        while all.is_none() || connected.is_none() {
            match events.recv().await {
                Some(AppEvent::Message { message }) if message.room_id == room_id => {
                    if u64::try_from(message.seq).ok() != Some(seen + 1) || seen == want {
                        return Err(format!(
                            "seq {} announced after {seen} of {want}: repeated, out of order or extra",
                            message.seq
                        ));
                    }
                    seen += 1;
                    first.get_or_insert_with(|| start.elapsed());
                    if seen == want {
                        all = Some(start.elapsed());
                    }
                }
                Some(event) if is_connected(&event) => {
                    connected.get_or_insert_with(|| start.elapsed());
                }
                Some(_) => {}
                None => return Err("the session stopped".into()),
            }
        }
        Ok(())
    };
    tokio::time::timeout(CATCH_UP_TIMEOUT, watched)
        .await
        .map_err(|_| "timed out waiting for the catch-up after the relay restart")??;
    match (first, all, connected) {
        (Some(first), Some(all), Some(connected)) => Ok((first, all, connected, seen)),
        _ => Err("the catch-up ended early".into()),
    }
}

/// The room's cached messages must be exactly seqs 1..=messages.
async fn check_cache(session: &Session, room_id: &str, messages: usize) -> Result<usize> {
    let limit = u32::try_from(messages + 10).unwrap_or(u32::MAX);
    let cached = session.messages(room_id, None, limit).await?;
    let in_order = cached
        .iter()
        .enumerate()
        .all(|(i, m)| Seq::try_from(i + 1).is_ok_and(|seq| m.seq == seq));
    if cached.len() != messages || !in_order {
        return Err(format!(
            "the cache holds {} messages of the room, expected seqs 1..={messages}",
            cached.len()
        )
        .into());
    }
    Ok(cached.len())
}
