//! What TLS adds to the quiet round trip: one client sends to general one message at a time and
//! waits for its ack, against a relay in this process over plain HTTP/WebSocket and then over
//! HTTPS/WSS (a self-signed certificate, pinned), and prints the send → ack p50 and p90 of each.
//! Same client (natter-client over rust_socketio), same relay and machine: only TLS differs.
//!
//! `cargo run --release -p natter-client --example tls_round_trip -- [--messages N] [--warmup N]`
//! (defaults 2000 and 200). A measurement: run it on a quiet machine, never in the test command.

use std::time::{Duration, Instant};

use natter_client::transport::{self, Timeouts};
use natter_client::{account, trust};
use natter_protocol::requests::SendMessage;
use natter_protocol::GENERAL_ROOM_ID;
use natter_relay::{Config, Relay};
use natter_testkit::certs::{self_signed, LOOPBACK_NAMES};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (mut messages, mut warmup) = (2_000usize, 200usize);
    while let Some(flag) = args.next() {
        let value: usize = args.next().ok_or("a flag needs a value")?.parse()?;
        match flag.as_str() {
            "--messages" => messages = value.max(1),
            "--warmup" => warmup = value,
            other => return Err(format!("unknown flag {other}: --messages N --warmup N").into()),
        }
    }
    let plain = measure(false, messages, warmup).await?;
    let tls = measure(true, messages, warmup).await?;
    println!("send → ack over {messages} messages (after {warmup} warm-up), µs:");
    println!("  plain  p50 {:>7.1}  p90 {:>7.1}", plain.0, plain.1);
    println!("  TLS    p50 {:>7.1}  p90 {:>7.1}", tls.0, tls.1);
    println!("  TLS adds {:.1} µs at p50", tls.0 - plain.0);
    Ok(())
}

/// (p50, p90) of send → ack in µs, with or without TLS.
async fn measure(with_tls: bool, messages: usize, warmup: usize) -> Result<(f64, f64), Error> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::with_data_dir(dir.path());
    config.registration = natter_relay::config::Registration::Open;
    // Only sends are made, one at a time: their rate limit is the one in the way.
    config.send_burst = 1_000_000;
    config.send_per_second = 1_000_000;
    if with_tls {
        let (cert, key) = self_signed(&LOOPBACK_NAMES).write(dir.path(), "relay")?;
        config.tls_cert = Some(cert);
        config.tls_key = Some(key);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let relay = Relay::spawn(listener, config)?;
    let scheme = if with_tls { "https" } else { "http" };
    let url = format!("{scheme}://127.0.0.1:{}", relay.addr().port());
    if with_tls {
        trust::pin(&url, trust::fetch(&url).await?);
    }
    let auth = account::register(&url, "sender", "correct horse battery staple").await?;
    let (events, _rx) = tokio::sync::mpsc::unbounded_channel();
    let timeouts = Timeouts {
        connect: Duration::from_secs(10),
        request: Duration::from_secs(10),
    };
    let conn = transport::connect(&url, &auth.token, timeouts, events).await?;
    let mut micros = Vec::with_capacity(messages);
    for n in 0..warmup + messages {
        let send = SendMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: uuid::Uuid::new_v4().to_string(),
            body: format!("message {n}"),
            reply_to: None,
            attachments: Vec::new(),
        };
        let started = Instant::now();
        conn.request(&send).await?;
        if n >= warmup {
            micros.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    conn.close().await;
    relay.stop().await?;
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    Ok((at(0.5), at(0.9)))
}
