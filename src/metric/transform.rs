//! The metric transformation of a metric filter: what value, if any, one log
//! event publishes.
//!
//! Rules (observed with PutLogEvents/GetMetricStatistics; README fidelity
//! notes):
//! * match, numeric value → one datapoint with that value;
//! * match, value missing or JSON null → one datapoint with the default value
//!   (none when there is no default);
//! * match, value present but not a number (a non-numeric string, a boolean,
//!   an object, an array) → no datapoint at all, not even the default;
//! * no match → one datapoint with the default value if one is set
//!   (dimensionless), else nothing;
//! * a matching event with any dimension field absent publishes without any
//!   dimensions.

use std::fmt;

use crate::json::{JsonNumber, Kind};
use crate::pattern::parse::{is_number, parse_selector};
use crate::pattern::{ast::Entry, walk, Ast, ErrorKind, Event, FilterPattern, Path, PatternError, PatternKind, Span};

/// Most dimensions on one metric filter.
pub(crate) const MAX_DIMENSIONS: usize = 3;

/// Where a metric value or dimension comes from.
#[derive(Clone, Debug, PartialEq)]
enum Source {
    /// A number literal.
    Literal(f64),
    /// `$.selector` of a JSON pattern.
    Json(Path),
    /// `$name` / `$N` of a space-delimited pattern.
    Field(String),
}

/// A metric filter's transformation: value, default value, dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricTransform {
    value_text: String,
    value: Source,
    default: Option<f64>,
    dimensions: Vec<(String, Source)>,
    /// The dimensions as written (name, value text).
    dimension_texts: Vec<(String, String)>,
}

/// What one event publishes.
#[derive(Clone, Debug, PartialEq)]
pub struct Datapoint {
    /// The value.
    pub(crate) value: f64,
    /// Dimension name/value pairs (empty when the metric has none, or when a
    /// dimension field was absent).
    pub(crate) dimensions: Vec<(String, String)>,
    /// Whether the event matched (false: this is the default value of a
    /// non-matching event).
    pub(crate) matched: bool,
}

impl fmt::Display for MetricTransform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "value {}", self.value_text)?;
        match self.default {
            Some(d) => write!(f, ", default {d}")?,
            None => write!(f, ", no default")?,
        }
        for (name, _) in &self.dimensions {
            write!(f, ", dimension {name}")?;
        }
        Ok(())
    }
}

fn bad(detail: String, text: &str) -> PatternError {
    PatternError {
        kind: ErrorKind::BadMetricValue { detail },
        span: Span::new(0, text.len()),
        pattern: text.to_string(),
    }
}

impl MetricTransform {
    /// The CIS default: value 1, no default value, no dimensions.
    pub(crate) fn count() -> MetricTransform {
        MetricTransform {
            value_text: "1".into(),
            value: Source::Literal(1.0),
            default: None,
            dimensions: Vec::new(),
            dimension_texts: Vec::new(),
        }
    }

    /// Build and validate a transformation for `pattern`.
    pub fn new(
        metric_value: &str,
        default: Option<f64>,
        dimensions: &[(String, String)],
        pattern: &FilterPattern,
    ) -> Result<MetricTransform, PatternError> {
        let value = source(metric_value, pattern, "metric value")?;
        if let Some(d) = default {
            if !d.is_finite() {
                return Err(bad(format!("default value {d} is not a finite number"), metric_value));
            }
        }
        if dimensions.len() > MAX_DIMENSIONS {
            return Err(bad(format!("at most {MAX_DIMENSIONS} dimensions are allowed"), metric_value));
        }
        if !dimensions.is_empty() {
            if default.is_some() {
                return Err(bad("dimensions cannot be combined with a default value".into(), metric_value));
            }
            if !matches!(pattern.kind(), PatternKind::Json | PatternKind::Delimited) {
                return Err(bad("the specified filter pattern does not support dimensions".into(), metric_value));
            }
        }
        let dimension_texts = dimensions.iter().map(|(n, v)| (n.clone(), v.trim().to_string())).collect();
        let dimensions = dimensions
            .iter()
            .map(|(name, v)| {
                let s = source(v, pattern, "dimension value")?;
                if matches!(s, Source::Literal(_)) {
                    return Err(bad(format!("dimension {name} must be a field reference such as $.field"), v));
                }
                Ok((name.clone(), s))
            })
            .collect::<Result<_, _>>()?;
        Ok(MetricTransform { value_text: metric_value.trim().to_string(), value, default, dimensions, dimension_texts })
    }

    /// The metric value as written.
    pub(crate) fn value_text(&self) -> &str {
        &self.value_text
    }

