//! trailwatch: replay CloudWatch metric filters and alarms offline over
//! downloaded CloudTrail logs.
//!
//! Data flows one way: sources → records → pattern → metric → alarm →
//! rules → scan → replay → report.
#![deny(missing_docs)]

pub mod json;
pub mod metric;
pub mod pattern;
pub mod report;
mod spill;
pub mod testfilter;

/// Exit statuses of the `trailwatch` command (a contract scripts rely on).
pub mod exit {
    /// Ran to completion; no alarm window breached (for `test-pattern`: at
    /// least one event matched).
    pub const OK: u8 = 0;
    /// At least one window breached its threshold (for `test-pattern`: no
    /// event matched), like `grep` finding something.
    pub const ALARM: u8 = 1;
    /// `test-pattern`: no event matched.
    pub const NO_MATCH: u8 = 1;
    /// Usage, configuration or pattern error; nothing was evaluated.
    pub const USAGE: u8 = 2;
    /// Some inputs could not be read; everything readable was reported.
    pub const INPUT: u8 = 3;
    /// `scan`: no log record at all was read (nothing failed, but there
    /// was nothing to replay: a wrong or empty path, or only foreign
    /// files). Never 0 or 1, so that "nothing fired" is not read from an
    /// empty run.
    pub const NO_RECORDS: u8 = 4;
}
pub mod alarm;
pub mod record;
pub mod replay;
pub mod rules;
pub mod scan;
pub mod source;
