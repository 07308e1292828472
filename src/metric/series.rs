//! Per-minute aggregation of datapoints.
//!
//! Metric-filter metrics have one-minute resolution: CloudWatch aggregates
//! the values published in a minute into a statistic set (SampleCount, Sum,
//! Minimum, Maximum). trailwatch keeps exactly that per minute, so any
//! period statistic can be rolled up later, and partial results from
//! different files and threads merge associatively and commutatively.
//! Sums are exact (Shewchuk partials) so the result does not depend on the
//! order in which files were read.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::fasthash::FastMap;

use crate::record::EpochMs;

/// One minute, as `floor(epoch_ms / 60_000)`.
pub type Minute = i64;

/// Milliseconds per minute.
pub const MINUTE_MS: i64 = 60_000;

/// The minute containing `ms`.
pub fn minute_of(ms: EpochMs) -> Minute {
    ms.div_euclid(MINUTE_MS)
}

/// An exactly rounded floating-point sum, independent of addition order.
///
/// The non-overlapping partials (Shewchuk) are kept inline while there are
/// at most two of them, which covers every sum of integers below
/// 2^53 (one partial): no allocation per minute in the common case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExactSum {
    partials: Partials,
}

/// Partials kept inline before spilling to the heap.
const INLINE: usize = 2;

#[derive(Clone, Debug, PartialEq)]
enum Partials {
    Inline { len: u8, items: [f64; INLINE] },
    Heap(Vec<f64>),
}

impl Default for Partials {
    fn default() -> Partials {
        Partials::Inline { len: 0, items: [0.0; INLINE] }
    }
}

impl Partials {
    fn as_slice(&self) -> &[f64] {
        match self {
            Partials::Inline { len, items } => &items[..*len as usize],
            Partials::Heap(v) => v,
        }
    }
    fn as_mut_slice(&mut self) -> &mut [f64] {
        match self {
            Partials::Inline { len, items } => &mut items[..*len as usize],
            Partials::Heap(v) => v,
        }
    }
    fn truncate(&mut self, n: usize) {
        match self {
            Partials::Inline { len, .. } => *len = (*len).min(n as u8),
            Partials::Heap(v) => v.truncate(n),
        }
    }
    fn push(&mut self, x: f64) {
        match self {
            Partials::Inline { len, items } if (*len as usize) < INLINE => {
                items[*len as usize] = x;
                *len += 1;
            }
            Partials::Inline { len, items } => {
                let mut v = items[..*len as usize].to_vec();
                v.push(x);
                *self = Partials::Heap(v);
            }
            Partials::Heap(v) => v.push(x),
        }
    }
}

