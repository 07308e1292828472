//! The scan engine: every input file read once, in parallel, every record
//! offered to every rule, datapoints aggregated per minute.
//!
//! Parallelism is at file granularity (rayon work stealing). Each worker
//! accumulates a partial result; partials merge associatively and
//! commutatively, and everything order-dependent (file lists, samples) is
//! sorted by a key that does not depend on scheduling, so the result is
//! identical for any thread count and any order of the inputs.

mod held;
mod paths;
pub mod prefilter;
mod repeats;
mod runfile;
mod runs;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::str::Utf8Error;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::json::Doc;
use crate::metric::series::{minute_of, Dimensions, Minute, Series, Stats};
use crate::metric::window::window_index;
use crate::metric::Datapoint;
use crate::pattern::Event;
use crate::record::{event_time_of, EpochMs, EventSummary, Probes, TimeProblem};
use crate::rules::Rule;
use crate::source::archive::{read_archive, Entry, MemberData};
use crate::source::discover::classify_name;
use crate::source::discover::{PathProblem, Walker};
use crate::source::{
    read_records, Archive, Batch, Form, InputFile, Limits, NameKind, ReadBuffers, ReadError, ReadOutcome, RecordSink,
    SkipKind, Source,
};
use held::{HeldRuns, READ_RUNS, RUN_PUBLICATIONS};
use paths::PathRuns;
pub use paths::{PathList, LIST_BYTES};
use prefilter::Prefilter;
use repeats::{EventId, Spill, RUN_ENTRIES};
use runs::Runs;
pub use runs::{RUN_MINUTES, RUN_SAMPLES};

/// Per-minute runs, by rule and metric dimensions.
type MinuteRuns = Runs<(usize, Dimensions)>;
/// Sample runs, by rule.
type SampleRuns = Runs<usize>;

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
    /// Drop repeated copies of an event (same `eventID`), keeping the
    /// first in input order.
    pub dedup: bool,
    /// Per-minute statistic sets a worker holds, over all rules, before it
    /// writes them to a temporary file (default [`RUN_MINUTES`]; the result
    /// does not depend on it).
    pub minutes_held: usize,
    /// Bytes of paths a worker holds before it writes them to a temporary
    /// file (default [`LIST_BYTES`]; the result does not depend on it).
    pub paths_held: usize,
    /// Samples a worker holds, over all rules, before it writes them to a
    /// temporary file (default [`RUN_SAMPLES`]; the result does not depend
    /// on it).
    pub samples_held: usize,
    /// With `dedup`: publications a worker holds back before it writes
    /// them to a temporary file (default [`RUN_PUBLICATIONS`]; the result
    /// does not depend on it).
    pub publications_held: usize,
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
            dedup: false,
            minutes_held: RUN_MINUTES,
            paths_held: LIST_BYTES,
            samples_held: RUN_SAMPLES,
            publications_held: RUN_PUBLICATIONS,
        }
    }
}

/// Where a record is: input file (in discovery order), archive member (0
/// for the file itself, 1.. for the members of an archive, in archive
/// order) and byte offset in the decoded input. See [`ScanReport::path`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Index of the input file.
    pub file: u32,
    /// Member of an archive (0: the file itself).
    pub member: u32,
    /// Byte offset of the record in the decoded input.
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
    /// The path of its file (or `<archive>!/<member>`).
    pub path: String,
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
    /// Datapoints per minute not written out to the temporary file (read
    /// the whole metric with [`ScanReport::minutes`]).
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
    /// earliest first, among those not written out to the temporary file
    /// (read them all with [`ScanReport::samples`]).
    pub samples: HashMap<i64, Vec<Sample>>,
}

/// What happened to one input that was opened: a file, an archive, or a
/// member of an archive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Index of the input file (discovery order).
    pub input: u32,
    /// Member of an archive (0: the file itself).
    pub member: u32,
    /// Path; for an archive member, `<archive>!/<member>`.
    pub path: String,
    /// The form of the content, once recognised.
    pub form: Option<Form>,
    /// The file is an archive (its members are reported on their own).
    pub archive: Option<Archive>,
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
    /// Records that published a datapoint for some rule.
    pub published_records: u64,
    /// Why the file is damaged or unreadable, if it is (first problem).
    pub error: Option<String>,
    /// With an error: decoded offset up to which records were recovered.
    pub recovered_to: u64,
    /// The content is not a CloudTrail log.
    pub not_trail_log: bool,
    /// With `not_trail_log`: what the content seems to be instead.
    pub foreign: Option<String>,
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
    /// Archives opened (their members are counted as files).
    pub archives: u64,
    /// Files read (completely or not), by the form of their content.
    pub forms: BTreeMap<Form, u64>,
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

impl Totals {
    /// Count one input that was opened and is not an archive.
    fn add(&mut self, f: &FileReport) {
        if let Some(form) = f.form {
            *self.forms.entry(form).or_default() += 1;
        }
        if f.failed() {
            self.files_failed += 1;
        } else {
            self.files_read += 1;
        }
        self.records += f.records;
        self.records_invalid += f.invalid_records;
        self.records_parsed += f.parsed_records;
        self.records_oversized += f.oversized_records;
        if f.member == 0 {
            self.bytes_compressed += f.compressed;
        }
        self.bytes_decompressed += f.decompressed;
    }