    /// The dimensions as written: name and value text.
    pub(crate) fn dimension_texts(&self) -> &[(String, String)] {
        &self.dimension_texts
    }

    /// The default value.
    pub(crate) fn default_value(&self) -> Option<f64> {
        self.default
    }

    /// What `ev` publishes, given whether the pattern matched and (for
    /// space-delimited patterns) what it extracted.
    pub fn datapoint(&self, pattern: &FilterPattern, ev: &Event<'_>) -> Option<Datapoint> {
        let extracted = if needs_fields(&self.value, &self.dimensions) { pattern.extract(ev) } else { None };
        let matched = extracted.is_some() || pattern.matches(ev);
        if !matched {
            return self.default.map(|value| Datapoint { value, dimensions: Vec::new(), matched: false });
        }
        let fields = extracted.unwrap_or_default();
        let value = match &self.value {
            Source::Literal(v) => *v,
            src => match lookup(src, ev, &fields) {
                Lookup::Absent => self.default?,
                Lookup::Number(v) => v,
                Lookup::Text(t) => match t.trim().parse::<f64>() {
                    Ok(v) if is_number(t.trim()) && v.is_finite() => v,
                    _ => return None,
                },
                Lookup::Other => return None,
            },
        };
        let mut dimensions = Vec::with_capacity(self.dimensions.len());
        for (name, src) in &self.dimensions {
            match lookup(src, ev, &fields) {
                Lookup::Text(t) => dimensions.push((name.clone(), t)),
                Lookup::Number(v) => dimensions.push((name.clone(), crate::json::java_double_to_string(v))),
                Lookup::Absent | Lookup::Other => {
                    dimensions.clear();
                    break;
                }
            }
        }
        Some(Datapoint { value, dimensions, matched: true })
    }
}

fn needs_fields(value: &Source, dims: &[(String, Source)]) -> bool {
    matches!(value, Source::Field(_)) || dims.iter().any(|(_, s)| matches!(s, Source::Field(_)))
}

enum Lookup {
    Absent,
    Number(f64),
    Text(String),
    Other,
}

fn lookup(src: &Source, ev: &Event<'_>, fields: &[(String, std::borrow::Cow<'_, str>)]) -> Lookup {
    match src {
        Source::Literal(v) => Lookup::Number(*v),
        Source::Json(path) => {
            let Some(v) = ev.json.and_then(|root| walk(root, &path.before)) else {
                return Lookup::Absent;
            };
            match v.kind() {
                Kind::Null => Lookup::Absent,
                Kind::Number => {
                    let n: JsonNumber<'_> = v.as_number().expect("number");
                    match n.finite() {
                        Some(f) => Lookup::Number(f),
                        None => Lookup::Other,
                    }
                }
                Kind::String => Lookup::Text(v.as_str().unwrap_or_default().into_owned()),
                Kind::True => Lookup::Text("true".into()),
                Kind::False => Lookup::Text("false".into()),
                Kind::Object | Kind::Array => Lookup::Other,
            }
        }
        Source::Field(name) => {
            let key = format!("${name}");
            match fields.iter().find(|(k, _)| *k == key) {
                Some((_, v)) => Lookup::Text(v.to_string()),
                None => Lookup::Absent,
            }
        }
    }
}

