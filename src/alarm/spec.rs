//! Alarm settings, named and validated as CloudWatch's PutMetricAlarm does.

use std::fmt;
use std::str::FromStr;

pub use crate::metric::statistic::{Statistic, StatisticError};

/// How the statistic is compared with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `>=`
    GreaterThanOrEqualToThreshold,
    /// `>`
    GreaterThanThreshold,
    /// `<`
    LessThanThreshold,
    /// `<=`
    LessThanOrEqualToThreshold,
}

impl Comparison {
    /// Does `value` breach `threshold`?
    pub(crate) fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => value >= threshold,
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::LessThanThreshold => value < threshold,
            Comparison::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    /// The AWS name.
    pub(crate) fn aws_name(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Comparison::GreaterThanThreshold => "GreaterThanThreshold",
            Comparison::LessThanThreshold => "LessThanThreshold",
            Comparison::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }

    /// The operator symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => ">=",
            Comparison::GreaterThanThreshold => ">",
            Comparison::LessThanThreshold => "<",
            Comparison::LessThanOrEqualToThreshold => "<=",
        }
    }

    /// The wording CloudWatch uses in StateReason ("greater than or equal to").
    pub(crate) fn words(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Comparison::GreaterThanThreshold => "greater than",
            Comparison::LessThanThreshold => "less than",
            Comparison::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

impl FromStr for Comparison {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<Comparison, SettingError> {
        Ok(match s {
            ">=" | "GreaterThanOrEqualToThreshold" => Comparison::GreaterThanOrEqualToThreshold,
            ">" | "GreaterThanThreshold" => Comparison::GreaterThanThreshold,
            "<" | "LessThanThreshold" => Comparison::LessThanThreshold,
            "<=" | "LessThanOrEqualToThreshold" => Comparison::LessThanOrEqualToThreshold,
            "LessThanLowerOrGreaterThanUpperThreshold" | "LessThanLowerThreshold" | "GreaterThanUpperThreshold" => {
                return Err(SettingError::AnomalyDetection(s.to_string()))
            }
            _ => return Err(SettingError::UnknownComparison(s.to_string())),
        })
    }
}

/// Validate a period in seconds: metric-filter metrics have one-minute
/// resolution, so a period is a whole number of minutes (at most a day of
/// seconds times seven, as CloudWatch allows for periods of an hour or more).
pub(crate) fn check_period(seconds: i64) -> Result<i64, SettingError> {
    if seconds <= 0 || seconds % 60 != 0 {
        return Err(SettingError::PeriodResolution(seconds));
    }
    if seconds > 7 * 86_400 {
        return Err(SettingError::PeriodTooLong(seconds));
    }
    Ok(seconds)
}

/// Why alarm settings are refused: as PutMetricAlarm would refuse them, or
/// because they cannot be replayed offline.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingError {
    /// The statistic's name.
    Statistic(StatisticError),
    /// No comparison of that name.
    UnknownComparison(String),
    /// A comparison against an anomaly-detection band.
    AnomalyDetection(String),
    /// No alarm state of that name.
    UnknownState(String),
    /// No missing-data treatment of that name.
    UnknownTreatMissing(String),
    /// No evaluation window of that name.
    UnknownWindow(String),
    /// A period text that is not a duration.
    PeriodText(String),
    /// A period text that is not a whole number of seconds.
    PeriodFraction(String),
    /// A period, in seconds, that is not a positive multiple of a minute.
    PeriodResolution(i64),
    /// A period, in seconds, longer than a week.
    PeriodTooLong(i64),
    /// EvaluationPeriods of 0.
    NoEvaluationPeriods,
    /// DatapointsToAlarm (`m`) outside 1..=EvaluationPeriods (`n`).
    DatapointsToAlarm {
        /// DatapointsToAlarm given.
        m: u32,
        /// EvaluationPeriods given.
        n: u32,
    },
    /// Period × EvaluationPeriods (`span` seconds) above CloudWatch's `cap`.
    Span {
        /// The product, in seconds.
        span: i64,
        /// The most allowed for the period.
        cap: i64,
    },
    /// An evaluation range shorter than EvaluationPeriods.
    Range(u32),
    /// Wall-clock windows with a period they cannot align to.
    WallClockPeriod,
    /// A threshold that is not a finite number.
    Threshold,
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingError::Statistic(e) => write!(f, "{e}"),
            SettingError::UnknownComparison(s) => {
                write!(f, "unknown comparison {s:?} (>=, >, <, <= or the AWS operator names)")
            }
            SettingError::AnomalyDetection(s) => {
                write!(f, "{s} needs an anomaly-detection band, which cannot be replayed offline")
            }
            SettingError::UnknownState(s) => write!(f, "unknown alarm state {s:?} (OK, ALARM or INSUFFICIENT_DATA)"),
            SettingError::UnknownTreatMissing(s) => {
                write!(f, "unknown missing-data treatment {s:?} (missing, notBreaching, breaching, ignore)")
            }
            SettingError::UnknownWindow(s) => write!(f, "unknown evaluation window {s:?} (sliding or wall-clock)"),
            SettingError::PeriodText(t) => write!(f, "invalid period {t:?}"),
            SettingError::PeriodFraction(t) => write!(f, "period {t:?} is not a whole number of seconds"),
            SettingError::PeriodResolution(s) => write!(
                f,
                "period {s}s: metric-filter metrics have 1-minute resolution, so the period must be a positive multiple of 60 seconds"
            ),
            SettingError::PeriodTooLong(s) => write!(f, "period {s}s is longer than a week"),
            SettingError::NoEvaluationPeriods => f.write_str("evaluation periods must be at least 1"),
            SettingError::DatapointsToAlarm { m, n } => {
                write!(f, "datapoints to alarm ({m}) must be between 1 and the evaluation periods ({n})")
            }
            SettingError::Span { span, cap } => {
                write!(f, "period × evaluation periods is {span}s; CloudWatch allows at most {cap}s for this period")
            }
            SettingError::Range(r) => write!(f, "evaluation range ({r}) must be at least the evaluation periods"),
            SettingError::WallClockPeriod => f.write_str(
                "wall-clock evaluation windows need a period of 1 minute, 5 minutes, 1 hour, 1 day or 1 week",
            ),
            SettingError::Threshold => f.write_str("threshold must be a finite number"),
        }
    }
}

