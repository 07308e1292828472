//! Alarm tuning: one scan's per-minute metric replayed under a grid of
//! alarm settings, so that the noise and the coverage of each setting can
//! be compared without reading the logs again. The cost after the scan is
//! one replay per setting over the metric's minutes, whatever the size of
//! the logs.

use serde::Serialize;

use crate::alarm::eval::Replay;
use crate::alarm::{alarm_episodes, AlarmSpec, AlarmState, TreatMissing};
use crate::metric::series::{Minute, Stats, MINUTE_MS};
use crate::metric::window::windows;
use crate::record::EpochMs;
use crate::rules::Rule;
use crate::scan::{ScanOptions, ScanReport};

const DAY_MS: EpochMs = 86_400_000;

/// One setting of the grid: what it changes in the rule's alarm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    /// Period, seconds.
    pub period_s: i64,
    /// Threshold.
    pub threshold: f64,
    /// EvaluationPeriods (N).
    pub evaluation_periods: u32,
    /// DatapointsToAlarm (M).
    pub datapoints_to_alarm: u32,
    /// TreatMissingData.
    pub treat_missing: TreatMissing,
}

/// The values each setting takes; every combination is a setting (those
/// with M > N are left out). An empty list keeps the rule's own value (for
/// `datapoints_to_alarm`: M = N).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    /// Periods, seconds.
    pub periods_s: Vec<i64>,
    /// Thresholds.
    pub thresholds: Vec<f64>,
    /// EvaluationPeriods.
    pub evaluation_periods: Vec<u32>,
    /// DatapointsToAlarm.
    pub datapoints_to_alarm: Vec<u32>,
    /// TreatMissingData.
    pub treat_missing: Vec<TreatMissing>,
}

