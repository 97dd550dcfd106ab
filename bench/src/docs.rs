//! The comparison as people read it: markdown tables (each system's value, Natter's ratio to
//! each peer, the goals) and SVG plots, written into docs/benchmarks.md between two markers so
//! the hand-written parts of that page stay as they are.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::compare::{Comparison, SystemResults};
use crate::peers::System;
use crate::report::micros;
use crate::scenarios::fanout::Step;

mod plots;

/// The generated part of docs/benchmarks.md sits between these lines.
pub const BEGIN: &str = "<!-- natter-bench compare: generated, do not edit by hand -->";
pub const END: &str = "<!-- end of natter-bench compare -->";
/// Where the JSON and the plots go, relative to the directory of benchmarks.md.
const BENCH_DIR: &str = "bench";
const JSON_NAME: &str = "compare.json";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} has no generated section (add the two marker lines)")]
    NoMarkers(PathBuf),
    #[error("plot {path}: {message}")]
    Plot { path: PathBuf, message: String },
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Where [`write`] keeps the raw results of `page`: `bench/compare.json` beside it.
pub fn json_path(page: &Path) -> PathBuf {
    page.parent()
        .unwrap_or(Path::new("."))
        .join(BENCH_DIR)
        .join(JSON_NAME)
}

/// Writes the JSON into `bench/` beside `page` (docs/benchmarks.md), then [`render`]s.
pub fn write(c: &Comparison, page: &Path) -> Result<(), Error> {
    save_json(c, &json_path(page))?;
    render(c, page)
}

/// `c` as pretty JSON at `path`, its directory created.
pub(crate) fn save_json(c: &Comparison, path: &Path) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::write(path, serde_json::to_string_pretty(c)? + "\n").map_err(io(path))
}

/// Rewrites the generated section of `page` and the SVG plots in `bench/` beside it; the JSON
/// there is left as it is (`natter-bench docs` renders from it).
pub fn render(c: &Comparison, page: &Path) -> Result<(), Error> {
    let json = json_path(page);
    let dir = json.parent().unwrap_or(Path::new(".")).to_owned();
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let plots = plots::write_all(c, &dir)?;
    let mut section = tables(c);
    section.push('\n');
    for (file, title) in plots {
        let _ = writeln!(section, "![{title}]({BENCH_DIR}/{file})\n");
    }
    let _ = writeln!(
        section,
        "Raw numbers: [`{BENCH_DIR}/{JSON_NAME}`]({BENCH_DIR}/{JSON_NAME}).\n"
    );
    splice(page, BEGIN, END, &section)
}

/// Replaces what lies between the marker lines `begin` and `end` of `page` with `section`, so
/// the hand-written rest of the page stays as it is.
pub(crate) fn splice(page: &Path, begin: &str, end: &str, section: &str) -> Result<(), Error> {
    let text = std::fs::read_to_string(page).map_err(io(page))?;
    let (Some(b), Some(e)) = (text.find(begin), text.find(end)) else {
        return Err(Error::NoMarkers(page.to_owned()));
    };
    if e < b {
        return Err(Error::NoMarkers(page.to_owned()));
    }
    let new = format!("{}{begin}\n\n{section}{}", &text[..b], &text[e..]);
    std::fs::write(page, new).map_err(io(page))
}

/// A number with thousands separators.
pub(crate) fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// "ours vs Node theirs", each shown with `show` ("–" where not measured).
fn versus(ours: Option<f64>, node: Option<f64>, show: fn(f64) -> String) -> String {
    let show = |v: Option<f64>| v.map_or("–".into(), show);
    format!("{} vs Node {}", show(ours), show(node))
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

/// Server PSS per idle connection, bytes.
fn pss(r: &SystemResults) -> Option<f64> {
    r.density.as_ref().map(|d| d.pss_per_connection)
}

/// The fan-out step with the most deliveries/s at p99 within the limit.
fn best_step(r: &SystemResults) -> Option<&Step> {
    r.fanout.as_ref().and_then(|f| f.best_step())
}

/// The fan-out step at `load` deliveries/s.
fn at_load(r: &SystemResults, load: f64) -> Option<&Step> {
    r.fanout.as_ref()?.at(load)
}

/// Reads one number out of a system's results, if it was measured.
type Read<'a> = Box<dyn Fn(&SystemResults) -> Option<f64> + 'a>;

/// One metric across the systems: how to read it out and print it.
struct Metric<'a> {
    name: String,
    value: Read<'a>,
    show: fn(f64) -> String,
}