impl std::error::Error for SettingError {}

impl From<StatisticError> for SettingError {
    fn from(e: StatisticError) -> SettingError {
        SettingError::Statistic(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!("Sum".parse::<Statistic>(), Ok(Statistic::Sum));
        assert_eq!("p99".parse::<Statistic>(), Ok(Statistic::Percentile(99.0)));
        assert_eq!("p99.9".parse::<Statistic>(), Ok(Statistic::Percentile(99.9)));
        assert!("tm90".parse::<Statistic>().is_err());
        assert!("p0".parse::<Statistic>().is_err());
        assert_eq!(">=".parse::<Comparison>(), Ok(Comparison::GreaterThanOrEqualToThreshold));
        assert_eq!("LessThanThreshold".parse::<Comparison>(), Ok(Comparison::LessThanThreshold));
        assert!("LessThanLowerThreshold".parse::<Comparison>().unwrap_err().to_string().contains("anomaly"));
        assert_eq!(check_period(300), Ok(300));
        assert!(check_period(30).is_err());
        assert!(check_period(0).is_err());
    }

    #[test]
    fn breaching() {
        assert!(Comparison::GreaterThanOrEqualToThreshold.breaches(1.0, 1.0));
        assert!(!Comparison::GreaterThanThreshold.breaches(1.0, 1.0));
        assert!(Comparison::LessThanOrEqualToThreshold.breaches(1.0, 1.0));
        assert!(!Comparison::LessThanThreshold.breaches(1.0, 1.0));
    }
}

/// An alarm state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlarmState {
    /// Not enough data.
    InsufficientData,
    /// Within the threshold.
    Ok,
    /// Breaching.
    Alarm,
}

