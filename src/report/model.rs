//! The scan result as one serialisable document: the `--format json`
//! output, and the data every other format prints.
//!
//! Stable core (scripts rely on it; fields are only ever added):
//! `inputs.files`, `inputs.files_failed`, `inputs.records`, and per alarm
//! `name`, `pattern`, `period_s`, `statistic`, `threshold` and `windows[]`
//! with `start`, `end` (RFC 3339 UTC, `Z`), `value`, `matches`,
//! `breaching`. `windows` lists every period window holding at least one
//! datapoint, ascending.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;
use serde_json::value::RawValue;

use super::contributors::Contributors;
use crate::alarm::eval::Transition;
use crate::alarm::{AlarmState, Comparison, EvaluationWindow, TreatMissing};
use crate::metric::Statistic;
use crate::record::time::{format_rfc3339, parse_event_time};
use crate::record::{EpochMs, EventSummary};
use crate::replay::{AlarmReplay, JudgedWindow};
use crate::scan::{EventsBy, Location, Sample, ScanOptions, ScanReport, TallyBy};
use crate::source::Form;
use crate::source::SkipKind;
use crate::verify::VerifyReport;

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Document<'a> {
    /// trailwatch version.
    pub trailwatch: &'static str,
    /// What was read.
    pub inputs: Inputs,
    /// One entry per rule/alarm.
    pub alarms: Vec<AlarmReport<'a>>,
    /// Rules or alarms that could not be replayed, with the reason.
    pub refused: Vec<String>,
    /// How the scan was run.
    pub settings: Settings,
    /// Wall time and throughput (vary from run to run).
    pub timing: Timing,
    /// With `--verify`: the digests checked against the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<VerifyReport>,
}

/// Inputs accounting: every file lands in exactly one bucket.
#[derive(Clone, Debug, Serialize)]
pub struct Inputs {
    /// CloudTrail log files opened (read completely or failed).
    pub files: u64,
    /// Files read completely.
    pub files_read: u64,
    /// Files damaged or unreadable.
    pub files_failed: u64,
    /// Files read (completely or not), by the form of their content:
    /// `cloudtrail`, `json_lines`, `json_objects`, `json_array`,
    /// `lookup_events`, `cloudwatch_export`.
    pub forms: BTreeMap<&'static str, u64>,
    /// Archives (tar, tar.gz, zip) opened; their members are counted as
    /// files.
    pub archives: u64,
    /// Files not read, by kind.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Records found (good records of damaged files included).
    pub records: u64,
    /// Records that are not valid JSON objects or not UTF-8 (among those
    /// parsed).
    pub records_invalid: u64,
    /// Records fully parsed. Every record's structure (strings, braces,
    /// the `Records` array) is checked; with the prefilter, only records
    /// that could match some rule are parsed, so damage inside the others
    /// (a bad escape, invalid UTF-8) is not seen. `--no-prefilter` parses
    /// every record.
    pub records_parsed: u64,
    /// Records above the event-size limit, which CloudTrail does not send to
    /// CloudWatch Logs.
    pub records_oversized: u64,
    /// Compressed bytes read.
    pub bytes_compressed: u64,
    /// Decoded bytes.
    pub bytes_decompressed: u64,
    /// Events seen more than once (same `eventID`) among the records that
    /// published a datapoint.
    pub duplicates: DuplicatesReport,
    /// Each damaged or unreadable file.
    pub failures: Vec<Failure>,
    /// Each file whose content was not read because it holds no events
    /// (`skipped.not_trail_log`), with what it seems to be, and each archive
    /// member skipped for its type (`skipped.special`): nothing that was
    /// not read goes unnamed.
    pub skipped_files: Vec<SkippedFile>,
    /// Paths that could not be walked (and the temporary directory, if
    /// what the scan wrote there could not be read back).
    pub path_problems: Vec<PathProblem>,
    /// What did not change the result but is worth knowing (e.g. data kept
    /// in memory because no temporary file could be written).
    pub notes: Vec<String>,
    /// Hours without any log file: between the first and the last hour in
    /// which log files holding records were delivered (by the time
    /// CloudTrail writes in their names), each run of hours in which none
    /// was. Empty when no file is named as CloudTrail names them.
    pub delivery_gaps: Vec<Span>,
}