    /// Add another set of totals.
    fn merge(&mut self, o: &Totals) {
        self.archives += o.archives;
        for (form, n) in &o.forms {
            *self.forms.entry(*form).or_default() += n;
        }
        self.files_read += o.files_read;
        self.files_failed += o.files_failed;
        self.records += o.records;
        self.records_invalid += o.records_invalid;
        self.records_parsed += o.records_parsed;
        self.records_oversized += o.records_oversized;
        self.bytes_compressed += o.bytes_compressed;
        self.bytes_decompressed += o.bytes_decompressed;
    }
}

/// The outcome of a scan.
#[derive(Debug)]
pub struct ScanReport {
    /// The inputs reported one by one, in path order: files that failed or
    /// hold no events, archives and their members. Clean files are only
    /// counted in [`Totals`], so memory does not grow with their number.
    pub files: Vec<FileReport>,
    /// The paths of the other files the report's [`Location`]s (examples
    /// of repeated and unplaced events) point to, by discovery index.
    pub paths: PathList,
    /// Files not opened, by kind (plus files whose content was foreign).
    pub skipped: BTreeMap<SkipKind, u64>,
    /// Archive members skipped for their type (links, devices), each with
    /// its path: (kind, path, reason).
    pub skipped_members: Vec<(SkipKind, String, String)>,
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
    /// Events seen more than once.
    pub duplicates: Duplicates,
    /// The per-minute statistic sets written out during the scan.
    minutes: MinuteRuns,
    /// The samples written out during the scan.
    sample_runs: SampleRuns,
    /// Why something written to the temporary file (per-minute statistics,
    /// samples, paths) could not be read back, if it could not.
    lost: Mutex<Option<String>>,
    /// Why data was kept in memory instead of written to a temporary file,
    /// if it was (the results are the same).
    notes: Vec<String>,
}

/// Events seen more than once (the same `eventID`), among the records that
/// published a datapoint: overlapping downloads, or an account trail and an
/// organization trail side by side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// Repeated copies (an event seen three times counts two).
    pub copies: u64,
    /// Whether the copies were dropped (`--dedup`) or counted in the
    /// results.
    pub dropped: bool,
    /// The first few: the event ID, where it was first seen and where again.
    pub examples: Vec<(String, Location, Location)>,
    /// Why the event IDs had to stay in memory, or why the count is
    /// incomplete (the temporary file they were written to could not be
    /// written or read back).
    pub problem: Option<String>,
}

impl ScanReport {
    /// The path of the file (or `<archive>!/<member>`) a record is in, for
    /// the locations the report holds (examples of repeated and unplaced
    /// events; the paths of other clean files are not kept).
    pub fn path(&self, at: Location) -> String {
        if at.member == 0 {
            if let Some(p) = self.paths.get(at.file) {
                return p;
            }
        }
        match self.files.binary_search_by_key(&(at.file, at.member), |f| (f.input, f.member)) {
            Ok(i) => self.files[i].path.clone(),
            // Only if the paths written to the temporary file could not be
            // read back (see `lost`).
            Err(_) => format!("(input file #{}: path lost)", at.file + 1),
        }
    }

    /// Count of skipped inputs of one kind.
    pub fn skipped_count(&self, kind: SkipKind) -> u64 {
        self.skipped.get(&kind).copied().unwrap_or(0)
    }

    /// Whether any input could not be read completely (or what was read
    /// could not be read back from the temporary file).
    pub fn has_failures(&self) -> bool {
        self.totals.files_failed > 0 || !self.problems.is_empty() || self.lost().is_some()
    }

    /// Rule `rule`'s metric with dimensions `dims`, ascending by minute: the
    /// sets written out during the scan merged with those still held, read
    /// once and never held whole. A failure to read the temporary file back
    /// ends it early, and [`ScanReport::lost`] says why.
    pub fn minutes<'a>(&'a self, rule: usize, dims: &Dimensions) -> impl Iterator<Item = (Minute, Stats)> + 'a {
        let held = self.rules[rule].series.sorted(dims).into_iter().map(|(m, s)| (m, s.clone()));
        self.minutes.read(&(rule, dims.clone()), held, &self.lost)
    }

    /// Rule `rule`'s samples with the index of their window, ascending by
    /// window, then time and location: those written out during the scan
    /// merged with those still held (a window may have more than
    /// `--samples` of them; the first are the ones to show).
    pub fn samples<'a>(&'a self, rule: usize) -> impl Iterator<Item = (i64, Sample)> + 'a {
        let mut held: Vec<(i64, &Sample)> =
            self.rules[rule].samples.iter().flat_map(|(k, v)| v.iter().map(move |s| (*k, s))).collect();
        held.sort_unstable_by_key(|(k, s)| (*k, s.time, s.at));
        self.sample_runs.read(&rule, held.into_iter().map(|(k, s)| (k, s.clone())), &self.lost)
    }

    /// Why some per-minute statistics, samples or paths could not be read
    /// back from the temporary file, if they could not (the results are
    /// then incomplete).
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().expect("lost lock").clone()
    }

    /// Why data was kept in memory instead of written to a temporary file,
    /// if it was (the results are the same).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// Scan `paths` with `rules`.
