//! `natter-bench compare --cluster`'s tables (issue 17): Natter's two nodes beside Node's two
//! nodes, and the single relay beside them for SQLite; with `--docs`, written between this
//! module's own two marker lines of docs/benchmarks.md ("Two nodes"), the JSON beside it as
//! `bench/cluster.json`; number formats and the splicing are `docs.rs`'s.

use std::fmt::Write as _;
use std::path::Path;

use crate::compare::{Comparison, SystemResults};
use crate::docs::{self, errors, thousands};
use crate::peers::System;
use crate::stats::Summary;

pub const BEGIN: &str = "<!-- natter-bench compare --cluster: generated, do not edit by hand -->";
pub const END: &str = "<!-- end of natter-bench compare --cluster -->";

/// The columns, in order: the two clusters, then the single relay.
const COLUMNS: [System; 3] = System::CLUSTER;

/// The markdown tables of a `--cluster` run.
pub fn tables(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Run {} on {} ({} CPUs); load average {} before, {} after.\n",
        c.date, c.machine.cpu, c.machine.nproc, c.load_average_before, c.load_average_after
    );
    let head: Vec<&str> = COLUMNS.iter().map(|s| s.label()).collect();
    let _ = writeln!(out, "| | {} |", head.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(COLUMNS.len()));
    let rows: [(&str, Cell); 9] = [
        ("quiet: send → ack p50 / p99", &|r| {
            r.quiet.as_ref().map(|q| pair(&q.ack))
        }),
        ("quiet: delivery, same node, p50 / p99", &|r| {
            r.quiet.as_ref().map(|q| pair(&q.broadcast))
        }),
        ("quiet: delivery, other node, p50 / p99", &|r| {
            r.quiet.as_ref()?.cross_node.as_ref().map(pair)
        }),
        ("quiet: other node − same node, at p50", &|r| {
            let q = r.quiet.as_ref()?;
            let cross = q.cross_node.as_ref()?;
            Some(format!("{:+.0} µs", cross.p50_us - q.broadcast.p50_us))
        }),
        ("durable sends/s (median run; runs)", &|r| {
            let d = r.durable()?;
            let runs = docs::runs_per_second(r);
            Some(format!("{} ({runs})", thousands(d.sends_per_second)))
        }),
        ("fan-out: deliveries/s at p99 ≤ 50 ms", &|r| {
            let best = r.fanout.as_ref()?.best_step()?;
            Some(format!(
                "{} (p99 {:.1} ms)",
                thousands(best.deliveries_per_second),
                best.latency.p99_us / 1e3
            ))
        }),
        ("fan-out: server CPU-s per million deliveries there", &|r| {
            let best = r.fanout.as_ref()?.best_step()?;
            Some(format!("{:.1}", best.cpu_per_million))
        }),
        (
            "idle connection: RSS / PSS per connection (all nodes)",
            &|r| {
                let d = r.density.as_ref()?;
                Some(format!(
                    "{:.1} / {:.1} KiB ({} connections)",
                    d.rss_per_connection / 1024.0,
                    d.pss_per_connection / 1024.0,
                    thousands(d.connections as f64)
                ))
            },
        ),
        ("reconnect storm: all back / 99% back; lost", &|r| {
            let s = r.storm.as_ref()?;
            let ms = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.0} ms"));
            Some(format!(
                "{} / {}; {}",
                ms(s.to_all_ms),
                ms(s.to_99_percent_ms),
                s.lost
            ))
        }),
    ];
    for (name, cell) in rows {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|&s| c.get(s).and_then(cell).unwrap_or_else(|| "—".to_owned()))
            .collect();
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    let ratio = |f: &dyn Fn(&SystemResults) -> Option<f64>| {
        let natter = c.get(System::NatterCluster).and_then(f)?;
        let node = c.get(System::NodeCluster).and_then(f)?;
        Some(natter / node)
    };
    let fanout = ratio(&|r| Some(r.fanout.as_ref()?.best_step()?.deliveries_per_second));
    let memory = ratio(&|r| Some(r.density.as_ref()?.pss_per_connection));
    let show = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.2}×"));
    let _ = writeln!(
        out,
        "\nNatter's two nodes against Node's: fan-out {}, memory per idle connection {}.",
        show(fanout),
        show(memory)
    );
    errors(c, &mut out);
    out
}

/// One cell of a row, from one system's results.
type Cell<'a> = &'a dyn Fn(&SystemResults) -> Option<String>;

/// p50 / p99, in µs below 10 ms, in ms above.
fn pair(s: &Summary) -> String {
    let time = |us: f64| {
        if us < 10_000.0 {
            format!("{us:.0} µs")
        } else {
            format!("{:.1} ms", us / 1e3)
        }
    };
    format!("{} / {}", time(s.p50_us), time(s.p99_us))
}

/// Writes `bench/cluster.json` beside `page` and the tables between [`BEGIN`] and [`END`].
pub fn write(c: &Comparison, page: &Path) -> Result<(), docs::Error> {
    let dir = page.parent().unwrap_or(Path::new(".")).join("bench");
    docs::save_json(c, &dir.join("cluster.json"))?;
    docs::splice(page, BEGIN, END, &(tables(c) + "\n"))
}
