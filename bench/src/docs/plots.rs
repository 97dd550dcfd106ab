//! SVG plots of a comparison (plotters): latency distributions and fan-out throughput.

use std::path::Path;

use plotters::prelude::*;

use super::Error;
use crate::compare::Comparison;
use crate::peers::System;
use crate::scenarios::fanout::Step;

const SIZE: (u32, u32) = (860, 500);

fn color(system: Option<System>) -> RGBColor {
    match system {
        Some(System::Natter | System::NatterCluster) => RGBColor(200, 40, 40),
        Some(System::Node | System::NodeCluster) => RGBColor(30, 130, 60),
        Some(System::Socketioxide) => RGBColor(40, 70, 200),
        None => RGBColor(90, 90, 90),
    }
}

/// A named line: who, and its points.
struct Line {
    name: String,
    system: Option<System>,
    points: Vec<(f64, f64)>,
}

/// Writes every plot there is data for into `dir`; returns (file name, title) of each.
pub fn write_all(c: &Comparison, dir: &Path) -> Result<Vec<(String, String)>, Error> {
    let mut written = Vec::new();
    let mut quiet: Vec<Line> = c
        .systems
        .iter()
        .filter_map(|s| {
            let q = s.quiet.as_ref()?;
            Some(Line {
                name: s.label.to_owned(),
                system: Some(s.system),
                points: nines(&q.ack_curve),
            })
        })
        .collect();
    if !c.floor_curve.is_empty() {
        quiet.push(Line {
            name: "TCP echo floor".into(),
            system: None,
            points: nines(&c.floor_curve),
        });
    }
    if !quiet.is_empty() {
        let title = "Quiet round trip, emit → ack (latency by percentile)";
        let file = "quiet-round-trip.svg";
        distribution(&dir.join(file), title, &quiet)?;
        written.push((file.to_owned(), title.to_owned()));
    }
    let load: Vec<Line> = c
        .systems
        .iter()
        .filter_map(|s| {
            let step = s.fanout.as_ref()?.at(c.load_rate)?;
            Some(Line {
                name: s.label.to_owned(),
                system: Some(s.system),
                points: nines(&step.latency_curve),
            })
        })
        .collect();
    if !load.is_empty() {
        let title = format!(
            "Fan-out delivery latency at {:.0} deliveries/s (by percentile)",
            c.load_rate
        );
        let file = "fanout-latency.svg";
        distribution(&dir.join(file), &title, &load)?;
        written.push((file.to_owned(), title));
    }
    // One line a system over its fan-out steps: (offered, `y` of the step), by offered load.
    let by_offered = |y: fn(&Step) -> f64| -> Vec<Line> {
        c.systems
            .iter()
            .filter_map(|s| {
                let mut points: Vec<(f64, f64)> = (s.fanout.as_ref()?.steps.iter())
                    .map(|st| (st.offered, y(st)))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Some(Line {
                    name: s.label.to_owned(),
                    system: Some(s.system),
                    points,
                })
            })
            .collect()
    };
    let throughput = by_offered(|st| st.deliveries_per_second.max(1.0));
    if !throughput.is_empty() {
        let p99 = by_offered(|st| (st.latency.p99_us / 1_000.0).max(0.01));
        let title = "Fan-out: delivered/s and delivery p99 by offered load";
        let file = "fanout-throughput.svg";
        fanout(&dir.join(file), title, &throughput, &p99)?;
        written.push((file.to_owned(), title.to_owned()));
    }
    Ok(written)
}

/// (quantile, µs) → (nines, µs): 0.9 → 1, 0.99 → 2, …; the maximum (q = 1) is left out.
fn nines(curve: &[(f64, f64)]) -> Vec<(f64, f64)> {
    curve
        .iter()
        .filter(|(q, _)| *q < 1.0)
        .map(|&(q, us)| (-(1.0 - q).log10(), us.max(1.0)))
        .collect()
}

fn plot_err(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |message| Error::Plot {
        path: path.to_owned(),
        message,
    }
}

fn bounds(lines: &[Line]) -> (f64, f64, f64, f64) {
    let pts = lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return (0.0, 1.0, 1.0, 10.0);
    }
    (x0, x1.max(x0 + 1.0), y0 * 0.8, y1 * 1.25)
}

fn distribution(path: &Path, title: &str, lines: &[Line]) -> Result<(), Error> {
    let err = plot_err(path);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let (_, x1, y0, y1) = bounds(lines);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x1, (y0..y1).log_scale())
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (µs, log scale)")
        .x_label_formatter(&|n| percentile_label(*n))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    draw_lines(&mut chart, lines, false).map_err(&err)?;
    root.present().map_err(|e| err(e.to_string()))
}

/// Draws each line in its system's colour (with a dot per point when `dots`) and the legend.
fn draw_lines<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    lines: &[Line],
    dots: bool,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for line in lines {
        let c = color(line.system);
        chart
            .draw_series(LineSeries::new(
                line.points.iter().copied(),
                c.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(line.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        if dots {
            chart
                .draw_series(line.points.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(|e| e.to_string())?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

fn percentile_label(nines: f64) -> String {
    let q = 100.0 * (1.0 - 10f64.powf(-nines));
    if q < 99.0 {
        format!("p{q:.0}")
    } else {
        let s = format!("p{q:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn fanout(path: &Path, title: &str, rate: &[Line], p99: &[Line]) -> Result<(), Error> {
    let err = plot_err(path);
    let root = SVGBackend::new(path, (SIZE.0, SIZE.1 * 2)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let root = root
        .titled(title, ("sans-serif", 20))
        .map_err(|e| err(e.to_string()))?;
    let (upper, lower) = root.split_vertically(SIZE.1 - 20);
    for (area, lines, y_desc) in [
        (&upper, rate, "delivered / s (log)"),
        (&lower, p99, "delivery p99 (ms, log)"),
    ] {
        let (x0, x1, y0, y1) = bounds(lines);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d((x0 * 0.8..x1 * 1.25).log_scale(), (y0..y1).log_scale())
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("offered deliveries / s (log)")
            .y_desc(y_desc)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        draw_lines(&mut chart, lines, true).map_err(&err)?;
    }
    root.present().map_err(|e| err(e.to_string()))
}
