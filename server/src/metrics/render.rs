//! The registry as Prometheus text exposition format 0.0.4: a `# HELP` and a `# TYPE` line per
//! metric, then its samples. Counters of fixed label sets are all written, zeros included, so
//! `rate()` sees a series from its first scrape; HTTP statuses only once seen.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use natter_protocol::{requests, ErrorCode};

use super::histogram::Snapshot;
use super::{Limit, Metrics, SocketsOpen, FIRST_STATUS};

/// The `Content-Type` of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes `# HELP` and `# TYPE` for `name`.
fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    // Writing to a `String` cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, help: &str, s: &Snapshot) {
    head(out, name, "histogram", help);
    for (le, n) in &s.buckets {
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", s.count);
    let _ = writeln!(out, "{name}_sum {}", s.sum);
    let _ = writeln!(out, "{name}_count {}", s.count);
}

/// Everything in the registry, plus the sockets open now.
pub fn render(m: &Metrics, sockets: SocketsOpen) -> String {
    let r = &m.0;
    let mut out = String::with_capacity(16 * 1024);

    head(
        &mut out,
        "natter_connections_open",
        "gauge",
        "TCP connections open on the relay's port (HTTP, long-polling and WebSocket).",
    );
    let _ = writeln!(
        out,
        "natter_connections_open {}",
        r.connections_open.load(Relaxed)
    );

    head(
        &mut out,
        "natter_sockets_open",
        "gauge",
        "Socket.IO sockets connected now, by the transport each uses now.",
    );
    let _ = writeln!(
        out,
        "natter_sockets_open{{transport=\"websocket\"}} {}\nnatter_sockets_open{{transport=\"polling\"}} {}",
        sockets.websocket, sockets.polling
    );

    head(
        &mut out,
        "natter_requests_total",
        "counter",
        "Socket.IO requests answered, by event (other: not a request) and outcome (ok, or the ack's error code).",
    );
    let events = requests::NAMES.iter().copied().chain(["other"]);
    for (event, outcomes) in events.zip(&r.requests) {
        let codes = ["ok"]
            .into_iter()
            .chain(ErrorCode::ALL.map(ErrorCode::as_str));
        for (outcome, n) in codes.zip(outcomes) {
            let _ = writeln!(
                out,
                "natter_requests_total{{event=\"{event}\",outcome=\"{outcome}\"}} {}",
                n.load(Relaxed)
            );
        }
    }

    head(
        &mut out,
        "natter_rate_limited_total",
        "counter",
        "Requests, logins, connects and connections refused by a limit, by the limit.",
    );
    for (limit, n) in Limit::ALL.iter().zip(&r.rate_limited) {
        let _ = writeln!(
            out,
            "natter_rate_limited_total{{limit=\"{}\"}} {}",
            limit.label(),
            n.load(Relaxed)
        );
    }

    head(
        &mut out,
        "natter_feed_holes_total",
        "counter",
        "On a node of several: holes in a room's messages (a message came before a lower seq committed on a different node), by what filled them: the bus (the missing message came within the hold) or the store (read after the hold, or in a catch-up's fill).",
    );
    for (filled, n) in ["bus", "store"].iter().zip(&r.holes) {
        let _ = writeln!(
            out,
            "natter_feed_holes_total{{filled=\"{filled}\"}} {}",
            n.load(Relaxed)
        );
    }

    head(
        &mut out,
        "natter_http_responses_total",
        "counter",
        "HTTP responses on the relay's port, by status code (101: a WebSocket upgrade).",
    );
    for (status, n) in (FIRST_STATUS..).zip(&r.http) {
        let n = n.load(Relaxed);
        if n > 0 {
            let _ = writeln!(
                out,
                "natter_http_responses_total{{status=\"{status}\"}} {n}"
            );
        }
    }

    let c = &r.commits;
    head(
        &mut out,
        "natter_messages_committed_total",
        "counter",
        "New messages committed to the store (repeats of a client_id not counted).",
    );
    let _ = writeln!(out, "natter_messages_committed_total {}", c.messages());
    head(
        &mut out,
        "natter_commit_failures_total",
        "counter",
        "Commit transactions that failed; nothing of their batch was written.",
    );
    let _ = writeln!(out, "natter_commit_failures_total {}", c.failures());
    histogram(
        &mut out,
        "natter_commit_batch_size",
        "Sends per committed transaction (the commit stage batches what queued during the last commit).",
        &c.batch(),
    );
    histogram(
        &mut out,
        "natter_commit_seconds",
        "Time of each committed batch: on SQLite BEGIN IMMEDIATE to COMMIT returned; on PostgreSQL its transaction, or its one call when the batch is plain messages only.",
        &c.transaction(),
    );
    histogram(
        &mut out,
        "natter_commit_statement_seconds",
        "Time of the COMMIT statement alone: SQLite writing the WAL and its fsync (synchronous=FULL), and a WAL checkpoint when one is due; PostgreSQL's WAL flush, or its whole call for a batch of plain messages only. The fsync time, bounded above.",
        &c.statement(),
    );
    out
}
