//! The built-in CIS AWS Foundations / Security Hub monitoring pack
//! (`cis.toml`, compiled into the binary).
//!
//! Names: `<control>` is the control's default variant (the pattern Security
//! Hub prescribes, or CIS's own for 4.15); `<control>:<variant>` a specific
//! published variant; `cis` every control's default variant (15 rules);
//! `cis-all` every variant CloudWatch accepts.

use std::sync::OnceLock;

use serde::Deserialize;

use super::Rule;
use crate::alarm::AlarmSpec;
use crate::metric::MetricTransform;
use crate::pattern::{FilterPattern, PatternError};

const CIS_TOML: &str = include_str!("cis.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    control: Vec<ControlDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlDef {
    id: String,
    name: String,
    title: String,
    cis: String,
    default: String,
    variant: Vec<VariantDef>,
    #[serde(default)]
    example: Vec<Example>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantDef {
    name: String,
    pattern: String,
    used_by: String,
}

/// An example event and the variants it must match.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Example {
    /// What it shows.
    pub(crate) note: String,
    /// The CloudTrail record.
    pub(crate) event: String,
    /// Variant names that match it; every other variant must not.
    pub(crate) matches: Vec<String>,
}

/// One published pattern of a control.
#[derive(Debug)]
pub struct Variant {
    /// Short name (`securityhub`, `cis-1.4`, ...).
    pub name: String,
    /// The pattern text as published.
    pub pattern: String,
    /// Who publishes or uses it.
    pub used_by: String,
    /// Why CloudWatch would refuse it, if it would.
    pub error: Option<PatternError>,
}

/// One monitoring control.
#[derive(Debug)]
pub struct Control {
    /// Security Hub id (`CloudWatch.2`) or `CIS-4.15`.
    pub id: String,
    /// Rule name (`unauthorized-api-calls`).
    pub(crate) name: String,
    /// Title.
    pub title: String,
    /// CIS recommendation numbers by benchmark version.
    pub cis: String,
    /// Name of the default variant.
    pub default: String,
    /// Published variants.
    pub variants: Vec<Variant>,
    /// Example events (true positives and true negatives).
    pub(crate) examples: Vec<Example>,
}

impl Control {
    /// The default variant.
    pub(crate) fn default_variant(&self) -> &Variant {
        self.variants.iter().find(|v| v.name == self.default).expect("the pack's default variant exists")
    }

    /// `<name>:<variant>`.
    pub fn rule_name(&self, v: &Variant) -> String {
        format!("{}:{}", self.name, v.name)
    }

    /// The rule for a variant (CIS remediation alarm).
    pub(crate) fn rule(&self, v: &Variant) -> Result<Rule, PatternError> {
        let pattern = FilterPattern::parse(&v.pattern)?;
        Ok(Rule {
            name: self.rule_name(v),
            title: Some(format!("{} ({})", self.title, self.id)),
            pattern,
            transform: MetricTransform::count(),
            alarm: AlarmSpec::default(),
            alarm_dimensions: Vec::new(),
        })
    }
}

/// A rule pack.
#[derive(Debug)]
pub struct Pack {
    /// Its controls.
    pub controls: Vec<Control>,
}

/// The built-in CIS pack.
pub fn cis() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| {
        let file: PackFile = toml::from_str(CIS_TOML).expect("the built-in pack is valid TOML");
        let controls = file
            .control
            .into_iter()
            .map(|c| Control {
                id: c.id,
                name: c.name,
                title: c.title,
                cis: c.cis,
                default: c.default,
                variants: c
                    .variant
                    .into_iter()
                    .map(|v| {
                        let error = FilterPattern::parse(&v.pattern).err();
                        Variant { name: v.name, pattern: v.pattern, used_by: v.used_by, error }
                    })
                    .collect(),
                examples: c.example,
            })
            .collect();
        Pack { controls }
    })
}

/// Rules chosen from a pack, and the variants that could not be used.
#[derive(Debug, Default)]
pub struct Selection {
    /// Rules to run.
    pub rules: Vec<Rule>,
    /// `name: reason` for variants CloudWatch would refuse.
    pub(crate) refused: Vec<String>,
}

