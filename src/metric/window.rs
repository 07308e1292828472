//! Clock-aligned period windows `[k·P, (k+1)·P)` UTC, rolled up from the
//! per-minute statistic sets.

use std::iter::Peekable;

use super::series::{Minute, Stats, MINUTE_MS};
use super::Statistic;
use crate::record::EpochMs;

/// One period window holding at least one datapoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Start (inclusive), epoch milliseconds.
    pub(crate) start: EpochMs,
    /// End (exclusive).
    pub(crate) end: EpochMs,
    /// Datapoints in the window (its SampleCount).
    pub(crate) datapoints: u64,
    /// How many of them came from matching events.
    pub(crate) matches: u64,
    /// The statistic's value.
    pub(crate) value: f64,
}

/// Index of the window containing `ms` for a period of `period_ms`.
pub(crate) fn window_index(ms: EpochMs, period_ms: i64) -> i64 {
    ms.div_euclid(period_ms)
}

/// Roll minutes (ascending) up into aligned windows, ascending, keeping
/// only windows with at least one datapoint. Lazy: one window's minutes
/// are held at a time.
pub fn windows<I: IntoIterator<Item = (Minute, Stats)>>(
    minutes: I,
    period_ms: i64,
    statistic: Statistic,
) -> Windows<I::IntoIter> {
    Windows { minutes: minutes.into_iter().peekable(), period_ms, statistic }
}

/// The windows of [`windows`].
pub struct Windows<I: Iterator<Item = (Minute, Stats)>> {
    minutes: Peekable<I>,
    period_ms: i64,
    statistic: Statistic,
}

impl<I: Iterator<Item = (Minute, Stats)>> Iterator for Windows<I> {
    type Item = Window;

    fn next(&mut self) -> Option<Window> {
        let index = |m: Minute| window_index(m * MINUTE_MS, self.period_ms);
        loop {
            let (m, mut acc) = self.minutes.next()?;
            let k = index(m);
            while let Some((_, s)) = self.minutes.next_if(|(n, _)| index(*n) == k) {
                acc.merge(&s);
            }
            if let Some(value) = self.statistic.of(&acc) {
                return Some(Window {
                    start: k * self.period_ms,
                    end: (k + 1) * self.period_ms,
                    value,
                    datapoints: acc.count,
                    matches: acc.matches,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn run(m: &BTreeMap<Minute, Stats>, period: i64, st: Statistic) -> Vec<Window> {
        windows(m.iter().map(|(k, v)| (*k, v.clone())), period, st).collect()
    }

    fn starts(w: &[Window]) -> Vec<(String, f64)> {
        w.iter().map(|w| (crate::record::time::format_rfc3339(w.start), w.value)).collect()
    }

    #[test]
    fn windows_are_clock_aligned_and_half_open() {
        let m =
            minutes(&["2023-07-10T11:49:59Z", "2023-07-10T11:50:00Z", "2023-07-10T11:54:59Z", "2023-07-10T11:55:00Z"]);
        let w = run(&m, 300_000, Statistic::Sum);
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
    }

    #[test]
    fn out_of_order_input_and_thresholds() {
        let m = minutes(&["2023-07-10T12:07:00Z", "2023-07-10T12:01:00Z", "2023-07-10T12:03:30Z"]);
        let w = run(&m, 300_000, Statistic::Sum);
        assert_eq!(starts(&w), [("2023-07-10T12:00:00Z".into(), 2.0), ("2023-07-10T12:05:00Z".into(), 1.0)]);
        let hourly = run(&m, 3_600_000, Statistic::SampleCount);
        assert_eq!(starts(&hourly), [("2023-07-10T12:00:00Z".into(), 3.0)]);
    }

    #[test]
    fn before_the_epoch() {
        let mut m = BTreeMap::new();
        let mut s = Stats::new(false);
        s.add(1.0, true);
        m.insert(-1, s);
        let w = run(&m, 300_000, Statistic::Sum);
        assert_eq!(w[0].start, -300_000);
    }
}
