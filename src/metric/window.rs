//! Clock-aligned period windows `[k·P, (k+1)·P)` UTC, rolled up from the
//! per-minute statistic sets.

use super::series::{Minutes, Stats, MINUTE_MS};
use crate::alarm::{Comparison, Statistic};
use crate::record::EpochMs;

/// One period window holding at least one datapoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Start (inclusive), epoch milliseconds.
    pub start: EpochMs,
    /// End (exclusive).
    pub end: EpochMs,
    /// Datapoints in the window (its SampleCount).
    pub datapoints: u64,
    /// How many of them came from matching events.
    pub matches: u64,
    /// The statistic's value.
    pub value: f64,
    /// Whether the value breaches the threshold.
    pub breaching: bool,
}

/// Index of the window containing `ms` for a period of `period_ms`.
pub fn window_index(ms: EpochMs, period_ms: i64) -> i64 {
    ms.div_euclid(period_ms)
}

/// Roll minutes up into aligned windows, ascending, keeping only windows
/// with at least one datapoint.
pub fn windows(
    minutes: &Minutes<'_>,
    period_ms: i64,
    statistic: Statistic,
    threshold: f64,
    comparison: Comparison,
) -> Vec<Window> {
    let mut out: Vec<Window> = Vec::new();
    let mut current: Option<(i64, Stats)> = None;
    let finish = |k: i64, stats: Stats, out: &mut Vec<Window>| {
        if let Some(value) = statistic.of(&stats) {
            out.push(Window {
                start: k * period_ms,
                end: (k + 1) * period_ms,
                breaching: comparison.breaches(value, threshold),
                value,
                datapoints: stats.count,
                matches: stats.matches,
            });
        }
    };
    for (m, s) in minutes.iter() {
        let k = window_index(m * MINUTE_MS, period_ms);
        match &mut current {
            Some((ck, acc)) if *ck == k => acc.merge(s),
            _ => {
                if let Some((ck, acc)) = current.take() {
                    finish(ck, acc, &mut out);
                }
                current = Some((k, s.clone()));
            }
        }
    }
    if let Some((ck, acc)) = current {
        finish(ck, acc, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::series::Minute;
    use crate::record::time::parse_event_time;
    use std::collections::BTreeMap;

    fn minutes(times: &[&str]) -> BTreeMap<Minute, Stats> {
        let mut m: BTreeMap<Minute, Stats> = BTreeMap::new();
        for t in times {
            let ms = parse_event_time(t).unwrap();
            m.entry(ms.div_euclid(MINUTE_MS)).or_insert_with(|| Stats::new(false)).add(1.0, true);
        }
        m
    }

    fn starts(w: &[Window]) -> Vec<(String, f64)> {
        w.iter().map(|w| (crate::record::time::format_rfc3339(w.start), w.value)).collect()
    }

    #[test]
    fn windows_are_clock_aligned_and_half_open() {
        let m =
            minutes(&["2023-07-10T11:49:59Z", "2023-07-10T11:50:00Z", "2023-07-10T11:54:59Z", "2023-07-10T11:55:00Z"]);
        let w = windows(&(&m).into(), 300_000, Statistic::Sum, 1.0, Comparison::GreaterThanOrEqualToThreshold);
        assert_eq!(
            starts(&w),
            [
                ("2023-07-10T11:45:00Z".into(), 1.0),
                ("2023-07-10T11:50:00Z".into(), 2.0),
                ("2023-07-10T11:55:00Z".into(), 1.0)
            ]
        );
        assert_eq!(w[1].end - w[1].start, 300_000);
        assert_eq!((w[1].datapoints, w[1].matches), (2, 2));
        assert!(w.iter().all(|w| w.breaching));
    }

    #[test]
    fn out_of_order_input_and_thresholds() {
        let m = minutes(&["2023-07-10T12:07:00Z", "2023-07-10T12:01:00Z", "2023-07-10T12:03:30Z"]);
        let w = windows(&(&m).into(), 300_000, Statistic::Sum, 2.0, Comparison::GreaterThanOrEqualToThreshold);
        assert_eq!(starts(&w), [("2023-07-10T12:00:00Z".into(), 2.0), ("2023-07-10T12:05:00Z".into(), 1.0)]);
        assert_eq!(w.iter().map(|w| w.breaching).collect::<Vec<_>>(), [true, false]);
        let hourly =
            windows(&(&m).into(), 3_600_000, Statistic::SampleCount, 3.0, Comparison::GreaterThanOrEqualToThreshold);
        assert_eq!(starts(&hourly), [("2023-07-10T12:00:00Z".into(), 3.0)]);
    }

    #[test]
    fn before_the_epoch() {
        let mut m = BTreeMap::new();
        let mut s = Stats::new(false);
        s.add(1.0, true);
        m.insert(-1, s);
        let w = windows(&(&m).into(), 300_000, Statistic::Sum, 1.0, Comparison::GreaterThanOrEqualToThreshold);
        assert_eq!(w[0].start, -300_000);
    }
}
