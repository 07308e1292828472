//! The tuning table of `tune`: text, JSON and CSV.

use std::io::{self, Write};

use serde::Serialize;

use super::escape::{csv_cell, terminal};
use super::model::text as as_text;
use super::text::num;
use super::TableFormat;
use crate::alarm::TreatMissing;
use crate::record::time::format_rfc3339;
use crate::record::EpochMs;
use crate::tune::{Distribution, Row};

/// One rule's tuning result.
#[derive(Clone, Debug, Serialize)]
pub struct TunedRule {
    /// The rule's name.
    pub name: String,
    /// Matching records in the scan.
    pub matches: u64,
    /// The statistic per period, for each period of the grid.
    pub distributions: Vec<Distribution>,
    /// The settings, ranked (`tune::rank`).
    #[serde(skip)]
    pub rows: Vec<Row>,
}

/// Write the tuning result in `format`.
pub fn write(out: &mut impl Write, rules: &[TunedRule], format: TableFormat) -> io::Result<()> {
    match format {
        TableFormat::Text => text(out, rules),
        TableFormat::Json => json(out, rules),
        TableFormat::Csv => csv(out, rules),
    }
}

/// A row as JSON: the CSV's columns, with the same names.
#[derive(Serialize)]
struct JsonRow<'a> {
    rule: &'a str,
    period_s: i64,
    threshold: f64,
    evaluation_periods: u32,
    datapoints_to_alarm: u32,
    #[serde(serialize_with = "as_text::treat_missing")]
    treat_missing_data: TreatMissing,
    alarm_episodes: u64,
    episodes_per_day: f64,
    minutes_in_alarm: u64,
    longest_episode_minutes: u64,
    matches_covered: f64,
    #[serde(serialize_with = "as_text::rfc3339_or_null")]
    first_alarm: Option<EpochMs>,
    best: bool,
}

impl<'a> JsonRow<'a> {
    fn new(rule: &'a str, row: &Row) -> JsonRow<'a> {
        let (o, s) = (&row.outcome, &row.outcome.setting);
        JsonRow {
            rule,
            period_s: s.period_s,
            threshold: s.threshold,
            evaluation_periods: s.evaluation_periods,
            datapoints_to_alarm: s.datapoints_to_alarm,
            treat_missing_data: s.treat_missing,
            alarm_episodes: o.episodes,
            episodes_per_day: o.episodes_per_day,
            minutes_in_alarm: o.minutes_in_alarm,
            longest_episode_minutes: o.longest_episode_minutes,
            matches_covered: o.matches_covered,
            first_alarm: o.first_alarm,
            best: row.best,
        }
    }
}

fn json(out: &mut impl Write, rules: &[TunedRule]) -> io::Result<()> {
    let rows: Vec<JsonRow> = rules.iter().flat_map(|r| r.rows.iter().map(|row| JsonRow::new(&r.name, row))).collect();
    #[derive(Serialize)]
    struct Doc<'a> {
        rows: Vec<JsonRow<'a>>,
        rules: &'a [TunedRule],
    }
    serde_json::to_writer_pretty(&mut *out, &Doc { rows, rules }).map_err(io::Error::from)?;
    writeln!(out)
}

/// The CSV columns, one per field of a JSON row.
pub const CSV_HEADER: &str = "rule,period_s,threshold,evaluation_periods,datapoints_to_alarm,treat_missing_data,\
alarm_episodes,episodes_per_day,minutes_in_alarm,longest_episode_minutes,matches_covered,first_alarm,best";

fn csv(out: &mut impl Write, rules: &[TunedRule]) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    // Each line is the JSON row's values in the header's order, so the two
    // formats cannot drift apart.
    for r in rules {
        for row in &r.rows {
            let value = serde_json::to_value(JsonRow::new(&r.name, row)).map_err(io::Error::from)?;
            let cells: Vec<String> = CSV_HEADER
                .split(',')
                .map(|name| match &value[name] {
                    serde_json::Value::String(s) => csv_cell(s).into_owned(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect();
            writeln!(out, "{}", cells.join(","))?;
        }
    }
    Ok(())
}

fn text(w: &mut impl Write, rules: &[TunedRule]) -> io::Result<()> {
    for r in rules {
        writeln!(w, "{}  ({} matching records)", terminal(&r.name), r.matches)?;
        writeln!(
            w,
            "  {:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "PERIOD", "PERIODS", "p50", "p90", "p99", "p99.9", "max"
        )?;
        for d in &r.distributions {
            writeln!(
                w,
                "  {:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                format!("{}m", d.period_s / 60),
                d.periods,
                num(d.p50),
                num(d.p90),
                num(d.p99),
                num(d.p99_9),
                num(d.max)
            )?;
        }
        if r.distributions.iter().any(|d| d.negative > 0) {
            writeln!(w, "  (periods below zero count as zero in the percentiles)")?;
        }
        writeln!(w)?;
        writeln!(
            w,
            "  {:>6} {:>9} {:>3} {:>3} {:<12} {:>8} {:>8} {:>9} {:>8} {:>8}  FIRST ALARM",
            "PERIOD", "THRESHOLD", "N", "M", "MISSING", "EPISODES", "PER DAY", "IN ALARM", "LONGEST", "COVERED"
        )?;
        for row in &r.rows {
            let o = &row.outcome;
            let s = &o.setting;
            writeln!(
                w,
                "{} {:>6} {:>9} {:>3} {:>3} {:<12} {:>8} {:>8.2} {:>7}m {:>7}m {:>7.1}%  {}",
                if row.best { "*" } else { " " },
                format!("{}m", s.period_s / 60),
                num(s.threshold),
                s.evaluation_periods,
                s.datapoints_to_alarm,
                s.treat_missing.aws_name(),
                o.episodes,
                o.episodes_per_day,
                o.minutes_in_alarm,
                o.longest_episode_minutes,
                o.matches_covered * 100.0,
                o.first_alarm.map(format_rfc3339).unwrap_or_else(|| "-".into())
            )?;
        }
        writeln!(w)?;
    }
    Ok(())
}
