//! Importing a real configuration: the JSON printed by
//! `aws logs describe-metric-filters` and `aws cloudwatch describe-alarms`.
//!
//! Alarms are joined to metric filters as CloudWatch joins them: on metric
//! namespace and name, and on the exact set of dimension names (the alarm's
//! dimension values pick one of the filter's metrics). Settings trailwatch
//! cannot replay (metric math, anomaly-detection bands, extended statistics
//! other than percentiles, time zones) are refused with a message naming the
//! alarm; they are never silently ignored.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Rule;
use crate::alarm::{AlarmSpec, EvaluationWindow};
use crate::metric::MetricTransform;
use crate::pattern::FilterPattern;

/// The result of an import.
#[derive(Debug, Default)]
pub struct Import {
    /// One rule per replayable alarm (and per metric filter without alarm).
    pub(crate) rules: Vec<Rule>,
    /// Alarms or filters that cannot be replayed, with the reason.
    pub(crate) refused: Vec<String>,
    /// Things worth knowing (alarms that are not on a metric filter,
    /// filters without alarms).
    pub(crate) notes: Vec<String>,
}

struct Filter {
    name: String,
    log_group: String,
    pattern: String,
    namespace: String,
    metric: String,
    value: String,
    default: Option<f64>,
    dimensions: Vec<(String, String)>,
    unit: String,
    used: bool,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Why AWS configuration cannot be imported at all (an alarm or filter that
/// cannot be replayed is refused on its own, in `Import::refused`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportError {
    /// A metric filter entry without its name or its transformation.
    Filter {
        /// The document it is in.
        path: String,
        /// What is missing.
        problem: String,
    },
    /// LogAlarms: scheduled Logs Insights queries.
    LogAlarms {
        /// The document.
        path: String,
    },
    /// Neither describe-metric-filters nor describe-alarms output.
    Unknown {
        /// The document.
        path: String,
    },
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Filter { path, problem } => write!(f, "{path}: {problem}"),
            ImportError::LogAlarms { path } => {
                write!(f, "{path}: LogAlarms (scheduled Logs Insights queries) cannot be replayed")
            }
            ImportError::Unknown { path } => write!(
                f,
                "{path}: not the output of `aws logs describe-metric-filters` or `aws cloudwatch describe-alarms`"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// Import from the parsed JSON documents (any mix of describe-metric-filters
/// and describe-alarms output).
pub fn import(docs: &[(String, Value)]) -> Result<Import, ImportError> {
    let mut filters = Vec::new();
    let mut alarms = Vec::new();
    for (path, doc) in docs {
        let mut known = false;
        if let Some(fs) = doc.get("metricFilters").and_then(Value::as_array) {
            known = true;
            for f in fs {
                filters.push(filter(f).map_err(|problem| ImportError::Filter { path: path.clone(), problem })?);
            }
        }
        if let Some(a) = doc.get("MetricAlarms").and_then(Value::as_array) {
            known = true;
            alarms.extend(a.iter().cloned());
        }
        if let Some(c) = doc.get("CompositeAlarms").and_then(Value::as_array) {
            known = true;
            if !c.is_empty() {
                let names: Vec<String> = c.iter().filter_map(|a| s(a, "AlarmName")).collect();
                return Ok(Import {
                    refused: vec![format!(
                        "composite alarms are not replayed (they combine other alarms' states): {}",
                        names.join(", ")
                    )],
                    ..import_rest(filters, alarms)
                });
            }
        }
        if let Some(l) = doc.get("LogAlarms").and_then(Value::as_array) {
            known = true;
            if !l.is_empty() {
                return Err(ImportError::LogAlarms { path: path.clone() });
            }
        }
        if !known {
            return Err(ImportError::Unknown { path: path.clone() });
        }
    }
    Ok(import_rest(filters, alarms))
}

/// Import from AWS configuration documents and from infrastructure code
/// (`super::iac`), all joined together; what infrastructure code declares
/// that cannot be replayed is refused, naming the file and resource.
pub fn import_declared(
    mut docs: Vec<(String, Value)>,
    declared: Vec<(String, super::iac::Declared)>,
) -> Result<Import, ImportError> {
    let (mut refused, mut notes) = (Vec::new(), Vec::new());
    for (path, d) in declared {
        refused.extend(d.refused.into_iter().map(|r| format!("{path}: {r}")));
        notes.extend(d.notes.into_iter().map(|n| format!("{path}: {n}")));
        docs.push((path, d.doc));
    }
    let mut import = import(&docs)?;
    import.refused.extend(refused);
    import.notes.extend(notes);
    Ok(import)
}

/// Join the filters and alarms; what cannot be replayed is refused one by
/// one, with its reason.
fn import_rest(mut filters: Vec<Filter>, alarms: Vec<Value>) -> Import {
    let mut out = Import::default();
    for a in &alarms {
        let name = s(a, "AlarmName").unwrap_or_else(|| "(unnamed alarm)".into());
        match alarm_rule(a, &name, &mut filters) {
            Ok(Some(rule)) => out.rules.push(rule),
            Ok(None) => out.notes.push(format!(
                "alarm {name} watches {}/{}, which no imported metric filter publishes; not replayed",
                s(a, "Namespace").unwrap_or_default(),
                s(a, "MetricName").unwrap_or_default()
            )),
            Err(reason) => out.refused.push(format!("alarm {name}: {reason}")),
        }
    }
    for f in filters.iter().filter(|f| !f.used) {
        match filter_rule(f, &format!("{}/{}", f.namespace, f.metric), AlarmSpec::default(), Vec::new()) {
            Ok(mut r) => {
                r.title = Some(format!("metric filter {} ({}) — no alarm: CIS default alarm", f.name, f.log_group));
                out.notes.push(format!("metric filter {} has no alarm; replayed with the CIS default alarm", f.name));
                out.rules.push(r);
            }
            Err(e) => out.refused.push(format!("metric filter {}: {e}", f.name)),
        }
    }
    out
}

fn filter(f: &Value) -> Result<Filter, String> {
    let name = s(f, "filterName").ok_or("a metric filter without filterName")?;
    let t = f
        .get("metricTransformations")
        .and_then(Value::as_array)
        .and_then(|t| t.first())
        .ok_or_else(|| format!("metric filter {name} has no metricTransformations"))?;
    let dimensions = match t.get("dimensions") {
        Some(Value::Object(m)) => {
            m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
        }
        _ => Vec::new(),
    };
    Ok(Filter {
        log_group: s(f, "logGroupName").unwrap_or_default(),
        pattern: s(f, "filterPattern").unwrap_or_default(),
        namespace: s(t, "metricNamespace").unwrap_or_default(),
        metric: s(t, "metricName").unwrap_or_default(),
        value: s(t, "metricValue").unwrap_or_else(|| "1".into()),
        default: t.get("defaultValue").and_then(Value::as_f64),
        dimensions,
        unit: s(t, "unit").unwrap_or_else(|| "None".into()),
        name,
        used: false,
    })
}

fn filter_rule(
    f: &Filter,
    name: &str,
    alarm: AlarmSpec,
    alarm_dimensions: Vec<(String, String)>,
) -> Result<Rule, String> {
    let pattern = FilterPattern::parse(&f.pattern).map_err(|e| format!("pattern refused by CloudWatch:\n{e}"))?;
    let transform =
        MetricTransform::new(&f.value, f.default, &f.dimensions, &pattern).map_err(|e| e.kind.to_string())?;
    Ok(Rule {
        name: name.to_string(),
        title: Some(format!("metric filter {} ({})", f.name, f.log_group)),
        pattern,
        transform,
        alarm,
        alarm_dimensions,
    })
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn alarm_rule(a: &Value, name: &str, filters: &mut [Filter]) -> Result<Option<Rule>, String> {
    if a.get("Metrics").and_then(Value::as_array).is_some_and(|m| !m.is_empty()) {
        return Err("uses metric math (Metrics), which trailwatch cannot replay".into());
    }
    if a.get("ThresholdMetricId").is_some() {
        return Err(
            "compares with an anomaly-detection band (ThresholdMetricId), which cannot be replayed offline".into()
        );
    }
    let namespace = s(a, "Namespace").unwrap_or_default();
    let metric = s(a, "MetricName").unwrap_or_default();
    let dims: Vec<(String, String)> = a
        .get("Dimensions")
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(|x| Some((s(x, "Name")?, s(x, "Value")?))).collect())
        .unwrap_or_default();
    let dim_names: BTreeSet<&str> = dims.iter().map(|(n, _)| n.as_str()).collect();
    let matching: Vec<usize> = filters
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.namespace == namespace
                && f.metric == metric
                && f.dimensions.iter().map(|(n, _)| n.as_str()).collect::<BTreeSet<_>>() == dim_names
        })
        .map(|(i, _)| i)
        .collect();
    let fi = match matching.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        many => {
            let names: Vec<&str> = many.iter().map(|&i| filters[i].name.as_str()).collect();
            return Err(format!(
                "its metric {namespace}/{metric} is published by {} metric filters ({}); combining several filters into one metric is not supported",
                many.len(),
                names.join(", ")
            ));
        }
    };
    let mut spec = AlarmSpec::default();
    spec.period_s = a.get("Period").and_then(Value::as_i64).ok_or("has no Period")?;
    spec.threshold = a.get("Threshold").and_then(Value::as_f64).ok_or("has no Threshold")?;
    spec.comparison = s(a, "ComparisonOperator").ok_or("has no ComparisonOperator")?.parse().map_err(text)?;
    spec.statistic = match (s(a, "Statistic"), s(a, "ExtendedStatistic")) {
        (Some(st), _) => st.parse().map_err(text)?,
        (None, Some(ext)) if ext.starts_with('p') => ext.parse().map_err(text)?,
        (None, Some(ext)) => return Err(format!("extended statistic {ext} is not supported (only percentiles pNN)")),
        (None, None) => return Err("has neither Statistic nor ExtendedStatistic".into()),
    };
    spec.evaluation_periods =
        a.get("EvaluationPeriods").and_then(Value::as_u64).ok_or("has no EvaluationPeriods")? as u32;
    spec.datapoints_to_alarm =
        a.get("DatapointsToAlarm").and_then(Value::as_u64).map_or(spec.evaluation_periods, |m| m as u32);
    if let Some(t) = s(a, "TreatMissingData") {
        spec.treat_missing = t.parse().map_err(text)?;
    }
    if s(a, "EvaluateLowSampleCountPercentile").as_deref() == Some("ignore") {
        return Err("EvaluateLowSampleCountPercentile=ignore is not supported".into());
    }
    if let Some(w) = a.get("EvaluationWindow") {
        if let Some(wc) = w.get("WallClockWindow") {
            let tz = s(wc, "Timezone").unwrap_or_else(|| "UTC".into());
            if !matches!(tz.as_str(), "UTC" | "Etc/UTC" | "GMT" | "+00:00" | "Z") {
                return Err(format!("wall-clock evaluation in time zone {tz} is not supported (UTC only)"));
            }
            spec.window = EvaluationWindow::WallClock;
        }
    }
    if let Some(unit) = s(a, "Unit") {
        if unit != filters[fi].unit {
            return Err(format!(
                "asks for unit {unit}, but metric filter {} publishes unit {}: CloudWatch would never give it data",
                filters[fi].name, filters[fi].unit
            ));
        }
    }
    spec.validate().map_err(text)?;
    filters[fi].used = true;
    let mut dims = dims;
    dims.sort();
    filter_rule(&filters[fi], name, spec, dims).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filters() -> Value {
        json!({"metricFilters":[
            {"filterName":"UnauthorizedAPICalls","logGroupName":"CloudTrail/logs",
             "filterPattern":"{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }",
             "metricTransformations":[{"metricName":"UnauthorizedAPICalls","metricNamespace":"CISBenchmark","metricValue":"1"}]},
            {"filterName":"RootUsage","logGroupName":"CloudTrail/logs",
             "filterPattern":"{ $.userIdentity.type = \"Root\" }",
             "metricTransformations":[{"metricName":"RootUsage","metricNamespace":"CISBenchmark","metricValue":"1","defaultValue":0.0}]}
        ]})
    }