pub fn scan(paths: &[PathBuf], rules: &[Rule], opts: &ScanOptions) -> ScanReport {
    let start = Instant::now();
    let threads =
        if opts.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.threads };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let prefilter = opts.prefilter.then(|| Prefilter::new(rules)).filter(|p| !p.is_trivial());
    let ctx = Ctx {
        rules,
        opts,
        prefilter: prefilter.as_ref(),
        scratch: Mutex::new(Vec::new()),
        spill: Mutex::new(Spill::default()),
        minutes: Mutex::new(MinuteRuns::new("per-minute statistics")),
        sample_runs: Mutex::new(SampleRuns::new("samples")),
        held: Mutex::new(HeldRuns::new("held-back publications (--dedup)")),
        paths: Mutex::new(PathRuns::default()),
    };
    // Files are read while the walk goes on; each keeps the index the walk
    // gave it, so the result does not depend on which thread read what.
    let mut walker = Walker::new(paths);
    let partial = pool.install(|| {
        walker
            .by_ref()
            .enumerate()
            .par_bridge()
            .fold(
                || Partial::new(rules),
                |mut acc, (i, f)| {
                    acc.read(i as u32, &f, &ctx);
                    acc
                },
            )
            .reduce(|| Partial::new(rules), |a, b| a.merge(b, opts.samples, &ctx))
    });
    let spill = ctx.spill.into_inner().expect("spill lock");
    let minutes = ctx.minutes.into_inner().expect("minutes lock");
    let path_runs = ctx.paths.into_inner().expect("paths lock");
    let sample_runs = ctx.sample_runs.into_inner().expect("samples lock");
    let held = ctx.held.into_inner().expect("held lock");
    // In the pool: the repeated-event merge runs its parts on its threads.
    let written = Written { spill, minutes, path_runs, sample_runs, held };
    pool.install(|| finish(rules, walker.skipped, walker.problems, partial, written, opts, start, threads))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    rule_set: &[Rule],
    mut skipped: BTreeMap<SkipKind, u64>,
    problems: Vec<PathProblem>,
    mut partial: Partial,
    written: Written,
    opts: &ScanOptions,
    start: Instant,
    threads: usize,
) -> ScanReport {
    let mut files = std::mem::take(&mut partial.files);
    files.sort_by_key(|f| (f.input, f.member));
    for (kind, n) in std::mem::take(&mut partial.skipped) {
        *skipped.entry(kind).or_default() += n;
    }
    let mut totals = std::mem::take(&mut partial.totals);
    for f in &files {
        if f.not_trail_log {
            *skipped.entry(SkipKind::NotTrailLog).or_default() += 1;
            continue;
        }
        if f.archive.is_some() {
            totals.archives += 1;
            totals.bytes_compressed += f.compressed;
            if f.failed() {
                totals.files_failed += 1;
            }
            continue;
        }
        totals.add(f);
    }
    let Written { spill, minutes, path_runs, sample_runs, held: mut held_runs } = written;
    // Few enough runs to read at once; if merging fails they stay as they
    // are (more buffers, the same result).
    let _ = held_runs.compact::<Publication>(READ_RUNS);
    let runs = (Mutex::new(minutes), Mutex::new(sample_runs));
    let duplicates = resolve_duplicates(&mut partial, spill, &held_runs, &runs, rule_set, opts);
    let mut minutes = runs.0.into_inner().expect("minutes lock");
    let mut sample_runs = runs.1.into_inner().expect("samples lock");
    // Fewer, longer runs to read back: one per metric, which the report
    // reads three times; samples are read once. If merging fails, the runs
    // stay as they are: reading them takes more buffers, and the result is
    // the same.
    let _ = minutes.compact::<(Minute, Stats)>(1);
    let _ = sample_runs.compact::<(i64, Sample)>(runs::FAN_IN);
    let mut rules = partial.rules;
    for r in &mut rules {
        for v in r.samples.values_mut() {
            v.sort();
        }
        r.unplaced.examples.sort();
        r.unplaced.examples.truncate(opts.samples.max(1));
    }
    // Only the paths the report names are read back and kept.
    let mut wanted: BTreeSet<u32> = BTreeSet::new();
    for r in &rules {
        wanted.extend(r.unplaced.examples.iter().map(|at| at.file));
    }
    wanted.extend(duplicates.examples.iter().flat_map(|(_, a, b)| [a.file, b.file]));
    let held = std::mem::take(&mut partial.paths);
    let lost = Mutex::new(None);
    let paths = path_runs.keep(held, &wanted).unwrap_or_else(|e| {
        *lost.lock().expect("lost lock") = Some(format!(
            "paths lost: reading back the temporary file in {} failed: {e}",
            std::env::temp_dir().display()
        ));
        PathList::default()
    });
    let mut skipped_members = std::mem::take(&mut partial.skipped_members);
    skipped_members.sort();
    let mut notes: Vec<String> = std::mem::take(&mut partial.notes);
    notes.sort();
    notes.extend(
        [minutes.problem(), sample_runs.problem(), path_runs.problem(), held_runs.problem()]
            .into_iter()
            .flatten()
            .map(str::to_string),
    );
    ScanReport {
        paths,
        files,
        skipped,
        skipped_members,
        problems,
        totals,
        rules,
        elapsed: start.elapsed(),
        threads,
        duplicates,
        minutes,
        sample_runs,
        lost,
        notes,
    }
}