fn row(c: &Comparison, m: &Metric<'_>, out: &mut String) {
    let get = |s: System| c.get(s).and_then(|r| (m.value)(r));
    let cell = |s: System| get(s).map_or("–".to_owned(), m.show);
    let ratio = |peer: System| match (get(System::Natter), get(peer)) {
        (Some(n), Some(p)) if p != 0.0 => format!("{:.2}×", n / p),
        _ => "–".to_owned(),
    };
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        m.name,
        cell(System::Natter),
        cell(System::Node),
        cell(System::Socketioxide),
        ratio(System::Node),
        ratio(System::Socketioxide)
    );
}

/// The markdown tables of a comparison.
pub fn tables(c: &Comparison) -> String {
    let mut out = String::new();
    let m = &c.machine;
    let _ = writeln!(
        out,
        "Run {}: {} × {}, Linux {}; the load generator ran {} tokio worker thread(s) and each \
         server ran as its own process on the same cores. Load average (1, 5, 15 min) at the \
         start {}, at the end {}.\n",
        c.date,
        m.nproc,
        m.cpu,
        m.kernel,
        c.bench_threads,
        c.load_average_before,
        c.load_average_after
    );
    out.push_str(
        "| metric | Natter relay | Node socket.io | bare socketioxide | Natter ÷ Node | Natter ÷ socketioxide |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    let load = c.load_rate;
    let metrics: Vec<Metric<'_>> = vec![
        Metric {
            name: "idle connection: server PSS per connection (lower is better)".into(),
            value: Box::new(pss),
            show: kib,
        },
        Metric {
            name: "idle connection: server RSS per connection".into(),
            value: Box::new(|r| r.density.as_ref().map(|d| d.rss_per_connection)),
            show: kib,
        },
        Metric {
            name: "server RSS before the crowd connects (its users registered)".into(),
            value: Box::new(|r| {
                r.density
                    .as_ref()
                    .map(|d| d.server_before.rss_kib as f64 * 1024.0)
            }),
            show: |b| format!("{:.1} MiB", b / 1_048_576.0),
        },
        Metric {
            name: "idle connection: kernel TCP memory per connection (both ends, apart)".into(),
            value: Box::new(|r| r.density.as_ref().map(|d| d.kernel_per_connection)),
            show: kib,
        },
        Metric {
            name: "fan-out: deliveries/s at p99 ≤ 50 ms (higher is better)".into(),
            value: Box::new(|r| best_step(r).map(|s| s.deliveries_per_second)),
            show: thousands,
        },
        Metric {
            name: "fan-out: server CPU-seconds per million deliveries (at that step)".into(),
            value: Box::new(|r| best_step(r).map(|s| s.cpu_per_million)),
            show: |v| format!("{v:.2} s"),
        },
        Metric {
            name: format!("fan-out under load ({} deliveries/s): p50", thousands(load)),
            value: Box::new(move |r| at_load(r, load).map(|s| s.latency.p50_us)),
            show: micros,
        },
        Metric {
            name: format!("fan-out under load ({} deliveries/s): p99", thousands(load)),
            value: Box::new(move |r| at_load(r, load).map(|s| s.latency.p99_us)),
            show: micros,
        },
        Metric {
            name: "quiet round trip emit → ack: p50".into(),
            value: Box::new(|r| r.quiet.as_ref().map(|q| q.ack.p50_us)),
            show: micros,
        },
        Metric {
            name: "quiet round trip emit → ack: p99".into(),
            value: Box::new(|r| r.quiet.as_ref().map(|q| q.ack.p99_us)),
            show: micros,
        },
        Metric {
            name: "quiet round trip emit → ack: p99.9".into(),
            value: Box::new(|r| r.quiet.as_ref().map(|q| q.ack.p999_us)),
            show: micros,
        },
        Metric {
            name: "reconnect storm: drop → 99% re-joined".into(),
            value: Box::new(|r| r.storm.as_ref().and_then(|s| s.to_99_percent_ms)),
            show: |v| format!("{v:.0} ms"),
        },
        Metric {
            name: "reconnect storm: connects dropped for a full accept queue (kernel)".into(),
            value: Box::new(|r| r.storm.as_ref().map(|s| s.listen_overflows as f64)),
            show: thousands,
        },
        Metric {
            name: "reconnect storm: clients lost".into(),
            value: Box::new(|r| r.storm.as_ref().map(|s| s.lost as f64)),
            show: thousands,
        },
        Metric {
            name: "sends acked/s, 1 in flight per client, median run (Natter: durable, commit before ack; peers: in memory)".into(),
            value: Box::new(|r| r.durable().map(|d| d.sends_per_second)),
            show: thousands,
        },
    ];
    for m in &metrics {
        row(c, m, &mut out);
    }
    if let Some(f) = &c.floor {
        let _ = writeln!(
            out,
            "\nLoopback TCP floor in the same run (1-byte echo, 127.0.0.1): p50 {}, p99 {}, p99.9 {}.",
            micros(f.p50_us),
            micros(f.p99_us),
            micros(f.p999_us)
        );
    }
    sizes(c, &mut out);
    goals(c, &mut out);
    fanout_steps(c, &mut out);
    errors(c, &mut out);
    out
}

