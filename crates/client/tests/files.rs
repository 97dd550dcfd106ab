//! Sends with files (issue 20) against a real relay on a real port: durable across an app
//! restart and a relay crash in the middle of the upload (a fault proxy slows the upload so the
//! restart lands in it), cancellable while uploading, failed for good when the relay refuses the
//! file (also when it closes before the body is sent), uploaded again once when the relay lost
//! an upload before the send went, and fetched (file and thumbnail) into the receiver's profile. The receiver is another
//! session, which must see the message once, with its files' metadata.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use natter_client::files::{FileSource, NewFile};
use natter_client::session::{AppEvent, AppEvents, DeliveryState};
use natter_protocol::{ErrorCode, Message, GENERAL_ROOM_ID};
use natter_testkit::{Direction, Fault, FaultProxy, TestRelay};
use support::{app, within};

/// The upload's pace through the proxy while a restart is to land in it: an 8 MiB file takes
/// 32 s at this rate, so the relay is surely in the middle of it a second or two in.
const SLOW: u64 = 256 * 1024;
const BIG: usize = 8 * 1024 * 1024;

/// An 8×8 RGB PNG.
const PNG: &str = "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000006c49444154789c0dc94101003008033194a0a44aaa84e7a940094aaa68cb375545172a5c4cb1c51529aa9a6ed4b899669b6bd23f440b098b112b4e443f4c1b199b316bcec43f861e34789861871b323f965eb4789965975bb23f8e3e74f898638f3b723f42070587091b2e243cb02c548131c8e3ff0000000049454e44ae426082";