/// What the workers wrote to temporary files.
struct Written {
    spill: Spill,
    minutes: MinuteRuns,
    path_runs: PathRuns,
    sample_runs: SampleRuns,
    held: HeldRuns,
}

/// Count repeated events; with `--dedup`, apply the first copy of each
/// held-back event and drop the others. Copies are ordered by location, so
/// the result does not depend on which thread saw which copy first.
fn resolve_duplicates(
    partial: &mut Partial,
    spill: Spill,
    held: &HeldRuns,
    (minutes, samples): &(Mutex<MinuteRuns>, Mutex<SampleRuns>),
    rules: &[Rule],
    opts: &ScanOptions,
) -> Duplicates {
    const EXAMPLES: usize = 5;
    let mut d = Duplicates { dropped: opts.dedup, ..Duplicates::default() };
    let example = |d: &mut Duplicates, id: EventId, first: Location, again: Location| {
        if d.examples.len() < EXAMPLES {
            d.examples.push((id.to_string(), first, again));
        }
    };
    // Each worker's entries are sorted runs, in memory or written out; the
    // runs are merged, never concatenated.
    let mut runs = std::mem::take(&mut partial.published);
    let mut last = std::mem::take(&mut partial.publishing);
    last.sort_unstable();
    runs.push(last);
    d.problem = spill.problem().map(str::to_string);
    // Each part of the key space counts its own copies; copies of an event
    // are neighbours within one part.
    #[derive(Default)]
    struct Copies {
        last: Option<(EventId, Location)>,
        count: u64,
        examples: Vec<(EventId, Location, Location)>,
    }
    let (parts, failed) = repeats::merge_all(&runs, spill, Copies::default, |c, (id, at)| match c.last {
        Some((seen, first)) if seen == id => {
            c.count += 1;
            if c.examples.len() < EXAMPLES {
                c.examples.push((id, first, at));
            }
        }
        _ => c.last = Some((id, at)),
    });
    for part in parts {
        d.copies += part.count;
        for (id, first, again) in part.examples {
            example(&mut d, id, first, again);
        }
    }
    if let Some(e) = failed {
        d.problem = Some(format!(
            "repeated events not fully counted: reading back the temporary file in {} failed: {e}",
            std::env::temp_dir().display()
        ));
    }
    // What was held back: the runs written out merged with what the
    // workers still hold, in event ID then location order, so each event's
    // copies are neighbours and its first copy comes first.
    let mut deferred = std::mem::take(&mut partial.deferred);
    deferred.sort_unstable_by_key(|p| (p.id, p.at));
    let lost = Mutex::new(None);
    let mut merged = held.read(&(), deferred.into_iter(), &lost).peekable();
    while let Some(first) = merged.next() {
        while let Some(again) = merged.next_if(|p| p.id == first.id) {
            d.copies += 1;
            example(&mut d, first.id, first.at, again.at);
        }
        let summary = || first.summary.clone().expect("kept for every matching event");
        let added = apply(&mut partial.rules, rules, opts, first.at, first.time, &first.points, &summary);
        partial.samples_held += added;
        partial.spill_minutes_if_full(minutes, opts.minutes_held);
        partial.spill_samples_if_full(samples, opts.samples_held);
    }
    drop(merged);
    if let Some(e) = lost.into_inner().expect("lost lock") {
        d.problem = Some(format!("results incomplete: {e}"));
    }
    d.examples.sort();
    d
}

/// What every worker shares.
struct Ctx<'a> {
    rules: &'a [Rule],
    opts: &'a ScanOptions,
    prefilter: Option<&'a Prefilter>,
    /// Parse and read buffers, lent to a partial for one file at a time:
    /// as many exist as files are read at once, however many partials
    /// rayon's splitting makes.
    scratch: Mutex<Vec<(Doc, ReadBuffers)>>,
    /// Runs of event IDs written out (repeated-event detection).
    spill: Mutex<Spill>,
    /// Runs of per-minute statistic sets written out.
    minutes: Mutex<MinuteRuns>,
    /// Runs of samples written out.
    sample_runs: Mutex<SampleRuns>,
    /// Runs of publications held back (`--dedup`) written out.
    held: Mutex<HeldRuns>,
    /// Lists of paths written out.
    paths: Mutex<PathRuns>,
}