impl Grid {
    /// Every setting over `base`, in grid order (period, threshold, N, M,
    /// missing data).
    pub fn settings(&self, base: &AlarmSpec) -> Vec<Setting> {
        let or = |v: &[i64], d: i64| if v.is_empty() { vec![d] } else { v.to_vec() };
        let mut out = Vec::new();
        for period_s in or(&self.periods_s, base.period_s) {
            for &threshold in
                if self.thresholds.is_empty() { std::slice::from_ref(&base.threshold) } else { &self.thresholds }
            {
                let ns = if self.evaluation_periods.is_empty() {
                    vec![base.evaluation_periods]
                } else {
                    self.evaluation_periods.clone()
                };
                for n in ns {
                    let ms =
                        if self.datapoints_to_alarm.is_empty() { vec![n] } else { self.datapoints_to_alarm.clone() };
                    for m in ms.into_iter().filter(|&m| m >= 1 && m <= n) {
                        let treats = if self.treat_missing.is_empty() {
                            vec![base.treat_missing]
                        } else {
                            self.treat_missing.clone()
                        };
                        for treat_missing in treats {
                            out.push(Setting {
                                period_s,
                                threshold,
                                evaluation_periods: n,
                                datapoints_to_alarm: m,
                                treat_missing,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

/// What one setting would have done over the replay.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The setting.
    pub setting: Setting,
    /// Times the alarm entered ALARM.
    pub episodes: u64,
    /// Episodes per day of replay.
    pub episodes_per_day: f64,
    /// Minutes in ALARM, in total.
    pub minutes_in_alarm: u64,
    /// The longest ALARM episode, minutes.
    pub longest_episode_minutes: u64,
    /// Share of the matching events the alarm answered: those in an ALARM
    /// episode or in the period before one began (0 to 1; 1 when nothing
    /// matched).
    pub matches_covered: f64,
    /// When the alarm first entered ALARM, if it did.
    pub first_alarm: Option<EpochMs>,
}

/// One row of a tuning table: a setting's outcome, and whether it is the
/// one to pick.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// What the setting did.
    pub outcome: Outcome,
    /// Among the settings within the cap on pages, the one that answers the
    /// most matching events.
    pub best: bool,
}

/// The rows to show: with `max_per_day`, only the settings that page at
/// most that often, the best covered of them marked; sorted by episodes per
/// day (fewest first), then by coverage (most first), then in grid order.
pub fn rank(outcomes: Vec<Outcome>, max_per_day: Option<f64>) -> Vec<Row> {
    let mut rows: Vec<Row> = outcomes
        .into_iter()
        .filter(|o| max_per_day.is_none_or(|m| o.episodes_per_day <= m))
        .map(|outcome| Row { outcome, best: false })
        .collect();
    rows.sort_by(|x, y| {
        let (x, y) = (&x.outcome, &y.outcome);
        x.episodes_per_day.total_cmp(&y.episodes_per_day).then(y.matches_covered.total_cmp(&x.matches_covered))
    });
    if max_per_day.is_some() {
        // The first of the best covered: the quietest among equals.
        let best = rows
            .iter()
            .enumerate()
            .max_by(|(i, x), (j, y)| x.outcome.matches_covered.total_cmp(&y.outcome.matches_covered).then(j.cmp(i)));
        if let Some((k, _)) = best {
            rows[k].best = true;
        }
    }
    rows
}

/// The values a rule's statistic took per period (windows with data), for
/// choosing a threshold from data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Distribution {
    /// Period, seconds.
    pub period_s: i64,
    /// Periods with at least one datapoint.
    pub periods: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// Largest.
    pub max: f64,
    /// Periods whose value was below zero (counted as zero in the
    /// percentiles).
    pub negative: u64,
}

/// Rule `index`'s per-minute metric (the one its alarm watches), read once
/// from the scan (and its temporary file) for any number of replays.
pub fn metric(report: &ScanReport, index: usize, rule: &Rule) -> Vec<(Minute, Stats)> {
    report.minutes(index, &rule.alarm_dimensions).collect()
}

/// The distribution of a rule's statistic (its per-minute `metric`) over
/// periods of `period_s`: percentiles to three significant digits (and
/// 0.001), the maximum exact.
pub fn distribution(metric: &[(Minute, Stats)], rule: &Rule, period_s: i64) -> Distribution {
    const SCALE: f64 = 1000.0;
    let mut h = hdrhistogram::Histogram::<u64>::new(3).expect("three significant digits");
    let (mut max, mut negative) = (f64::NEG_INFINITY, 0);
    for w in windows(metric.iter().cloned(), period_s * 1000, rule.alarm.statistic) {
        max = max.max(w.value);
        if w.value < 0.0 {
            negative += 1;
        }
        h.record((w.value.max(0.0) * SCALE).round().min(u64::MAX as f64 / 2.0) as u64).expect("auto-resizing");
    }
    let at = |q: f64| if h.is_empty() { 0.0 } else { three_digits(h.value_at_quantile(q) as f64 / SCALE) };
    Distribution {
        period_s,
        periods: h.len(),
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        p99_9: at(0.999),
        max: if h.is_empty() { 0.0 } else { max },
        negative,
    }
}

/// `x` to three significant digits, the histogram's precision.
fn three_digits(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(2 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// The ALARM episodes of a replay, each as [entered, left), and the span
/// the replay covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Episodes {
    /// The episodes, in time order; the last is cut at `end` if the alarm
    /// was still in ALARM.
    pub list: Vec<(EpochMs, EpochMs)>,
    /// The first evaluation.
    pub start: EpochMs,
    /// The end of the replay.
    pub end: EpochMs,
}

/// Replay alarm `spec` over a rule's per-minute `metric` (from a scan with
/// `opts`): its ALARM episodes.
pub fn episodes(metric: &[(Minute, Stats)], spec: &AlarmSpec, opts: &ScanOptions) -> Episodes {
    let mut replay = Replay::new(metric.iter().cloned(), spec, opts.from, opts.to);
    let start = replay.start();
    let initially = (spec.initial_state == AlarmState::Alarm).then_some(start);
    let (mut list, open) = alarm_episodes(replay.by_ref().map(|t| (t.at, t.to)), initially);
    let end = replay.end().expect("replayed to its end");
    if let Some(s) = open {
        list.push((s, end));
    }
    Episodes { list, start, end }
}

/// Replay a rule's alarm under `setting` over its per-minute `metric` (from
/// a scan with `opts`).
pub fn evaluate(metric: &[(Minute, Stats)], rule: &Rule, setting: &Setting, opts: &ScanOptions) -> Outcome {
    let spec = AlarmSpec {
        period_s: setting.period_s,
        threshold: setting.threshold,
        evaluation_periods: setting.evaluation_periods,
        datapoints_to_alarm: setting.datapoints_to_alarm,
        treat_missing: setting.treat_missing,
        ..rule.alarm.clone()
    };
    let Episodes { list: episodes, start, end } = self::episodes(metric, &spec, opts);
    // Matching events answered: by minute, against the episodes (both
    // ascending).
    let period = spec.period_ms();
    let (mut matched, mut covered) = (0u64, 0u64);
    let mut e = 0;
    for (m, s) in metric {
        let t = m * MINUTE_MS;
        matched += s.matches;
        while e < episodes.len() && episodes[e].1 <= t {
            e += 1;
        }
        if episodes.get(e).is_some_and(|&(a, _)| a - period <= t) {
            covered += s.matches;
        }
    }
    let days = ((end - start).max(period) as f64) / DAY_MS as f64;
    // To a millionth: the ratio's float noise (14.399999999999999) is not
    // information.
    let per_day = (episodes.len() as f64 / days * 1e6).round() / 1e6;
    let minutes_of = |(a, b): &(EpochMs, EpochMs)| ((b - a).max(0) / MINUTE_MS) as u64;
    Outcome {
        setting: *setting,
        episodes: episodes.len() as u64,
        episodes_per_day: per_day,
        minutes_in_alarm: episodes.iter().map(minutes_of).sum(),
        longest_episode_minutes: episodes.iter().map(minutes_of).max().unwrap_or(0),
        matches_covered: if matched == 0 { 1.0 } else { covered as f64 / matched as f64 },
        first_alarm: episodes.first().map(|e| e.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_every_combination_with_m_at_most_n_and_the_rules_own_values_for_the_rest() {
        let base = AlarmSpec::default();
        let only = Grid::default().settings(&base);
        assert_eq!(only.len(), 1);
        assert_eq!((only[0].period_s, only[0].threshold, only[0].evaluation_periods), (300, 1.0, 1));
        let g = Grid {
            thresholds: vec![1.0, 2.0],
            evaluation_periods: vec![1, 3],
            datapoints_to_alarm: vec![1, 2, 3],
            treat_missing: vec![TreatMissing::Missing, TreatMissing::Breaching],
            ..Grid::default()
        };
        let all = g.settings(&base);
        // 2 thresholds x (N=1: M=1; N=3: M=1,2,3) x 2 treatments.
        assert_eq!(all.len(), 2 * 4 * 2);
        assert!(all.iter().all(|s| s.datapoints_to_alarm <= s.evaluation_periods && s.period_s == 300));
        assert_eq!((three_digits(25.007), three_digits(3.001), three_digits(0.0012345)), (25.0, 3.0, 0.00123));
        let m_default = Grid { evaluation_periods: vec![2, 4], ..Grid::default() }.settings(&base);
        assert_eq!(m_default.iter().map(|s| s.datapoints_to_alarm).collect::<Vec<_>>(), [2, 4]);
    }

    fn outcome(threshold: f64, per_day: f64, covered: f64) -> Outcome {
        let setting = Setting {
            period_s: 300,
            threshold,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing: TreatMissing::Missing,
        };
        Outcome {
            setting,
            episodes: per_day as u64,
            episodes_per_day: per_day,
            minutes_in_alarm: 0,
            longest_episode_minutes: 0,
            matches_covered: covered,
            first_alarm: None,
        }
    }

    #[test]
    fn ranking_sorts_by_pages_then_coverage_and_marks_the_first_best_covered_under_the_cap() {
        let all = vec![outcome(1.0, 9.0, 1.0), outcome(2.0, 3.0, 0.8), outcome(3.0, 1.0, 0.8), outcome(4.0, 1.0, 0.5)];
        let thresholds = |rows: &[Row]| rows.iter().map(|r| r.outcome.setting.threshold).collect::<Vec<_>>();
        let uncapped = rank(all.clone(), None);
        assert_eq!(thresholds(&uncapped), [3.0, 4.0, 2.0, 1.0]);
        assert!(uncapped.iter().all(|r| !r.best));
        let capped = rank(all.clone(), Some(3.0));
        assert_eq!(thresholds(&capped), [3.0, 4.0, 2.0]);
        // 3 and 2 cover as much; 3 pages less and comes first.
        assert_eq!(capped.iter().filter(|r| r.best).map(|r| r.outcome.setting.threshold).collect::<Vec<_>>(), [3.0]);
        assert!(rank(all, Some(0.5)).is_empty());
    }
}
