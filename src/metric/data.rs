//! Metric data a user already has, for `trailwatch alarm --metric-data`:
//! the JSON of `aws cloudwatch get-metric-statistics` or
//! `get-metric-data`, or a CSV of `timestamp,value`.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::metric::Statistic;
use crate::record::time::parse_event_time;
use crate::record::EpochMs;

/// Parse a timestamp as printed by the AWS CLI: RFC 3339 (any offset) or
/// epoch seconds (the CLI's `cli_timestamp_format = none`).
pub(crate) fn parse_timestamp(v: &Value) -> Option<EpochMs> {
    match v {
        Value::String(s) => {
            parse_event_time(s).or_else(|| s.trim().parse::<f64>().ok().map(|x| (x * 1000.0).round() as i64))
        }
        Value::Number(n) => n.as_f64().map(|x| (x * 1000.0).round() as i64),
        _ => None,
    }
}

/// Datapoints by the start of the `period_ms` period they fall in. Several
/// in one period (data finer than the alarm's period, or a timestamp
/// repeated) are combined with the statistic where that is exact (Sum and
/// SampleCount add, Minimum and Maximum keep the extreme) and refused
/// where it is not (an Average or a percentile needs what the datapoints
/// do not carry).
pub fn by_period(
    points: &[(EpochMs, f64)],
    statistic: Statistic,
    period_ms: i64,
) -> Result<BTreeMap<EpochMs, f64>, String> {
    let mut out: BTreeMap<EpochMs, (EpochMs, f64)> = BTreeMap::new();
    for &(at, v) in points {
        let start = at.div_euclid(period_ms) * period_ms;
        match out.entry(start) {
            Entry::Vacant(e) => {
                e.insert((at, v));
            }
            Entry::Occupied(mut e) => {
                let (first, old) = *e.get();
                let combined = match statistic {
                    Statistic::Sum | Statistic::SampleCount => old + v,
                    Statistic::Minimum => old.min(v),
                    Statistic::Maximum => old.max(v),
                    _ => {
                        let (a, b) =
                            (crate::record::time::format_rfc3339(first), crate::record::time::format_rfc3339(at));
                        let what = if a == b {
                            format!("two datapoints at {a}")
                        } else {
                            format!("datapoints at {a} and {b}")
                        };
                        return Err(format!(
                            "{what} fall in one {} s period, and {statistic} values cannot be combined exactly without their samples: give one datapoint per period (--period), or use Sum, SampleCount, Minimum or Maximum",
                            period_ms / 1000
                        ));
                    }
                };
                e.insert((first, combined));
            }
        }
    }
    Ok(out.into_iter().map(|(start, (_, v))| (start, v)).collect())
}

/// Datapoints in file order. `statistic` picks the field of a
/// get-metric-statistics datapoint (`Sum`, `Average`, ..., or an
/// `ExtendedStatistics` percentile).
pub fn parse(text: &str, statistic: Statistic) -> Result<Vec<(EpochMs, f64)>, String> {
    let t = text.trim_start();
    if t.starts_with('{') {
        let doc: Value = serde_json::from_str(t).map_err(|e| format!("invalid JSON: {e}"))?;
        if let Some(points) = doc.get("Datapoints").and_then(Value::as_array) {
            return statistics(points, statistic);
        }
        if let Some(results) = doc.get("MetricDataResults").and_then(Value::as_array) {
            return metric_data(results);
        }
        return Err("JSON without Datapoints (get-metric-statistics) or MetricDataResults (get-metric-data)".into());
    }
    csv(text)
}

fn statistics(points: &[Value], statistic: Statistic) -> Result<Vec<(EpochMs, f64)>, String> {
    let mut out = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let at = p
            .get("Timestamp")
            .and_then(parse_timestamp)
            .ok_or_else(|| format!("datapoint {}: no valid Timestamp", i + 1))?;
        let value = match statistic {
            Statistic::Percentile(_) => {
                let key = statistic.to_string();
                p.get("ExtendedStatistics").and_then(|e| e.get(&key)).and_then(Value::as_f64)
            }
            _ => p.get(statistic.to_string()).and_then(Value::as_f64),
        };
        let value = value.ok_or_else(|| {
            let have: Vec<&str> = p
                .as_object()
                .map(|o| o.keys().map(String::as_str).filter(|k| *k != "Timestamp" && *k != "Unit").collect())
                .unwrap_or_default();
            format!("datapoint {} has no {statistic} (it has: {}); use --statistic", i + 1, have.join(", "))
        })?;
        out.push((at, value));
    }
    Ok(out)
}

