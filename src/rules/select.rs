//! Which rules a run replays: built-in packs, rules files and alarms
//! imported from AWS, narrowed by name, or one pattern of the user's; then
//! the alarm settings given on the command line applied to all of them.
//!
//! Pure: the files are read and parsed by the caller, and handed in as
//! [`From::Rules`] and an AWS [`Import`].

use std::collections::HashSet;
use std::fmt;

use super::aws::Import;
use super::{pack, Rule, CIS_UNAUTHORIZED_API_CALLS};
use crate::alarm::{AlarmSettings, AlarmSpec, SettingError};
use crate::metric::MetricTransform;
use crate::pattern::{FilterPattern, PatternError};

/// Where rules come from, in the order the user gave them.
#[derive(Debug)]
pub enum From {
    /// A built-in pack selection (`cis`, `cis-all`).
    Pack(String),
    /// The rules of a rules file, read and parsed.
    Rules(Vec<Rule>),
}

/// What the user asked for.
#[derive(Debug, Default)]
pub struct Request<'a> {
    /// Packs and rules files (`--rules`), in order.
    pub from: Vec<From>,
    /// Rule names to keep (`--rule`); with no `from`, names in the CIS
    /// pack.
    pub names: &'a [String],
    /// Alarms imported from AWS configuration (`--aws-config`).
    pub imported: Option<Import>,
    /// One filter pattern of the user's (`--pattern`), with its rule name
    /// and metric transformation.
    pub pattern: Option<&'a str>,
    /// The name of the `pattern` rule.
    pub name: &'a str,
    /// `--metric-value` (default `1`).
    pub metric_value: Option<&'a str>,
    /// `--default-value`.
    pub default_value: Option<f64>,
    /// Alarm settings that override every rule's.
    pub overrides: AlarmSettings,
}

/// The rules to run and what was refused or worth noting on the way.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// The rules, in order.
    pub rules: Vec<Rule>,
    /// Items that cannot be replayed, with the reason.
    pub refused: Vec<String>,
    /// Other notes.
    pub notes: Vec<String>,
}

