//! The scan engine: every input file read once, in parallel, every record
//! offered to every rule, datapoints aggregated per minute.
//!
//! Parallelism is at file granularity (rayon work stealing). Each worker
//! accumulates a [`Partial`]; partials merge associatively and
//! commutatively, and everything order-dependent (file lists, samples) is
//! sorted by a key that does not depend on scheduling, so the result is
//! identical for any thread count and any order of the inputs.

pub mod prefilter;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::json::Doc;
use crate::metric::series::{minute_of, Series};
use crate::metric::window::window_index;
use crate::pattern::Event;
use crate::record::RecordSpan;
use crate::record::{event_time, EpochMs, EventSummary, TimeProblem};
use crate::rules::Rule;
use crate::source::discover::PathProblem;
use crate::source::{discover, read_records, InputFile, Limits, ReadBuffers, RecordSink, SkipKind};
use prefilter::Prefilter;

/// How to run a scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Shift added to `eventTime` to get the CloudWatch timestamp.
    pub lag_ms: i64,
    /// Ignore datapoints before this instant.
    pub from: Option<EpochMs>,
    /// Ignore datapoints at or after this instant.
    pub to: Option<EpochMs>,
    /// Matching events kept per window for drill-down.
    pub samples: usize,
    /// Decoding limits.
    pub limits: Limits,
    /// Skip records that cannot match any rule without parsing them
    /// (default). Off: every record is parsed and validated — the reference
    /// path the prefilter is tested against.
    pub prefilter: bool,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            threads: 0,
            lag_ms: 0,
            from: None,
            to: None,
            samples: 3,
            limits: Limits::default(),
            prefilter: true,
        }
    }
}

/// Where a record is: file (index into [`ScanReport::files`]) and byte
/// offset in the decoded file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Index of the file.
    pub file: u32,
    /// Byte offset of the record in the decoded stream.
    pub offset: u64,
}

/// One matching event kept for drill-down.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sample {
    /// Its CloudWatch timestamp (eventTime + lag).
    pub time: EpochMs,
    /// Where it is.
    pub at: Location,
    /// What it is.
    pub summary: EventSummary,
}

/// Matched records that could not be placed in time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unplaced {
    /// No `eventTime`.
    pub missing: u64,
    /// `eventTime` is not a timestamp.
    pub unparseable: u64,
    /// The first few of them.
    pub examples: Vec<Location>,
}

/// What one rule produced.
#[derive(Debug, Default)]
pub struct RuleResult {
    /// Datapoints per minute.
    pub series: Series,
    /// Records that matched the pattern.
    pub matches: u64,
    /// Datapoints placed in the series (matches and default values).
    pub datapoints: u64,
    /// Matching records without a usable time (not in the series).
    pub unplaced: Unplaced,
    /// Datapoints without a usable time (defaults included).
    pub unplaced_datapoints: u64,
    /// Datapoints outside `--from`/`--to`.
    pub outside_range: u64,
    /// Up to `samples` matching events per window of the rule's period,
    /// earliest first.
    pub samples: HashMap<i64, Vec<Sample>>,
}

/// What happened to one file that was opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Path.
    pub path: String,
    /// Bytes on disk.
    pub compressed: u64,
    /// Decoded bytes.
    pub decompressed: u64,
    /// Records found (including invalid and oversized ones).
    pub records: u64,
    /// Records that are not valid JSON objects or not UTF-8.
    pub invalid_records: u64,
    /// Records fully parsed and evaluated (with the prefilter, only the
    /// candidates; the others were checked for structure only).
    pub parsed_records: u64,
    /// Records above the event-size limit (not delivered to CloudWatch).
    pub oversized_records: u64,
    /// Why the file is damaged or unreadable, if it is (first problem).
    pub error: Option<String>,
    /// The content is not a CloudTrail log.
    pub not_trail_log: bool,
}

impl FileReport {
    /// Whether the file counts as failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Totals over all inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Files read completely.
    pub files_read: u64,
    /// Files damaged or unreadable (their good records are still counted).
    pub files_failed: u64,
    /// Records found.
    pub records: u64,
    /// Invalid records.
    pub records_invalid: u64,
    /// Records fully parsed (validated as JSON and UTF-8).
    pub records_parsed: u64,
    /// Oversized records.
    pub records_oversized: u64,
    /// Compressed bytes of the files opened.
    pub bytes_compressed: u64,
    /// Decoded bytes.
    pub bytes_decompressed: u64,
}

/// The outcome of a scan.
#[derive(Debug)]
pub struct ScanReport {
    /// Every file opened, in path order (the index is [`Location::file`]).
    pub files: Vec<FileReport>,
    /// Files not opened, by kind (plus files whose content was foreign).
    pub skipped: Vec<(SkipKind, String)>,
    /// Paths that could not be walked.
    pub problems: Vec<PathProblem>,
    /// Totals.
    pub totals: Totals,
    /// One result per rule, in rule order.
    pub rules: Vec<RuleResult>,
    /// Wall time.
    pub elapsed: Duration,
    /// Threads used.
    pub threads: usize,
}

