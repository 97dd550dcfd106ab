//! An https relay whose certificate the system trusts: sign-in, register and the socket work
//! with no pin. The test cannot add its CA to the real trust store, so it points OpenSSL's
//! store at it the standard way (SSL_CERT_FILE, read by native-tls on Linux); hence its own
//! test binary, with one test, setting it before any TLS is set up.

mod support;

use std::time::Duration;

use natter_client::account;
use natter_client::transport::{self, ServerEvent, Timeouts};
use natter_client::trust;
use natter_protocol::requests::SendMessage;
use natter_protocol::GENERAL_ROOM_ID;
use natter_testkit::certs::{TestCa, LOOPBACK_NAMES};
use support::{within, PASSWORD};
use tokio::sync::mpsc;

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_relay_the_system_trusts_needs_no_pin() {
    let dir = tempfile::tempdir().expect("a data dir");
    let ca = TestCa::new("Natter test CA");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.cert).expect("write the CA");
    std::env::set_var("SSL_CERT_FILE", &ca_file);

    let (relay, url) = support::tls::start(
        dir.path(),
        support::tls::loopback(),
        &ca.leaf(&LOOPBACK_NAMES),
    )
    .await;
    assert!(url.starts_with("https://"));
    let alice = account::register(&url, "alice", PASSWORD)
        .await
        .expect("register over HTTPS");
    let again = account::login(&url, "alice", PASSWORD)
        .await
        .expect("sign in over HTTPS");
    assert_eq!(again.user, alice.user);
    let alice = again;
    assert!(trust::pinned(&url).is_none());

    let timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(5),
    };
    let (events, mut rx) = mpsc::unbounded_channel();
    let conn = transport::connect(&url, &alice.token, timeouts, events)
        .await
        .expect("connect over WSS");
    let sent = conn
        .request(&SendMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: uuid::Uuid::new_v4().to_string(),
            body: "over WSS".to_owned(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("message:send answers");
    // The sender's own socket gets the broadcast too.
    let heard = within("the broadcast", async {
        loop {
            match rx.recv().await {
                Some(ServerEvent::Message(m)) => break m.message,
                Some(_) => continue,
                None => panic!("events ended"),
            }
        }
    })
    .await;
    assert_eq!(heard, sent.message);
    conn.close().await;
    account::logout(&url, &alice.token)
        .await
        .expect("sign out over HTTPS");
    relay.stop().await.expect("the relay stops");
}
