//! trailwatch: replay CloudWatch metric filters and alarms offline over
//! downloaded CloudTrail logs.
//!
//! The library is in rooms, each importing only from those listed before
//! it (the binary, `src/main.rs` and `src/cli/`, sits on top):
//!
//! - `spill`: sorted runs on a temporary file, under a budget;
//! - [`json`]: a strict JSON reader for log events;
//! - [`record`]: finding records in decoded bytes, their times and summaries;
//! - [`source`]: input discovery and decoding (gzip, tar, zip, forms);
//! - [`verify`]: digest files checked against the logs, offline;
//! - [`pattern`]: the filter-pattern language (lex, parse, compile, evaluate);
//! - [`metric`]: what a filter publishes, per minute and per period;
//! - [`testfilter`]: an offline `aws logs test-metric-filter`;
//! - [`alarm`]: alarm settings and CloudWatch's evaluation;
//! - [`rules`]: filters with their alarms (CIS pack, files, AWS import);
//! - [`scan`]: every input read once in parallel, every rule applied;
//! - [`series`]: a scan's per-minute results as a file, and such files
//!   merged exactly;
//! - [`sql`]: rules compiled to SQL queries that return those series;
//! - [`replay`]: each alarm replayed over what a scan found;
//! - [`tune`]: an alarm replayed under a grid of settings;
//! - [`report`]: the document and its formats.
#![deny(missing_docs)]

mod spill;

pub mod alarm;
pub mod diff;
pub mod json;
pub mod metric;
pub mod pattern;
pub mod record;
pub mod replay;
pub mod report;
pub mod rules;
pub mod scan;
pub mod series;
pub mod source;
pub mod sql;
pub mod testfilter;
pub mod tune;
pub mod verify;

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
