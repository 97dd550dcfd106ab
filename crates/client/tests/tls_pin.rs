//! A LAN relay with a self-signed certificate: the first call and connect give its fingerprint,
//! pinning it lets the client in, and a changed certificate afterwards is refused with both
//! fingerprints.

mod support;

use std::time::Duration;

use natter_client::account::{self, AccountError};
use natter_client::transport::{self, ConnectError, ServerEvent, Timeouts};
use natter_client::trust::{self, CertificateError};
use natter_protocol::requests::SendMessage;
use natter_protocol::GENERAL_ROOM_ID;
use natter_testkit::certs::{self_signed, TestCa, LOOPBACK_NAMES};
use support::{within, PASSWORD};
use tokio::sync::mpsc;

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(5),
    }
}

async fn refused_connect(url: &str) -> ConnectError {
    let (events, _rx) = mpsc::unbounded_channel();
    match transport::connect(url, "any-token", timeouts(), events).await {
        Ok(_) => panic!("connected to {url} with an untrusted certificate"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn self_signed_relay_fingerprint_pin_and_change() {
    let dir = tempfile::tempdir().expect("a data dir");
    let first = self_signed(&LOOPBACK_NAMES);
    let first_fp = trust::fingerprint(&first.der);
    let (relay, url) = support::tls::start(dir.path(), support::tls::loopback(), &first).await;
    let addr = relay.addr();

    // First contact: a distinct error with the certificate's fingerprint, from both paths.
    let untrusted = CertificateError::Untrusted {
        fingerprint: first_fp.clone(),
    };
    match account::register(&url, "alice", PASSWORD).await {
        Err(AccountError::Certificate(problem)) => assert_eq!(problem, untrusted),
        other => panic!("expected the fingerprint error, got {other:?}"),
    }
    match refused_connect(&url).await {
        ConnectError::Certificate(problem) => assert_eq!(problem, untrusted),
        other => panic!("expected the fingerprint error, got {other:?}"),
    }

    // The user accepts: what is fetched again is what they saw, and is pinned.
    let pin = trust::fetch(&url).await.expect("fetch the certificate");
    assert_eq!(pin.fingerprint, first_fp);
    trust::pin(&url, pin);

    let alice = account::register(&url, "alice", PASSWORD)
        .await
        .expect("alice registers over the pinned certificate");
    let bob = account::register(&url, "bob", PASSWORD)
        .await
        .expect("bob registers");
    let (alice_events, _alice_rx) = mpsc::unbounded_channel();
    let (bob_events, mut bob_rx) = mpsc::unbounded_channel();
    let alice_conn = transport::connect(&url, &alice.token, timeouts(), alice_events)
        .await
        .expect("alice connects over WSS");
    let bob_conn = transport::connect(&url, &bob.token, timeouts(), bob_events)
        .await
        .expect("bob connects over WSS");
    let sent = alice_conn
        .request(&SendMessage {
            room_id: GENERAL_ROOM_ID.to_owned(),
            client_id: uuid::Uuid::new_v4().to_string(),
            body: "over a pinned certificate".to_owned(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("message:send answers");
    let heard = within("bob hears alice", async {
        loop {
            match bob_rx.recv().await {
                Some(ServerEvent::Message(m)) if m.message.seq == sent.message.seq => {
                    break m.message
                }
                Some(_) => continue,
                None => panic!("bob's events ended"),
            }
        }
    })
    .await;
    assert_eq!(heard, sent.message);
    alice_conn.close().await;
    bob_conn.close().await;
    relay.stop().await.expect("the relay stops");

    // The same address comes back with another certificate (even one a CA signed): refused,
    // naming both fingerprints, never pinned again on its own.
    let second = TestCa::new("Another CA").leaf(&LOOPBACK_NAMES);
    let second_fp = trust::fingerprint(&second.der);
    assert_ne!(first_fp, second_fp);
    let (relay, url_again) = support::tls::start(dir.path(), addr, &second).await;
    assert_eq!(url_again, url);
    let changed = CertificateError::Changed {
        pinned: first_fp.clone(),
        presented: second_fp,
    };
    match account::login(&url, "alice", PASSWORD).await {
        Err(AccountError::Certificate(problem)) => assert_eq!(problem, changed),
        other => panic!("expected the changed-certificate error, got {other:?}"),
    }
    match refused_connect(&url).await {
        ConnectError::Certificate(problem) => assert_eq!(problem, changed),
        other => panic!("expected the changed-certificate error, got {other:?}"),
    }
    assert_eq!(
        trust::pinned(&url).map(|p| p.fingerprint),
        Some(first_fp),
        "the pin is unchanged"
    );
    relay.stop().await.expect("the relay stops");
}

/// The reconnect loop does not retry a certificate it cannot trust: it goes offline with the
/// fingerprint, for the app to ask the user.
#[tokio::test]
async fn the_supervisor_stops_on_an_untrusted_certificate() {
    use natter_client::supervisor::{ConnectionState, OfflineReason, Supervisor};

    let dir = tempfile::tempdir().expect("a data dir");
    let pem = self_signed(&LOOPBACK_NAMES);
    let (relay, url) = support::tls::start(dir.path(), support::tls::loopback(), &pem).await;
    let (events, _rx) = mpsc::unbounded_channel();
    let supervisor = Supervisor::start(support::app::supervisor_config(url, "any-token"), events);
    let mut state = supervisor.state();
    let expected = OfflineReason::Certificate(CertificateError::Untrusted {
        fingerprint: trust::fingerprint(&pem.der),
    });
    within(
        "Offline with the certificate",
        state.wait_for(|s| matches!(s, ConnectionState::Offline { reason } if *reason == expected)),
    )
    .await
    .expect("the supervisor is running");
    supervisor.stop().await;
    relay.stop().await.expect("the relay stops");
}
