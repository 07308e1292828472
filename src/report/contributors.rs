//! Who and what is behind matching records (a `scan::tally` group), as the
//! reports show it: the most frequent values of each field, with first and
//! last seen.

use std::io::{self, Write};

use serde::Serialize;

use super::escape::{csv_cell, terminal};
use super::model::text as as_text;
use crate::record::time::format_rfc3339;
use crate::record::EpochMs;
use crate::scan::tally::{Group, FACETS};

/// One value of a field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValueCount {
    /// The value (`null`: the field is absent).
    pub value: Option<String>,
    /// Records with it.
    pub records: u64,
    /// The earliest of their times.
    #[serde(serialize_with = "as_text::rfc3339_or_null")]
    pub first_seen: Option<EpochMs>,
    /// The latest.
    #[serde(serialize_with = "as_text::rfc3339_or_null")]
    pub last_seen: Option<EpochMs>,
}

/// One field's most frequent values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldCounts {
    /// The field (`principal`, `sourceIPAddress`, `eventName`, `errorCode`,
    /// `accountId`, `awsRegion`, or a `--group-by` selector as given).
    pub field: String,
    /// Distinct values counted (absence is one).
    pub distinct: usize,
    /// The most frequent, most first.
    pub top: Vec<ValueCount>,
    /// Records whose value came past the distinct values counted.
    pub other: u64,
}

/// A group's records by field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contributors {
    /// Records in the group.
    pub records: u64,
    /// Per field.
    pub by_field: Vec<FieldCounts>,
}

impl Contributors {
    /// The `top` most frequent values of each field of `group`: those of
    /// [`FACETS`], then those `group_by` names.
    pub fn of(group: &Group, top: usize, group_by: &[String]) -> Contributors {
        let by_field = FACETS
            .iter()
            .map(|f| f.to_string())
            .chain(group_by.iter().cloned())
            .zip(&group.facets)
            .map(|(field, f)| FieldCounts {
                field,
                distinct: f.distinct(),
                top: f
                    .top(top)
                    .into_iter()
                    .map(|(value, seen)| ValueCount {
                        value: value.map(str::to_string),
                        records: seen.count,
                        first_seen: seen.first,
                        last_seen: seen.last,
                    })
                    .collect(),
                other: f.other,
            })
            .collect();
        Contributors { records: group.records, by_field }
    }
}

/// `a – b`, the second without its date when it is the first's.
pub(super) fn span_text(a: EpochMs, b: EpochMs) -> String {
    let (a, b) = (format_rfc3339(a), format_rfc3339(b));
    match (a.get(..11), b.get(11..)) {
        (Some(day), Some(rest)) if b.starts_with(day) => format!("{a} – {rest}"),
        _ => format!("{a} – {b}"),
    }
}

/// Each field on one line with its most frequent values, under `indent`.
pub(super) fn write_compact(out: &mut impl Write, c: &Contributors, indent: &str) -> io::Result<()> {
    let width = c.by_field.iter().map(|f| f.field.chars().count()).max().unwrap_or(0);
    for f in &c.by_field {
        let mut values: Vec<String> = f
            .top
            .iter()
            .map(|v| {
                let value = v.value.as_deref().map_or_else(|| "(absent)".into(), |s| terminal(s).into_owned());
                format!("{value} ×{}", v.records)
            })
            .collect();
        if f.distinct > f.top.len() {
            values.push(format!("… {} values in all", f.distinct));
        }
        writeln!(out, "{indent}{:<width$}  {}", terminal(&f.field), values.join(" · "))?;
    }
    Ok(())
}

/// The fields and their values, one per line, under `indent`.
pub(super) fn write_text(out: &mut impl Write, c: &Contributors, indent: &str) -> io::Result<()> {
    for f in &c.by_field {
        let more =
            if f.distinct > f.top.len() { format!(" (top {} of {})", f.top.len(), f.distinct) } else { String::new() };
        writeln!(out, "{indent}{}{more}", terminal(&f.field))?;
        for v in &f.top {
            let value = v.value.as_deref().map_or_else(|| "(absent)".into(), |s| terminal(s).into_owned());
            let when = match (v.first_seen, v.last_seen) {
                (Some(a), Some(b)) => span_text(a, b),
                _ => "(no usable eventTime)".to_string(),
            };
            writeln!(out, "{indent}  {:>8}  {value}  {when}", v.records)?;
        }
        if f.other > 0 {
            writeln!(out, "{indent}  {:>8}  (other values, past the first {} counted)", f.other, f.distinct)?;
        }
    }
    Ok(())
}

/// The columns of [`write_csv`].
pub const CSV_HEADER: &str = "rule,scope,start,end,field,value,records,first_seen,last_seen";

/// Every alarm's contributors as CSV rows: over the whole run (`scope`
/// `run`, no start or end), per breaching window (`window`) and per ALARM
/// episode (`episode`, no end while still in ALARM at the end).
pub fn write_csv(out: &mut impl Write, doc: &super::model::Document<'_>) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for a in &doc.alarms {
        if let Some(c) = &a.contributors {
            csv_rows(out, &a.name, "run", None, None, c)?;
        }
        for w in a.windows.iter().filter(|w| w.breaching) {
            if let Some(c) = &w.contributors {
                csv_rows(out, &a.name, "window", Some(w.start), Some(w.end), c)?;
            }
        }
        for e in a.episodes.iter().flat_map(|l| l.iter()) {
            if let Some(c) = &e.contributors {
                csv_rows(out, &a.name, "episode", Some(e.start), e.end, c)?;
            }
        }
    }
    Ok(())
}

fn csv_rows(
    out: &mut impl Write,
    rule: &str,
    scope: &str,
    start: Option<EpochMs>,
    end: Option<EpochMs>,
    c: &Contributors,
) -> io::Result<()> {
    let time = |t: Option<EpochMs>| t.map(format_rfc3339).unwrap_or_default();
    for f in &c.by_field {
        for v in &f.top {
            writeln!(
                out,
                "{},{scope},{},{},{},{},{},{},{}",
                csv_cell(rule),
                time(start),
                time(end),
                csv_cell(&f.field),
                csv_cell(v.value.as_deref().unwrap_or("")),
                v.records,
                time(v.first_seen),
                time(v.last_seen)
            )?;
        }
    }
    Ok(())
}
