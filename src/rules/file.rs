//! Rules files: any number of named metric filters with their alarms, in
//! TOML or JSON (see `testdata/rules.toml`).
//!
//! ```toml
//! [[rule]]
//! name = "console-logins-without-mfa"
//! pattern = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
//! metric_value = "1"          # optional: number, $.selector or $field
//! default_value = 0           # optional
//! [rule.alarm]                # optional: CloudWatch defaults as in `scan`
//! period = "5m"
//! statistic = "Sum"
//! threshold = 1
//! comparison = ">="
//! evaluation_periods = 1
//! treat_missing_data = "notBreaching"
//! [[rule.example]]            # optional: checked by `trailwatch rules --test`
//! event = '{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}'
//! match = true
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;

use super::Rule;
use crate::alarm::{AlarmSettings, AlarmSpec, SettingError};
use crate::metric::MetricTransform;
use crate::pattern::PatternError;
use crate::pattern::{EventBuf, FilterPattern};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default, alias = "rules")]
    rule: Vec<RuleDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    name: String,
    #[serde(default)]
    title: Option<String>,
    pattern: String,
    #[serde(default)]
    metric_value: Option<String>,
    #[serde(default)]
    default_value: Option<f64>,
    #[serde(default)]
    dimensions: BTreeMap<String, String>,
    #[serde(default)]
    alarm_dimensions: BTreeMap<String, String>,
    #[serde(default)]
    alarm: AlarmSettings,
    #[serde(default, alias = "examples")]
    example: Vec<RuleExample>,
}

/// An example event of a rule and whether it must match.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleExample {
    /// The log event.
    pub(crate) event: String,
    /// Whether the rule's pattern must match it.
    #[serde(rename = "match")]
    pub(crate) matches: bool,
    /// What it shows.
    #[serde(default)]
    pub(crate) note: Option<String>,
}

/// A loaded rules file.
#[derive(Debug)]
pub struct Loaded {
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// Each rule's examples.
    pub(crate) examples: Vec<Vec<RuleExample>>,
}

/// Why a rules file cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum RulesError {
    /// The file cannot be read.
    Read(io::Error),
    /// Not valid JSON (serde's message, with line and column).
    Json(String),
    /// Not valid TOML (the parser's message, with line and column).
    Toml(String),
    /// No `[[rule]]` entries.
    NoRules,
    /// Two rules of one name.
    Twice(String),
    /// One rule's pattern, metric value or alarm is refused.
    Rule {
        /// The rule's name.
        name: String,
        /// What is refused.
        problem: RuleProblem,
    },
    /// Any of the above, in the named file.
    InFile {
        /// The file, as given.
        path: String,
        /// What is wrong.
        error: Box<RulesError>,
    },
}

/// What is refused in one rule.
#[derive(Debug)]
#[non_exhaustive]
pub enum RuleProblem {
    /// The filter pattern (with its position).
    Pattern(PatternError),
    /// The metric value or default value.
    MetricValue(String),
    /// The alarm settings.
    Alarm(SettingError),
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulesError::Read(e) => write!(f, "{e}"),
            RulesError::Json(e) => write!(f, "invalid JSON rules file: {e}"),
            RulesError::Toml(e) => write!(f, "invalid TOML rules file: {e}"),
            RulesError::NoRules => f.write_str("no [[rule]] entries"),
            RulesError::Twice(name) => write!(f, "rule {name:?} is defined twice"),
            RulesError::Rule { name, problem } => match problem {
                RuleProblem::Pattern(e) => write!(f, "rule {name:?}: {e}"),
                RuleProblem::MetricValue(e) => write!(f, "rule {name:?}: {e}"),
                RuleProblem::Alarm(e) => write!(f, "rule {name:?}: {e}"),
            },
            RulesError::InFile { path, error } => write!(f, "{path}: {error}"),
        }
    }
}

impl std::error::Error for RulesError {}

/// Load a rules file (TOML, or JSON when the content starts with `{`).
pub fn load(path: &Path) -> Result<Loaded, RulesError> {
    let in_file = |error| RulesError::InFile { path: path.display().to_string(), error: Box::new(error) };
    let text = fs::read_to_string(path).map_err(|e| in_file(RulesError::Read(e)))?;
    parse(&text).map_err(in_file)
}