/// What one worker accumulated.
struct Partial {
    rules: Vec<RuleResult>,
    /// Event IDs of the records this worker saw publish, with where they
    /// are (repeated-event detection); at most [`RUN_ENTRIES`] before they
    /// are written out.
    publishing: Vec<(EventId, Location)>,
    /// Sorted runs that could not be written out, kept in memory.
    published: Vec<Vec<(EventId, Location)>>,
    /// Publications held back until duplicates are resolved (`--dedup`).
    deferred: Vec<Publication>,
    /// Whether writing per-minute sets out failed (they are then kept).
    minutes_kept: bool,
    /// Samples held, over all rules.
    samples_held: usize,
    /// Whether writing samples out failed (they are then kept).
    samples_kept: bool,
    /// Whether writing paths out failed (they are then kept).
    paths_kept: bool,
    /// Whether writing held-back publications out failed (they are then
    /// kept).
    held_kept: bool,
    /// Scratch: one record's datapoints.
    points: Vec<(u32, Datapoint)>,
    /// Inputs reported one by one (see [`ScanReport::files`]).
    files: Vec<FileReport>,
    /// The other inputs, only counted.
    totals: Totals,
    /// Paths of those other inputs that published (see [`ScanReport::paths`]).
    paths: PathList,
    /// Archive members skipped by name or type, by kind.
    skipped: BTreeMap<SkipKind, u64>,
    /// What is worth knowing about the archives read and loses nothing.
    notes: Vec<String>,
    /// Archive members skipped for their type (see
    /// [`ScanReport::skipped_members`]).
    skipped_members: Vec<(SkipKind, String, String)>,
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
        Partial {
            rules: results,
            publishing: Vec::new(),
            published: Vec::new(),
            deferred: Vec::new(),
            minutes_kept: false,
            samples_held: 0,
            samples_kept: false,
            paths_kept: false,
            held_kept: false,
            points: Vec::new(),
            files: Vec::new(),
            totals: Totals::default(),
            paths: PathList::default(),
            skipped: BTreeMap::new(),
            notes: Vec::new(),
            skipped_members: Vec::new(),
            doc: Doc::new(),
            bufs: ReadBuffers::new(),
            masks: Vec::new(),
        }
    }

    fn read(&mut self, index: u32, file: &InputFile, ctx: &Ctx<'_>) {
        let (doc, bufs) = ctx.scratch.lock().expect("scratch pool").pop().unwrap_or_default();
        (self.doc, self.bufs) = (doc, bufs);
        self.read_file(index, file, ctx);
        self.spill_paths_if_full(&ctx.paths, ctx.opts.paths_held);
        let lent = (std::mem::take(&mut self.doc), std::mem::take(&mut self.bufs));
        ctx.scratch.lock().expect("scratch pool").push(lent);
    }

    /// Write the event IDs out as a sorted run once there are enough.
    fn spill_if_full(&mut self, spill: &Mutex<Spill>) {
        if self.publishing.len() < RUN_ENTRIES {
            return;
        }
        self.publishing.sort_unstable();
        if spill.lock().expect("spill lock").write(&self.publishing).is_ok() {
            self.publishing.clear();
        } else {
            self.published.push(std::mem::take(&mut self.publishing));
        }
    }

    /// Write the held-back publications out as a sorted run once there
    /// are `held` ([`ScanOptions::publications_held`]).
    fn spill_held_if_full(&mut self, runs: &Mutex<HeldRuns>, held: usize) {
        if self.held_kept || self.deferred.len() < held.max(1) {
            return;
        }
        self.deferred.sort_unstable_by_key(|p| (p.id, p.at));
        if runs.lock().expect("held lock").write(&(), &self.deferred).is_ok() {
            self.deferred.clear();
        } else {
            self.held_kept = true;
        }
    }

    /// Write the per-minute sets out, each metric's as a sorted run, once
    /// there are `held` ([`ScanOptions::minutes_held`]) over all rules.
    fn spill_minutes_if_full(&mut self, spill: &Mutex<MinuteRuns>, held: usize) {
        if self.minutes_held() >= held {
            self.spill_minutes(spill);
        }
    }

    /// Statistic sets held, over all rules.
    fn minutes_held(&self) -> usize {
        self.rules.iter().map(|r| r.series.len()).sum()
    }

    /// Write every per-minute set out.
    fn spill_minutes(&mut self, spill: &Mutex<MinuteRuns>) {
        if self.minutes_kept {
            return;
        }
        let mut spill = spill.lock().expect("minutes lock");
        for (i, r) in self.rules.iter_mut().enumerate() {
            for (dims, sets) in r.series.drain_sorted() {
                if spill.write(&(i, dims.clone()), &sets).is_err() {
                    self.minutes_kept = true;
                }
                if self.minutes_kept {
                    for (m, s) in sets {
                        r.series.insert(dims.clone(), m, s);
                    }
                }
            }
        }
    }

    /// Write the samples out, each rule's as a sorted run, once there are
    /// `held` ([`ScanOptions::samples_held`]) over all rules.
    fn spill_samples_if_full(&mut self, spill: &Mutex<SampleRuns>, held: usize) {
        if self.samples_held >= held {
            self.spill_samples(spill);
        }
    }

    /// Write every sample out.
    fn spill_samples(&mut self, spill: &Mutex<SampleRuns>) {
        if self.samples_kept || self.samples_held == 0 {
            return;
        }
        let mut spill = spill.lock().expect("samples lock");
        for (i, r) in self.rules.iter_mut().enumerate() {
            let mut items: Vec<(i64, Sample)> =
                r.samples.drain().flat_map(|(k, v)| v.into_iter().map(move |s| (k, s))).collect();
            if items.is_empty() {
                continue;
            }
            items.sort_unstable_by_key(|(k, s)| (*k, s.time, s.at));
            if self.samples_kept || spill.write(&i, &items).is_err() {
                self.samples_kept = true;
                for (k, s) in items {
                    r.samples.entry(k).or_default().push(s);
                }
            }
        }
        if !self.samples_kept {
            self.samples_held = 0;
        }
    }

    /// Write the paths out once they take `held` bytes
    /// ([`ScanOptions::paths_held`]).
    fn spill_paths_if_full(&mut self, runs: &Mutex<PathRuns>, held: usize) {
        if self.paths_kept || self.paths.is_empty() || self.paths.footprint() < held {
            return;
        }
        if runs.lock().expect("paths lock").write(&self.paths).is_ok() {
            self.paths = PathList::default();
        } else {
            self.paths_kept = true;
        }
    }

    fn read_file(&mut self, index: u32, file: &InputFile, ctx: &Ctx<'_>) {
        let trusted = matches!(file.name, NameKind::TrailLog { .. });
        let mut report = FileReport { input: index, path: file.display(), ..FileReport::default() };
        let outcome = self.read_one(Source::File(file), trusted, &mut report, ctx);
        match outcome.archive {
            Some(kind) => {
                report.archive = Some(kind);
                report.compressed = outcome.compressed;
                report.form = None;
                self.read_archive(index, file, kind, &mut report, ctx);
                self.files.push(report);
            }
            None => self.finish_input(report, outcome),
        }
    }

    /// Read one input's records into the accumulators.
    fn read_one(&mut self, source: Source<'_>, trusted: bool, report: &mut FileReport, ctx: &Ctx<'_>) -> ReadOutcome {
        let mut bufs = std::mem::take(&mut self.bufs);
        let at = (report.input, report.member);
        let mut sink = FileSink { at, ctx, acc: self, report };
        let outcome = read_records(source, trusted, ctx.opts.limits, &mut bufs, &mut sink);
        self.bufs = bufs;
        outcome
    }

    fn finish_input(&mut self, mut report: FileReport, outcome: ReadOutcome) {
        report.compressed = outcome.compressed;
        report.decompressed = outcome.decompressed;
        report.records = outcome.records;
        report.form = outcome.form.filter(|f| *f != Form::Unknown || outcome.error.is_some());
        report.not_trail_log = outcome.not_trail_log;
        report.foreign = outcome.foreign;
        if let Some(e) = outcome.error {
            report.recovered_to = outcome.recovered_to;
            // As `records_recovered` in the report: the usable ones.
            let usable = report.records - report.invalid_records - report.oversized_records;
            let lost = if usable > 0 {
                format!(
                    " ({usable} record{} recovered before it, up to decoded byte {})",
                    if usable == 1 { "" } else { "s" },
                    outcome.recovered_to
                )
            } else {
                String::new()
            };
            report.error = Some(format!("{e}{lost}"));
        }
        // A clean file on disk is only counted: memory must not grow with
        // the number of files. Its path is known from its index.
        if report.failed() || report.not_trail_log || report.member > 0 {
            self.files.push(report);
        } else {
            self.totals.add(&report);
            if report.published_records > 0 {
                self.paths.push(report.input, &report.path);
            }
        }
    }

    /// Read the members of an archive, each as an input of its own.
    fn read_archive(&mut self, index: u32, file: &InputFile, kind: Archive, report: &mut FileReport, ctx: &Ctx<'_>) {
        let shown = file.display();
        let mut member = 0u32;
        // A member cut short by damage that also ends the archive, with no
        // record before it: the archive's failure says it, once.
        let mut cut_member: Option<(String, FileReport)> = None;
        let opened = match file.open() {
            Ok(f) => f,
            Err(e) => {
                report.error = Some(e.to_string());
                return;
            }
        };
        let result = read_archive(opened, kind, ctx.opts.limits, &mut |entry| {
            member += 1;
            let (name, data, damage) = match entry {
                Entry::Member { name, data, damage } => (name, data, damage),
                Entry::Special { name } => {
                    *self.skipped.entry(SkipKind::Special).or_default() += 1;
                    let why = "not a regular file (a link, a device or a FIFO): not read".to_string();
                    self.skipped_members.push((SkipKind::Special, format!("{shown}!/{name}"), why));
                    return;
                }
                Entry::Note(n) => {
                    self.notes.push(format!("{shown}: {n}"));
                    return;
                }
                Entry::Unreadable { name, reason } => {
                    let path = format!("{shown}!/{name}");
                    let r = FileReport { input: index, member, path, error: Some(reason), ..FileReport::default() };
                    self.files.push(r);
                    return;
                }
            };
            let path = format!("{shown}!/{name}");
            let kind = classify_name(Path::new(&name));
            match kind {
                NameKind::Digest => return *self.skipped.entry(SkipKind::Digest).or_default() += 1,
                NameKind::Insight => return *self.skipped.entry(SkipKind::Insight).or_default() += 1,
                _ => {}
            }
            let trusted = matches!(kind, NameKind::TrailLog { .. });
            let mut r = FileReport { input: index, member, path, ..FileReport::default() };
            let mut outcome = match data {
                MemberData::Bytes(b) if b.is_empty() && damage.is_none() => {
                    return *self.skipped.entry(SkipKind::Empty).or_default() += 1
                }
                MemberData::Bytes(b) => self.read_one(Source::Bytes(&b), trusted, &mut r, ctx),
                MemberData::Stream(reader, packed) => {
                    self.read_one(Source::Stream(reader, packed), trusted, &mut r, ctx)
                }
            };
            if outcome.archive.is_some() {
                r.error = Some("an archive inside an archive is not read: extract the outer archive first".into());
                r.compressed = outcome.compressed;
                self.files.push(r);
                return;
            }
            // The member's data ended early: what decoded before the damage
            // was read, and the damage is the member's failure.
            if let Some(d) = damage {
                if outcome.records == 0 {
                    r.compressed = outcome.compressed;
                    r.decompressed = outcome.decompressed;
                    r.error = Some(d.clone());
                    cut_member = Some((d, r));
                    return;
                }
                if outcome.error.is_none() {
                    outcome.recovered_to = outcome.decompressed;
                }
                outcome.not_trail_log = false;
                outcome.error = Some(ReadError::Archive(d));
            }
            self.finish_input(r, outcome);
        });
        if let Some((damage, r)) = cut_member {
            if !result.as_ref().is_err_and(|e| e.message == damage) {
                self.files.push(r);
            }
        }
        if let Err(e) = result {
            report.error = Some(e.to_string());
        }
    }

    fn merge(mut self, mut other: Partial, samples: usize, ctx: &Ctx<'_>) -> Partial {
        let spill = &ctx.spill;
        // Both written out before they are merged, if together they hold
        // too many: the merged tables never grow past the budget.
        if self.minutes_held() + other.minutes_held() >= ctx.opts.minutes_held {
            self.spill_minutes(&ctx.minutes);
            other.spill_minutes(&ctx.minutes);
        }
        if self.samples_held + other.samples_held >= ctx.opts.samples_held {
            self.spill_samples(&ctx.sample_runs);
            other.spill_samples(&ctx.sample_runs);
        }
        self.files.extend(other.files);
        self.totals.merge(&other.totals);
        self.paths.append(other.paths);
        for (kind, n) in other.skipped {
            *self.skipped.entry(kind).or_default() += n;
        }
        self.notes.extend(other.notes);
        self.skipped_members.extend(other.skipped_members);
        self.published.extend(other.published);
        // One at a time, as records add them, so the list never grows past
        // a run.
        for e in other.publishing {
            self.publishing.push(e);
            self.spill_if_full(spill);
        }
        self.deferred.extend(other.deferred);
        self.spill_held_if_full(&ctx.held, ctx.opts.publications_held);
        self.minutes_kept |= other.minutes_kept;
        self.samples_kept |= other.samples_kept;
        self.paths_kept |= other.paths_kept;
        self.held_kept |= other.held_kept;
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
        self.samples_held = self.rules.iter().map(|r| r.samples.values().map(Vec::len).sum::<usize>()).sum();
        self.spill_paths_if_full(&ctx.paths, ctx.opts.paths_held);
        self
    }
}