impl AlarmState {
    /// The AWS name.
    pub fn aws_name(self) -> &'static str {
        match self {
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
        }
    }
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.aws_name())
    }
}

impl FromStr for AlarmState {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<AlarmState, SettingError> {
        match s.to_ascii_uppercase().replace('-', "_").as_str() {
            "OK" => Ok(AlarmState::Ok),
            "ALARM" => Ok(AlarmState::Alarm),
            "INSUFFICIENT_DATA" | "INSUFFICIENT" => Ok(AlarmState::InsufficientData),
            _ => Err(SettingError::UnknownState(s.to_string())),
        }
    }
}

/// TreatMissingData.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreatMissing {
    /// `missing` (the default): all-missing ranges go to INSUFFICIENT_DATA.
    Missing,
    /// `notBreaching`: missing data counts as good.
    NotBreaching,
    /// `breaching`: missing data counts as bad.
    Breaching,
    /// `ignore`: keep the current state.
    Ignore,
}

impl TreatMissing {
    /// The AWS name.
    pub fn aws_name(self) -> &'static str {
        match self {
            TreatMissing::Missing => "missing",
            TreatMissing::NotBreaching => "notBreaching",
            TreatMissing::Breaching => "breaching",
            TreatMissing::Ignore => "ignore",
        }
    }
}

impl FromStr for TreatMissing {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<TreatMissing, SettingError> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "missing" => Ok(TreatMissing::Missing),
            "notbreaching" => Ok(TreatMissing::NotBreaching),
            "breaching" => Ok(TreatMissing::Breaching),
            "ignore" => Ok(TreatMissing::Ignore),
            _ => Err(SettingError::UnknownTreatMissing(s.to_string())),
        }
    }
}

/// How evaluation windows are placed in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvaluationWindow {
    /// Evaluated every minute over the periods ending at that minute
    /// (CloudWatch's default).
    Sliding,
    /// Periods aligned to clock boundaries (`WallClockWindow`).
    WallClock,
}

/// Every setting of a metric alarm that trailwatch replays.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmSpec {
    /// Period in seconds (a multiple of 60).
    pub period_s: i64,
    /// The statistic of each period's datapoints compared with the
    /// threshold (`Sum` for the CIS alarms).
    pub statistic: Statistic,
    /// The value each period's statistic is compared with.
    pub threshold: f64,
    /// Comparison operator.
    pub comparison: Comparison,
    /// EvaluationPeriods (N).
    pub evaluation_periods: u32,
    /// DatapointsToAlarm (M, at most N).
    pub datapoints_to_alarm: u32,
    /// What a period without datapoints counts as (TreatMissingData).
    pub treat_missing: TreatMissing,
    /// How many periods CloudWatch fetches when evaluating (None: the
    /// default, N + 2).
    pub evaluation_range: Option<u32>,
    /// Sliding (default) or wall-clock evaluation windows.
    pub window: EvaluationWindow,
    /// State before the first evaluation.
    pub initial_state: AlarmState,
}

impl Default for AlarmSpec {
    /// The CIS benchmark alarm: Sum over 5 minutes >= 1, 1 of 1 periods,
    /// missing data treated as missing.
    fn default() -> AlarmSpec {
        AlarmSpec {
            period_s: 300,
            statistic: Statistic::Sum,
            threshold: 1.0,
            comparison: Comparison::GreaterThanOrEqualToThreshold,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing: TreatMissing::Missing,
            evaluation_range: None,
            window: EvaluationWindow::Sliding,
            initial_state: AlarmState::InsufficientData,
        }
    }
}

impl AlarmSpec {
    /// Whether a period's value breaches the threshold.
    pub(crate) fn breaches(&self, value: f64) -> bool {
        self.comparison.breaches(value, self.threshold)
    }

    /// Period in milliseconds.
    pub fn period_ms(&self) -> i64 {
        self.period_s * 1000
    }