fn png() -> Vec<u8> {
    (0..PNG.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&PNG[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A file of `len` bytes (not all alike) in `dir`.
fn big_file(dir: &Path, len: usize) -> PathBuf {
    let path = dir.join("video.bin");
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, bytes).expect("write the file");
    path
}

fn from_disk(path: &Path) -> NewFile {
    NewFile {
        name: path.to_string_lossy().into_owned(),
        content_type: Some("application/octet-stream".to_owned()),
        source: FileSource::Path(path.to_owned()),
    }
}

/// Waits until the upload of `client_id` has moved at least `bytes`, and not finished.
async fn uploading(events: &mut AppEvents, client_id: &str, bytes: u64) {
    app::until(events, "the upload under way", |e| match e {
        AppEvent::Upload {
            client_id: id,
            sent,
            total,
            ..
        } if id == client_id => {
            assert!(sent < total, "the upload is still under way");
            (sent >= bytes).then_some(())
        }
        AppEvent::MessageState {
            client_id: id,
            state: DeliveryState::Sent { .. },
            ..
        } if id == client_id => panic!("sent before the restart"),
        _ => None,
    })
    .await;
}

/// Waits until `client_id` is sent; every other delivery state of it fails the test.
async fn sent(events: &mut AppEvents, client_id: &str) {
    app::until(events, "the send acked", |e| match e {
        AppEvent::MessageState {
            client_id: id,
            state,
            ..
        } if id == client_id => match state {
            DeliveryState::Sent { .. } => Some(()),
            DeliveryState::Pending { .. } => None,
            DeliveryState::Failed { error } => panic!("failed: {error}"),
        },
        _ => None,
    })
    .await;
}

/// The receiver's message with `client_id` (that it comes once is checked after, by
/// [`nothing_more_before`]).
async fn received(events: &mut AppEvents, client_id: &str) -> Message {
    app::until(events, "the message on the other side", |e| match e {
        AppEvent::Message { message } if message.client_id == client_id => Some(message),
        _ => None,
    })
    .await
}

/// Nothing more of `client_id` arrives before a later message `then` does.
async fn nothing_more_before(events: &mut AppEvents, client_id: &str, then: &str) {
    app::until(events, "the later message", |e| match e {
        AppEvent::Message { message } => {
            assert_ne!(message.client_id, client_id, "shown twice");
            (message.client_id == then).then_some(())
        }
        _ => None,
    })
    .await;
}

/// Files left in the profile's copy folder.
fn outbox_copies(profile: &Path) -> usize {
    std::fs::read_dir(profile.join("files/outbox")).map_or(0, |dir| dir.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_send_survives_an_app_restart_mid_upload() {
    let relay = TestRelay::start().await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let proxy = FaultProxy::start(relay.addr()).await.expect("the proxy");
    let via_proxy = format!("http://{}", proxy.addr());
    let (a_dir, b_dir, src) = (tempdir(), tempdir(), tempdir());
    let (b, mut b_events) = app::start(b_dir.path(), relay.url(), &bob).await;
    app::connected(&mut b_events).await;

    let (a, mut a_events) = app::start(a_dir.path(), via_proxy.clone(), &alice).await;
    app::connected(&mut a_events).await;
    proxy.set(Direction::Upstream, Fault::Bandwidth(SLOW));
    let path = big_file(src.path(), BIG);
    let item = a
        .send_files(GENERAL_ROOM_ID, "the clip", None, vec![from_disk(&path)])
        .await
        .expect("queued");
    assert_eq!(outbox_copies(a_dir.path()), 1, "copied into the profile");
    uploading(&mut a_events, &item.client_id, 64 * 1024).await;
    within("the app stops", a.stop()).await;

    proxy.clear();
    let (a, mut a_events) = app::start(a_dir.path(), via_proxy, &alice).await;
    sent(&mut a_events, &item.client_id).await;
    let message = received(&mut b_events, &item.client_id).await;
    assert_eq!(message.body, "the clip");
    assert_eq!(message.attachments.len(), 1);
    assert_eq!(message.attachments[0].name, "video.bin");
    assert_eq!(message.attachments[0].size, BIG as u64);
    assert_eq!(
        outbox_copies(a_dir.path()),
        0,
        "the copy moved to the cache"
    );

    let then = a.send(GENERAL_ROOM_ID, "after").await.expect("queued");
    nothing_more_before(&mut b_events, &item.client_id, &then.client_id).await;
    // The receiver fetches it into its profile, the same bytes.
    let fetched = within("the file", b.file(&message.attachments[0].id))
        .await
        .expect("fetched");
    assert!(fetched.starts_with(b_dir.path()));
    assert_eq!(std::fs::read(&fetched).ok(), std::fs::read(&path).ok());
    a.stop().await;
    b.stop().await;
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_send_survives_a_relay_crash_mid_upload() {
    let data = tempdir();
    let relay = natter_relay_at(data.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = relay.addr();
    let api = natter_testkit::Api::new(relay.url());
    let (alice, bob) = (api.user("alice").await.token, api.user("bob").await.token);
    let proxy = FaultProxy::start(addr).await.expect("the proxy");
    let (a_dir, b_dir, src) = (tempdir(), tempdir(), tempdir());
    let (a, mut a_events) =
        app::start(a_dir.path(), format!("http://{}", proxy.addr()), &alice).await;
    let (b, mut b_events) = app::start(b_dir.path(), relay.url(), &bob).await;
    app::connected(&mut a_events).await;
    app::connected(&mut b_events).await;

    proxy.set(Direction::Upstream, Fault::Bandwidth(SLOW));
    let path = big_file(src.path(), BIG);
    let item = a
        .send_files(GENERAL_ROOM_ID, "", None, vec![from_disk(&path)])
        .await
        .expect("queued");
    uploading(&mut a_events, &item.client_id, 64 * 1024).await;
    relay.crash().await;
    proxy.clear();
    let relay = natter_relay_at(data.path(), addr).await;

    sent(&mut a_events, &item.client_id).await;
    let message = received(&mut b_events, &item.client_id).await;
    assert_eq!(message.body, "");
    assert_eq!(message.attachments.len(), 1);
    assert_eq!(message.attachments[0].size, BIG as u64);
    let then = a.send(GENERAL_ROOM_ID, "after").await.expect("queued");
    nothing_more_before(&mut b_events, &item.client_id, &then.client_id).await;
    a.stop().await;
    b.stop().await;
    proxy.stop().await;
    drop(relay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_upload_can_be_cancelled_and_nothing_is_sent() {
    let relay = TestRelay::start().await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let proxy = FaultProxy::start(relay.addr()).await.expect("the proxy");
    let (a_dir, b_dir, src) = (tempdir(), tempdir(), tempdir());
    let (a, mut a_events) =
        app::start(a_dir.path(), format!("http://{}", proxy.addr()), &alice).await;
    let (b, mut b_events) = app::start(b_dir.path(), relay.url(), &bob).await;
    app::connected(&mut a_events).await;
    app::connected(&mut b_events).await;

    proxy.set(Direction::Upstream, Fault::Bandwidth(SLOW));
    let item = a
        .send_files(
            GENERAL_ROOM_ID,
            "never",
            None,
            vec![from_disk(&big_file(src.path(), BIG))],
        )
        .await
        .expect("queued");
    uploading(&mut a_events, &item.client_id, 64 * 1024).await;
    assert!(a.cancel_upload(&item.client_id).await.expect("cancel"));
    assert!(!a
        .cancel_upload(&item.client_id)
        .await
        .expect("cancel again"));
    assert_eq!(
        a.cache().outbox_item(&item.client_id).await.ok(),
        Some(None)
    );
    assert_eq!(outbox_copies(a_dir.path()), 0, "the copy is removed");

    proxy.clear();
    let then = a.send(GENERAL_ROOM_ID, "after").await.expect("queued");
    nothing_more_before(&mut b_events, &item.client_id, &then.client_id).await;
    a.stop().await;
    b.stop().await;
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_the_relay_refuses_fails_for_good_and_can_be_discarded() {
    let relay = TestRelay::start_with(|c| c.max_upload_mb = 1).await;
    let alice = relay.token("alice").await;
    let (a_dir, src) = (tempdir(), tempdir());
    let (a, mut a_events) = app::start(a_dir.path(), relay.url(), &alice).await;
    app::connected(&mut a_events).await;
    let item = a
        .send_files(
            GENERAL_ROOM_ID,
            "",
            None,
            vec![from_disk(&big_file(src.path(), (1 << 20) + (64 << 10)))],
        )
        .await
        .expect("queued");
    let error = app::until(&mut a_events, "the send failed", |e| match e {
        AppEvent::MessageState {
            client_id,
            state: DeliveryState::Failed { error },
            ..
        } if client_id == item.client_id => Some(error),
        _ => None,
    })
    .await;
    assert_eq!(error.code, ErrorCode::TooLarge);
    assert!(a.discard_failed(&item.client_id).await.expect("discard"));
    assert_eq!(outbox_copies(a_dir.path()), 0);
    a.stop().await;
}

/// A file far over the limit: the relay answers 413 before reading the body and closes, while
/// the client is still sending it. The send must still fail for good, told `too_large`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_far_over_the_limit_fails_for_good_not_retried() {
    let relay = TestRelay::start_with(|c| c.max_upload_mb = 1).await;
    let alice = relay.token("alice").await;
    let (a_dir, src) = (tempdir(), tempdir());
    let (a, mut a_events) = app::start(a_dir.path(), relay.url(), &alice).await;
    app::connected(&mut a_events).await;
    let item = a
        .send_files(
            GENERAL_ROOM_ID,
            "big",
            None,
            vec![from_disk(&big_file(src.path(), 24 << 20))],
        )
        .await
        .expect("queued");
    let error = app::until(&mut a_events, "the send failed", |e| match e {
        AppEvent::MessageState {
            client_id,
            state: DeliveryState::Failed { error },
            ..
        } if client_id == item.client_id => Some(error),
        _ => None,
    })
    .await;
    assert_eq!(error.code, ErrorCode::TooLarge, "{error}");
    assert!(error.message.contains("MiB"), "a clear reason: {error}");
    a.stop().await;
}

/// The id of an upload the relay does not have.
const LOST: &str = "0190b1c2-0000-7000-8000-00000000dead";

/// The outbox of a profile holding `client_id`'s send with one file whose upload the relay no
/// longer has (swept as an orphan, or lost): the copy sits where an upload moves it.
async fn outbox_with_a_lost_upload(profile: &Path, reply_to: Option<&str>) -> String {
    let cache = natter_client::Cache::open(profile)
        .await
        .expect("the cache");
    let lost = natter_protocol::Attachment {
        id: LOST.to_owned(),
        name: "notes.txt".to_owned(),
        size: 5,
        content_type: "text/plain".to_owned(),
        width: None,
        height: None,
    };
    let copy = "files/cache/lost-upload";
    std::fs::create_dir_all(profile.join("files/cache")).expect("the folder");
    std::fs::write(profile.join(copy), b"hello").expect("the copy");
    let file = natter_client::cache::OutboxFile {
        name: "notes.txt".to_owned(),
        content_type: Some("text/plain".to_owned()),
        size: 5,
        local_path: "files/outbox/gone".to_owned(),
        attachment: None,
    };
    let item = cache
        .enqueue_with_files(GENERAL_ROOM_ID, "see the notes", reply_to, vec![file])
        .await
        .expect("queued");
    let all_up = cache
        .set_uploaded(&item.client_id, 0, &lost, copy)
        .await
        .expect("recorded");
    assert_eq!(all_up, Some(true));
    cache.close().await;
    item.client_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_upload_the_relay_lost_uploads_it_again_and_goes() {
    let relay = TestRelay::start().await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a_dir, b_dir) = (tempdir(), tempdir());
    let client_id = outbox_with_a_lost_upload(a_dir.path(), None).await;
    let (b, mut b_events) = app::start(b_dir.path(), relay.url(), &bob).await;
    app::connected(&mut b_events).await;
    let (a, mut a_events) = app::start(a_dir.path(), relay.url(), &alice).await;
    sent(&mut a_events, &client_id).await;
    let message = received(&mut b_events, &client_id).await;
    assert_eq!(message.body, "see the notes");
    assert_eq!(message.attachments.len(), 1);
    assert_ne!(message.attachments[0].id, LOST);
    let fetched = within("the file", b.file(&message.attachments[0].id))
        .await
        .expect("fetched");
    assert_eq!(std::fs::read(&fetched).ok().as_deref(), Some(&b"hello"[..]));
    let then = a.send(GENERAL_ROOM_ID, "after").await.expect("queued");
    nothing_more_before(&mut b_events, &client_id, &then.client_id).await;
    a.stop().await;
    b.stop().await;
}

/// `not_found` again after the files went up again (here the message it answers is unknown):
/// failed, not another round of uploads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_refused_not_found_twice_fails_instead_of_looping() {
    let relay = TestRelay::start().await;
    let alice = relay.token("alice").await;
    let a_dir = tempdir();
    let client_id =
        outbox_with_a_lost_upload(a_dir.path(), Some("0190b1c2-0000-7000-8000-0000000000aa")).await;
    let (a, mut a_events) = app::start(a_dir.path(), relay.url(), &alice).await;
    let error = app::until(&mut a_events, "the send failed", |e| match e {
        AppEvent::MessageState {
            client_id: id,
            state,
            ..
        } if id == client_id => match state {
            DeliveryState::Failed { error } => Some(error),
            DeliveryState::Sent { .. } => panic!("sent a reply to nothing"),
            DeliveryState::Pending { .. } => None,
        },
        _ => None,
    })
    .await;
    assert_eq!(error.code, ErrorCode::NotFound, "{error}");
    let item = a.cache().outbox_item(&client_id).await.expect("read");
    let uploaded = item
        .and_then(|item| item.files.into_iter().next())
        .and_then(|file| file.attachment)
        .expect("the file's record");
    assert_ne!(uploaded.id, LOST, "uploaded again before failing");
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_image_bytes_arrive_with_a_thumbnail() {
    let relay = TestRelay::start().await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let (a_dir, b_dir) = (tempdir(), tempdir());
    let (a, mut a_events) = app::start(a_dir.path(), relay.url(), &alice).await;
    let (b, mut b_events) = app::start(b_dir.path(), relay.url(), &bob).await;
    app::connected(&mut a_events).await;
    app::connected(&mut b_events).await;
    let pasted = NewFile {
        name: "pasted.png".to_owned(),
        content_type: Some("image/png".to_owned()),
        source: FileSource::Bytes(png()),
    };
    let item = a
        .send_files(GENERAL_ROOM_ID, "look", None, vec![pasted])
        .await
        .expect("queued");
    let message = received(&mut b_events, &item.client_id).await;
    let file = &message.attachments[0];
    assert_eq!(
        (file.content_type.as_str(), file.width, file.height),
        ("image/png", Some(8), Some(8))
    );
    let thumbnail = within("the thumbnail", b.thumbnail(&file.id))
        .await
        .expect("fetched");
    let bytes = std::fs::read(&thumbnail).expect("read it");
    assert!(
        bytes.starts_with(b"\x89PNG") || bytes.starts_with(b"\xff\xd8"),
        "an image"
    );
    // Unknown ids are the relay's 404, told as such.
    let missing = b.file("no-such-file").await;
    assert!(
        matches!(
            &missing,
            Err(natter_client::session::SessionError::File(
                natter_client::files::FileError::Relay { status: 404, .. }
            ))
        ),
        "{missing:?}"
    );
    a.stop().await;
    b.stop().await;
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary dir")
}

/// The embedded relay (the one with `crash`) on `addr` over `data_dir`, open registration.
async fn natter_relay_at(data_dir: &Path, addr: SocketAddr) -> natter_relay::Relay {
    let mut config = natter_relay::Config::with_data_dir(data_dir);
    config.registration = natter_relay::config::Registration::Open;
    config.login_per_minute = 1_000;
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let relay = natter_relay::Relay::spawn(listener, config).expect("the relay spawns");
    natter_testkit::Api::new(relay.url()).wait_healthy().await;
    relay
}

/// A sign-out must not wait for a big download: the session's `interrupt` ends the fetch at
/// once, leaves no partial file and refuses later fetches (the desktop calls it before taking
/// the account to stop it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_ends_at_once_when_the_session_is_interrupted() {
    let relay = TestRelay::start().await;
    let (alice, bob) = (relay.token("alice").await, relay.token("bob").await);
    let proxy = FaultProxy::start(relay.addr()).await.expect("the proxy");
    let (a_dir, b_dir, src) = (tempdir(), tempdir(), tempdir());
    let (a, mut a_events) = app::start(a_dir.path(), relay.url(), &alice).await;
    let (b, mut b_events) =
        app::start(b_dir.path(), format!("http://{}", proxy.addr()), &bob).await;
    app::connected(&mut a_events).await;
    app::connected(&mut b_events).await;
    let item = a
        .send_files(
            GENERAL_ROOM_ID,
            "the clip",
            None,
            vec![from_disk(&big_file(src.path(), BIG))],
        )
        .await
        .expect("queued");
    let file_id = received(&mut b_events, &item.client_id).await.attachments[0]
        .id
        .clone();

    // 32 s for the whole file at this pace: the interrupt surely lands in the middle.
    proxy.set(Direction::Downstream, Fault::Bandwidth(SLOW));
    let b = std::sync::Arc::new(b);
    let fetching = tokio::spawn({
        let (b, file_id) = (b.clone(), file_id.clone());
        async move { b.file(&file_id).await }
    });
    let cached = b_dir
        .path()
        .join(natter_client::files::FILES_DIR)
        .join("cache");
    within("part of the file arrives", async {
        while !partly_fetched(&cached) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    b.interrupt();
    let fetched = within("the fetch ends", fetching)
        .await
        .expect("the fetch's task");
    assert!(
        matches!(fetched, Err(natter_client::session::SessionError::Stopped)),
        "{fetched:?}"
    );
    let left = std::fs::read_dir(&cached).map_or(0, |dir| dir.count());
    assert_eq!(left, 0, "no partial file is left");
    let again = b.file(&file_id).await;
    assert!(
        matches!(again, Err(natter_client::session::SessionError::Stopped)),
        "{again:?}"
    );

    proxy.clear();
    let b = std::sync::Arc::try_unwrap(b).expect("the fetch's task let go of the session");
    within("bob's session stops", b.stop()).await;
    a.stop().await;
    proxy.stop().await;
}

/// Whether a download into `cached` has written some of its partial file.
fn partly_fetched(cached: &Path) -> bool {
    std::fs::read_dir(cached).is_ok_and(|dir| {
        dir.flatten()
            .any(|entry| entry.metadata().is_ok_and(|m| m.len() > 0))
    })
}