/// Keep the `cap` smallest samples (by time, then location): whether `s`
/// was added (not put in another's place).
fn keep_sample(v: &mut Vec<Sample>, s: Sample, cap: usize) -> bool {
    if v.len() < cap {
        // Exactly as long as it is: most windows get one or two samples
        // in a thread, and a list of four (what `push` would make room
        // for) took a kilobyte however few it held.
        v.reserve_exact(1);
        v.push(s);
        return true;
    }
    if let Some((i, max)) = v.iter().enumerate().max_by(|a, b| a.1.cmp(b.1)) {
        if s < *max {
            v[i] = s;
        }
    }
    false
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
    /// Input file and archive member.
    at: (u32, u32),
    ctx: &'a Ctx<'a>,
    acc: &'a mut Partial,
    report: &'a mut FileReport,
}

impl FileSink<'_> {
    fn note_invalid(&mut self, offset: u64, why: &str) {
        self.report.invalid_records += 1;
        if self.report.error.is_none() {
            self.report.error = Some(format!("invalid record at byte offset {offset}: {why}"));
        }
    }
}

impl FileSink<'_> {
    /// Evaluate one record against the rules in `mask` (all rules when
    /// `mask` is `None`).
    fn record(&mut self, text: Result<&str, Utf8Error>, offset: u64, stamp: Option<EpochMs>, mask: Option<&[u64]>) {
        self.report.parsed_records += 1;
        let text = match text {
            Ok(t) => t,
            Err(e) => return self.note_invalid(offset + e.valid_up_to() as u64, "not UTF-8"),
        };
        let acc = &mut *self.acc;
        if let Err(e) = acc.doc.parse_object(text) {
            // The offset goes into the location; the message keeps only the kind.
            let why = e.kind.to_string();
            return self.note_invalid(offset + e.offset as u64, &why);
        }
        let root = acc.doc.root(text).expect("parsed");
        let ev = Event { text, json: Some(root) };
        let rules = self.ctx.rules;
        let mut points = std::mem::take(&mut acc.points);
        points.clear();
        for (i, rule) in rules.iter().enumerate() {
            if mask.is_some_and(|m| m[i / 64] >> (i % 64) & 1 == 0) {
                continue;
            }
            if let Some(dp) = rule.transform.datapoint(&rule.pattern, &ev) {
                points.push((i as u32, dp));
            }
        }
        if points.is_empty() {
            acc.points = points;
            return;
        }
        self.report.published_records += 1;
        let opts = self.ctx.opts;
        // A CloudWatch Logs export carries the true CloudWatch timestamp;
        // otherwise it is eventTime shifted by the lag.
        let [event_time, event_id] = root.get_each(["eventTime", "eventID"]);
        let time = match stamp {
            Some(t) => Ok(t),
            None => event_time_of(event_time).map(|t| t + opts.lag_ms),
        };
        let at = Location { file: self.at.0, member: self.at.1, offset };
        let id = event_id.and_then(|v| v.as_str()).map(|id| EventId::of(&id));
        match (id, opts.dedup) {
            (Some(id), true) => {
                // Decided once every copy has been seen.
                let matched = points.iter().any(|(_, dp)| dp.matched);
                let summary = (matched && opts.samples > 0).then(|| (EventSummary::of(root), self.report.path.clone()));
                acc.deferred.push(Publication { id, at, time, points: std::mem::take(&mut points), summary });
                acc.spill_held_if_full(&self.ctx.held, opts.publications_held);
            }
            (id, _) => {
                if let Some(id) = id {
                    acc.publishing.push((id, at));
                }
                let path = &self.report.path;
                let summary = || (EventSummary::of(root), path.clone());
                acc.samples_held += apply(&mut acc.rules, rules, opts, at, time, &points, &summary);
                // Checked per record, not per file: the lists must not grow
                // (and double their capacity) past a run.
                acc.spill_if_full(&self.ctx.spill);
                acc.spill_minutes_if_full(&self.ctx.minutes, opts.minutes_held);
                acc.spill_samples_if_full(&self.ctx.sample_runs, opts.samples_held);
            }
        }
        acc.points = points;
    }
}

