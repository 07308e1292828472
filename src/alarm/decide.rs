//! One evaluation of a CloudWatch alarm: the state its evaluation range
//! of period slots leads to, and the reason worded as CloudWatch words it.
//!
//! At each evaluation instant `T` the alarm looks at the `R` most recent
//! periods `[T-(i+1)P, T-iP)` (the evaluation range), newest first, and
//! decides (AWS "How alarm state is evaluated when data is missing"):
//!
//! * at least `N` real datapoints: the `N` newest real ones are evaluated
//!   and the alarm is in ALARM when `M` of them breach;
//! * none: `missing` → INSUFFICIENT_DATA, `ignore` → keep the state,
//!   `breaching` → ALARM, `notBreaching` → OK;
//! * some, fewer than `N`: `breaching`/`notBreaching` fill the missing slots
//!   (as few as possible) and evaluate `N`; `missing`/`ignore` go to ALARM
//!   prematurely when every real datapoint breaches and the oldest one is at
//!   least `M` and at most `N` periods old (`ignore` keeps the state
//!   instead), and otherwise evaluate the real datapoints alone.
//!
//! Every row of AWS's missing-data tables is a unit test below.

use chrono::DateTime;

use super::spec::{AlarmSpec, AlarmState, TreatMissing};
use crate::json::java_double_to_string;
use crate::record::EpochMs;

/// One period slot of the evaluation range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slot {
    /// Start of the period.
    pub(crate) start: EpochMs,
    /// The statistic's value, or `None` when the period has no data.
    pub(crate) value: Option<f64>,
}

/// The result of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The new state (equal to the current one when the rule retains it).
    pub(crate) state: AlarmState,
    /// Why, worded like CloudWatch's StateReason.
    pub(crate) reason: String,
}

/// Decide the state for one evaluation. `slots` are newest first and hold
/// the whole evaluation range.
pub fn decide(slots: &[Slot], spec: &AlarmSpec, current: AlarmState) -> Decision {
    decide_worded(slots, spec, current, true)
}

