//! Per-minute aggregation of datapoints.
//!
//! Metric-filter metrics have one-minute resolution: CloudWatch aggregates
//! the values published in a minute into a statistic set (SampleCount, Sum,
//! Minimum, Maximum). trailwatch keeps exactly that per minute, so any
//! period statistic can be rolled up later, and partial results from
//! different files and threads merge associatively and commutatively.
//! Sums are exact (Shewchuk partials) so the result does not depend on the
//! order in which files were read.
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use std::collections::HashMap;

// Minutes are keyed with FxHash, not a keyed hash: eventTime is the log
// author's, but minutes that collide in a table of 2^k slots lie 2^k
// minutes apart, and eventTime's range allows only a few thousand.
use crate::spill::Keyed;
use rustc_hash::FxHashMap as FastMap;

use crate::record::EpochMs;

/// One minute, as `floor(epoch_ms / 60_000)`.
pub(crate) type Minute = i64;

/// Milliseconds per minute.
pub(crate) const MINUTE_MS: i64 = 60_000;

/// The minute containing `ms`.
pub(crate) fn minute_of(ms: EpochMs) -> Minute {
    ms.div_euclid(MINUTE_MS)
}

/// An exactly rounded floating-point sum, independent of addition order.
///
/// The non-overlapping partials (Shewchuk) are kept inline while there are
/// at most two of them, which covers every sum of integers below
/// 2^53 (one partial): no allocation per minute in the common case.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ExactSum {
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
    pub(crate) fn add(&mut self, mut x: f64) {
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
    pub(crate) fn merge(&mut self, other: &ExactSum) {
        for &p in other.partials.as_slice() {
            self.add(p);
        }
    }

    /// The non-overlapping partials whose exact sum this is, smallest
    /// magnitude first (see [`ExactSum::from_partials`]).
    pub(crate) fn partials(&self) -> &[f64] {
        self.partials.as_slice()
    }

    /// The sum whose partials are `p`, as [`ExactSum::partials`] returned
    /// them (no addition is redone, so the partials are kept exactly).
    pub(crate) fn from_partials(p: &[f64]) -> ExactSum {
        let partials = if p.len() <= INLINE {
            let mut items = [0.0; INLINE];
            items[..p.len()].copy_from_slice(p);
            Partials::Inline { len: p.len() as u8, items }
        } else {
            Partials::Heap(p.to_vec())
        };
        ExactSum { partials }
    }

    /// The correctly rounded total.
    pub(crate) fn value(&self) -> f64 {
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
    pub(crate) count: u64,
    /// Exact sum of their values.
    pub(crate) sum: ExactSum,
    /// Smallest value.
    pub(crate) min: f64,
    /// Largest value.
    pub(crate) max: f64,
    /// How many of the datapoints came from matching events (the others are
    /// default values of non-matching events).
    pub(crate) matches: u64,
    /// Every value, kept only when a percentile statistic needs them (boxed:
    /// 8 bytes instead of 24 in every other minute's set).
    #[allow(clippy::box_collection)]
    pub(crate) values: Option<Box<Vec<f64>>>,
}

impl Stats {
    /// An empty set (`keep_values`: remember values for percentiles).
    pub(crate) fn new(keep_values: bool) -> Stats {
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
    pub(crate) fn add(&mut self, value: f64, matched: bool) {
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
    pub(crate) fn merge(&mut self, other: &Stats) {
        self.count += other.count;
        self.sum.merge(&other.sum);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.matches += other.matches;
        if let (Some(a), Some(b)) = (&mut self.values, &other.values) {
            a.extend_from_slice(b);
        }
    }

    /// Append the binary form of `minute` and its set (see
    /// [`Stats::decode`]): a little-endian `u32` length of the rest, then
    /// the minute, count, matches, minimum, maximum, the sum's partials and
    /// the kept values, each list after its `u32` length (`u32::MAX`: no
    /// values kept).
    pub(crate) fn encode(&self, minute: Minute, out: &mut Vec<u8>) {
        let partials = self.sum.partials();
        let values = self.values.as_deref().map(Vec::as_slice);
        let floats = partials.len() + values.map_or(0, <[f64]>::len);
        let len = 8 * 5 + 4 + 4 + 8 * floats;
        out.reserve(4 + len);
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&minute.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.matches.to_le_bytes());
        out.extend_from_slice(&self.min.to_le_bytes());
        out.extend_from_slice(&self.max.to_le_bytes());
        out.extend_from_slice(&(partials.len() as u32).to_le_bytes());
        partials.iter().for_each(|p| out.extend_from_slice(&p.to_le_bytes()));
        out.extend_from_slice(&values.map_or(u32::MAX, |v| v.len() as u32).to_le_bytes());
        values.unwrap_or_default().iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    }

    /// Read one set written by [`Stats::encode`] from the front of
    /// `bytes`: the minute, the set and the bytes it took, `Ok(None)` when
    /// `bytes` holds only part of it, an error when it is not a set.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Option<(Minute, Stats, usize)>, &'static str> {
        let Some(head) = bytes.get(..4) else { return Ok(None) };
        let len = u32::from_le_bytes(head.try_into().expect("4 bytes")) as usize;
        let Some(mut rest) = bytes.get(4..4 + len) else { return Ok(None) };
        let mut word = || -> Result<[u8; 8], &'static str> {
            let (w, tail) = rest.split_first_chunk::<8>().ok_or("a minute's statistics are cut short")?;
            rest = tail;
            Ok(*w)
        };
        let minute = i64::from_le_bytes(word()?);
        let count = u64::from_le_bytes(word()?);
        let matches = u64::from_le_bytes(word()?);
        let min = f64::from_le_bytes(word()?);
        let max = f64::from_le_bytes(word()?);
        let floats = |rest: &mut &[u8], n: usize| -> Result<Vec<f64>, &'static str> {
            let b = rest.get(..n.checked_mul(8).ok_or("bad length")?).ok_or("a minute's statistics are cut short")?;
            *rest = &rest[b.len()..];
            Ok(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
        };
        let count_of = |rest: &mut &[u8]| -> Result<u32, &'static str> {
            let (n, tail) = rest.split_first_chunk::<4>().ok_or("a minute's statistics are cut short")?;
            *rest = tail;
            Ok(u32::from_le_bytes(*n))
        };
        let np = count_of(&mut rest)?;
        let sum = ExactSum::from_partials(&floats(&mut rest, np as usize)?);
        let values = match count_of(&mut rest)? {
            u32::MAX => None,
            n => Some(Box::new(floats(&mut rest, n as usize)?)),
        };
        if !rest.is_empty() {
            return Err("a minute's statistics are longer than their fields");
        }
        Ok(Some((minute, Stats { count, sum, min, max, matches, values }, 4 + len)))
    }
}

