//! The statistics a metric's datapoints are summed up by, as CloudWatch
//! names them.

use std::fmt;
use std::str::FromStr;

use super::series::Stats;

/// The statistic an alarm evaluates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Statistic {
    /// Number of datapoints.
    SampleCount,
    /// Sum of the values.
    Sum,
    /// Sum / SampleCount.
    Average,
    /// Smallest value.
    Minimum,
    /// Largest value.
    Maximum,
    /// Percentile `pNN` (0 < NN <= 100), computed exactly on the raw values
    /// with the nearest-rank method.
    Percentile(f64),
}

impl Statistic {
    /// The statistic's value over a set of datapoints (`None` when empty).
    pub(crate) fn of(&self, s: &Stats) -> Option<f64> {
        if s.count == 0 {
            return None;
        }
        Some(match self {
            Statistic::SampleCount => s.count as f64,
            Statistic::Sum => s.sum.value(),
            Statistic::Average => s.sum.value() / s.count as f64,
            Statistic::Minimum => s.min,
            Statistic::Maximum => s.max,
            Statistic::Percentile(p) => {
                let mut v = s.values.clone()?;
                v.sort_by(f64::total_cmp);
                let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
                v[rank.min(v.len()) - 1]
            }
        })
    }

    /// Whether raw values must be kept (percentiles).
    pub(crate) fn needs_values(&self) -> bool {
        matches!(self, Statistic::Percentile(_))
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statistic::SampleCount => f.write_str("SampleCount"),
            Statistic::Sum => f.write_str("Sum"),
            Statistic::Average => f.write_str("Average"),
            Statistic::Minimum => f.write_str("Minimum"),
            Statistic::Maximum => f.write_str("Maximum"),
            Statistic::Percentile(p) => write!(f, "p{p}"),
        }
    }
}

/// Why a statistic's name is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatisticError {
    /// `pNN` whose number does not parse.
    Percentile(String),
    /// A percentile outside (0, 100].
    PercentileRange(String),
    /// No statistic of that name (trimmed means and the other extended
    /// statistics included).
    Unknown(String),
}

impl fmt::Display for StatisticError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatisticError::Percentile(s) => write!(f, "invalid percentile statistic {s:?}"),
            StatisticError::PercentileRange(s) => write!(f, "percentile {s:?} must be above p0 and at most p100"),
            StatisticError::Unknown(s) => write!(
                f,
                "unknown statistic {s:?} (Sum, SampleCount, Average, Minimum, Maximum or pNN); trimmed means and other extended statistics are not supported"
            ),
        }
    }
}

impl std::error::Error for StatisticError {}

impl FromStr for Statistic {
    type Err = StatisticError;
    fn from_str(s: &str) -> Result<Statistic, StatisticError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "samplecount" | "count" => Statistic::SampleCount,
            "sum" => Statistic::Sum,
            "average" | "avg" | "mean" => Statistic::Average,
            "minimum" | "min" => Statistic::Minimum,
            "maximum" | "max" => Statistic::Maximum,
            p if p.starts_with('p') => {
                let v: f64 = p[1..].parse().map_err(|_| StatisticError::Percentile(s.to_string()))?;
                if !(v > 0.0 && v <= 100.0) {
                    return Err(StatisticError::PercentileRange(s.to_string()));
                }
                Statistic::Percentile(v)
            }
            _ => return Err(StatisticError::Unknown(s.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(values: &[f64]) -> Stats {
        let mut s = Stats::new(true);
        values.iter().for_each(|&v| s.add(v, true));
        s
    }

    #[test]
    fn statistics() {
        let s = stats(&[3.0, 7.0, 3.0]);
        assert_eq!(Statistic::Sum.of(&s), Some(13.0));
        assert_eq!(Statistic::SampleCount.of(&s), Some(3.0));
        assert_eq!(Statistic::Minimum.of(&s), Some(3.0));
        assert_eq!(Statistic::Maximum.of(&s), Some(7.0));
        assert_eq!(Statistic::Average.of(&s), Some(13.0 / 3.0));
        assert_eq!(Statistic::Percentile(50.0).of(&s), Some(3.0));
        assert_eq!(Statistic::Percentile(100.0).of(&s), Some(7.0));
        assert_eq!(Statistic::Sum.of(&Stats::new(false)), None);
    }
}