/// A span of time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Start (RFC 3339 UTC).
    #[serde(serialize_with = "text::rfc3339")]
    pub start: EpochMs,
    /// End, exclusive.
    #[serde(serialize_with = "text::rfc3339")]
    pub end: EpochMs,
}

/// Repeated events.
#[derive(Clone, Debug, Serialize)]
pub struct DuplicatesReport {
    /// Repeated copies (an event seen three times counts two).
    pub copies: u64,
    /// Whether they were dropped (`--dedup`); otherwise they are counted in
    /// the results, as CloudWatch would count an event delivered twice.
    pub dropped: bool,
    /// The first few.
    pub examples: Vec<DuplicateExample>,
    /// Set when the event IDs could not be written to a temporary file
    /// (memory grew instead) or read back (the count is incomplete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One repeated event.
#[derive(Clone, Debug, Serialize)]
pub struct DuplicateExample {
    /// Its `eventID`.
    pub event_id: String,
    /// Where it was first seen.
    pub first: Where,
    /// Where it was seen again.
    pub again: Where,
}

/// A file not read for its content.
#[derive(Clone, Debug, Serialize)]
pub struct SkippedFile {
    /// Its path (`archive!/member` for a member).
    pub path: String,
    /// The kind it was skipped as (`not_trail_log`, `special`).
    pub kind: &'static str,
    /// What it seems to be.
    pub reason: String,
}

/// A damaged or unreadable file.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// Its path (`archive!/member` for a member).
    pub path: String,
    /// The first problem met in it.
    pub error: String,
    /// Records read from it anyway.
    pub records_recovered: u64,
    /// Invalid records in it.
    pub records_invalid: u64,
}

/// A path that could not be walked.
#[derive(Clone, Debug, Serialize)]
pub struct PathProblem {
    /// The path as given (or the temporary directory).
    pub path: String,
    /// Why it could not be walked (or read back).
    pub error: String,
}

/// One alarm's replay.
#[derive(Clone, Debug, Serialize)]
pub struct AlarmReport<'a> {
    /// Rule/alarm name.
    pub name: String,
    /// The rule's longer description, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Filter pattern.
    pub pattern: String,
    /// The metric value published per matching event (`1`, `$.bytes`).
    pub metric_value: String,
    /// The value published per non-matching event, if any.
    pub default_value: Option<f64>,
    /// Period in seconds.
    pub period_s: i64,
    /// Statistic (`Sum`, `p99`, ...).
    #[serde(serialize_with = "text::display")]
    pub statistic: Statistic,
    /// The value the statistic is compared with.
    pub threshold: f64,
    /// Comparison (AWS name).
    #[serde(serialize_with = "text::comparison")]
    pub comparison: Comparison,
    /// EvaluationPeriods (N): the periods looked at per evaluation.
    pub evaluation_periods: u32,
    /// DatapointsToAlarm (M): how many of them must breach.
    pub datapoints_to_alarm: u32,
    /// TreatMissingData (AWS name).
    #[serde(serialize_with = "text::treat_missing")]
    pub treat_missing_data: TreatMissing,
    /// Evaluation range used (periods).
    pub evaluation_range: u32,
    /// `sliding` or `wall-clock`.
    #[serde(serialize_with = "text::evaluation_window")]
    pub evaluation_window: EvaluationWindow,
    /// Records matching the pattern.
    pub matches: u64,
    /// Datapoints placed in time.
    pub datapoints: u64,
    /// Matching records with no usable time (not counted in any window).
    pub unplaced: Unplaced,
    /// Datapoints dropped by `--from`/`--to`.
    pub outside_range: u64,
    /// Windows holding at least one datapoint, ascending.
    pub windows: Lazy<'a, WindowReport>,
    /// How many windows breach.
    pub breaching_windows: u64,
    /// State changes of the replayed alarm, in time order.
    pub transitions: Lazy<'a, TransitionReport>,
    /// Number of times the alarm entered ALARM.
    pub alarm_episodes: u64,
    /// Minutes the alarm spent in ALARM.
    pub minutes_in_alarm: u64,
    /// State at the last evaluation.
    #[serde(serialize_with = "text::state")]
    pub final_state: AlarmState,
    /// Who and what is behind the matching records, over the whole run
    /// (`scan --contributors`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributors: Option<Contributors>,
    /// Each ALARM episode with the records behind it (`scan --events
    /// episodes`, or `--contributors` with every matching record kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episodes: Option<Lazy<'a, EpisodeReport>>,
}