impl ScanReport {
    /// Count of skipped inputs of one kind.
    pub fn skipped_count(&self, kind: SkipKind) -> u64 {
        self.skipped.iter().filter(|(k, _)| *k == kind).count() as u64
    }

    /// Whether any input could not be read completely.
    pub fn has_failures(&self) -> bool {
        self.totals.files_failed > 0 || !self.problems.is_empty()
    }
}

/// Scan `paths` with `rules`.
pub fn scan(paths: &[PathBuf], rules: &[Rule], opts: &ScanOptions) -> ScanReport {
    let start = Instant::now();
    let found = discover(paths);
    let threads =
        if opts.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.threads };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let files = &found.files;
    let prefilter = opts.prefilter.then(|| Prefilter::new(rules)).filter(|p| !p.is_trivial());
    let ctx = Ctx { rules, opts, prefilter: prefilter.as_ref() };
    let partial = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .fold(
                || Partial::new(rules),
                |mut acc, (i, f)| {
                    acc.read(i as u32, f, &ctx);
                    acc
                },
            )
            .reduce(|| Partial::new(rules), |a, b| a.merge(b, opts.samples))
    });
    finish(found.files, found.skipped, found.problems, partial, opts, start.elapsed(), threads)
}

fn finish(
    inputs: Vec<InputFile>,
    mut skipped: Vec<(SkipKind, String)>,
    problems: Vec<PathProblem>,
    partial: Partial,
    opts: &ScanOptions,
    elapsed: Duration,
    threads: usize,
) -> ScanReport {
    let mut files = vec![FileReport::default(); inputs.len()];
    for (i, r) in partial.files {
        files[i as usize] = r;
    }
    let mut totals = Totals::default();
    for f in &files {
        if f.not_trail_log {
            skipped.push((SkipKind::NotTrailLog, f.path.clone()));
            continue;
        }
        if f.failed() {
            totals.files_failed += 1;
        } else {
            totals.files_read += 1;
        }
        totals.records += f.records;
        totals.records_invalid += f.invalid_records;
        totals.records_parsed += f.parsed_records;
        totals.records_oversized += f.oversized_records;
        totals.bytes_compressed += f.compressed;
        totals.bytes_decompressed += f.decompressed;
    }
    skipped.sort();
    let mut rules = partial.rules;
    for r in &mut rules {
        for v in r.samples.values_mut() {
            v.sort();
        }
        r.unplaced.examples.sort();
        r.unplaced.examples.truncate(opts.samples.max(1));
    }
    ScanReport { files, skipped, problems, totals, rules, elapsed, threads }
}

/// What every worker shares.
struct Ctx<'a> {
    rules: &'a [Rule],
    opts: &'a ScanOptions,
    prefilter: Option<&'a Prefilter>,
}

/// What one worker accumulated.
struct Partial {
    rules: Vec<RuleResult>,
    files: Vec<(u32, FileReport)>,
    doc: Doc,
    bufs: ReadBuffers,
    masks: Vec<u64>,
}

impl Partial {
    fn new(rules: &[Rule]) -> Partial {
        let results = rules
            .iter()
            .map(|r| RuleResult { series: Series::new(r.alarm.statistic.needs_values()), ..RuleResult::default() })
            .collect();
        Partial { rules: results, files: Vec::new(), doc: Doc::new(), bufs: ReadBuffers::new(), masks: Vec::new() }
    }

    fn read(&mut self, index: u32, file: &InputFile, ctx: &Ctx<'_>) {
        let mut report = FileReport { path: file.display(), ..FileReport::default() };
        let mut bufs = std::mem::take(&mut self.bufs);
        let mut sink = FileSink { file: index, ctx, acc: self, report: &mut report };
        let outcome = read_records(file, ctx.opts.limits, &mut bufs, &mut sink);
        self.bufs = bufs;
        report.compressed = outcome.compressed;
        report.decompressed = outcome.decompressed;
        report.records = outcome.records;
        report.not_trail_log = outcome.not_trail_log;
        if let Some(e) = outcome.error {
            let lost = if report.records > 0 {
                format!(" ({} records recovered before it)", report.records)
            } else {
                String::new()
            };
            report.error = Some(format!("{e}{lost}"));
        }
        self.files.push((index, report));
    }

    fn merge(mut self, other: Partial, samples: usize) -> Partial {
        self.files.extend(other.files);
        for (a, b) in self.rules.iter_mut().zip(other.rules) {
            a.series.merge(b.series);
            a.matches += b.matches;
            a.datapoints += b.datapoints;
            a.unplaced.missing += b.unplaced.missing;
            a.unplaced.unparseable += b.unplaced.unparseable;
            a.unplaced.examples.extend(b.unplaced.examples);
            a.unplaced.examples.sort();
            a.unplaced.examples.truncate(samples.max(1));
            a.unplaced_datapoints += b.unplaced_datapoints;
            a.outside_range += b.outside_range;
            for (k, v) in b.samples {
                let mine = a.samples.entry(k).or_default();
                for s in v {
                    keep_sample(mine, s, samples);
                }
            }
        }
        self
    }
}