/// Why no rule set could be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum SelectError {
    /// A pack selection that does not exist.
    Pack(String),
    /// `--rule` names a rule that none of the sources holds.
    NoSuchRule {
        /// The name.
        name: String,
        /// Whether the sources were rules files (or a pack).
        in_files: bool,
    },
    /// `--metric-value` or `--default-value` without `--pattern` while
    /// other rules were selected.
    TransformWithoutPattern,
    /// The user's pattern does not parse.
    Pattern(PatternError),
    /// The user's metric value is not one.
    MetricValue(PatternError),
    /// An override does not apply to a rule's alarm.
    Setting {
        /// The rule.
        rule: String,
        /// Why.
        error: SettingError,
    },
    /// Two rules share a name.
    TwoRulesNamed(String),
    /// Rules were imported, and every one was refused.
    NothingReplayable {
        /// What was refused, and why.
        refused: Vec<String>,
    },
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectError::Pack(e) => f.write_str(e),
            SelectError::NoSuchRule { name, in_files } => {
                let where_ = if *in_files { "the rules files" } else { "the selected pack" };
                write!(f, "--rule {name:?}: no such rule in {where_}")
            }
            SelectError::TransformWithoutPattern => {
                f.write_str("--metric-value and --default-value apply to --pattern")
            }
            SelectError::Pattern(e) => write!(f, "{e}"),
            SelectError::MetricValue(e) => write!(f, "--metric-value: {}", e.kind),
            SelectError::Setting { rule, error } => write!(f, "rule {rule}: {error}"),
            SelectError::TwoRulesNamed(name) => write!(f, "two rules are named {name:?}"),
            SelectError::NothingReplayable { refused } => {
                f.write_str("nothing to replay: no imported metric filter or alarm can be replayed")?;
                for r in refused {
                    write!(f, "\n  refused: {r}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SelectError {}

/// The rules `req` asks for. With nothing asked for, the CIS
/// unauthorized-API-calls rule.
pub fn select(req: Request<'_>) -> Result<RuleSet, SelectError> {
    let mut set = RuleSet::default();
    let (from_packs, from_files) = (!req.from.is_empty(), req.from.iter().any(|f| matches!(f, From::Rules(_))));
    for from in req.from {
        match from {
            From::Pack(name) => {
                let sel = pack::cis().select(&name).map_err(SelectError::Pack)?;
                set.rules.extend(sel.rules);
                set.refused.extend(sel.refused);
            }
            From::Rules(rules) => set.rules.extend(rules),
        }
    }
    let importing = req.imported.is_some();
    if let Some(imported) = req.imported {
        set.rules.extend(imported.rules);
        set.refused.extend(imported.refused);
        set.notes.extend(imported.notes);
    }
    if !req.names.is_empty() {
        // Each name picks the rule of that name among those loaded and
        // imported; without packs or rules files, a name may also pick
        // from the CIS pack (`root-usage:cis-1.4`, `CloudWatch.3`).
        let mut loaded = std::mem::take(&mut set.rules);
        for name in req.names {
            if let Some(k) = loaded.iter().position(|r| &r.name == name) {
                set.rules.push(loaded.remove(k));
            } else if set.rules.iter().any(|r| &r.name == name) {
                continue;
            } else if from_packs {
                return Err(SelectError::NoSuchRule { name: name.clone(), in_files: from_files });
            } else {
                let sel = pack::cis().select(name).map_err(SelectError::Pack)?;
                set.rules.extend(sel.rules);
            }
        }
    }
    let custom = req.pattern.is_some();
    if (req.metric_value.is_some() || req.default_value.is_some()) && !custom && !set.rules.is_empty() {
        return Err(SelectError::TransformWithoutPattern);
    }
    if importing && !from_packs && req.names.is_empty() && set.rules.is_empty() && !custom {
        // Not the default rule in their place: the user asked for theirs.
        return Err(SelectError::NothingReplayable { refused: set.refused });
    }
    if custom || set.rules.is_empty() {
        let (name, title, source) = match req.pattern {
            Some(p) => (req.name.to_string(), None, p),
            None => (
                "unauthorized-api-calls".to_string(),
                Some("CIS unauthorized API calls (CloudWatch.2)".to_string()),
                CIS_UNAUTHORIZED_API_CALLS,
            ),
        };
        let pattern = FilterPattern::parse(source).map_err(SelectError::Pattern)?;
        let transform = MetricTransform::new(req.metric_value.unwrap_or("1"), req.default_value, &[], &pattern)
            .map_err(SelectError::MetricValue)?;
        let alarm = AlarmSpec::default();
        set.rules.push(Rule { name, title, pattern, transform, alarm, alarm_dimensions: Vec::new() });
    }
    if !req.overrides.is_empty() {
        for r in &mut set.rules {
            r.alarm =
                req.overrides.apply(&r.alarm).map_err(|error| SelectError::Setting { rule: r.name.clone(), error })?;
        }
    }
    let mut seen = HashSet::new();
    for r in &set.rules {
        if !seen.insert(r.name.as_str()) {
            return Err(SelectError::TwoRulesNamed(r.name.clone()));
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::PeriodSetting;

    fn names(set: &RuleSet) -> Vec<&str> {
        set.rules.iter().map(|r| r.name.as_str()).collect()
    }

    fn err(req: Request<'_>) -> String {
        select(req).expect_err("refused").to_string()
    }

    #[test]
    fn names_pick_imported_rules_in_the_order_named_and_fall_back_to_the_pack() {
        let rules = vec![Rule::new("a", "{ $.x = 1 }").unwrap(), Rule::new("b", "{ $.x = 2 }").unwrap()];
        let imported = Import { rules, ..Import::default() };
        let wanted = ["b".to_string(), "root-usage:cis-1.4".to_string()];
        let set = select(Request { imported: Some(imported), names: &wanted, ..Request::default() }).unwrap();
        assert_eq!(names(&set), ["b", "root-usage:cis-1.4"]);
    }

    #[test]
    fn an_import_where_everything_is_refused_is_an_error_not_the_default_rule() {
        let imported = Import { refused: vec!["alarm math: uses metric math".into()], ..Import::default() };
        let e = err(Request { imported: Some(imported), ..Request::default() });
        assert!(e.starts_with("nothing to replay") && e.contains("refused: alarm math: uses metric math"), "{e}");
    }

    #[test]
    fn nothing_asked_for_is_the_cis_unauthorized_api_calls_rule() {
        let set = select(Request::default()).unwrap();
        assert_eq!(names(&set), ["unauthorized-api-calls"]);
        assert_eq!(set.rules[0].pattern.source(), CIS_UNAUTHORIZED_API_CALLS);
        assert_eq!(set.rules[0].alarm, AlarmSpec::default());
    }

    #[test]
    fn rule_names_narrow_the_sources_or_pick_from_the_cis_pack() {
        let names_given = ["root-usage:securityhub".to_string()];
        let req = Request { from: vec![From::Pack("cis".into())], names: &names_given, ..Request::default() };
        assert_eq!(names(&select(req).unwrap()), ["root-usage:securityhub"]);
        let req = Request { names: &names_given, ..Request::default() };
        assert_eq!(names(&select(req).unwrap()), ["root-usage:securityhub"]);
        let unknown = ["nope".to_string()];
        let req = Request { from: vec![From::Pack("cis".into())], names: &unknown, ..Request::default() };
        assert_eq!(err(req), r#"--rule "nope": no such rule in the selected pack"#);
        let file_rules = vec![Rule::new("mine", "{ $.a = 1 }").unwrap()];
        let req = Request { from: vec![From::Rules(file_rules)], names: &unknown, ..Request::default() };
        assert_eq!(err(req), r#"--rule "nope": no such rule in the rules files"#);
    }

    #[test]
    fn a_pattern_of_the_users_is_one_rule_with_its_transformation() {
        let req = Request {
            pattern: Some("{ $.bytes > 0 }"),
            name: "big",
            metric_value: Some("$.bytes"),
            default_value: Some(0.0),
            ..Request::default()
        };
        let set = select(req).unwrap();
        assert_eq!(names(&set), ["big"]);
        assert_eq!(set.rules[0].transform.value_text(), "$.bytes");
        assert_eq!(set.rules[0].transform.default_value(), Some(0.0));
        let req = Request { pattern: Some("{ $.a = }"), ..Request::default() };
        assert!(matches!(select(req), Err(SelectError::Pattern(_))));
        let req = Request { pattern: Some("{ $.a = 1 }"), metric_value: Some("abc"), ..Request::default() };
        assert_eq!(err(req), r#"--metric-value: metric value "abc" must be a number, $.selector or $field"#);
        let req = Request { from: vec![From::Pack("cis".into())], metric_value: Some("2"), ..Request::default() };
        assert_eq!(err(req), "--metric-value and --default-value apply to --pattern");
    }

    #[test]
    fn overrides_apply_to_every_rule_and_names_stay_unique() {
        let overrides = AlarmSettings { period: Some(PeriodSetting::Seconds(3600)), ..AlarmSettings::default() };
        let req = Request { from: vec![From::Pack("cis".into())], overrides, ..Request::default() };
        let set = select(req).unwrap();
        assert!(set.rules.len() > 10);
        assert!(set.rules.iter().all(|r| r.alarm.period_s == 3600));
        let twice = || vec![Rule::new("same", "{ $.a = 1 }").unwrap()];
        let req = Request { from: vec![From::Rules(twice()), From::Rules(twice())], ..Request::default() };
        assert_eq!(err(req), r#"two rules are named "same""#);
        let req = Request { from: vec![From::Pack("cis-none".into())], ..Request::default() };
        assert!(matches!(select(req), Err(SelectError::Pack(_))));
    }
}