/// An ALARM episode and the records behind it: those of the period windows
/// from `evaluation_periods` periods before it began to its end.
#[derive(Clone, Debug, Serialize)]
pub struct EpisodeReport {
    /// When the alarm entered ALARM.
    #[serde(serialize_with = "text::rfc3339")]
    pub start: EpochMs,
    /// When it left ALARM (`null`: still in ALARM when the replay ended).
    #[serde(serialize_with = "text::rfc3339_or_null")]
    pub end: Option<EpochMs>,
    /// Period windows with data in its span.
    pub windows: u64,
    /// How many of them breach.
    pub breaching_windows: u64,
    /// Matching records in them.
    pub matches: u64,
    /// The first of them (`--max-events`), earliest first.
    pub events: Vec<EventReport>,
    /// Who and what is behind them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributors: Option<Contributors>,
}

/// A list made each time it is read (iterated, written out) and never
/// held: the windows and state changes of a replay over months come from
/// the scan's per-minute data as they are written.
#[derive(Clone)]
pub struct Lazy<'a, T> {
    make: Rc<dyn Fn() -> Box<dyn Iterator<Item = T> + 'a> + 'a>,
}

impl<'a, T> Lazy<'a, T> {
    /// The list that `make` produces.
    pub(crate) fn new(make: impl Fn() -> Box<dyn Iterator<Item = T> + 'a> + 'a) -> Lazy<'a, T> {
        Lazy { make: Rc::new(make) }
    }

    /// Its items, made anew.
    pub fn iter(&self) -> Box<dyn Iterator<Item = T> + 'a> {
        (self.make)()
    }
}

impl<'a, T> IntoIterator for &Lazy<'a, T> {
    type Item = T;
    type IntoIter = Box<dyn Iterator<Item = T> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T: Clone + 'a> From<Vec<T>> for Lazy<'a, T> {
    fn from(items: Vec<T>) -> Lazy<'a, T> {
        Lazy::new(move || Box::new(items.clone().into_iter()))
    }
}

impl<T> std::fmt::Debug for Lazy<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lazy([...])")
    }
}

impl<T: Serialize> Serialize for Lazy<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// Matched records with no usable time.
#[derive(Clone, Debug, Serialize)]
pub struct Unplaced {
    /// No eventTime.
    pub missing_time: u64,
    /// eventTime present but not a timestamp.
    pub unparseable_time: u64,
    /// Where the first few are.
    pub examples: Vec<Where>,
}

/// A record's location.
#[derive(Clone, Debug, Serialize)]
pub struct Where {
    /// The file (`archive!/member` for a member).
    pub path: String,
    /// Byte offset in the decoded file.
    pub offset: u64,
}