/// Parse rules-file text.
pub fn parse(text: &str) -> Result<Loaded, RulesError> {
    let file: RulesFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| RulesError::Json(e.to_string()))?
    } else {
        toml::from_str(text).map_err(|e| RulesError::Toml(e.to_string()))?
    };
    if file.rule.is_empty() {
        return Err(RulesError::NoRules);
    }
    let mut names = HashSet::new();
    let mut rules = Vec::new();
    let mut examples = Vec::new();
    for def in file.rule {
        if !names.insert(def.name.clone()) {
            return Err(RulesError::Twice(def.name));
        }
        let refused = |problem| RulesError::Rule { name: def.name.clone(), problem };
        let pattern = FilterPattern::parse(&def.pattern).map_err(|e| refused(RuleProblem::Pattern(e)))?;
        let dims: Vec<(String, String)> = def.dimensions.into_iter().collect();
        let transform =
            MetricTransform::new(def.metric_value.as_deref().unwrap_or("1"), def.default_value, &dims, &pattern)
                .map_err(|e| refused(RuleProblem::MetricValue(e.kind.to_string())))?;
        let alarm = def.alarm.apply(&AlarmSpec::default()).map_err(|e| refused(RuleProblem::Alarm(e)))?;
        rules.push(Rule {
            name: def.name,
            title: def.title,
            pattern,
            transform,
            alarm,
            alarm_dimensions: def.alarm_dimensions.into_iter().collect(),
        });
        examples.push(def.example);
    }
    Ok(Loaded { rules, examples })
}

impl Loaded {
    /// Check every example: how many were checked, and the failures.
    pub fn count_examples(&self) -> (usize, Vec<String>) {
        let mut checked = 0;
        let mut buf = EventBuf::new();
        let mut failures = Vec::new();
        for (rule, exs) in self.rules.iter().zip(&self.examples) {
            for (i, ex) in exs.iter().enumerate() {
                let got = rule.pattern.matches(&buf.event(&ex.event));
                checked += 1;
                if got != ex.matches {
                    failures.push(format!(
                        "{} example {}{}: {}",
                        rule.name,
                        i + 1,
                        ex.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default(),
                        if ex.matches { "should match but does not" } else { "matches but should not" }
                    ));
                }
            }
        }
        (checked, failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json() {
        let toml = r#"
[[rule]]
name = "a"
pattern = '{ $.errorCode = "AccessDenied*" }'
[rule.alarm]
period = "1h"
statistic = "SampleCount"
threshold = 5
[[rule.example]]
event = '{"errorCode":"AccessDenied"}'
match = true
[[rule.example]]
event = '{"errorCode":"VpceAccessDenied"}'
match = false

[[rule]]
name = "b"
pattern = "[ip, user, bytes]"
metric_value = "$bytes"
"#;
        let l = parse(toml).unwrap();
        assert_eq!(l.rules.len(), 2);
        assert_eq!(l.rules[0].alarm.period_s, 3600);
        assert_eq!(l.rules[0].alarm.threshold, 5.0);
        assert!(l.count_examples().1.is_empty());
        let json = r#"{"rules":[{"name":"a","pattern":"ERROR","alarm":{"period":60}}]}"#;
        assert_eq!(parse(json).unwrap().rules[0].alarm.period_s, 60);
    }

    #[test]
    fn errors_name_the_rule() {
        let e = parse("[[rule]]\nname = \"x\"\npattern = '{ $.a == 1 }'\n").unwrap_err();
        assert!(matches!(&e, RulesError::Rule { name, problem: RuleProblem::Pattern(_) } if name == "x"), "{e:?}");
        let e = e.to_string();
        assert!(e.contains("rule \"x\"") && e.contains('^'), "{e}");
        let e = parse("[[rule]]\nname = \"x\"\npattern = 'A'\n[rule.alarm]\nperiod = 30\n").unwrap_err();
        assert!(matches!(&e, RulesError::Rule { problem: RuleProblem::Alarm(SettingError::PeriodResolution(30)), .. }));
        let e = e.to_string();
        assert!(e.contains("rule \"x\"") && e.contains("60"), "{e}");
        let e = parse("[[rule]]\nname = \"x\"\npattern = 'A'\ntypo = 1\n").unwrap_err().to_string();
        assert!(e.contains("typo"), "{e}");
        let twice = parse("[[rule]]\nname = \"x\"\npattern = 'A'\n[[rule]]\nname = \"x\"\npattern = 'B'\n");
        assert!(matches!(twice, Err(RulesError::Twice(n)) if n == "x"));
        let e = parse("[[rule]]\nname = \"x\"\npattern = 'A'\n[[rule.example]]\nevent = 'B'\nmatch = true\n").unwrap();
        assert_eq!(e.count_examples().1.len(), 1);
    }
}