fn source(text: &str, pattern: &FilterPattern, what: &str) -> Result<Source, PatternError> {
    let t = text.trim();
    if is_number(t) {
        let v: f64 = t.trim_start_matches('+').parse().map_err(|_| bad(format!("{what} {t} is not a number"), text))?;
        if !v.is_finite() {
            return Err(bad(format!("{what} {t} is out of range"), text));
        }
        return Ok(Source::Literal(v));
    }
    if t.len() > 100 {
        return Err(bad(format!("{what} is longer than 100 characters"), text));
    }
    if t.starts_with("$.") {
        if pattern.kind() != PatternKind::Json {
            return Err(bad(format!("{what} {t}: a $.selector needs a JSON pattern"), text));
        }
        let sel = parse_selector(t)?;
        if sel.wildcard().is_some() {
            return Err(bad(format!("{what} {t} must be a valid number"), text));
        }
        return Ok(Source::Json(crate::pattern::path(&sel)));
    }
    if let Some(name) = t.strip_prefix('$') {
        let Ast::Delimited(d) = pattern.ast() else {
            return Err(bad(format!("{what} {t}: a $field needs a space-delimited pattern"), text));
        };
        let named = d.entries.iter().any(|e| matches!(e, Entry::Field { name: Some(n), .. } if n == name));
        // `$N` names an unnamed field N, or a field matched by `...`.
        let has_ellipsis = d.entries.iter().any(|e| matches!(e, Entry::Ellipsis(_))) || d.entries.is_empty();
        let positional = name.parse::<usize>().is_ok_and(|n| {
            n >= 1 && (has_ellipsis || matches!(d.entries.get(n - 1), Some(Entry::Field { name: None, .. })))
        });
        if !named && !positional {
            return Err(bad(format!("{what} {t}: the pattern has no field named {name}"), text));
        }
        return Ok(Source::Field(name.to_string()));
    }
    Err(bad(format!("{what} {t:?} must be a number, $.selector or $field"), text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::EventBuf;

    fn point(pattern: &str, value: &str, default: Option<f64>, msg: &str) -> Option<f64> {
        let p = FilterPattern::parse(pattern).unwrap();
        let t = MetricTransform::new(value, default, &[], &p).unwrap();
        let mut buf = EventBuf::new();
        t.datapoint(&p, &buf.event(msg)).map(|d| d.value)
    }

    #[test]
    fn literal_and_default() {
        assert_eq!(point("ERROR", "3", Some(7.0), "ERROR"), Some(3.0));
        assert_eq!(point("ERROR", "3", Some(7.0), "INFO"), Some(7.0));
        assert_eq!(point("ERROR", "3", None, "INFO"), None);
    }

    #[test]
    fn extracted_values_follow_the_observed_rules() {
        let p = "{ $.probe = \"value\" || $.value = * }";
        assert_eq!(point(p, "$.value", Some(7.0), r#"{"probe":"value"}"#), Some(7.0));
        assert_eq!(point(p, "$.value", Some(7.0), r#"{"probe":"value","value":null}"#), Some(7.0));
        assert_eq!(point(p, "$.value", Some(7.0), r#"{"probe":"value","value":"not-a-number"}"#), None);
        assert_eq!(point(p, "$.value", Some(7.0), r#"{"probe":"value","value":3}"#), Some(3.0));
        assert_eq!(point(p, "$.value", Some(7.0), r#"{"probe":"value","value":"4.5"}"#), Some(4.5));
        assert_eq!(point(p, "$.value", Some(7.0), r#"{"probe":"value","value":[1]}"#), None);
        assert_eq!(point(p, "$.value", None, r#"{"probe":"value"}"#), None);
        assert_eq!(point("[ip, bytes]", "$bytes", None, "1.2.3.4 512"), Some(512.0));
        assert_eq!(point("[ip, ]", "$2", None, "1.2.3.4 512"), Some(512.0));
        assert_eq!(point("[ip, ...]", "$3", Some(0.0), "1.2.3.4 a 9"), Some(9.0));
        assert_eq!(point("[ip, bytes]", "$bytes", None, "1.2.3.4 lots"), None);
    }

    #[test]
    fn dimensions_all_or_nothing() {
        let p = FilterPattern::parse("{ $.probe = \"dimension\" || $.a = * || $.b = * }").unwrap();
        let dims = [("A".to_string(), "$.a".to_string()), ("B".to_string(), "$.b".to_string())];
        let t = MetricTransform::new("1", None, &dims, &p).unwrap();
        let mut buf = EventBuf::new();
        let d = t.datapoint(&p, &buf.event(r#"{"probe":"dimension","a":"alpha","b":"beta"}"#)).unwrap();
        assert_eq!(d.dimensions, [("A".into(), "alpha".into()), ("B".into(), "beta".into())]);
        let d = t.datapoint(&p, &buf.event(r#"{"probe":"dimension","a":"alpha"}"#)).unwrap();
        assert!(d.dimensions.is_empty());
    }

    #[test]
    fn invalid_transformations() {
        let json = FilterPattern::parse("{ $.a = 1 }").unwrap();
        let terms = FilterPattern::parse("ERROR").unwrap();
        let dims = [("A".to_string(), "$.a".to_string())];
        assert!(MetricTransform::new("$.values[*]", None, &[], &json).is_err());
        assert!(MetricTransform::new("$.a", None, &[], &terms).is_err());
        assert!(MetricTransform::new("$x", None, &[], &json).is_err());
        assert!(MetricTransform::new("abc", None, &[], &json).is_err());
        assert!(MetricTransform::new("1", Some(0.0), &dims, &json).is_err());
        assert!(MetricTransform::new("1", None, &dims, &terms).is_err());
        assert!(MetricTransform::new("$.unmentioned", Some(7.0), &[], &json).is_ok());
        let delim = FilterPattern::parse("[a, b]").unwrap();
        assert!(MetricTransform::new("$c", None, &[], &delim).is_err());
        assert!(MetricTransform::new("$2", None, &[], &delim).is_err(), "field 2 is named $b");
    }
}