/// One period window.
#[derive(Clone, Debug, Serialize)]
pub struct WindowReport {
    /// Start, RFC 3339 UTC.
    #[serde(serialize_with = "text::rfc3339")]
    pub start: EpochMs,
    /// End (exclusive).
    #[serde(serialize_with = "text::rfc3339")]
    pub end: EpochMs,
    /// The statistic's value.
    pub value: f64,
    /// Matching records in the window.
    pub matches: u64,
    /// Datapoints in the window (SampleCount).
    pub datapoints: u64,
    /// Whether the value breaches the threshold.
    pub breaching: bool,
    /// The first matching events of the window.
    pub events: Vec<EventReport>,
    /// Who and what is behind a breaching window's matching records
    /// (`scan --contributors`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributors: Option<Contributors>,
    /// With `--verify`: the gaps in the evidence (hours no digest covers)
    /// the window overlaps, e.g. `no digest for 111122223333 us-east-1
    /// from 2023-07-10T02:00:00Z to 2023-07-10T03:00:00Z`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence_gaps: Vec<String>,
}

/// A matching event, for drill-down.
#[derive(Clone, Debug, Serialize)]
pub struct EventReport {
    /// CloudWatch timestamp used (eventTime + lag).
    #[serde(serialize_with = "text::rfc3339")]
    pub time: EpochMs,
    /// The file it is in (`archive!/member` for a member).
    pub path: String,
    /// Byte offset of the record in the decoded file.
    pub offset: u64,
    /// Key fields.
    #[serde(flatten)]
    pub summary: EventSummary,
    /// The `--group-by` fields, by selector.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Option<String>>,
    /// The whole record (`--full`), as a JSON value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Box<RawValue>>,
}

/// A state change.
#[derive(Clone, Debug, Serialize)]
pub struct TransitionReport {
    /// When (the evaluation instant).
    #[serde(serialize_with = "text::rfc3339")]
    pub at: EpochMs,
    /// Previous state.
    #[serde(serialize_with = "text::state")]
    pub from: AlarmState,
    /// New state.
    #[serde(serialize_with = "text::state")]
    pub to: AlarmState,
    /// Worded like CloudWatch's StateReason.
    pub reason: String,
}

/// How the scan ran.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// Worker threads.
    pub threads: usize,
    /// Time shift added to eventTime, seconds.
    pub lag_s: f64,
    /// `--from`.
    #[serde(serialize_with = "text::rfc3339_or_null")]
    pub from: Option<EpochMs>,
    /// `--to`.
    #[serde(serialize_with = "text::rfc3339_or_null")]
    pub to: Option<EpochMs>,
    /// Whether records that cannot match were skipped unparsed (false with
    /// `--no-prefilter`).
    pub prefilter: bool,
    /// With `--events`: what records are shown for (`windows`: each
    /// breaching window, `episodes`: each ALARM episode), at most
    /// `max_events` each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<&'static str>,
    /// With `--events`: records shown per breaching window or episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_events: Option<usize>,
    /// The `--group-by` selectors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
}

/// Wall time and throughput.
#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    /// Wall time of the scan, seconds.
    pub elapsed_s: f64,
    /// Compressed MB (10^6 bytes) per second.
    pub mb_per_s: f64,
    /// Decoded MB per second.
    pub decoded_mb_per_s: f64,
    /// Records per second.
    pub records_per_s: f64,
}

impl From<&Transition> for TransitionReport {
    fn from(t: &Transition) -> TransitionReport {
        TransitionReport { at: t.at, from: t.from, to: t.to, reason: t.reason.clone() }
    }
}

