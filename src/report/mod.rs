//! Reports: the scan result as a document (`model`), printed as text, JSON,
//! CSV or NDJSON, with every attacker-controlled string escaped for its
//! medium (`escape`); the verdict of `verify` (`evidence`); the tuning
//! table of `tune` (`tune`), two rules compared (`diff`) and pictures
//! (`plot`).

pub mod contributors;
pub mod diff;
pub mod escape;
pub mod events;
pub mod evidence;
pub mod html;
pub mod manifest;
pub mod model;
pub mod plot;
pub mod text;
pub mod tune;

use std::io::{self, Write};

use serde::Serialize;

use crate::record::time::format_rfc3339;
use model::Document;

/// Output formats of `scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Text,
    /// One JSON document.
    Json,
    /// One row per window.
    Csv,
    /// One JSON object per line: `window` and `transition` records, then a
    /// `summary` record.
    Ndjson,
}

/// Output formats of `tune` and `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// For people.
    Text,
    /// One JSON document.
    Json,
    /// One line per row, the JSON's names as columns.
    Csv,
}

/// Write `doc` in `format`.
pub fn write(out: &mut impl Write, doc: &Document, format: Format, style: text::Style) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, doc, style),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, doc).map_err(io::Error::from)?;
            writeln!(out)
        }
        Format::Csv => csv(out, doc),
        Format::Ndjson => ndjson(out, doc),
    }
}

fn csv(out: &mut impl Write, doc: &Document) -> io::Result<()> {
    writeln!(out, "alarm,start,end,value,matches,datapoints,breaching")?;
    for a in &doc.alarms {
        for w in &a.windows {
            writeln!(
                out,
                "{},{},{},{},{},{},{}",
                escape::csv_cell(&a.name),
                format_rfc3339(w.start),
                format_rfc3339(w.end),
                w.value,
                w.matches,
                w.datapoints,
                w.breaching
            )?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    alarm: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

fn ndjson(out: &mut impl Write, doc: &Document) -> io::Result<()> {
    for a in &doc.alarms {
        for w in &a.windows {
            serde_json::to_writer(&mut *out, &Line { kind: "window", alarm: &a.name, body: &w })
                .map_err(io::Error::from)?;
            writeln!(out)?;
        }
        for t in &a.transitions {
            serde_json::to_writer(&mut *out, &Line { kind: "transition", alarm: &a.name, body: &t })
                .map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    #[derive(Serialize)]
    struct Summary<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        inputs: &'a model::Inputs,
        timing: &'a model::Timing,
    }
    serde_json::to_writer(&mut *out, &Summary { kind: "summary", inputs: &doc.inputs, timing: &doc.timing })
        .map_err(io::Error::from)?;
    writeln!(out)
}