/// What one record publishes, held back until duplicates are resolved
/// (`--dedup`).
#[derive(Clone, Debug, PartialEq)]
struct Publication {
    id: EventId,
    at: Location,
    time: Result<EpochMs, TimeProblem>,
    points: Vec<(u32, Datapoint)>,
    /// The summary and path, kept for every matching event.
    summary: Option<(EventSummary, String)>,
}

/// Add one record's datapoints to the results (`summary`: what it is and
/// the path of its file, for a sample): the number of samples added.
#[allow(clippy::too_many_arguments)]
fn apply(
    results: &mut [RuleResult],
    rules: &[Rule],
    opts: &ScanOptions,
    at: Location,
    time: Result<EpochMs, TimeProblem>,
    points: &[(u32, Datapoint)],
    summary: &dyn Fn() -> (EventSummary, String),
) -> usize {
    let mut added = 0;
    for (i, dp) in points {
        let rule = &rules[*i as usize];
        let r = &mut results[*i as usize];
        if dp.matched {
            r.matches += 1;
        }
        let t = match time {
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
        r.series.add(dp.dimensions.clone(), minute_of(t), dp.value, dp.matched);
        if dp.matched && opts.samples > 0 {
            let k = window_index(t, rule.alarm.period_ms());
            if wants_sample(r.samples.get(&k), t, at, opts.samples) {
                let (summary, path) = summary();
                let s = Sample { time: t, at, summary, path };
                added += usize::from(keep_sample(r.samples.entry(k).or_default(), s, opts.samples));
            }
        }
    }
    added
}

impl RecordSink for FileSink<'_> {
    fn batch(&mut self, batch: &Batch<'_>) {
        let stamp = |i: usize| batch.stamps.map(|s| s[i]);
        match self.ctx.prefilter {
            None => {
                for i in 0..batch.spans.len() {
                    self.record(batch.text(i), batch.offset(i), stamp(i), None);
                }
            }
            Some(pf) => {
                let mut masks = std::mem::take(&mut self.acc.masks);
                pf.mark(batch.buf, batch.spans, batch.hits, &mut masks);
                let w = pf.words();
                for i in 0..batch.spans.len() {
                    let m = &masks[i * w..(i + 1) * w];
                    if m.iter().any(|x| *x != 0) {
                        self.record(batch.text(i), batch.offset(i), stamp(i), Some(m));
                    }
                }
                self.acc.masks = masks;
            }
        }
    }

    fn oversized(&mut self, _offset: u64, _len: u64) {
        self.report.oversized_records += 1;
    }

    fn invalid(&mut self, offset: u64, why: &str) {
        self.note_invalid(offset, why);
    }

    fn probes(&self) -> Probes {
        self.ctx.prefilter.map_or_else(Probes::none, Prefilter::probes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(time: EpochMs) -> Sample {
        let at = Location { file: 0, member: 0, offset: time as u64 };
        Sample { time, at, summary: EventSummary::default(), path: String::new() }
    }

    #[test]
    fn a_window_keeps_its_earliest_samples_in_a_list_no_longer_than_they_are() {
        let mut v = Vec::new();
        assert!(keep_sample(&mut v, sample(50), 3));
        assert_eq!(v.capacity(), 1, "one sample takes the room of one");
        assert!(keep_sample(&mut v, sample(30), 3));
        assert!(keep_sample(&mut v, sample(40), 3));
        assert_eq!(v.capacity(), 3);
        // Full: an earlier sample takes the latest one's place, a later one
        // is not kept.
        assert!(!keep_sample(&mut v, sample(10), 3));
        assert!(!keep_sample(&mut v, sample(60), 3));
        let mut times: Vec<EpochMs> = v.iter().map(|s| s.time).collect();
        times.sort();
        assert_eq!(times, [10, 30, 40]);
        assert_eq!(v.capacity(), 3);
    }
}
