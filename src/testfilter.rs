//! An offline `aws logs test-metric-filter`: the TestMetricFilter request and
//! response shapes, evaluated locally.
//!
//! Request: `{"filterPattern": "...", "logEventMessages": ["...", ...]}`,
//! optionally with `"metricValue"` and `"defaultValue"` (and `"dimensions"`)
//! as in PutMetricFilter's transformation. Response: `{"matches": [...]}`
//! exactly as AWS returns it (1-based `eventNumber`), plus `"datapoints"`
//! when a metric value was given.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metric::MetricTransform;
use crate::pattern::{EventBuf, FilterPattern, PatternError};

/// A TestMetricFilter request.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TestRequest {
    /// The pattern.
    pub filter_pattern: String,
    /// The messages, in order.
    pub log_event_messages: Vec<String>,
    /// Optional metric value (`"1"`, `"$.bytes"`, `"$size"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_value: Option<String>,
    /// Optional default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    /// Optional dimensions, name → `$.field` / `$field`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
}

/// A TestMetricFilter response.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct TestResponse {
    /// The matching events.
    pub matches: Vec<TestMatch>,
    /// What the metric filter would publish, when a metric value was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints: Option<Vec<TestDatapoint>>,
}

/// One matching event.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TestMatch {
    /// 1-based position in the request.
    pub event_number: u64,
    /// The message.
    pub event_message: String,
    /// `$name` / `$N` → value for space-delimited patterns; empty otherwise.
    pub extracted_values: BTreeMap<String, String>,
}

/// One published datapoint.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TestDatapoint {
    /// 1-based position of the event that published it.
    pub(crate) event_number: u64,
    /// The value.
    pub value: f64,
    /// Dimensions, when the transformation has them and all were present.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) dimensions: BTreeMap<String, String>,
}

/// Evaluate a request.
pub fn run(req: &TestRequest) -> Result<TestResponse, PatternError> {
    let pattern = FilterPattern::parse(&req.filter_pattern)?;
    let transform = match &req.metric_value {
        Some(v) => {
            let dims: Vec<(String, String)> = req.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            Some(MetricTransform::new(v, req.default_value, &dims, &pattern)?)
        }
        None => None,
    };
    let mut buf = EventBuf::new();
    let mut matches = Vec::new();
    let mut datapoints = transform.as_ref().map(|_| Vec::new());
    for (i, msg) in req.log_event_messages.iter().enumerate() {
        let number = i as u64 + 1;
        let ev = buf.event(msg);
        if let Some(extracted) = pattern.extract(&ev) {
            matches.push(TestMatch {
                event_number: number,
                event_message: msg.clone(),
                extracted_values: extracted.into_iter().map(|(k, v)| (k, v.into_owned())).collect(),
            });
        }
        if let (Some(t), Some(points)) = (&transform, datapoints.as_mut()) {
            if let Some(d) = t.datapoint(&pattern, &ev) {
                points.push(TestDatapoint {
                    event_number: number,
                    value: d.value,
                    dimensions: d.dimensions.into_iter().collect(),
                });
            }
        }
    }
    Ok(TestResponse { matches, datapoints })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(pattern: &str, msgs: &[&str]) -> TestRequest {
        TestRequest {
            filter_pattern: pattern.into(),
            log_event_messages: msgs.iter().map(|s| s.to_string()).collect(),
            metric_value: None,
            default_value: None,
            dimensions: BTreeMap::new(),
        }
    }

    #[test]
    fn numbering_is_one_based() {
        let r = run(&req("ERROR", &["INFO", "ERROR"])).unwrap();
        assert_eq!(r.matches.len(), 1);
        assert_eq!(r.matches[0].event_number, 2);
        assert!(r.datapoints.is_none());
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"matches":[{"eventNumber":2,"eventMessage":"ERROR","extractedValues":{}}]}"#);
    }

    #[test]
    fn datapoints_follow_event_order() {
        let mut r = req("ERROR", &["ERROR", "INFO", "ERROR"]);
        r.metric_value = Some("3".into());
        r.default_value = Some(7.0);
        let resp = run(&r).unwrap();
        let values: Vec<_> = resp.datapoints.unwrap().iter().map(|d| (d.event_number, d.value)).collect();
        assert_eq!(values, [(1, 3.0), (2, 7.0), (3, 3.0)]);
    }
}