/// Build the document from a scan and the replay of its alarms.
pub fn build<'a>(report: &'a ScanReport, replays: &[AlarmReplay<'a>], opts: &ScanOptions) -> Document<'a> {
    build_with_evidence(report, replays, opts, None)
}

/// [`build`], with the verdict on the digests (`--verify`): its gaps are
/// named next to the windows they overlap.
pub fn build_with_evidence<'a>(
    report: &'a ScanReport,
    replays: &[AlarmReplay<'a>],
    opts: &ScanOptions,
    evidence: Option<VerifyReport>,
) -> Document<'a> {
    let gaps: Rc<Vec<(EpochMs, EpochMs, String)>> = Rc::new(evidence.as_ref().map(gaps_of).unwrap_or_default());
    let t = &report.totals;
    let mut skipped: BTreeMap<&'static str, u64> = SkipKind::ALL.iter().map(|k| (k.key(), 0)).collect();
    for (k, n) in &report.skipped {
        *skipped.entry(k.key()).or_default() += n;
    }
    let failures = report
        .files
        .iter()
        .filter(|f| f.failed() && !f.not_trail_log)
        .map(|f| Failure {
            path: f.path.clone(),
            error: f.error.clone().unwrap_or_default(),
            records_recovered: f.records - f.invalid_records - f.oversized_records,
            records_invalid: f.invalid_records,
        })
        .collect();
    let skipped_files = report
        .files
        .iter()
        .filter(|f| f.not_trail_log)
        .map(|f| SkippedFile {
            path: f.path.clone(),
            kind: SkipKind::NotTrailLog.key(),
            reason: f.foreign.clone().unwrap_or_else(|| "not an event log".into()),
        })
        .chain(report.skipped_members.iter().map(|(kind, path, reason)| SkippedFile {
            path: path.clone(),
            kind: kind.key(),
            reason: reason.clone(),
        }))
        .collect();
    let where_ = |at: Location| Where { path: report.path(at), offset: at.offset };
    let d = &report.duplicates;
    let duplicates = DuplicatesReport {
        copies: d.copies,
        dropped: d.dropped,
        examples: d
            .examples
            .iter()
            .map(|(id, first, again)| DuplicateExample {
                event_id: id.clone(),
                first: where_(*first),
                again: where_(*again),
            })
            .collect(),
        problem: d.problem.clone(),
    };
    let per_rule = report.tally.by == TallyBy::Rules && opts.contributors > 0;
    let drill = Rc::new(Drill::of(opts));
    let alarms = replays
        .iter()
        .enumerate()
        .map(|(i, r)| AlarmReport {
            contributors: report
                .tally
                .groups
                .get(i)
                .filter(|_| per_rule)
                .map(|g| Contributors::of(g, opts.contributors, &drill.group_by)),
            ..alarm_report(r, &where_, &gaps, &drill)
        })
        .collect();
    let inputs = Inputs {
        files: t.files_read + t.files_failed,
        files_read: t.files_read,
        files_failed: t.files_failed,
        forms: Form::EVENTS.iter().map(|f| (f.key(), t.forms.get(f).copied().unwrap_or(0))).collect(),
        archives: t.archives,
        skipped,
        records: t.records,
        records_invalid: t.records_invalid,
        records_parsed: t.records_parsed,
        records_oversized: t.records_oversized,
        bytes_compressed: t.bytes_compressed,
        bytes_decompressed: t.bytes_decompressed,
        duplicates,
        failures,
        skipped_files,
        path_problems: report
            .problems
            .iter()
            .map(|p| PathProblem { path: p.path.clone(), error: p.reason.clone() })
            .chain(report.lost().map(|error| PathProblem { path: temp_dir(), error }))
            .collect(),
        notes: report.notes().to_vec(),
        delivery_gaps: t.delivery_gaps().into_iter().map(|(start, end)| Span { start, end }).collect(),
    };
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    Document {
        trailwatch: env!("CARGO_PKG_VERSION"),
        inputs,
        alarms,
        refused: Vec::new(),
        evidence,
        settings: Settings {
            threads: report.threads,
            lag_s: opts.lag_ms as f64 / 1000.0,
            from: opts.from,
            to: opts.to,
            prefilter: opts.prefilter,
            events: opts.events.map(EventsBy::key),
            max_events: opts.events.map(|_| opts.max_events),
            group_by: drill.group_by.clone(),
        },
        timing: Timing {
            elapsed_s: round3(report.elapsed.as_secs_f64()),
            mb_per_s: round3(t.bytes_compressed as f64 / 1e6 / secs),
            decoded_mb_per_s: round3(t.bytes_decompressed as f64 / 1e6 / secs),
            records_per_s: (t.records as f64 / secs).round(),
        },
    }
}

