//! The size limit (announced and chunked) and the pace of an upload.

use std::time::{Duration, Instant};

use super::{raw_post, stored, temps, Framing};
use crate::util::TestRelay;

const MIB: usize = 1024 * 1024;

async fn relay_of_one_mib() -> TestRelay {
    TestRelay::start_with(|c| {
        c.max_upload_mb = 1;
        c.body_timeout_secs = 2;
    })
    .await
}

#[tokio::test]
async fn an_announced_oversize_upload_is_refused_before_its_body() {
    let relay = relay_of_one_mib().await;
    let token = relay.token("alice").await;
    let began = Instant::now();
    // Only the head is sent: the answer cannot wait for the body.
    let answer = raw_post(
        relay.addr(),
        Some(&token),
        "big.bin",
        "application/octet-stream",
        Framing::Length(MIB as u64 + 1),
        std::iter::empty(),
    )
    .await;
    assert_eq!(answer.status, 413, "{:?}", answer.json());
    assert_eq!(answer.json()["error"]["code"], "too_large");
    assert_eq!(
        answer.json()["error"]["message"],
        "a file may have at most 1 MiB"
    );
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "answered without waiting for the body"
    );
    // Exactly the limit is fine.
    let at_limit = raw_post(
        relay.addr(),
        Some(&token),
        "limit.bin",
        "application/octet-stream",
        Framing::Length(MIB as u64),
        std::iter::once(vec![7u8; MIB]),
    )
    .await;
    assert_eq!(at_limit.attachment().size, MIB as u64);
}

#[tokio::test]
async fn a_chunked_upload_is_cut_off_when_it_passes_the_limit() {
    let relay = relay_of_one_mib().await;
    let token = relay.token("alice").await;
    // One byte over in 64 KiB pieces, never finished: the relay answers at the limit.
    let pieces = (0..16)
        .map(|_| vec![1u8; 64 * 1024])
        .chain(std::iter::once(vec![1u8]));
    let answer = raw_post(
        relay.addr(),
        Some(&token),
        "big.bin",
        "application/octet-stream",
        Framing::Chunked { finish: false },
        pieces,
    )
    .await;
    assert_eq!(answer.status, 413, "{:?}", answer.json());
    assert_eq!(answer.json()["error"]["code"], "too_large");
    assert!(stored(relay.data_dir()).is_empty(), "nothing stored");
    super::eventually(
        Duration::from_secs(5),
        "the refused upload's temporary file goes",
        || temps(relay.data_dir()).is_empty(),
    )
    .await;
    // A chunked upload within the limit is fine.
    let ok = raw_post(
        relay.addr(),
        Some(&token),
        "small.bin",
        "application/octet-stream",
        Framing::Chunked { finish: true },
        (0..4).map(|i| vec![i; 1000]),
    )
    .await;
    assert_eq!(ok.attachment().size, 4000);
}

#[tokio::test]
async fn an_upload_that_stalls_is_cut_off() {
    let relay = relay_of_one_mib().await;
    let token = relay.token("alice").await;
    let began = Instant::now();
    // Half the announced body, then silence: cut off after the 2 s body timeout.
    let answer = raw_post(
        relay.addr(),
        Some(&token),
        "slow.bin",
        "application/octet-stream",
        Framing::Length(1000),
        std::iter::once(vec![0u8; 500]),
    )
    .await;
    assert_eq!(answer.status, 408, "{:?}", answer.json());
    assert_eq!(
        answer.json()["error"]["message"],
        "the upload came too slowly"
    );
    assert!(began.elapsed() < Duration::from_secs(10));
    assert!(stored(relay.data_dir()).is_empty());
}

#[tokio::test]
async fn an_upload_that_trickles_is_cut_off_by_its_pace() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let relay = relay_of_one_mib().await;
    let token = relay.token("alice").await;
    let mut conn = tokio::net::TcpStream::connect(relay.addr())
        .await
        .expect("connect");
    let head = format!(
        "POST /api/files?name=drip.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\nContent-Length: 1000\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.expect("head");
    let began = Instant::now();
    // A byte every 300 ms never trips the 2 s idle timeout; the pace (16 KiB/s on average after
    // the first 2 s) does. At most 40 bytes: the test ends either way.
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if conn.write_all(b"x").await.is_err() {
            break;
        }
        let mut peek = [0u8; 1];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(1), conn.peek(&mut peek)).await
        {
            if n > 0 {
                break;
            }
        }
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the upload came too slowly"), "{answer}");
    assert!(
        began.elapsed() < Duration::from_secs(6),
        "cut off soon after the grace"
    );
    assert!(stored(relay.data_dir()).is_empty());
}