fn sizes(c: &Comparison, out: &mut String) {
    if c.systems.is_empty() {
        return;
    }
    out.push_str("\nSizes: ");
    let mut parts = Vec::new();
    if let Some(q) = c.systems.iter().find_map(|s| s.quiet.as_ref()) {
        parts.push(format!(
            "quiet round trip {} sends after {} warm-up",
            q.messages, q.warmup
        ));
    }
    if let Some((r, d)) = c
        .systems
        .iter()
        .find_map(|s| s.durable_runs.first().map(|d| (s, d)))
    {
        parts.push(format!(
            "durable sends {} clients, {} s window, {} run(s) per system, the systems taking \
             turns (each system's sends/s in order: {})",
            d.clients,
            d.seconds,
            r.durable_runs.len(),
            c.systems
                .iter()
                .map(|s| format!("{} {}", s.label, runs_per_second(s)))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if let Some(f) = c.systems.iter().find_map(|s| s.fanout.as_ref()) {
        parts.push(format!(
            "fan-out {} rooms × {} sockets ({} users), {} s steps",
            f.rooms, f.members, f.users, f.step_seconds
        ));
    }
    if let Some(d) = c.systems.iter().find_map(|s| s.density.as_ref()) {
        parts.push(format!(
            "density and storm {} connections ({} users)",
            d.connections, d.users
        ));
    }
    if let Some(s) = c.systems.iter().find_map(|s| s.storm.as_ref()) {
        parts.push(format!("storm reconnects jittered over {} ms", s.jitter_ms));
    }
    let _ = writeln!(out, "{}.", parts.join("; "));
}

/// The goals, each with what this run got.
fn goals(c: &Comparison, out: &mut String) {
    let natter = c.get(System::Natter);
    let node = c.get(System::Node);
    out.push_str("\n| goal | this run | verdict |\n|---|---|---|\n");
    let verdict = |ok: Option<bool>| match ok {
        Some(true) => "**met**",
        Some(false) => "**missed**",
        None => "not measured",
    };
    let mut goal = |name: &str, got: String, ok: Option<bool>| {
        let _ = writeln!(out, "| {name} | {got} | {} |", verdict(ok));
    };
    let (n, p) = (natter.and_then(pss), node.and_then(pss));
    goal(
        "memory per idle connection ≤ ¼ of Node's and ≤ 10 KB",
        versus(n, p, kib),
        n.zip(p).map(|(n, p)| n <= p / 4.0 && n <= 10_000.0),
    );
    let best = |r: Option<&SystemResults>| r.and_then(best_step).map(|s| s.deliveries_per_second);
    let (n, p) = (best(natter), best(node));
    goal(
        "fan-out deliveries/s ≥ 3× Node's at p99 ≤ 50 ms",
        versus(n, p, thousands),
        n.zip(p).map(|(n, p)| n >= 3.0 * p),
    );
    let quiet = natter.and_then(|r| r.quiet.as_ref());
    let floor = c.floor;
    goal(
        "quiet round trip p50 ≤ loopback floor + 50 µs, p99 ≤ 200 µs",
        format!(
            "p50 {} (floor {}), p99 {}",
            quiet.map_or("–".into(), |q| micros(q.ack.p50_us)),
            floor.map_or("–".into(), |f| micros(f.p50_us)),
            quiet.map_or("–".into(), |q| micros(q.ack.p99_us)),
        ),
        quiet
            .zip(floor)
            .map(|(q, f)| q.ack.p50_us <= f.p50_us + 50.0 && q.ack.p99_us <= 200.0),
    );
    let load = c.load_rate;
    let p99 =
        |r: Option<&SystemResults>| r.and_then(|r| at_load(r, load)).map(|s| s.latency.p99_us);
    let (n, p) = (p99(natter), p99(node));
    goal(
        &format!(
            "p99 under load ≤ ⅓ of Node's (fan-out at {} deliveries/s)",
            thousands(load)
        ),
        versus(n, p, micros),
        n.zip(p).map(|(n, p)| n <= p / 3.0),
    );
    let durable = natter.and_then(|r| r.durable().map(|d| (r, d.sends_per_second)));
    goal(
        "durable sends ≥ 20,000/s on 2 cores",
        durable.map_or("–".into(), |(r, d)| {
            format!(
                "{}/s (median run of {}: {})",
                thousands(d),
                r.durable_runs.len(),
                runs_per_second(r)
            )
        }),
        durable.map(|(_, d)| d >= 20_000.0),
    );
    let storm = natter.and_then(|r| r.storm.as_ref());
    goal(
        "reconnect storm of 10,000 clients re-joined ≤ 2 s p99, none lost",
        storm.map_or("–".into(), |s| {
            format!(
                "{} clients: 99% by {}, {} lost",
                thousands(s.connections as f64),
                s.to_99_percent_ms
                    .map_or("never".into(), |t| format!("{t:.0} ms")),
                s.lost
            )
        }),
        storm.map(|s| {
            s.connections >= 10_000
                && s.lost == 0
                && s.to_99_percent_ms.is_some_and(|t| t <= 2_000.0)
        }),
    );
}

/// A system's durable-sends runs as "a / b / c" sends/s, in the order they ran.
pub(crate) fn runs_per_second(r: &SystemResults) -> String {
    r.durable_runs
        .iter()
        .map(|d| thousands(d.sends_per_second))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn fanout_steps(c: &Comparison, out: &mut String) {
    out.push_str(
        "\nFan-out steps (offered deliveries/s → delivered/s, delivery p99, server CPU-s per \
         million deliveries, verdict; † = the bench's own thread was saturated):\n\n\
         | system | offered | delivered/s | p50 | p99 | CPU-s / M | verdict |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
    );
    for r in &c.systems {
        let Some(f) = &r.fanout else { continue };
        for s in &f.steps {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.2} | {}{} |",
                r.label,
                thousands(s.offered),
                thousands(s.deliveries_per_second),
                micros(s.latency.p50_us),
                micros(s.latency.p99_us),
                s.cpu_per_million,
                s.verdict,
                if s.bench_bound { " †" } else { "" }
            );
        }
    }
}

/// Each system's failed scenarios, one paragraph each.
pub(crate) fn errors(c: &Comparison, out: &mut String) {
    for r in &c.systems {
        for e in &r.errors {
            let _ = writeln!(out, "\n**{} failed** — {e}", r.label);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
