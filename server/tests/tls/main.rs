//! TLS in the relay: makes the certificates (rcgen) and runs the official socket.io client's TLS
//! flows (`server/tests/interop/tls_flow.mjs`) against this build's relay binary, trusting the
//! test CA through NODE_EXTRA_CA_CERTS (needs `npm ci` in server/tests/interop: the test command
//! runs it first); and the bound on a handshake that never starts.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use natter_relay::{Config, Relay};
use natter_testkit::certs::{self_signed, TestCa, LOOPBACK_NAMES};
use tokio::io::AsyncReadExt;

/// Bound on the whole node run (its own tests are bounded more tightly).
const NODE_TIMEOUT: Duration = Duration::from_secs(180);

#[test]
fn official_client_over_tls() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    assert!(
        interop.join("node_modules/socket.io-client").is_dir(),
        "socket.io-client is not installed: run `npm ci` in {}",
        interop.display()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new("Natter test CA");
    std::fs::write(dir.path().join("ca.pem"), &ca.cert).expect("write the CA");
    for stem in ["a", "b"] {
        ca.leaf(&LOOPBACK_NAMES)
            .write(dir.path(), stem)
            .expect("write a certificate");
    }
    let other = TestCa::new("Some other CA");
    std::fs::write(dir.path().join("other-ca.pem"), &other.cert).expect("write the other CA");
    other
        .leaf(&LOOPBACK_NAMES)
        .write(dir.path(), "other")
        .expect("write a certificate");

    let mut child = Command::new("node")
        .args(["--test", "tls_flow.mjs"])
        .current_dir(&interop)
        .env("NATTER_RELAY_BIN", env!("CARGO_BIN_EXE_natter-relay"))
        .env("NATTER_TLS_DIR", dir.path())
        .env("NODE_EXTRA_CA_CERTS", dir.path().join("ca.pem"))
        .spawn()
        .expect("start node (is Node.js installed?)");
    let deadline = std::time::Instant::now() + NODE_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("node --test tls_flow.mjs ran for more than {NODE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "node --test tls_flow.mjs failed: {status}"
    );
}

/// A client that opens a TCP connection to the TLS port and never starts its handshake is
/// closed once the header-read bound runs out (1 s here), not held.
#[tokio::test]
async fn a_silent_client_is_closed_after_the_handshake_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed(&LOOPBACK_NAMES)
        .write(dir.path(), "relay")
        .expect("write a certificate");
    let mut config = Config::with_data_dir(dir.path());
    config.registration = natter_relay::config::Registration::Open;
    config.header_read_timeout_secs = 1;
    config.tls_cert = Some(cert);
    config.tls_key = Some(key);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let relay = Relay::spawn(listener, config).expect("spawn the relay");
    let mut silent = tokio::net::TcpStream::connect(relay.addr())
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("the relay closes a silent connection within 5 s");
    // Closed (EOF or reset) with nothing sent: rustls says nothing before the client's hello.
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed after the bound, not at once: {:?}",
        started.elapsed()
    );
    relay.stop().await.expect("the relay stops");
}