/// Keep the `cap` smallest samples (by time, then location).
fn keep_sample(v: &mut Vec<Sample>, s: Sample, cap: usize) {
    if v.len() < cap {
        v.push(s);
        return;
    }
    if let Some((i, max)) = v.iter().enumerate().max_by(|a, b| a.1.cmp(b.1)) {
        if s < *max {
            v[i] = s;
        }
    }
}

/// Whether a sample with this key could still be kept.
fn wants_sample(v: Option<&Vec<Sample>>, time: EpochMs, at: Location, cap: usize) -> bool {
    match v {
        None => cap > 0,
        Some(v) if v.len() < cap => true,
        Some(v) => v.iter().any(|s| (time, at) < (s.time, s.at)),
    }
}

struct FileSink<'a> {
    file: u32,
    ctx: &'a Ctx<'a>,
    acc: &'a mut Partial,
    report: &'a mut FileReport,
}

impl FileSink<'_> {
    fn invalid(&mut self, offset: u64, why: &str) {
        self.report.invalid_records += 1;
        if self.report.error.is_none() {
            self.report.error = Some(format!("invalid record at byte offset {offset}: {why}"));
        }
    }
}

impl FileSink<'_> {
    /// Evaluate one record against the rules in `mask` (all rules when
    /// `mask` is `None`).
    fn record(&mut self, bytes: &[u8], offset: u64, mask: Option<&[u64]>) {
        self.report.parsed_records += 1;
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => return self.invalid(offset + e.valid_up_to() as u64, "not UTF-8"),
        };
        let acc = &mut *self.acc;
        if let Err(e) = acc.doc.parse_object(text) {
            let why = e.to_string();
            return self.invalid(offset + e.offset as u64, &why);
        }
        let root = acc.doc.root(text).expect("parsed");
        let ev = Event { text, json: Some(root) };
        let mut time: Option<Result<EpochMs, TimeProblem>> = None;
        let at = Location { file: self.file, offset };
        let opts = self.ctx.opts;
        for (i, rule) in self.ctx.rules.iter().enumerate() {
            if mask.is_some_and(|m| m[i / 64] >> (i % 64) & 1 == 0) {
                continue;
            }
            let Some(dp) = rule.transform.datapoint(&rule.pattern, &ev) else { continue };
            let t = *time.get_or_insert_with(|| event_time(root).map(|t| t + opts.lag_ms));
            let r = &mut acc.rules[i];
            if dp.matched {
                r.matches += 1;
            }
            let t = match t {
                Ok(t) => t,
                Err(problem) => {
                    r.unplaced_datapoints += 1;
                    if dp.matched {
                        match problem {
                            TimeProblem::Missing => r.unplaced.missing += 1,
                            TimeProblem::Unparseable => r.unplaced.unparseable += 1,
                        }
                        if r.unplaced.examples.len() < opts.samples.max(1) {
                            r.unplaced.examples.push(at);
                        }
                    }
                    continue;
                }
            };
            if opts.from.is_some_and(|f| t < f) || opts.to.is_some_and(|e| t >= e) {
                r.outside_range += 1;
                continue;
            }
            r.datapoints += 1;
            r.series.add(dp.dimensions, minute_of(t), dp.value, dp.matched);
            if dp.matched && opts.samples > 0 {
                let k = window_index(t, rule.alarm.period_ms());
                if wants_sample(r.samples.get(&k), t, at, opts.samples) {
                    let s = Sample { time: t, at, summary: EventSummary::of(root) };
                    keep_sample(r.samples.entry(k).or_default(), s, opts.samples);
                }
            }
        }
    }
}

impl RecordSink for FileSink<'_> {
    fn batch(&mut self, buf: &[u8], spans: &[RecordSpan], base: u64) {
        match self.ctx.prefilter {
            None => {
                for s in spans {
                    self.record(&buf[s.start..s.end], base + s.start as u64, None);
                }
            }
            Some(pf) => {
                let mut masks = std::mem::take(&mut self.acc.masks);
                pf.mark(buf, spans, &mut masks);
                let w = pf.words();
                for (i, s) in spans.iter().enumerate() {
                    let m = &masks[i * w..(i + 1) * w];
                    if m.iter().any(|x| *x != 0) {
                        self.record(&buf[s.start..s.end], base + s.start as u64, Some(m));
                    }
                }
                self.acc.masks = masks;
            }
        }
    }

    fn oversized(&mut self, _offset: u64, _len: u64) {
        self.report.oversized_records += 1;
    }
}
