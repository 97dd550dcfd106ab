//! S12, long-polling (issue 22, item 2): a session that stays on long-polling has no connection
//! of its own, so what its client took is counted from its polls. Alice's room holds pages of
//! the largest messages; her polling session asks for `history` 50 times, paced within the read
//! rate, and never polls meanwhile (the attack: queue replies, take none). Then it polls until
//! every request is answered: at most about `--unread-reply-bytes` (1 MiB) of pages, plus the
//! reads in flight, were built for it; the rest were refused `rate_limited`. Then it reads as a
//! client should, polling after each request: every one is served, well past 1 MiB in all (what
//! its polls took is counted, not only what it was handed).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use natter_protocol::limits::SYNC_PAGE_BYTES;
use natter_protocol::GENERAL_ROOM_ID;
use natter_testkit::raw::{http_body, http_exchange, http_status, json_string, polling_sid};

use crate::harness::{self, assert_alive};
use crate::s12_read_bounds::start_with_big_pages;
use crate::util::WAIT;

const REQUESTS: usize = 50;
/// Pages a session that takes nothing may be built: 1 MiB of unread replies, then a page per
/// read in flight (4) and one for the check's own rounding. Before the bound: all 50.
const MAX_PAGES: usize = (1024 * 1024) / SYNC_PAGE_BYTES + 4 + 1;

async fn post(addr: SocketAddr, sid: &str, body: &str) -> u16 {
    let request = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = http_exchange(addr, request.as_bytes(), WAIT, 4096)
        .await
        .expect("a POST's answer");
    http_status(&answer).unwrap_or(0)
}

/// One poll: the packets it carried.
async fn poll(addr: SocketAddr, sid: &str) -> Vec<String> {
    let request =
        format!("GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n");
    let answer = http_exchange(addr, request.as_bytes(), WAIT, 64 * 1024 * 1024)
        .await
        .expect("a poll's answer");
    assert_eq!(http_status(&answer), Some(200), "a poll is answered 200");
    String::from_utf8_lossy(http_body(&answer))
        .split('\u{1e}')
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s12_a_polling_session_that_takes_nothing_is_built_little() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let (mut relay, _api, alice) = start_with_big_pages(dir.path()).await;
    let addr = relay.addr();

    let sid = polling_sid(addr, WAIT)
        .await
        .expect("a polling session")
        .expect("its sid");
    let auth = format!("40{{\"token\":{}}}", json_string(&alice.token));
    assert_eq!(post(addr, &sid, &auth).await, 200);
    // The CONNECT's answer, so the socket is signed on before the requests.
    let deadline = Instant::now() + WAIT;
    while !poll(addr, &sid).await.iter().any(|p| p.starts_with("40{")) {
        assert!(Instant::now() < deadline, "no CONNECT answer");
    }

    let history = format!(
        "{{\"room_id\":{},\"limit\":100}}",
        json_string(GENERAL_ROOM_ID)
    );
    for id in 0..REQUESTS {
        let packet = format!("42{id}[\"history\",{history}]");
        assert_eq!(post(addr, &sid, &packet).await, 200, "request {id} posted");
        // Within the read rate (a burst of 60) and one at a time: only the unread bound refuses.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }

    let (mut pages, mut limited) = (0, 0);
    let deadline = Instant::now() + WAIT * 3;
    while pages + limited < REQUESTS {
        assert!(
            Instant::now() < deadline,
            "{pages} pages and {limited} refusals so far"
        );
        for packet in poll(addr, &sid).await {
            let Some(rest) = packet.strip_prefix("43") else {
                continue;
            };
            let json = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            let value: serde_json::Value = serde_json::from_str(json).expect("an ack's JSON");
            if value[0]["ok"] == true {
                pages += 1;
            } else {
                assert_eq!(value[0]["error"]["code"], "rate_limited", "{}", value[0]);
                limited += 1;
            }
        }
    }
    eprintln!("S12 polling: {REQUESTS} history requests untaken: {pages} pages built, {limited} rate_limited");
    assert!(
        pages <= MAX_PAGES,
        "a polling session that took nothing was built {pages} pages (at most {MAX_PAGES})"
    );
    assert!(limited > 0, "the rest were refused");

    // A session that takes its answers is served: 10 pages of ~256 KiB, one at a time.
    tokio::time::sleep(Duration::from_secs(1)).await; // the read rate's budget refills
    let mut served = 0;
    for id in REQUESTS..REQUESTS + 10 {
        let packet = format!("42{id}[\"history\",{history}]");
        assert_eq!(post(addr, &sid, &packet).await, 200, "request {id} posted");
        let prefix = format!("43{id}[");
        let deadline = Instant::now() + WAIT;
        let answer = loop {
            assert!(Instant::now() < deadline, "no answer to request {id}");
            if let Some(p) = poll(addr, &sid)
                .await
                .into_iter()
                .find(|p| p.starts_with(&prefix))
            {
                break p;
            }
        };
        let value: serde_json::Value =
            serde_json::from_str(&answer[prefix.len() - 1..]).expect("an ack's JSON");
        assert_eq!(
            value[0]["ok"], true,
            "request {id} of a reading session: {}",
            value[0]
        );
        served += answer.len();
    }
    eprintln!("S12 polling: a reading session was served 10 of 10 ({served} bytes)");
    assert!(
        served > 2 * 1024 * 1024,
        "past the unread bound in all: {served} bytes"
    );
    assert_alive(&mut relay, "S12 polling");
}