/// Dimension name/value pairs identifying one metric (empty: no dimensions).
pub(crate) type Dimensions = Vec<(String, String)>;

/// Datapoints per minute, for every dimension combination of one metric.
#[derive(Clone, Debug, Default)]
pub struct Series {
    keep_values: bool,
    /// The metric without dimensions, what most rules publish: kept apart
    /// so that a datapoint for it hashes no dimension list (with the
    /// attacker-proof hasher the others need, that was about 1% of a run
    /// where every record publishes).
    plain: FastMap<Minute, Stats>,
    /// Metrics with dimensions, by combination (never empty).
    metrics: HashMap<Dimensions, FastMap<Minute, Stats>>,
    /// Statistic sets held, over all dimension combinations.
    held: usize,
}

impl Series {
    /// An empty series (`keep_values` for percentile statistics).
    pub fn new(keep_values: bool) -> Series {
        Series { keep_values, plain: FastMap::default(), metrics: HashMap::new(), held: 0 }
    }

    /// The dimension combinations seen, sorted (the dimensionless metric,
    /// if present, first).
    #[cfg(test)]
    pub(crate) fn dimensions(&self) -> Vec<&Dimensions> {
        static NONE: Dimensions = Vec::new();
        let plain = (&NONE, &self.plain);
        let mut d: Vec<_> =
            std::iter::once(plain).chain(&self.metrics).filter(|(_, m)| !m.is_empty()).map(|(d, _)| d).collect();
        d.sort();
        d
    }

    /// The sets of the metric with these dimensions.
    fn table(&mut self, dims: Dimensions) -> &mut FastMap<Minute, Stats> {
        if dims.is_empty() {
            &mut self.plain
        } else {
            self.metrics.entry(dims).or_default()
        }
    }

    /// Add a datapoint.
    pub fn add(&mut self, dims: Dimensions, minute: Minute, value: f64, matched: bool) {
        let keep = self.keep_values;
        let mut held = 0;
        self.table(dims)
            .entry(minute)
            .or_insert_with(|| {
                held = 1;
                Stats::new(keep)
            })
            .add(value, matched);
        self.held += held;
    }

