//! One run's results: the machine, what was measured, and the markdown table for docs/.

use std::fmt::Write as _;

use natter_protocol::events::MessageEvent;
use natter_protocol::requests::SendMessage;
use natter_protocol::Event;
use serde::{Deserialize, Serialize};

use crate::scenarios::latency::LatencyReport;
use crate::scenarios::throughput::ThroughputReport;
use crate::stats::Summary;

pub use natter_testkit::procfs::Machine;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub machine: Machine,
    /// What was measured: the binary started, or the address given.
    pub relay: String,
    pub floor: Option<Summary>,
    pub latency: Option<LatencyReport>,
    pub throughput: Option<ThroughputReport>,
}

impl Report {
    /// The results as markdown tables.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(out, "relay: {}  ", self.relay);
        let _ = writeln!(
            out,
            "machine: {} × {}, Linux {}\n",
            m.nproc, m.cpu, m.kernel
        );
        out.push_str("| latency | samples | p50 | p90 | p99 | p99.9 | max |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
        let mut row = |what: String, s: &Summary| {
            let _ = writeln!(
                out,
                "| {what} | {} | {} | {} | {} | {} | {} |",
                s.count,
                micros(s.p50_us),
                micros(s.p90_us),
                micros(s.p99_us),
                micros(s.p999_us),
                micros(s.max_us)
            );
        };
        let send = SendMessage::NAME;
        if let Some(floor) = &self.floor {
            row("TCP echo floor (1 byte, 127.0.0.1)".into(), floor);
        }
        if let Some(l) = &self.latency {
            row(format!("`{send}` → ack"), &l.ack);
            let event = MessageEvent::NAME;
            row(
                format!("`{send}` → `{event}` at another client"),
                &l.broadcast,
            );
        }
        if let Some(t) = &self.throughput {
            row(
                format!("`{send}` → ack, {} clients busy", t.clients),
                &t.ack,
            );
        }
        if let Some(t) = &self.throughput {
            let rooms = if t.shared_room {
                "one shared room"
            } else {
                "a room each"
            };
            out.push_str(
                "\n| throughput | clients | window | acked in window | sends/s | errors \
                 | broadcasts received | missed | out of order |\n",
            );
            out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            let _ = writeln!(
                out,
                "| durable `{send}`, 1 in flight per client, {rooms} \
                 | {} | {} s | {} | {:.0} | {} | {} | {} | {} |",
                t.clients,
                t.seconds,
                t.acked_in_window,
                t.sends_per_second,
                t.errors,
                t.broadcasts_received,
                t.broadcasts_missed,
                t.broadcasts_out_of_order
            );
        }
        out
    }
}

/// A latency for people: microseconds below a millisecond, milliseconds above.
pub(crate) fn micros(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1_000.0)
    }
}
