//! A histogram of fixed buckets: one relaxed add for the value's bucket and one for the sum.
//! Buckets are kept per bucket (not cumulative) and summed when rendered, so the `+Inf`
//! bucket and `_count` are the same number even while values keep coming.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub(super) struct Histogram {
    /// Upper bounds, ascending, in the recorded unit (e.g. nanoseconds).
    bounds: &'static [u64],
    /// One per bound, then the `+Inf` bucket.
    buckets: Box<[AtomicU64]>,
    /// Sum of the recorded values, in the recorded unit.
    sum: AtomicU64,
    /// Rendered value of one recorded unit (1e-9 for nanoseconds shown as seconds).
    scale: f64,
}

/// What [`Histogram::snapshot`] read: cumulative buckets, rendered bounds.
pub(super) struct Snapshot {
    /// (upper bound as rendered, values at most that), ascending; the `+Inf` bucket is `count`.
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [u64], scale: f64) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            scale,
        }
    }

    pub fn observe(&self, value: u64) {
        let i = self.bounds.partition_point(|&bound| bound < value);
        if let Some(bucket) = self.buckets.get(i) {
            bucket.fetch_add(1, Relaxed);
        }
        self.sum.fetch_add(value, Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut count = 0;
        let mut buckets = Vec::with_capacity(self.bounds.len());
        for (bound, bucket) in self.bounds.iter().zip(self.buckets.iter()) {
            count += bucket.load(Relaxed);
            // Bounds are small integers of the unit: exact in f64.
            buckets.push((*bound as f64 * self.scale, count));
        }
        count += self.buckets.last().map_or(0, |b| b.load(Relaxed));
        Snapshot {
            buckets,
            count,
            sum: self.sum.load(Relaxed) as f64 * self.scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_the_first_bucket_that_holds_them_and_buckets_add_up() {
        let h = Histogram::new(&[1, 2, 4], 1.0);
        for v in [0, 1, 2, 3, 4, 5, 100] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, [(1.0, 2), (2.0, 3), (4.0, 5)]);
        assert_eq!(s.count, 7);
        assert_eq!(s.sum, 115.0);
    }
}