    /// Fold another series (of the same metric) into this one.
    pub fn merge(&mut self, other: Series) {
        let metrics = std::iter::once((Dimensions::new(), other.plain)).chain(other.metrics);
        for (dims, minutes) in metrics {
            let mine = self.table(dims);
            let added: usize = minutes.into_iter().map(|(m, s)| put(mine, m, s)).sum();
            self.held += added;
        }
    }

    /// Add a whole set for `minute` (merged with the one held, if any).
    pub(crate) fn insert(&mut self, dims: Dimensions, minute: Minute, stats: Stats) {
        self.held += put(self.table(dims), minute, stats);
    }

    /// Number of statistic sets held (minutes, over all dimension
    /// combinations).
    pub(crate) fn len(&self) -> usize {
        self.held
    }

    /// Whether no datapoint was added (or all were taken out).
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Take every set out, by dimension combination, each ascending by
    /// minute (to be written out as sorted runs). The series is left empty.
    pub(crate) fn drain_sorted(&mut self) -> Vec<(Dimensions, Vec<(Minute, Stats)>)> {
        self.held = 0;
        let plain = std::mem::take(&mut self.plain);
        let mut out: Vec<_> = std::iter::once((Dimensions::new(), plain))
            .chain(self.metrics.drain())
            .map(|(dims, minutes)| {
                let mut sets: Vec<(Minute, Stats)> = minutes.into_iter().collect();
                sets.sort_unstable_by_key(|(m, _)| *m);
                (dims, sets)
            })
            .filter(|(_, sets)| !sets.is_empty())
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The sets of one metric, ascending by minute, borrowed (16 bytes a
    /// minute: nothing is cloned to be sorted).
    pub fn sorted(&self, dims: &Dimensions) -> Vec<(Minute, &Stats)> {
        let table = if dims.is_empty() { Some(&self.plain) } else { self.metrics.get(dims) };
        let mut items: Vec<(Minute, &Stats)> =
            table.map(|m| m.iter().map(|(k, v)| (*k, v)).collect()).unwrap_or_default();
        items.sort_unstable_by_key(|(k, _)| *k);
        items
    }
}

/// Merge `stats` into `minute`'s set: 1 if the minute was new, else 0.
fn put(minutes: &mut FastMap<Minute, Stats>, minute: Minute, stats: Stats) -> usize {
    match minutes.get_mut(&minute) {
        Some(x) => {
            x.merge(&stats);
            0
        }
        None => {
            minutes.insert(minute, stats);
            1
        }
    }
}

/// A minute's set, as the per-minute runs of a scan are merged: sets of
/// the same minute fold together.
impl Keyed for (Minute, Stats) {
    type Key = Minute;
    fn key(&self) -> Minute {
        self.0
    }
    fn fold(&mut self, other: (Minute, Stats)) {
        self.1.merge(&other.1);
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
    fn minutes_are_sorted() {
        let mut a = Series::new(false);
        for m in [13, 10, 11, -2] {
            a.add(vec![], m, 1.0, true);
        }
        let m = a.sorted(&vec![]);
        assert_eq!(m.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [-2, 10, 11, 13]);
        assert_eq!(a.len(), 4);
        assert!(a.sorted(&vec![("A".into(), "x".into())]).is_empty());
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
        assert_eq!(a.len(), 2);
        let m = a.sorted(&vec![]);
        let s = m.iter().find(|(k, _)| *k == 10).expect("minute 10").1;
        assert_eq!((s.count, s.sum.value(), s.min, s.max, s.matches), (3, 13.0, 3.0, 7.0, 2));
        assert_eq!(a.dimensions().len(), 2);
        assert!(a.dimensions()[0].is_empty(), "the dimensionless metric first");
    }

    fn roundtrip(minute: Minute, s: &Stats) {
        let mut bytes = Vec::new();
        s.encode(minute, &mut bytes);
        for cut in 0..bytes.len() {
            assert_eq!(Stats::decode(&bytes[..cut]), Ok(None), "a set cut at byte {cut} is incomplete");
        }
        bytes.extend_from_slice(b"next");
        let (m, back, used) = Stats::decode(&bytes).expect("valid").expect("whole");
        assert_eq!((m, used), (minute, bytes.len() - 4));
        assert_eq!((back.count, back.matches, back.min, back.max), (s.count, s.matches, s.min, s.max));
        assert_eq!(back.sum.partials(), s.sum.partials());
        assert_eq!(back.values, s.values);
    }

    #[test]
    fn sets_survive_their_binary_form() {
        let mut plain = Stats::new(false);
        plain.add(1.0, true);
        plain.add(3.5, false);
        roundtrip(-7, &plain);
        roundtrip(i64::MAX, &Stats::new(false));
        let mut kept = Stats::new(true);
        for v in [1e300, 1e200, 1e100, 1.0, 1e-100, -0.0, f64::MIN_POSITIVE] {
            kept.add(v, true);
        }
        assert!(kept.sum.partials().len() > INLINE, "partials spilled to the heap");
        roundtrip(28_000_000, &kept);
    }

    #[test]
    fn a_damaged_set_is_an_error_not_a_panic() {
        let mut bytes = Vec::new();
        let mut s = Stats::new(true);
        s.add(2.0, true);
        s.encode(5, &mut bytes);
        // Claim more partials than the record holds.
        let np = 4 + 8 * 5;
        bytes[np..np + 4].copy_from_slice(&9u32.to_le_bytes());
        assert!(Stats::decode(&bytes).is_err());
        // A record longer than its fields.
        let mut long = Vec::new();
        Stats::new(false).encode(5, &mut long);
        let len = u32::from_le_bytes(long[..4].try_into().unwrap()) + 8;
        long[..4].copy_from_slice(&len.to_le_bytes());
        long.extend_from_slice(&[0; 8]);
        assert!(Stats::decode(&long).is_err());
    }

    #[test]
    fn draining_empties_the_series_in_order() {
        let mut a = Series::new(false);
        a.add(vec![("B".into(), "y".into())], 3, 1.0, true);
        a.add(vec![], 9, 1.0, true);
        a.add(vec![], 2, 1.0, true);
        let runs = a.drain_sorted();
        assert!(a.is_empty() && a.dimensions().is_empty());
        let shape: Vec<(usize, Vec<Minute>)> =
            runs.iter().map(|(d, sets)| (d.len(), sets.iter().map(|(m, _)| *m).collect())).collect();
        assert_eq!(shape, [(0, vec![2, 9]), (1, vec![3])]);
    }

    proptest::proptest! {
        /// However the datapoints are split between partial series, and
        /// whenever those are drained into runs, merging the runs with what
        /// is left gives the series built in one piece.
        #[test]
        fn merged_runs_equal_one_series(
            points in proptest::collection::vec((0i64..40, 0u8..4, proptest::bool::ANY, 0usize..3), 0..200),
            drain_every in 1usize..50,
        ) {
            let mut whole = Series::new(true);
            let mut parts = vec![Series::new(true), Series::new(true), Series::new(true)];
            let mut runs: Vec<Vec<(Minute, Stats)>> = Vec::new();
            for (n, &(minute, v, matched, part)) in points.iter().enumerate() {
                let value = f64::from(v) * 0.1;
                whole.add(vec![], minute, value, matched);
                parts[part].add(vec![], minute, value, matched);
                if n % drain_every == 0 {
                    for (_, sets) in parts[part].drain_sorted() {
                        runs.push(sets);
                    }
                }
            }
            let mut sources: Vec<std::vec::IntoIter<(Minute, Stats)>> = runs.into_iter().map(Vec::into_iter).collect();
            for p in &parts {
                let rest: Vec<(Minute, Stats)> = p.sorted(&vec![]).into_iter().map(|(m, s)| (m, s.clone())).collect();
                sources.push(rest.into_iter());
            }
            let merged: Vec<(Minute, Stats)> = crate::spill::Merge::new(sources).collect();
            let want = whole.sorted(&vec![]);
            proptest::prop_assert_eq!(merged.len(), want.len());
            for ((m, s), (wm, ws)) in merged.iter().zip(&want) {
                proptest::prop_assert_eq!(m, wm);
                proptest::prop_assert_eq!((s.count, s.matches, s.min, s.max), (ws.count, ws.matches, ws.min, ws.max));
                proptest::prop_assert_eq!(s.sum.value(), ws.sum.value());
                let sorted = |v: &Option<Box<Vec<f64>>>| {
                    let mut v = v.as_deref().cloned().unwrap_or_default();
                    v.sort_by(f64::total_cmp);
                    v
                };
                proptest::prop_assert_eq!(sorted(&s.values), sorted(&ws.values));
            }
        }
    }
}
