//! Rules: a named metric filter (pattern + transformation) with the alarm
//! on its metric. The built-in CIS pack (`pack`), rules files (`file`) and
//! AWS configuration import (`aws`), CloudFormation and Terraform (`iac`,
//! through `aws`) build these; `select` picks a run's.

pub mod aws;
pub mod file;
pub mod iac;
pub mod pack;
pub mod select;

use crate::alarm::AlarmSpec;
use crate::metric::series::Dimensions;
use crate::metric::MetricTransform;
use crate::pattern::{FilterPattern, PatternError};

/// The CIS "unauthorized API calls" filter (CloudWatch.2, CIS 3.1 / 4.1 / 5.1).
pub const CIS_UNAUTHORIZED_API_CALLS: &str =
    r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;

/// A metric filter and the alarm on its metric.
#[derive(Debug)]
pub struct Rule {
    /// Name (unique in a run).
    pub name: String,
    /// Longer description.
    pub title: Option<String>,
    /// The filter pattern.
    pub pattern: FilterPattern,
    /// What a matching (or non-matching) event publishes.
    pub transform: MetricTransform,
    /// The alarm.
    pub alarm: AlarmSpec,
    /// Which metric of the filter the alarm watches (dimension set; empty
    /// for the dimensionless metric).
    pub alarm_dimensions: Dimensions,
}

impl Rule {
    /// A rule with the CIS alarm settings.
    pub fn new(name: &str, pattern: &str) -> Result<Rule, PatternError> {
        Ok(Rule {
            name: name.to_string(),
            title: None,
            pattern: FilterPattern::parse(pattern)?,
            transform: MetricTransform::count(),
            alarm: AlarmSpec::default(),
            alarm_dimensions: Vec::new(),
        })
    }

    /// The default rule: CIS unauthorized API calls, value 1, no default,
    /// Sum over 5 minutes >= 1.
    pub fn cis_unauthorized_api_calls() -> Rule {
        let mut r = Rule::new("unauthorized-api-calls", CIS_UNAUTHORIZED_API_CALLS).expect("the CIS pattern is valid");
        r.title = Some("CIS unauthorized API calls (CloudWatch.2)".into());
        r
    }
}
