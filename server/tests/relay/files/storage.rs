//! Where files go and when they leave: nothing half-stored after an aborted upload or a full
//! disk, orphans removed, a deleted message's files removed once nothing uses them, and a
//! 1 GiB upload streamed with the relay's memory bounded.

use std::time::{Duration, Instant};

use natter_protocol::http::file_path;
use natter_protocol::requests::DeleteMessage;
use natter_testkit::{RelayProcess, RelaySpec, Tmpfs};
use tokio::io::AsyncWriteExt as _;

use super::{eventually, get, send_with, stored, temps, upload, Framing};
use crate::util::{client_id, group, Api, TestRelay};

#[tokio::test]
async fn an_aborted_upload_leaves_nothing() {
    let relay = TestRelay::start().await;
    let token = relay.token("alice").await;
    let mut conn = tokio::net::TcpStream::connect(relay.addr())
        .await
        .expect("connect");
    let head = format!(
        "POST /api/files?name=cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 1048576\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.expect("head");
    conn.write_all(&vec![5u8; 300_000])
        .await
        .expect("part of the body");
    // Wait until the relay is writing it, then hang up.
    eventually(
        Duration::from_secs(10),
        "the upload's temporary file appears",
        || !temps(relay.data_dir()).is_empty(),
    )
    .await;
    drop(conn);
    eventually(Duration::from_secs(10), "the temporary file goes", || {
        temps(relay.data_dir()).is_empty()
    })
    .await;
    assert!(stored(relay.data_dir()).is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_full_disk_mid_upload_leaves_nothing_half_stored_and_says_so() {
    let disk = match Tmpfs::mount(8 << 20) {
        Ok(disk) => disk,
        Err(e) if e.is_not_permitted() && std::env::var("NATTER_ALLOW_SKIP_R3").as_deref() == Ok("1") => {
            eprintln!("*** full-disk upload test SKIPPED (NATTER_ALLOW_SKIP_R3=1): {e} ***");
            return;
        }
        Err(e) => panic!("cannot mount a tmpfs for the full-disk test (run as root, or set NATTER_ALLOW_SKIP_R3=1): {e}"),
    };
    let relay = TestRelay::start_with(|c| {
        c.data_dir = Some(disk.path().to_owned());
        c.max_upload_mb = 64;
    })
    .await;
    let token = relay.token("alice").await;
    let big = 16usize << 20;
    let answer = super::raw_post(
        relay.addr(),
        Some(&token),
        "huge.bin",
        "application/octet-stream",
        Framing::Length(big as u64),
        (0..big / 65_536).map(|_| vec![9u8; 65_536]),
    )
    .await;
    assert_eq!(answer.status, 507, "{:?}", answer.json());
    assert_eq!(
        answer.json()["error"]["message"],
        "the relay has no room for this file now"
    );
    assert!(stored(relay.data_dir()).is_empty(), "nothing stored");
    eventually(Duration::from_secs(5), "the temporary file goes", || {
        temps(relay.data_dir()).is_empty()
    })
    .await;
    // The space came back: a small upload works, and is whole.
    let small = upload(relay.addr(), &token, "small.txt", "text/plain", b"fits")
        .await
        .attachment();
    let got = get(&relay.url(), &file_path(&small.id), Some(&token)).await;
    assert_eq!(got.body, b"fits");
    relay.stop().await;
}

#[tokio::test]
async fn uploads_no_message_carries_are_removed_after_the_orphan_age() {
    let relay = TestRelay::start_with(|c| c.orphan_file_secs = 2).await;
    let (auth, alice) = relay.join("alice").await;
    let room = group(&alice, "keep", &[]).await;
    let orphan = upload(relay.addr(), &auth.token, "o.bin", "text/plain", b"orphan")
        .await
        .attachment();
    let kept = upload(relay.addr(), &auth.token, "k.bin", "text/plain", b"kept")
        .await
        .attachment();
    send_with(&alice, &room.id, "kept", &[&kept.id]).await;
    assert_eq!(stored(relay.data_dir()).len(), 2);
    eventually(
        Duration::from_secs(20),
        "the orphan's bytes are removed",
        || stored(relay.data_dir()).len() == 1,
    )
    .await;
    let gone = get(&relay.url(), &file_path(&orphan.id), Some(&auth.token)).await;
    assert_eq!(gone.status, 404);
    let still = get(&relay.url(), &file_path(&kept.id), Some(&auth.token)).await;
    assert_eq!((still.status, still.body.as_slice()), (200, &b"kept"[..]));
}

#[tokio::test]
async fn deleting_the_last_message_that_uses_some_bytes_removes_them() {
    let relay = TestRelay::start().await;
    let (auth, alice) = relay.join("alice").await;
    let room = group(&alice, "del", &[]).await;
    // Two uploads of the same bytes share one stored file.
    let first = upload(
        relay.addr(),
        &auth.token,
        "a.txt",
        "text/plain",
        b"same bytes",
    )
    .await
    .attachment();
    let second = upload(
        relay.addr(),
        &auth.token,
        "b.txt",
        "text/plain",
        b"same bytes",
    )
    .await
    .attachment();
    assert_ne!(first.id, second.id, "ids are not the content hash");
    assert_eq!(stored(relay.data_dir()).len(), 1);
    let m1 = send_with(&alice, &room.id, "one", &[&first.id]).await;
    let m2 = send_with(&alice, &room.id, "two", &[&second.id]).await;
    let delete = |id: &str| DeleteMessage {
        room_id: room.id.clone(),
        client_id: client_id(),
        message_id: id.to_owned(),
    };
    alice
        .request(&delete(&m1.id))
        .await
        .expect("delete the first");
    assert_eq!(
        stored(relay.data_dir()).len(),
        1,
        "the second upload still uses the bytes"
    );
    let gone = get(&relay.url(), &file_path(&first.id), Some(&auth.token)).await;
    assert_eq!(gone.status, 404, "the deleted message's file is gone");
    alice
        .request(&delete(&m2.id))
        .await
        .expect("delete the second");
    assert!(
        stored(relay.data_dir()).is_empty(),
        "no upload uses the bytes: removed from disk"
    );
    let page = alice
        .request(&crate::util::history(&room.id, None, None))
        .await
        .expect("history");
    assert!(
        page.messages.iter().all(|m| m.attachments.is_empty()),
        "deleted messages carry no files"
    );
}

/// Reads `/proc/<pid>/status` VmRSS while a 1 GiB body streams in; the body is made piece by
/// piece as it is sent, never held whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_upload_streams_with_the_relays_memory_bounded() {
    const GIB: u64 = 1 << 30;
    /// What the relay may grow by while receiving it (issue 20's bound).
    const RSS_GROWTH_KIB: u64 = 16 * 1024;
    let dir = tempfile::tempdir().expect("a data dir");
    let spec = RelaySpec::new(env!("CARGO_BIN_EXE_natter-relay"), dir.path()).args([
        "--max-upload-mb",
        "1100",
        "--log",
        "warn",
    ]);
    let relay = RelayProcess::start(&spec).await.expect("the relay starts");
    let api = Api::new(relay.url());
    let token = api.user("alice").await.token;
    // Warm up (the first upload's buffers), then measure from there.
    upload(
        relay.addr(),
        &token,
        "warm.bin",
        "application/octet-stream",
        &vec![3u8; 4 << 20],
    )
    .await
    .attachment();
    let before = relay.rss_kib().expect("VmRSS");
    let pid = relay.pid();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampling = tokio::spawn({
        let peak = peak.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tick.tick().await;
                if let Some(rss) = natter_testkit::procfs::rss_kib(pid) {
                    peak.fetch_max(rss, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    });
    let piece = 256 * 1024;
    let began = Instant::now();
    let answer = super::raw_post(
        relay.addr(),
        Some(&token),
        "big.bin",
        "application/octet-stream",
        Framing::Length(GIB),
        (0..GIB / piece).map(move |i| vec![(i % 251) as u8; piece as usize]),
    )
    .await;
    let took = began.elapsed();
    sampling.abort();
    assert_eq!(answer.attachment().size, GIB);
    let growth = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(before);
    eprintln!(
        "1 GiB upload: {:.0} MB/s on loopback ({took:.2?}); relay RSS {before} KiB before, grew {growth} KiB at most",
        GIB as f64 / 1e6 / took.as_secs_f64()
    );
    assert!(
        growth <= RSS_GROWTH_KIB,
        "RSS grew {growth} KiB (bound {RSS_GROWTH_KIB} KiB)"
    );
    relay.terminate().await.expect("the relay stops");
}