/// What the document shows of the records behind windows and episodes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Drill {
    /// The `--group-by` selectors, as given.
    pub(crate) group_by: Vec<String>,
    /// Values shown per field of a group of records.
    pub(crate) top: usize,
    /// Whether ALARM episodes are listed with their records.
    pub(crate) episodes: bool,
}

impl Drill {
    pub(crate) fn of(opts: &ScanOptions) -> Drill {
        Drill {
            group_by: opts.group_by.iter().map(|g| g.to_string()).collect(),
            top: opts.contributors,
            episodes: opts.lists_episodes(),
        }
    }
}

/// One alarm's part of the document.
fn alarm_report<'a>(
    r: &AlarmReplay<'a>,
    where_: &dyn Fn(Location) -> Where,
    gaps: &Rc<Vec<(EpochMs, EpochMs, String)>>,
    drill: &Rc<Drill>,
) -> AlarmReport<'a> {
    let gaps = Rc::clone(gaps);
    let (d, d2) = (Rc::clone(drill), Rc::clone(drill));
    let (rule, res, spec) = (r.rule, r.result, r.spec());
    let replay = *r;
    AlarmReport {
        name: rule.name.clone(),
        title: rule.title.clone(),
        pattern: rule.pattern.source().to_string(),
        metric_value: rule.transform.value_text().to_string(),
        default_value: rule.transform.default_value(),
        period_s: spec.period_s,
        statistic: spec.statistic,
        threshold: spec.threshold,
        comparison: spec.comparison,
        evaluation_periods: spec.evaluation_periods,
        datapoints_to_alarm: spec.datapoints_to_alarm,
        treat_missing_data: spec.treat_missing,
        evaluation_range: spec.range(),
        evaluation_window: spec.window,
        matches: res.matches,
        datapoints: res.datapoints,
        unplaced: Unplaced {
            missing_time: res.unplaced.missing,
            unparseable_time: res.unplaced.unparseable,
            examples: res.unplaced.examples.iter().map(|&at| where_(at)).collect(),
        },
        outside_range: res.outside_range,
        breaching_windows: r.breaching_windows,
        windows: Lazy::new(move || {
            let (gaps, d) = (Rc::clone(&gaps), Rc::clone(&d));
            Box::new(replay.windows().map(move |j| {
                let mut w = WindowReport::of(j, &d);
                w.evidence_gaps =
                    gaps.iter().filter(|(a, b, _)| *a < w.end && w.start < *b).map(|(_, _, g)| g.clone()).collect();
                w
            }))
        }),
        transitions: Lazy::new(move || Box::new(replay.transitions().map(|t| TransitionReport::from(&t)))),
        alarm_episodes: r.alarm_episodes,
        minutes_in_alarm: r.minutes_in_alarm,
        final_state: r.final_state,
        contributors: None,
        episodes: drill.episodes.then(|| {
            Lazy::new(move || {
                let d = Rc::clone(&d2);
                Box::new(replay.episodes().map(move |e| EpisodeReport {
                    start: e.start,
                    end: e.end,
                    windows: e.windows,
                    breaching_windows: e.breaching_windows,
                    matches: e.matches,
                    events: e.events.into_iter().map(|s| EventReport::of(s, &d.group_by)).collect(),
                    contributors: e.contributors.map(|g| Contributors::of(&g, d.top, &d.group_by)),
                }))
            })
        }),
    }
}

