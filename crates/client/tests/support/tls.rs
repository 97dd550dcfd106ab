//! A relay in this process serving HTTPS and WSS with a certificate the test made.
#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::path::Path;

use natter_relay::{Config, Relay};
use natter_testkit::certs::Pem;
use tokio::net::TcpListener;

/// Starts a relay over `data_dir` on `addr` (port 0 for a fresh one; the same again is a
/// restart) with `pem` as its certificate; returns it and its `https://127.0.0.1:PORT` URL.
pub async fn start(data_dir: &Path, addr: SocketAddr, pem: &Pem) -> (Relay, String) {
    let (cert, key) = pem.write(data_dir, "relay").expect("write the certificate");
    let mut config = Config::with_data_dir(data_dir);
    config.registration = natter_relay::config::Registration::Open;
    config.login_per_minute = 1_000;
    config.presence_grace_ms = 0;
    config.tls_cert = Some(cert);
    config.tls_key = Some(key);
    let listener = TcpListener::bind(addr).await.expect("bind the relay port");
    let relay = Relay::spawn(listener, config).expect("spawn the relay");
    let url = format!("https://127.0.0.1:{}", relay.addr().port());
    // Ready once it completes a handshake: the listener queues connections from the start, but
    // on a busy machine the relay may open its database for longer than the client's 5 s to
    // connect, which under TLS includes the handshake.
    let ready = async {
        while natter_client::trust::fetch(&url).await.is_err() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(super::WAIT * 3, ready)
        .await
        .expect("the relay completes a TLS handshake");
    (relay, url)
}

pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