    /// The evaluation range R in periods.
    pub fn range(&self) -> u32 {
        self.evaluation_range.unwrap_or(self.evaluation_periods + 2).max(self.evaluation_periods)
    }

    /// Check the combination as PutMetricAlarm would.
    pub(crate) fn validate(&self) -> Result<(), SettingError> {
        check_period(self.period_s)?;
        if self.evaluation_periods == 0 {
            return Err(SettingError::NoEvaluationPeriods);
        }
        if self.datapoints_to_alarm == 0 || self.datapoints_to_alarm > self.evaluation_periods {
            return Err(SettingError::DatapointsToAlarm { m: self.datapoints_to_alarm, n: self.evaluation_periods });
        }
        let span = self.period_s * i64::from(self.evaluation_periods);
        let cap = if self.period_s < 3600 { 86_400 } else { 604_800 };
        if span > cap {
            return Err(SettingError::Span { span, cap });
        }
        if let Some(r) = self.evaluation_range {
            if r < self.evaluation_periods {
                return Err(SettingError::Range(r));
            }
        }
        if self.window == EvaluationWindow::WallClock && ![60, 300, 3600, 86_400, 604_800].contains(&self.period_s) {
            return Err(SettingError::WallClockPeriod);
        }
        if !self.threshold.is_finite() {
            return Err(SettingError::Threshold);
        }
        Ok(())
    }
}

/// A period as written in configuration: seconds, or a duration text such
/// as `"5m"`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum PeriodSetting {
    /// Seconds.
    Seconds(i64),
    /// `300`, `5m`, `1h`, ...
    Text(String),
}

impl PeriodSetting {
    fn seconds(&self) -> Result<i64, SettingError> {
        match self {
            PeriodSetting::Seconds(s) => Ok(*s),
            PeriodSetting::Text(t) => {
                let ms = crate::record::time::parse_duration(t).ok_or_else(|| SettingError::PeriodText(t.clone()))?;
                if ms % 1000 != 0 {
                    return Err(SettingError::PeriodFraction(t.clone()));
                }
                Ok(ms / 1000)
            }
        }
    }
}

/// Alarm settings as given by a user (command line, rules file): every
/// field optional, applied over a base [`AlarmSpec`].
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSettings {
    /// Period: seconds, or text such as `5m` or `1h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodSetting>,
    /// Statistic name (`Sum`, `Average`, `p99`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    /// Threshold the statistic is compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Comparison (symbol or AWS name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<String>,
    /// EvaluationPeriods (N): the periods looked at per evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<u32>,
    /// DatapointsToAlarm (M): how many of them must breach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<u32>,
    /// TreatMissingData: `missing`, `ignore`, `breaching` or
    /// `notBreaching`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    /// Evaluation range in periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_range: Option<u32>,
    /// `sliding` or `wall-clock`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_window: Option<String>,
    /// Initial state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_state: Option<String>,
}

impl AlarmSpec {
    /// Every setting written out, so that applying it over a base without
    /// an evaluation range (the default, as in a rules file) gives this
    /// spec back: a series file records the alarm it was scanned for.
    pub(crate) fn settings(&self) -> AlarmSettings {
        AlarmSettings {
            period: Some(PeriodSetting::Seconds(self.period_s)),
            statistic: Some(self.statistic.to_string()),
            threshold: Some(self.threshold),
            comparison: Some(self.comparison.aws_name().to_string()),
            evaluation_periods: Some(self.evaluation_periods),
            datapoints_to_alarm: Some(self.datapoints_to_alarm),
            treat_missing_data: Some(self.treat_missing.aws_name().to_string()),
            evaluation_range: self.evaluation_range,
            evaluation_window: Some(
                match self.window {
                    EvaluationWindow::Sliding => "sliding",
                    EvaluationWindow::WallClock => "wall-clock",
                }
                .to_string(),
            ),
            initial_state: Some(self.initial_state.aws_name().to_string()),
        }
    }
}