/// The hours no digest covers, from the verdict on the digests.
fn gaps_of(v: &VerifyReport) -> Vec<(EpochMs, EpochMs, String)> {
    let mut out = Vec::new();
    for t in &v.trails {
        for (a, b) in &t.gaps {
            if let (Some(s), Some(e)) = (parse_event_time(a), parse_event_time(b)) {
                out.push((s, e, format!("no digest for {} {} from {a} to {b}", t.account, t.region)));
            }
        }
    }
    out
}

impl WindowReport {
    fn of(j: JudgedWindow, d: &Drill) -> WindowReport {
        let w = j.window;
        WindowReport {
            start: w.start,
            end: w.end,
            value: w.value,
            matches: w.matches,
            datapoints: w.datapoints,
            breaching: j.breaching,
            events: j.events.into_iter().map(|s| EventReport::of(s, &d.group_by)).collect(),
            contributors: j.contributors.map(|g| Contributors::of(&g, d.top, &d.group_by)),
            evidence_gaps: Vec::new(),
        }
    }
}

impl EventReport {
    /// A kept record as reported, its `--group-by` values named by
    /// `group_by`.
    pub(crate) fn of(mut s: Sample, group_by: &[String]) -> EventReport {
        let groups = group_by.iter().cloned().zip(std::mem::take(&mut s.summary.groups)).collect();
        let record = s.summary.record.take().map(raw_json);
        EventReport { time: s.time, path: s.path, offset: s.at.offset, summary: s.summary, groups, record }
    }
}

/// A record's text as a JSON value written as it was read; as a JSON
/// string holding that text when serde_json does not take it as JSON (the
/// scan's parser lets through a few things serde_json refuses, such as a
/// lone surrogate escape).
pub(crate) fn raw_json(text: String) -> Box<RawValue> {
    if serde_json::from_str::<&RawValue>(&text).is_ok() {
        RawValue::from_string(text).expect("checked")
    } else {
        serde_json::value::to_raw_value(&text).expect("a string is JSON")
    }
}

/// How typed values are written in the document: as the text AWS and
/// RFC 3339 use, so that the JSON is what a script reads.
pub(super) mod text {
    use serde::Serializer;

    use super::*;

    pub(in crate::report) fn rfc3339<S: Serializer>(t: &EpochMs, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(*t))
    }

    pub(in crate::report) fn rfc3339_or_null<S: Serializer>(t: &Option<EpochMs>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => rfc3339(t, s),
            None => s.serialize_none(),
        }
    }

    pub(in crate::report) fn display<S: Serializer>(v: &impl std::fmt::Display, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(in crate::report) fn comparison<S: Serializer>(c: &Comparison, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(c.aws_name())
    }

    pub(in crate::report) fn treat_missing<S: Serializer>(t: &TreatMissing, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.aws_name())
    }

    pub(in crate::report) fn state<S: Serializer>(a: &AlarmState, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(a.aws_name())
    }

    pub(in crate::report) fn evaluation_window<S: Serializer>(w: &EvaluationWindow, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match w {
            EvaluationWindow::Sliding => "sliding",
            EvaluationWindow::WallClock => "wall-clock",
        })
    }
}

fn temp_dir() -> String {
    std::env::temp_dir().display().to_string()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_list_is_made_anew_each_time_it_is_read() {
        let made = std::cell::Cell::new(0);
        let list: Lazy<'_, u32> = Lazy::new(|| {
            made.set(made.get() + 1);
            Box::new(1..=3)
        });
        assert_eq!(made.get(), 0, "nothing is made before it is read");
        assert_eq!(serde_json::to_string(&list).unwrap(), "[1,2,3]");
        assert_eq!((&list).into_iter().sum::<u32>(), 6);
        assert_eq!(made.get(), 2);
        let fixed = Lazy::from(vec!["a", "b"]);
        assert_eq!(fixed.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(format!("{fixed:?}"), "Lazy([...])");
    }
}