impl ExactSum {
    /// Add one value.
    pub fn add(&mut self, mut x: f64) {
        let mut i = 0;
        let p = self.partials.as_mut_slice();
        for j in 0..p.len() {
            let mut y = p[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                p[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    /// Add another sum.
    pub fn merge(&mut self, other: &ExactSum) {
        for &p in other.partials.as_slice() {
            self.add(p);
        }
    }

    /// The correctly rounded total.
    pub fn value(&self) -> f64 {
        let p = self.partials.as_slice();
        let Some(mut n) = p.len().checked_sub(1) else { return 0.0 };
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            n -= 1;
            let x = hi;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        // Round half-even across the remaining partials (as Python's fsum).
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

/// The statistic set of one minute (or of a whole period, once rolled up).
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Number of datapoints (SampleCount).
    pub count: u64,
    /// Exact sum of their values.
    pub sum: ExactSum,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// How many of the datapoints came from matching events (the others are
    /// default values of non-matching events).
    pub matches: u64,
    /// Every value, kept only when a percentile statistic needs them (boxed:
    /// 8 bytes instead of 24 in every other minute's set).
    pub values: Option<Box<Vec<f64>>>,
}

impl Stats {
    /// An empty set (`keep_values`: remember values for percentiles).
    pub fn new(keep_values: bool) -> Stats {
        Stats {
            count: 0,
            sum: ExactSum::default(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            matches: 0,
            values: keep_values.then(Box::default),
        }
    }

    /// Add one datapoint.
    pub fn add(&mut self, value: f64, matched: bool) {
        self.count += 1;
        self.sum.add(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.matches += u64::from(matched);
        if let Some(v) = &mut self.values {
            v.push(value);
        }
    }

    /// Add another set.
    pub fn merge(&mut self, other: &Stats) {
        self.count += other.count;
        self.sum.merge(&other.sum);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.matches += other.matches;
        if let (Some(a), Some(b)) = (&mut self.values, &other.values) {
            a.extend_from_slice(b);
        }
    }
}

/// Dimension name/value pairs identifying one metric (empty: no dimensions).
pub type Dimensions = Vec<(String, String)>;

/// Datapoints per minute, for every dimension combination of one metric.
#[derive(Clone, Debug, Default)]
pub struct Series {
    keep_values: bool,
    metrics: HashMap<Dimensions, FastMap<Minute, Stats>>,
}

impl Series {
    /// An empty series (`keep_values` for percentile statistics).
    pub fn new(keep_values: bool) -> Series {
        Series { keep_values, metrics: HashMap::new() }
    }

    /// Add a datapoint.
    pub fn add(&mut self, dims: Dimensions, minute: Minute, value: f64, matched: bool) {
        let keep = self.keep_values;
        self.metrics.entry(dims).or_default().entry(minute).or_insert_with(|| Stats::new(keep)).add(value, matched);
    }

    /// Fold another series (of the same metric) into this one.
    pub fn merge(&mut self, other: Series) {
        for (dims, minutes) in other.metrics {
            let mine = self.metrics.entry(dims).or_default();
            for (m, s) in minutes {
                match mine.get_mut(&m) {
                    Some(x) => x.merge(&s),
                    None => {
                        mine.insert(m, s);
                    }
                }
            }
        }
    }

    /// The dimension combinations seen, sorted (the dimensionless metric,
    /// if present, first).
    pub fn dimensions(&self) -> Vec<&Dimensions> {
        let mut d: Vec<_> = self.metrics.keys().collect();
        d.sort();
        d
    }

    /// The minutes of one metric, ascending, borrowed (16 bytes a minute:
    /// a long span is not copied to be sorted).
    pub fn minutes(&self, dims: &Dimensions) -> Minutes<'_> {
        let mut items: Vec<(Minute, &Stats)> =
            self.metrics.get(dims).map(|m| m.iter().map(|(k, v)| (*k, v)).collect()).unwrap_or_default();
        items.sort_unstable_by_key(|(k, _)| *k);
        Minutes { items }
    }

    /// Whether no datapoint was added.
    pub fn is_empty(&self) -> bool {
        self.metrics.values().all(|m| m.is_empty())
    }
}

/// The statistic sets of one metric's minutes, ascending by minute (see
/// [`Series::minutes`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Minutes<'a> {
    items: Vec<(Minute, &'a Stats)>,
}

impl<'a> Minutes<'a> {
    /// Every minute with its set, ascending.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Minute, &'a Stats)> + '_ {
        self.items.iter().copied()
    }

    /// The minutes in `range`, ascending.
    pub fn range(&self, range: Range<Minute>) -> impl Iterator<Item = (Minute, &'a Stats)> + '_ {
        let lo = self.items.partition_point(|(m, _)| *m < range.start);
        let hi = lo + self.items[lo..].partition_point(|(m, _)| *m < range.end);
        self.items[lo..hi].iter().copied()
    }

    /// The first minute, if any.
    pub fn first(&self) -> Option<Minute> {
        self.items.first().map(|(m, _)| *m)
    }

    /// The last minute, if any.
    pub fn last(&self) -> Option<Minute> {
        self.items.last().map(|(m, _)| *m)
    }

    /// The set of `minute`, if it has one.
    pub fn get(&self, minute: Minute) -> Option<&'a Stats> {
        self.range(minute..minute + 1).next().map(|(_, s)| s)
    }

    /// Number of minutes.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<'a> From<&'a BTreeMap<Minute, Stats>> for Minutes<'a> {
    fn from(m: &'a BTreeMap<Minute, Stats>) -> Minutes<'a> {
        Minutes { items: m.iter().map(|(k, v)| (*k, v)).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_is_order_independent() {
        let values = [1e16, 1.0, -1e16, 0.1, 0.2, 0.3, 1e-300, 3.5, -2.25];
        let mut a = ExactSum::default();
        values.iter().for_each(|&v| a.add(v));
        let mut b = ExactSum::default();
        values.iter().rev().for_each(|&v| b.add(v));
        assert_eq!(a.value(), b.value());
        assert_eq!(a.value(), 1.0 + 0.6000000000000001 + 1.25);
        let mut parts = ExactSum::default();
        let mut c = ExactSum::default();
        values[..4].iter().for_each(|&v| c.add(v));
        let mut d = ExactSum::default();
        values[4..].iter().for_each(|&v| d.add(v));
        parts.merge(&d);
        parts.merge(&c);
        assert_eq!(parts.value(), a.value());
    }

    #[test]
    fn many_partials_spill_to_the_heap_and_stay_exact() {
        // Widely spread magnitudes need more partials than fit inline.
        let values = [1e300, 1e200, 1e100, 1.0, 1e-100, -1e300, -1e200, -1e100];
        let mut s = ExactSum::default();
        values.iter().for_each(|&v| s.add(v));
        assert_eq!(s.value(), 1.0);
        let mut t = ExactSum::default();
        values[..5].iter().for_each(|&v| t.add(v));
        assert!(matches!(t.partials, Partials::Heap(_)), "{:?}", t.partials);
        assert_eq!(t.partials.as_slice().len(), 5);
        values[5..].iter().for_each(|&v| t.add(v));
        assert_eq!(t.value(), 1.0);
    }

    #[test]
    fn counting_ones_is_exact() {
        let mut s = ExactSum::default();
        for _ in 0..1_000_000 {
            s.add(1.0);
        }
        assert_eq!(s.value(), 1_000_000.0);
        assert_eq!(s.partials.as_slice().len(), 1);
    }

    #[test]
    fn minute_flooring() {
        assert_eq!(minute_of(0), 0);
        assert_eq!(minute_of(59_999), 0);
        assert_eq!(minute_of(60_000), 1);
        assert_eq!(minute_of(-1), -1, "before 1970 floors down, not toward zero");
    }

    #[test]
    fn minutes_are_sorted_and_ranges_are_half_open() {
        let mut a = Series::new(false);
        for m in [13, 10, 11, -2] {
            a.add(vec![], m, 1.0, true);
        }
        let m = a.minutes(&vec![]);
        assert_eq!(m.iter().map(|(k, _)| k).collect::<Vec<_>>(), [-2, 10, 11, 13]);
        assert_eq!(m.range(10..13).map(|(k, _)| k).collect::<Vec<_>>(), [10, 11]);
        assert_eq!(m.range(12..13).count(), 0);
        assert_eq!(m.range(14..20).count(), 0);
        assert_eq!((m.first(), m.last(), m.len()), (Some(-2), Some(13), 4));
        assert!(m.get(12).is_none());
        assert!(a.minutes(&vec![("A".into(), "x".into())]).is_empty());
    }

    #[test]
    fn stats_and_series_merge() {
        let mut a = Series::new(false);
        a.add(vec![], 10, 3.0, true);
        a.add(vec![], 10, 7.0, false);
        let mut b = Series::new(false);
        b.add(vec![], 10, 3.0, true);
        b.add(vec![("A".into(), "x".into())], 11, 1.0, true);
        a.merge(b);
        let m = a.minutes(&vec![]);
        let s = m.get(10).expect("minute 10");
        assert_eq!((s.count, s.sum.value(), s.min, s.max, s.matches), (3, 13.0, 3.0, 7.0, 2));
        assert_eq!(a.dimensions().len(), 2);
    }
}
