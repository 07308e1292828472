//! `trailwatch replay`: series files (from `scan --series-out` or a
//! `trailwatch sql` query) merged, and the alarms replayed over them as
//! `scan` would have over all their logs.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use trailwatch::replay::replay;
use trailwatch::report::escape::terminal;
use trailwatch::report::{self, model, text::Style, Format};
use trailwatch::rules::{file, select};
use trailwatch::scan::ScanOptions;
use trailwatch::series;

use super::scan::{self as scan_cli, AlarmArgs, ColorChoice, OutputFormat, RuleArgs};
use super::{Failure, Outcome};

/// Arguments of `replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Series files: NDJSON from `scan --series-out`, or CSV from a
    /// `trailwatch sql` query; `-` reads standard input.
    #[arg(required = true, value_name = "SERIES")]
    series: Vec<String>,
    /// Rules to replay (default: those the series were scanned with, by
    /// their definitions in the files). A rule's pattern and metric must be
    /// those it was scanned with; its alarm may differ.
    #[command(flatten)]
    which: RuleArgs,
    #[command(flatten)]
    alarm: AlarmArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Colour for text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Draw each alarm's metric per period, as `scan --plot` does.
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    plot: Option<PathBuf>,
}

/// Whether any rule source is named on the command line.
fn names_rules(a: &RuleArgs) -> bool {
    a.pattern.is_some()
        || !a.rules.is_empty()
        || !a.aws_config.is_empty()
        || !a.cloudformation.is_empty()
        || !a.terraform_plan.is_empty()
}

/// `replay`.
pub fn run(a: ReplayArgs) -> Outcome {
    // One file at a time: only its text and event IDs are in memory.
    let mut merger = series::Merger::new();
    for name in &a.series {
        let text = super::read_input(name)?;
        let shard = series::parse(name, &text).map_err(|e| Failure::Usage(e.to_string()))?;
        merger.add(shard).map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let merged = merger.finish().map_err(|e| Failure::Usage(e.to_string()))?;
    let overrides = a.alarm.settings();
    let mut refused = Vec::new();
    let set = if names_rules(&a.which) {
        scan_cli::rules(&a.which, overrides)?
    } else {
        refused = merged.refused().to_vec();
        let text = merged.rules_file().map_err(|e| Failure::Usage(e.to_string()))?;
        let loaded = file::parse(&text).map_err(|e| Failure::Usage(format!("the rules in the series files: {e}")))?;
        let request = select::Request {
            from: vec![select::From::Rules(loaded.rules)],
            names: &a.which.rule,
            imported: None,
            pattern: None,
            name: &a.which.name,
            metric_value: None,
            default_value: None,
            overrides,
        };
        select::select(request).map_err(|e| Failure::Usage(e.to_string()))?
    };
    refused.extend(set.refused);
    {
        let mut err = io::stderr().lock();
        for r in &refused {
            writeln!(err, "trailwatch: refused: {}", terminal(r))?;
        }
    }
    let rules = set.rules;
    let (lag_ms, from, to, dedup) = merged.scanned_with();
    let unaccounted = merged.has_unaccounted();
    let opts = ScanOptions { threads: 1, lag_ms, from, to, dedup, samples: 0, ..ScanOptions::default() };
    let result = merged.report(&rules).map_err(|e| Failure::Usage(e.to_string()))?;
    let replays = replay(&result, &rules, &opts);
    let mut doc = model::build(&result, &replays, &opts);
    doc.refused = refused;
    if let Some(path) = &a.plot {
        let svg = report::plot::timeline_svg(&doc).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        super::write_plot(path, &svg)?;
    }
    let failed = result.has_failures();
    // SQL results say nothing of the records read: only scanned series
    // can tell that none was.
    let no_records = result.totals.records == 0 && !unaccounted;
    let status = scan_cli::status(failed, no_records, &doc);
    let format = Format::from(a.format);
    super::deliver(status, || {
        let mut out = io::BufWriter::new(io::stdout().lock());
        report::write(&mut out, &doc, format, Style { color: scan_cli::use_color(a.color) })?;
        out.flush()?;
        let mut err = io::stderr().lock();
        if format != Format::Text {
            for f in &doc.inputs.failures {
                writeln!(err, "trailwatch: {}: {}", terminal(&f.path), terminal(&f.error))?;
            }
        }
        if no_records {
            writeln!(
                err,
                "trailwatch: the series files account for no log record: the result says nothing about the logs"
            )?;
        }
        Ok(())
    })
}
