//! `scan --events-out`: every matching record of every rule, one row each,
//! tagged with its rule and period window, as NDJSON or CSV.
//!
//! Rows come rule by rule, then by window, time and location; records
//! without a usable time come first in their rule, with no window. Log
//! fields are written as data: JSON-escaped in NDJSON, guarded against
//! formula injection in CSV.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::value::RawValue;

use super::escape::csv_cell;
use super::model::{raw_json, text};
use crate::record::time::format_rfc3339;
use crate::record::{EpochMs, EventSummary};
use crate::replay::AlarmReplay;
use crate::scan::UNPLACED;

/// The file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventsFormat {
    /// One JSON object per line.
    Ndjson,
    /// A header line, then one row per record.
    Csv,
}

/// The columns before the record's fields, in CSV order.
pub const LEADING: [&str; 7] = ["rule", "window_start", "window_end", "breaching", "time", "path", "offset"];

#[derive(Serialize)]
struct Row<'r> {
    rule: &'r str,
    #[serde(serialize_with = "text::rfc3339_or_null")]
    window_start: Option<EpochMs>,
    #[serde(serialize_with = "text::rfc3339_or_null")]
    window_end: Option<EpochMs>,
    breaching: Option<bool>,
    #[serde(serialize_with = "text::rfc3339_or_null")]
    time: Option<EpochMs>,
    path: &'r str,
    offset: u64,
    #[serde(flatten)]
    summary: &'r EventSummary,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    groups: BTreeMap<&'r str, Option<&'r str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<Box<RawValue>>,
}

/// Write every record the replays kept (with `--full`, `full`: each whole),
/// `group_by` naming the summaries' `--group-by` values: the rows written.
pub fn write(
    out: &mut impl Write,
    replays: &[AlarmReplay<'_>],
    group_by: &[String],
    full: bool,
    format: EventsFormat,
) -> io::Result<u64> {
    if format == EventsFormat::Csv {
        let names = LEADING.iter().copied().chain(EventSummary::NAMES).chain(group_by.iter().map(String::as_str));
        let mut header: Vec<String> = names.map(|n| csv_cell(n).into_owned()).collect();
        if full {
            header.push("record".into());
        }
        writeln!(out, "{}", header.join(","))?;
    }
    let mut rows = 0;
    for r in replays {
        let rule = r.rule.name.as_str();
        for (window, mut s) in r.records() {
            let time = (s.time != UNPLACED).then_some(s.time);
            // Moved out, not copied: a whole record may be 256 KiB.
            let text = s.summary.record.take();
            let row = Row {
                rule,
                window_start: window.as_ref().map(|(w, _)| w.start),
                window_end: window.as_ref().map(|(w, _)| w.end),
                breaching: window.as_ref().map(|(_, b)| *b),
                time,
                path: &s.path,
                offset: s.at.offset,
                summary: &s.summary,
                groups: group_by
                    .iter()
                    .map(String::as_str)
                    .zip(s.summary.groups.iter().map(Option::as_deref))
                    .collect(),
                record: None,
            };
            match format {
                EventsFormat::Ndjson => {
                    let row = Row { record: text.map(raw_json), ..row };
                    serde_json::to_writer(&mut *out, &row).map_err(io::Error::from)?;
                    writeln!(out)?;
                }
                EventsFormat::Csv => csv_row(out, &row, group_by.len(), full.then_some(text.as_deref()))?,
            }
            rows += 1;
        }
    }
    Ok(rows)
}

fn csv_row(out: &mut impl Write, row: &Row<'_>, groups: usize, record: Option<Option<&str>>) -> io::Result<()> {
    let time = |t: Option<EpochMs>| t.map(format_rfc3339).unwrap_or_default();
    let mut cells = vec![
        csv_cell(row.rule).into_owned(),
        time(row.window_start),
        time(row.window_end),
        row.breaching.map(|b| b.to_string()).unwrap_or_default(),
        time(row.time),
        csv_cell(row.path).into_owned(),
        row.offset.to_string(),
    ];
    let values =
        row.summary.fields().into_iter().map(Option::as_deref).chain(row.summary.groups.iter().map(Option::as_deref));
    cells.extend(values.take(EventSummary::FIELDS + groups).map(|v| csv_cell(v.unwrap_or("")).into_owned()));
    if let Some(r) = record {
        cells.push(csv_cell(r.unwrap_or("")).into_owned());
    }
    writeln!(out, "{}", cells.join(","))
}