/// [`decide`], wording the reason only when the state changes (or
/// `always`): a replay evaluates far more often than the state changes.
pub(super) fn decide_worded(slots: &[Slot], spec: &AlarmSpec, current: AlarmState, always: bool) -> Decision {
    let n = spec.evaluation_periods as usize;
    let m = spec.datapoints_to_alarm as usize;
    let breaches = |v: f64| spec.comparison.breaches(v, spec.threshold);
    // The slots with data, newest first, with their age in periods: walked
    // again where needed rather than collected, since most evaluations
    // decide without wording a reason.
    let real = || slots.iter().enumerate().filter_map(|(i, s)| s.value.map(|v| (i + 1, *s, v)));
    let real_len = real().count();
    let worded = |to: AlarmState| always || to != current;
    // The reason, naming the `k` newest real datapoints.
    let threshold_reason = |k: usize, fills: usize, fill_breaching: bool, to: AlarmState| {
        if worded(to) {
            let evaluated: Vec<(Slot, f64)> = real().take(k).map(|(_, s, v)| (s, v)).collect();
            reason(spec, current, to, &evaluated, fills, fill_breaching)
        } else {
            String::new()
        }
    };
    let retained = |current: AlarmState| if always { retained(current) } else { String::new() };
    if real_len >= n {
        let count = real().take(n).filter(|(_, _, v)| breaches(*v)).count();
        let to = if count >= m { AlarmState::Alarm } else { AlarmState::Ok };
        return Decision { state: to, reason: threshold_reason(n, 0, false, to) };
    }
    if real_len == 0 {
        let (state, fill_breaching) = match spec.treat_missing {
            TreatMissing::Missing => {
                let state = AlarmState::InsufficientData;
                let reason = if worded(state) {
                    format!(
                        "Insufficient Data: {} datapoint{} {} unknown.",
                        slots.len(),
                        plural(slots.len()),
                        if slots.len() == 1 { "was" } else { "were" }
                    )
                } else {
                    String::new()
                };
                return Decision { state, reason };
            }
            TreatMissing::Ignore => return Decision { state: current, reason: retained(current) },
            TreatMissing::Breaching => (AlarmState::Alarm, true),
            TreatMissing::NotBreaching => (AlarmState::Ok, false),
        };
        return Decision { state, reason: threshold_reason(0, n, fill_breaching, state) };
    }
    let breaching_real = real().filter(|(_, _, v)| breaches(*v)).count();
    match spec.treat_missing {
        TreatMissing::Breaching | TreatMissing::NotBreaching => {
            let fill_breaching = spec.treat_missing == TreatMissing::Breaching;
            let fills = n - real_len;
            let count = breaching_real + if fill_breaching { fills } else { 0 };
            let to = if count >= m { AlarmState::Alarm } else { AlarmState::Ok };
            Decision { state: to, reason: threshold_reason(real_len, fills, fill_breaching, to) }
        }
        TreatMissing::Missing | TreatMissing::Ignore => {
            let oldest_age = real().next_back().map_or(0, |(age, _, _)| age);
            let premature = breaching_real == real_len && oldest_age <= n && oldest_age >= m;
            if premature {
                if spec.treat_missing == TreatMissing::Ignore {
                    return Decision { state: current, reason: retained(current) };
                }
                let to = AlarmState::Alarm;
                return Decision { state: to, reason: threshold_reason(real_len, 0, false, to) };
            }
            let to = if breaching_real >= m { AlarmState::Alarm } else { AlarmState::Ok };
            Decision { state: to, reason: threshold_reason(real_len, 0, false, to) }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn retained(current: AlarmState) -> String {
    format!("Missing data is ignored: the alarm stays {current}.")
}

/// `dd/MM/yy HH:mm:ss`, as in CloudWatch's StateReason.
fn reason_time(ms: EpochMs) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(|| ms.to_string(), |t| t.format("%d/%m/%y %H:%M:%S").to_string())
}

fn reason(
    spec: &AlarmSpec,
    from: AlarmState,
    to: AlarmState,
    evaluated: &[(Slot, f64)],
    fills: usize,
    fill_breaching: bool,
) -> String {
    let breaches = |v: f64| spec.comparison.breaches(v, spec.threshold);
    let alarm = to == AlarmState::Alarm;
    // The real datapoints that agree with the new state; where none do
    // (missing data treated as breaching or not decided it), all of them,
    // worded as what they were, so that no reason lists `[]`.
    let agreeing = evaluated.iter().any(|(_, v)| breaches(*v) == alarm);
    let listed_breach = if agreeing { alarm } else { !alarm };
    let shown: Vec<String> = evaluated
        .iter()
        .filter(|(_, v)| breaches(*v) == listed_breach)
        .map(|(s, v)| format!("{} ({})", java_double_to_string(*v), reason_time(s.start)))
        .collect();
    let threshold = java_double_to_string(spec.threshold);
    let total = evaluated.len() + fills;
    let m = spec.datapoints_to_alarm as usize;
    let minimum = format!(
        " (minimum {m} datapoint{} for {} -> {} transition).",
        plural(m),
        if alarm { from.aws_name() } else { "ALARM" },
        if alarm { "ALARM" } else { "OK" }
    );
    let not = if listed_breach { "" } else { "not " };
    let mut text = String::from("Threshold Crossed: ");
    if evaluated.is_empty() {
        text.push_str(&format!(
            "no datapoints were received for {fills} period{} and {fills} missing datapoint{} {} treated as [{}].",
            plural(fills),
            plural(fills),
            if fills == 1 { "was" } else { "were" },
            if fill_breaching { "Breaching" } else { "NonBreaching" }
        ));
        return text;
    }
    let k = shown.len() + if agreeing && fill_breaching == alarm { fills } else { 0 };
    if total == 1 {
        text.push_str(&format!(
            "1 datapoint [{}] was {not}{} the threshold ({threshold})",
            shown.join(", "),
            spec.comparison.words()
        ));
    } else {
        text.push_str(&format!(
            "{k} out of the last {total} datapoints [{}] {} {not}{} the threshold ({threshold})",
            shown.join(", "),
            if k == 1 { "was" } else { "were" },
            spec.comparison.words()
        ));
    }
    if fills > 0 {
        text.push_str(&format!(
            " and {fills} missing datapoint{} {} treated as [{}]",
            plural(fills),
            if fills == 1 { "was" } else { "were" },
            if fill_breaching { "Breaching" } else { "NonBreaching" }
        ));
    }
    text.push_str(&minimum);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::spec::Comparison;

    /// Parse a table row such as `0 - X - X` (oldest first, as AWS prints
    /// it) into slots, newest first. `X` breaches (value 1), `0` does not.
    fn row(s: &str) -> Vec<Slot> {
        let mut v: Vec<Slot> = s
            .split_whitespace()
            .enumerate()
            .map(|(i, c)| Slot {
                start: i as i64 * 300_000,
                value: match c {
                    "X" => Some(1.0),
                    "0" => Some(0.0),
                    _ => None,
                },
            })
            .collect();
        v.reverse();
        v
    }

    fn spec(m: u32, n: u32, treat: TreatMissing) -> AlarmSpec {
        AlarmSpec {
            evaluation_periods: n,
            datapoints_to_alarm: m,
            treat_missing: treat,
            evaluation_range: Some(5),
            ..AlarmSpec::default()
        }
    }

    use AlarmState::{Alarm, InsufficientData as Insufficient, Ok};

    /// `Some(state)` or `None` for "retain current state".
    fn check(m: u32, n: u32, slots: &str, expect: [Option<AlarmState>; 4]) {
        let treatments =
            [TreatMissing::Missing, TreatMissing::Ignore, TreatMissing::Breaching, TreatMissing::NotBreaching];
        for (treat, want) in treatments.into_iter().zip(expect) {
            // Retention is checked from two different current states.
            for current in [Ok, Alarm] {
                let d = decide(&row(slots), &spec(m, n, treat), current);
                let want = want.unwrap_or(current);
                assert_eq!(d.state, want, "{m}/{n} `{slots}` {treat:?} from {current:?}: {}", d.reason);
            }
        }
    }

    // AWS "Configuring how CloudWatch alarms treat missing data", both
    // tables (columns: missing, ignore, breaching, notBreaching).
    #[test]
    fn table_3_of_3_mixed() {
        check(3, 3, "0 - X - X", [Some(Ok), Some(Ok), Some(Ok), Some(Ok)]);
    }
    #[test]
    fn table_3_of_3_one_good() {
        check(3, 3, "0 - - - -", [Some(Ok), Some(Ok), Some(Ok), Some(Ok)]);
    }
    #[test]
    fn table_3_of_3_all_missing() {
        check(3, 3, "- - - - -", [Some(Insufficient), None, Some(Alarm), Some(Ok)]);
    }
    #[test]
    fn table_3_of_3_three_bad() {
        check(3, 3, "0 X X - X", [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)]);
    }
    #[test]
    fn table_3_of_3_premature() {
        check(3, 3, "- - X - -", [Some(Alarm), None, Some(Alarm), Some(Ok)]);
    }
    #[test]
    fn table_2_of_3_mixed() {
        check(2, 3, "0 - X - X", [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)]);
    }
    #[test]
    fn table_2_of_3_dense() {
        check(2, 3, "0 0 X 0 X", [Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)]);
    }
    #[test]
    fn table_2_of_3_one_bad_one_good() {
        check(2, 3, "0 - X - -", [Some(Ok), Some(Ok), Some(Alarm), Some(Ok)]);
    }
    #[test]
    fn table_2_of_3_newest_good() {
        check(2, 3, "- - - - 0", [Some(Ok), Some(Ok), Some(Alarm), Some(Ok)]);
    }
    #[test]
    fn table_2_of_3_premature() {
        check(2, 3, "- - - X -", [Some(Alarm), None, Some(Alarm), Some(Ok)]);
    }

    /// "- - - - X" with M = N = 3 is not immediately ALARM (open question Q3:
    /// trailwatch says OK, the current definition of `missing`).
    #[test]
    fn newest_only_breaching_is_not_premature() {
        let d = decide(&row("- - - - X"), &spec(3, 3, TreatMissing::Missing), Insufficient);
        assert_eq!(d.state, Ok);
    }

    #[test]
    fn reasons_are_worded_like_cloudwatch() {
        let s = AlarmSpec { evaluation_range: Some(1), ..AlarmSpec::default() };
        let start = crate::record::time::parse_event_time("2023-07-10T11:50:00Z").unwrap();
        let d = decide(&[Slot { start, value: Some(3.0) }], &s, Insufficient);
        assert_eq!(
            d.reason,
            "Threshold Crossed: 1 datapoint [3.0 (10/07/23 11:50:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> ALARM transition)."
        );
        let d = decide(&[Slot { start, value: Some(0.0) }], &s, Alarm);
        assert!(d
            .reason
            .starts_with("Threshold Crossed: 1 datapoint [0.0 (10/07/23 11:50:00)] was not greater than or equal to"));
        let d = decide(&[Slot { start, value: None }], &s, Alarm);
        assert_eq!(d.reason, "Insufficient Data: 1 datapoint was unknown.");
        let two = AlarmSpec {
            evaluation_periods: 3,
            datapoints_to_alarm: 2,
            comparison: Comparison::GreaterThanThreshold,
            ..s
        };
        let slots = [
            Slot { start, value: Some(5.0) },
            Slot { start: start - 300_000, value: Some(0.0) },
            Slot { start: start - 600_000, value: Some(6.0) },
        ];
        let d = decide(&slots, &two, Ok);
        assert!(d.reason.starts_with("Threshold Crossed: 2 out of the last 3 datapoints [5.0 (10/07/23 11:50:00), 6.0 (10/07/23 11:40:00)] were greater than the threshold (1.0)"), "{}", d.reason);
    }
}
