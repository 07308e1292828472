//! Two rules compared (`trailwatch diff`): text, JSON and CSV.

use std::io::{self, Write};

use serde::Serialize;

use super::contributors::{span_text, write_text, Contributors, FieldCounts};
use super::escape::{csv_cell, terminal};
use super::model::{text as as_text, EventReport};
use super::text::event_fields;
use super::TableFormat;
use crate::diff::{Comparison, Side};
use crate::record::time::format_rfc3339;
use crate::record::EpochMs;
use crate::scan::tally::{Seen, FACETS};

/// Write the comparison, with the `top` most frequent values of each field.
pub fn write(out: &mut impl Write, c: &Comparison, top: usize, format: TableFormat) -> io::Result<()> {
    match format {
        TableFormat::Text => text(out, c, top),
        TableFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &JsonDiff::new(c, top)).map_err(io::Error::from)?;
            writeln!(out)
        }
        TableFormat::Csv => csv(out, c, top),
    }
}

const LABELS: [&str; 2] = ["A", "B"];

#[derive(Serialize)]
struct Span {
    #[serde(serialize_with = "as_text::rfc3339")]
    start: EpochMs,
    #[serde(serialize_with = "as_text::rfc3339")]
    end: EpochMs,
}

fn spans(list: &[(EpochMs, EpochMs)]) -> Vec<Span> {
    list.iter().map(|&(start, end)| Span { start, end }).collect()
}

#[derive(Serialize)]
struct JsonSide<'a> {
    name: &'a str,
    pattern: &'a str,
    matches: u64,
    alarm_episodes: usize,
    episodes: Vec<Span>,
    /// The records only this rule matched.
    only_records: u64,
    only_by_field: Vec<FieldCounts>,
    only_examples: Vec<EventReport>,
    /// This rule's episodes that overlap none of the other's.
    unshared_episodes: Vec<Span>,
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    a: JsonSide<'a>,
    b: JsonSide<'a>,
    both: u64,
}

fn top_values(side: &Side, facet: usize, n: usize) -> Vec<(Option<&str>, Seen)> {
    side.only.facets.get(facet).map(|f| f.top(n)).unwrap_or_default()
}

impl<'a> JsonSide<'a> {
    fn new(s: &'a Side, top: usize) -> JsonSide<'a> {
        let only = Contributors::of(&s.only, top, &[]);
        JsonSide {
            name: &s.name,
            pattern: &s.pattern,
            matches: s.matches,
            alarm_episodes: s.episodes.list.len(),
            episodes: spans(&s.episodes.list),
            only_records: only.records,
            only_by_field: only.by_field,
            only_examples: s.only.examples.iter().cloned().map(|e| EventReport::of(e, &[])).collect(),
            unshared_episodes: spans(&s.unshared),
        }
    }
}

impl<'a> JsonDiff<'a> {
    fn new(c: &'a Comparison, top: usize) -> JsonDiff<'a> {
        JsonDiff { a: JsonSide::new(&c.sides[0], top), b: JsonSide::new(&c.sides[1], top), both: c.both }
    }
}

/// The CSV columns.
pub const CSV_HEADER: &str = "only_in,rule,field,value,records,first_seen,last_seen";

fn csv(out: &mut impl Write, c: &Comparison, top: usize) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    let time = |t: Option<EpochMs>| t.map(format_rfc3339).unwrap_or_default();
    for (label, s) in LABELS.iter().zip(&c.sides) {
        for (k, field) in FACETS.iter().enumerate() {
            for (value, seen) in top_values(s, k, top) {
                writeln!(
                    out,
                    "{label},{},{field},{},{},{},{}",
                    csv_cell(&s.name),
                    csv_cell(value.unwrap_or("")),
                    seen.count,
                    time(seen.first),
                    time(seen.last)
                )?;
            }
        }
    }
    Ok(())
}

fn text(out: &mut impl Write, c: &Comparison, top: usize) -> io::Result<()> {
    for (label, s) in LABELS.iter().zip(&c.sides) {
        writeln!(out, "{label}  {}", terminal(&s.name))?;
        writeln!(out, "   {}", terminal(&s.pattern))?;
    }
    writeln!(out)?;
    let [a, b] = &c.sides;
    writeln!(
        out,
        "records matched   A {}   B {}   both {}   only A {}   only B {}",
        a.matches, b.matches, c.both, a.only.records, b.only.records
    )?;
    writeln!(
        out,
        "ALARM episodes    A {}   B {}   only A {}   only B {}",
        a.episodes.list.len(),
        b.episodes.list.len(),
        a.unshared.len(),
        b.unshared.len()
    )?;
    for (label, s) in LABELS.iter().zip(&c.sides) {
        writeln!(out)?;
        if s.only.records == 0 {
            writeln!(out, "Only {label} matched: nothing.")?;
        } else {
            writeln!(out, "Only {label} matched: {} records", s.only.records)?;
            write_text(out, &Contributors::of(&s.only, top, &[]), "  ")?;
            writeln!(out, "  examples")?;
            for e in &s.only.examples {
                writeln!(
                    out,
                    "    {}  {}  {}:{}",
                    format_rfc3339(e.time),
                    event_fields(&e.summary),
                    terminal(&e.path),
                    e.at.offset
                )?;
            }
        }
        if !s.unshared.is_empty() {
            writeln!(out, "  ALARM episodes only {label} would have had")?;
            for ep in &s.unshared {
                writeln!(out, "    {}", span_text(ep.0, ep.1))?;
            }
        }
    }
    Ok(())
}
