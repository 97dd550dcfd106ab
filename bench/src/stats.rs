//! Latency recording (HDR histograms, nanoseconds) and its summary in microseconds.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The longest latency recorded exactly; anything slower is clamped to it.
const MAX_NANOS: u64 = 60_000_000_000;
/// Three significant figures: 0.1% resolution at any magnitude.
const SIGFIG: u8 = 3;

/// Where a latency distribution is sampled for plots: dense in the tail ("nines").
pub const CURVE_QUANTILES: [f64; 15] = [
    0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99995, 0.99999, 1.0,
];

/// A histogram of durations.
#[derive(Debug, Clone)]
pub struct Recorder {
    histogram: Histogram<u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        let histogram = match Histogram::new_with_bounds(1, MAX_NANOS, SIGFIG) {
            Ok(h) => h,
            // The bounds are constants that hdrhistogram accepts.
            Err(e) => unreachable!("histogram bounds: {e}"),
        };
        Self { histogram }
    }

    pub fn record(&mut self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(MAX_NANOS);
        self.histogram.saturating_record(nanos.clamp(1, MAX_NANOS));
    }

    pub fn merge(&mut self, other: &Self) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.histogram.add(&other.histogram);
    }

    /// The latency at each of [`CURVE_QUANTILES`], in microseconds: a distribution to plot.
    pub fn curve(&self) -> Vec<(f64, f64)> {
        if self.histogram.is_empty() {
            return Vec::new();
        }
        CURVE_QUANTILES
            .iter()
            .map(|&q| (q, self.histogram.value_at_quantile(q) as f64 / 1_000.0))
            .collect()
    }

    pub fn summary(&self) -> Summary {
        let h = &self.histogram;
        let us = |nanos: u64| nanos as f64 / 1_000.0;
        Summary {
            count: h.len(),
            mean_us: h.mean() / 1_000.0,
            p50_us: us(h.value_at_quantile(0.50)),
            p90_us: us(h.value_at_quantile(0.90)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
        }
    }
}

/// Percentiles of one latency distribution, in microseconds (the default: no samples).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_spread() {
        let mut r = Recorder::new();
        for us in 1..=1_000 {
            r.record(Duration::from_micros(us));
        }
        let s = r.summary();
        assert_eq!(s.count, 1_000);
        assert!((s.p50_us - 500.0).abs() < 1.0, "{s:?}");
        assert!((s.p99_us - 990.0).abs() < 1.0, "{s:?}");
        assert!((s.max_us - 1_000.0).abs() < 1.0, "{s:?}");
    }
}
