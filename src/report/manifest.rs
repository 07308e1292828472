//! A run's manifest: what was run, on what, with which rules, so that a
//! result can be reproduced and defended later. JSON, written beside the
//! report (`scan --manifest FILE`).

use std::io::{self, Write};

use serde::Serialize;

use super::model::{text as as_text, Document, Settings};
use crate::alarm::{Comparison, EvaluationWindow, TreatMissing};
use crate::metric::Statistic;
use crate::record::EpochMs;
use crate::source::hash::HashedFile;

/// One rule as it ran.
#[derive(Clone, Debug, Serialize)]
pub struct RuleRun {
    name: String,
    pattern: String,
    metric_value: String,
    default_value: Option<f64>,
    period_s: i64,
    #[serde(serialize_with = "as_text::display")]
    statistic: Statistic,
    threshold: f64,
    #[serde(serialize_with = "as_text::comparison")]
    comparison: Comparison,
    evaluation_periods: u32,
    datapoints_to_alarm: u32,
    #[serde(serialize_with = "as_text::treat_missing")]
    treat_missing_data: TreatMissing,
    evaluation_range: u32,
    #[serde(serialize_with = "as_text::evaluation_window")]
    evaluation_window: EvaluationWindow,
    /// What the run found, to compare a rerun with.
    matches: u64,
    breaching_windows: u64,
    alarm_episodes: u64,
}

/// One input file.
#[derive(Clone, Debug, Serialize)]
pub struct InputEntry {
    path: String,
    bytes: u64,
    /// Lower-case hex; null when the file could not be read (see `error`).
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The manifest.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    trailwatch: &'static str,
    #[serde(serialize_with = "as_text::rfc3339")]
    created: EpochMs,
    /// The command line, one argument per item.
    command: Vec<String>,
    settings: Settings,
    rules: Vec<RuleRun>,
    /// Records read and files, as the report counts them.
    records: u64,
    files: u64,
    /// Every file under the paths given, digests included, in walk order.
    inputs: Vec<InputEntry>,
    /// Inputs read from a pipe or standard input: read once, by the scan,
    /// and not hashed.
    not_hashed: Vec<String>,
    /// Bytes hashed.
    bytes: u64,
}

impl Manifest {
    /// The manifest of a run: its report, its command line, the hashes of
    /// its inputs, and when it was made.
    pub fn new(
        doc: &Document<'_>,
        command: Vec<String>,
        hashed: Vec<HashedFile>,
        not_hashed: Vec<String>,
        created: EpochMs,
    ) -> Manifest {
        let rules = doc
            .alarms
            .iter()
            .map(|a| RuleRun {
                name: a.name.clone(),
                pattern: a.pattern.clone(),
                metric_value: a.metric_value.clone(),
                default_value: a.default_value,
                period_s: a.period_s,
                statistic: a.statistic,
                threshold: a.threshold,
                comparison: a.comparison,
                evaluation_periods: a.evaluation_periods,
                datapoints_to_alarm: a.datapoints_to_alarm,
                treat_missing_data: a.treat_missing_data,
                evaluation_range: a.evaluation_range,
                evaluation_window: a.evaluation_window,
                matches: a.matches,
                breaching_windows: a.breaching_windows,
                alarm_episodes: a.alarm_episodes,
            })
            .collect();
        let bytes = hashed.iter().map(|h| h.bytes).sum();
        let inputs = hashed
            .into_iter()
            .map(|h| {
                let (sha256, error) = match h.sha256 {
                    Ok(s) => (Some(s), None),
                    Err(e) => (None, Some(e)),
                };
                InputEntry { path: h.path, bytes: h.bytes, sha256, error }
            })
            .collect();
        Manifest {
            trailwatch: env!("CARGO_PKG_VERSION"),
            created,
            command,
            settings: doc.settings.clone(),
            rules,
            records: doc.inputs.records,
            files: doc.inputs.files,
            inputs,
            not_hashed,
            bytes,
        }
    }

    /// As pretty JSON.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(io::Error::from)?;
        writeln!(out)
    }
}