impl Pack {
    /// Select rules by name: `cis` (default variants), `cis-all`, a control
    /// name or id, or `<control>:<variant>`.
    pub fn select(&self, name: &str) -> Result<Selection, String> {
        let mut sel = Selection::default();
        let mut add = |c: &Control, v: &Variant| match c.rule(v) {
            Ok(r) => sel.rules.push(r),
            Err(e) => sel.refused.push(format!("{}: refused by CloudWatch: {}", c.rule_name(v), e.kind)),
        };
        match name {
            "cis" => self.controls.iter().for_each(|c| add(c, c.default_variant())),
            "cis-all" => self.controls.iter().for_each(|c| c.variants.iter().for_each(|v| add(c, v))),
            _ => {
                let (control, variant) = name.split_once(':').unwrap_or((name, ""));
                let c = self
                    .controls
                    .iter()
                    .find(|c| c.name == control || c.id.eq_ignore_ascii_case(control))
                    .ok_or_else(|| format!("no rule named {name:?} (see `trailwatch rules`)"))?;
                let v = if variant.is_empty() {
                    c.default_variant()
                } else {
                    c.variants
                        .iter()
                        .find(|v| v.name == variant)
                        .ok_or_else(|| format!("{} has no variant {variant:?} (see `trailwatch rules`)", c.name))?
                };
                if let Some(e) = &v.error {
                    return Err(format!("{} is refused by CloudWatch: {}", c.rule_name(v), e.kind));
                }
                add(c, v);
            }
        }
        Ok(sel)
    }

    /// Check every example against every variant: how many checks were
    /// made, and the failures.
    pub fn count_examples(&self) -> (usize, Vec<String>) {
        let mut checked = 0;
        let mut failures = Vec::new();
        let mut buf = crate::pattern::EventBuf::new();
        for c in &self.controls {
            for (i, ex) in c.examples.iter().enumerate() {
                for m in &ex.matches {
                    if !c.variants.iter().any(|v| &v.name == m) {
                        failures.push(format!("{} example {}: unknown variant {m:?}", c.name, i + 1));
                    }
                }
                for v in c.variants.iter().filter(|v| v.error.is_none()) {
                    let p = FilterPattern::parse(&v.pattern).expect("checked above");
                    let got = p.matches(&buf.event(&ex.event));
                    checked += 1;
                    let want = ex.matches.contains(&v.name);
                    if got != want {
                        failures.push(format!(
                            "{} example {} ({}): {} {}",
                            c.rule_name(v),
                            i + 1,
                            ex.note,
                            if want { "should match but does not" } else { "matches but should not" },
                            ex.event
                        ));
                    }
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
    fn pack_covers_every_control() {
        let p = cis();
        assert_eq!(p.controls.len(), 15);
        let ids: Vec<&str> = p.controls.iter().map(|c| c.id.as_str()).collect();
        for i in 1..=14 {
            assert!(ids.contains(&format!("CloudWatch.{i}").as_str()));
        }
        assert!(ids.contains(&"CIS-4.15"));
        assert!(
            p.controls.iter().all(|c| c.examples.iter().any(|e| !e.matches.is_empty())),
            "each control has a true positive"
        );
        assert!(
            p.controls.iter().all(|c| c.examples.iter().any(|e| e.matches.is_empty())),
            "each control has a true negative"
        );
    }

    #[test]
    fn every_example_matches_exactly_its_variants() {
        let failures = cis().count_examples().1;
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn selection() {
        let p = cis();
        assert_eq!(p.select("cis").unwrap().rules.len(), 15);
        let all = p.select("cis-all").unwrap();
        assert_eq!(all.rules.len() + all.refused.len(), p.controls.iter().map(|c| c.variants.len()).sum::<usize>());
        assert_eq!(all.refused.len(), 1, "{:?}", all.refused);
        assert!(all.refused[0].starts_with("console-auth-failures:cis-4.0"));
        let one = p.select("unauthorized-api-calls").unwrap();
        assert_eq!(one.rules[0].name, "unauthorized-api-calls:securityhub");
        assert_eq!(p.select("CloudWatch.2:cis-1.4").unwrap().rules[0].name, "unauthorized-api-calls:cis-1.4");
        assert!(p.select("console-auth-failures:cis-4.0").is_err());
        assert!(p.select("nope").is_err());
    }
}
