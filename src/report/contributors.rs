//! Who and what is behind matching records (a `scan::tally` group), as the
//! reports show it: the most frequent values of each field, with first and
//! last seen.

use std::io::{self, Write};

use serde::Serialize;

use super::escape::terminal;
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