impl AlarmSettings {
    /// Whether nothing is set.
    pub(crate) fn is_empty(&self) -> bool {
        *self == AlarmSettings::default()
    }

    /// Apply over `base` and validate. When only EvaluationPeriods is given,
    /// DatapointsToAlarm follows it (AWS: omitted M means M = N).
    pub fn apply(&self, base: &AlarmSpec) -> Result<AlarmSpec, SettingError> {
        let mut s = base.clone();
        if let Some(p) = &self.period {
            s.period_s = p.seconds()?;
        }
        if let Some(v) = &self.statistic {
            s.statistic = v.parse()?;
        }
        if let Some(v) = self.threshold {
            s.threshold = v;
        }
        if let Some(v) = &self.comparison {
            s.comparison = v.parse()?;
        }
        if let Some(n) = self.evaluation_periods {
            s.evaluation_periods = n;
            if self.datapoints_to_alarm.is_none() {
                s.datapoints_to_alarm = n;
            }
        }
        if let Some(m) = self.datapoints_to_alarm {
            s.datapoints_to_alarm = m;
        }
        if let Some(v) = &self.treat_missing_data {
            s.treat_missing = v.parse()?;
        }
        if let Some(r) = self.evaluation_range {
            s.evaluation_range = Some(r);
        }
        if let Some(w) = &self.evaluation_window {
            s.window = match w.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
                "sliding" | "slidingwindow" => EvaluationWindow::Sliding,
                "wallclock" | "wallclockwindow" => EvaluationWindow::WallClock,
                other => return Err(SettingError::UnknownWindow(other.to_string())),
            };
        }
        if let Some(v) = &self.initial_state {
            s.initial_state = v.parse()?;
        }
        s.validate()?;
        Ok(s)
    }
}

#[cfg(test)]
mod settings_tests {
    use super::*;

    #[test]
    fn settings_apply_over_defaults() {
        let s = AlarmSettings {
            period: Some(PeriodSetting::Text("1h".into())),
            evaluation_periods: Some(3),
            treat_missing_data: Some("notBreaching".into()),
            ..AlarmSettings::default()
        };
        let spec = s.apply(&AlarmSpec::default()).unwrap();
        assert_eq!((spec.period_s, spec.evaluation_periods, spec.datapoints_to_alarm), (3600, 3, 3));
        assert_eq!(spec.treat_missing, TreatMissing::NotBreaching);
        let bad = AlarmSettings { datapoints_to_alarm: Some(2), ..AlarmSettings::default() };
        assert!(bad.apply(&AlarmSpec::default()).is_err(), "M > N");
        let bad = AlarmSettings { period: Some(PeriodSetting::Seconds(30)), ..AlarmSettings::default() };
        assert!(bad.apply(&AlarmSpec::default()).is_err());
    }

    #[test]
    fn a_spec_written_as_settings_reads_back_the_same() {
        let spec = AlarmSpec {
            period_s: 3600,
            statistic: "p99.5".parse().unwrap(),
            threshold: -2.5,
            comparison: Comparison::LessThanThreshold,
            evaluation_periods: 5,
            datapoints_to_alarm: 3,
            treat_missing: TreatMissing::Ignore,
            evaluation_range: Some(9),
            window: EvaluationWindow::WallClock,
            initial_state: AlarmState::Alarm,
        };
        let text = serde_json::to_string(&spec.settings()).unwrap();
        let back: AlarmSettings = serde_json::from_str(&text).unwrap();
        assert_eq!(back.apply(&AlarmSpec::default()).unwrap(), spec);
        let other = AlarmSpec { evaluation_periods: 7, datapoints_to_alarm: 7, ..AlarmSpec::default() };
        assert_eq!(back.apply(&other).unwrap(), spec);
        // An unset evaluation range is the default's (N + 2): written as
        // nothing, it keeps the base's, which for a rules file is unset.
        let base = AlarmSpec { evaluation_range: None, ..spec };
        assert_eq!(AlarmSpec::default().settings().apply(&base).unwrap(), AlarmSpec::default());
    }
}