    #[test]
    fn joins_on_namespace_and_name() {
        let alarms = json!({"MetricAlarms":[
            {"AlarmName":"cis-unauth","Namespace":"CISBenchmark","MetricName":"UnauthorizedAPICalls","Statistic":"Sum",
             "Period":300,"EvaluationPeriods":1,"Threshold":1.0,"ComparisonOperator":"GreaterThanOrEqualToThreshold",
             "TreatMissingData":"notBreaching","Dimensions":[]},
            {"AlarmName":"cpu","Namespace":"AWS/EC2","MetricName":"CPUUtilization","Statistic":"Average","Period":300,
             "EvaluationPeriods":2,"Threshold":80.0,"ComparisonOperator":"GreaterThanThreshold"},
            {"AlarmName":"math","Metrics":[{"Id":"e1","Expression":"m1*2"}],"EvaluationPeriods":1,"Threshold":1.0,
             "ComparisonOperator":"GreaterThanThreshold"}
        ]});
        let imp = import(&[("f.json".into(), filters()), ("a.json".into(), alarms)]).unwrap();
        let names: Vec<&str> = imp.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["cis-unauth", "CISBenchmark/RootUsage"]);
        assert_eq!(imp.rules[0].alarm.treat_missing, crate::alarm::TreatMissing::NotBreaching);
        assert_eq!(imp.rules[1].transform.default_value(), Some(0.0));
        assert_eq!(imp.refused.len(), 1);
        assert!(imp.refused[0].contains("alarm math") && imp.refused[0].contains("metric math"), "{:?}", imp.refused);
        assert!(imp.notes.iter().any(|n| n.contains("cpu")));
    }

    #[test]
    fn refusals_name_the_alarm() {
        let alarms = json!({"MetricAlarms":[
            {"AlarmName":"band","Namespace":"CISBenchmark","MetricName":"UnauthorizedAPICalls","ThresholdMetricId":"ad1",
             "EvaluationPeriods":1,"ComparisonOperator":"LessThanLowerOrGreaterThanUpperThreshold"},
            {"AlarmName":"tm","Namespace":"CISBenchmark","MetricName":"RootUsage","ExtendedStatistic":"tm90","Period":300,
             "EvaluationPeriods":1,"Threshold":1.0,"ComparisonOperator":"GreaterThanThreshold"}
        ]});
        let imp = import(&[("f.json".into(), filters()), ("a.json".into(), alarms)]).unwrap();
        assert_eq!(imp.refused.len(), 2);
        assert!(imp.refused[0].starts_with("alarm band:") && imp.refused[0].contains("anomaly"));
        assert!(imp.refused[1].starts_with("alarm tm:") && imp.refused[1].contains("tm90"));
        let e = import(&[("x.json".into(), json!({"foo":1}))]).unwrap_err();
        assert_eq!(e, ImportError::Unknown { path: "x.json".into() });
    }
}