fn metric_data(results: &[Value]) -> Result<Vec<(EpochMs, f64)>, String> {
    let [r] = results else {
        return Err(format!("get-metric-data output has {} results; give it exactly one", results.len()));
    };
    let ts = r.get("Timestamps").and_then(Value::as_array).ok_or("MetricDataResults[0] has no Timestamps")?;
    let vs = r.get("Values").and_then(Value::as_array).ok_or("MetricDataResults[0] has no Values")?;
    if ts.len() != vs.len() {
        return Err("Timestamps and Values differ in length".into());
    }
    let mut out = Vec::new();
    for (i, (t, v)) in ts.iter().zip(vs).enumerate() {
        let at = parse_timestamp(t).ok_or_else(|| format!("timestamp {} is not a time", i + 1))?;
        out.push((at, v.as_f64().ok_or_else(|| format!("value {} is not a number", i + 1))?));
    }
    Ok(out)
}

fn csv(text: &str) -> Result<Vec<(EpochMs, f64)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (t, v) = line.split_once(',').ok_or_else(|| format!("line {}: expected timestamp,value", i + 1))?;
        let (t, v) = (t.trim().trim_matches('"'), v.trim().trim_matches('"'));
        let value: Result<f64, _> = v.parse();
        let at = parse_timestamp(&Value::String(t.to_string()));
        match (at, value) {
            (Some(at), Ok(value)) => out.push((at, value)),
            // A header line.
            _ if i == 0 || out.is_empty() && !t.starts_with(|c: char| c.is_ascii_digit()) => {}
            _ => return Err(format!("line {}: {line:?} is not timestamp,value", i + 1)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_metric_statistics() {
        let j = r#"{"Label":"UnauthorizedAPICalls","Datapoints":[
            {"Timestamp":"2023-07-10T11:50:00+00:00","Sum":32.0,"SampleCount":32.0,"Unit":"None"},
            {"Timestamp":"2023-07-10T12:00:00Z","Sum":22.0,"SampleCount":22.0,"Unit":"None"}]}"#;
        let d = parse(j, Statistic::Sum).unwrap();
        assert_eq!(d.iter().map(|p| p.1).collect::<Vec<_>>(), [32.0, 22.0]);
        let e = parse(j, Statistic::Maximum).unwrap_err();
        assert!(e.contains("no Maximum") && e.contains("Sum") && e.contains("SampleCount"), "{e}");
    }

    #[test]
    fn get_metric_data_and_csv() {
        let j = r#"{"MetricDataResults":[{"Id":"m1","Timestamps":["2023-07-10T12:00:00Z",1688989800],"Values":[1.0,2.0],"StatusCode":"Complete"}]}"#;
        let d = parse(j, Statistic::Sum).unwrap();
        assert_eq!(d.len(), 2);
        let c = "timestamp,value\n2023-07-10T11:50:00Z,3\n2023-07-10T11:55:00Z,0.5\n";
        let d = parse(c, Statistic::Sum).unwrap();
        assert_eq!(d.iter().map(|p| p.1).collect::<Vec<_>>(), [3.0, 0.5]);
        assert!(parse("2023-07-10T11:50:00Z,3\nnot,a line\n", Statistic::Sum).is_err());
    }

    #[test]
    fn datapoints_finer_than_the_period_are_combined_where_exact() {
        let c = "2023-07-10T12:00:00Z,22\n2023-07-10T12:05:00Z,4\n2023-07-10T12:10:00Z,2\n2023-07-10T12:10:00Z,1\n";
        let points = parse(c, Statistic::Sum).unwrap();
        let ten = 600_000;
        let t0 = parse_event_time("2023-07-10T12:00:00Z").unwrap();
        let sums = by_period(&points, Statistic::Sum, ten).unwrap();
        assert_eq!(sums.into_iter().collect::<Vec<_>>(), [(t0, 26.0), (t0 + ten, 3.0)]);
        let max = by_period(&points, Statistic::Maximum, ten).unwrap();
        assert_eq!(max.values().copied().collect::<Vec<_>>(), [22.0, 2.0]);
        let min = by_period(&points, Statistic::Minimum, ten).unwrap();
        assert_eq!(min.values().copied().collect::<Vec<_>>(), [4.0, 1.0]);
        let e = by_period(&points, Statistic::Average, ten).unwrap_err();
        assert!(
            e.starts_with("datapoints at 2023-07-10T12:00:00Z and 2023-07-10T12:05:00Z fall in one 600 s period"),
            "{e}"
        );
        let e = by_period(&points, Statistic::Average, 300_000).unwrap_err();
        assert!(e.starts_with("two datapoints at 2023-07-10T12:10:00Z"), "{e}");
    }
}
