//! What a scan found: per rule, per input, and in total.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use super::paths::PathList;
use super::{MinuteRuns, SampleRuns};
use crate::metric::series::{Dimensions, Minute, Series, Stats};
use crate::record::{EpochMs, EventSummary};
use crate::source::discover::PathProblem;
use crate::source::{Archive, Form, SkipKind};

/// Where a record is: input file (in discovery order), archive member (0
/// for the file itself, 1.. for the members of an archive, in archive
/// order) and byte offset in the decoded input. See `ScanReport::path`.
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
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// When CloudTrail delivered it, from its name (a log file named as
    /// CloudTrail names them).
    pub delivered: Option<EpochMs>,
}

impl FileReport {
    /// Whether the file counts as failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Totals over all inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// Hours (since the epoch) in which log files that held records were
    /// delivered, by the time in their names.
    pub delivery_hours: BTreeSet<i64>,
}

impl Totals {
    /// Count one input that was opened and is not an archive.
    pub(super) fn add(&mut self, f: &FileReport) {
        if let Some(t) = f.delivered.filter(|_| f.records > 0) {
            self.delivery_hours.insert(t.div_euclid(HOUR_MS));
        }
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
    pub(crate) fn merge(&mut self, o: &Totals) {
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
        self.delivery_hours.extend(&o.delivery_hours);
    }

    /// The hours between the first and the last in which log files with
    /// records were delivered (by their names) in which none was: each run
    /// of them as [start, end).
    pub fn delivery_gaps(&self) -> Vec<(EpochMs, EpochMs)> {
        let mut gaps = Vec::new();
        let mut hours = self.delivery_hours.iter().copied();
        let Some(mut last) = hours.next() else { return gaps };
        for h in hours {
            if h > last + 1 {
                gaps.push(((last + 1) * HOUR_MS, h * HOUR_MS));
            }
            last = h;
        }
        gaps
    }
}

const HOUR_MS: i64 = 3_600_000;

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
    /// Matching records counted by who and what (`ScanOptions::tally`).
    pub tally: super::Tally,
    /// Wall time.
    pub elapsed: Duration,
    /// Threads used.
    pub threads: usize,
    /// Events seen more than once.
    pub duplicates: Duplicates,
    /// The per-minute statistic sets written out during the scan.
    pub(super) minutes: MinuteRuns,
    /// The samples written out during the scan.
    pub(super) sample_runs: SampleRuns,
    /// Why something written to the temporary file (per-minute statistics,
    /// samples, paths) could not be read back, if it could not.
    pub(super) lost: Mutex<Option<String>>,
    /// Why data was kept in memory instead of written to a temporary file,
    /// if it was (the results are the same).
    pub(super) notes: Vec<String>,
    /// With `ScanOptions::keep_ids`: the event IDs of the records that
    /// published.
    pub(crate) event_ids: EventIds,
}

/// The distinct event IDs of the records that published, each part of the
/// key space in a temporary file, in order (see `series::write`).
#[derive(Debug, Default)]
pub(crate) struct EventIds {
    /// (part, file read from its start).
    pub(crate) parts: Vec<(u8, std::fs::File)>,
    /// Why some could not be kept, if they could not.
    pub(crate) problem: Option<String>,
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

/// What a scan found, put together elsewhere (series files merged by
/// `trailwatch replay`) rather than read from logs: nothing written out,
/// no samples and no paths beyond those of the files listed.
pub(crate) struct Assembled {
    pub(crate) files: Vec<FileReport>,
    pub(crate) skipped: BTreeMap<SkipKind, u64>,
    pub(crate) skipped_members: Vec<(SkipKind, String, String)>,
    pub(crate) problems: Vec<PathProblem>,
    pub(crate) totals: Totals,
    pub(crate) rules: Vec<RuleResult>,
    pub(crate) duplicates: Duplicates,
    pub(crate) lost: Option<String>,
    pub(crate) notes: Vec<String>,
    pub(crate) elapsed: Duration,
    /// The paths of the files the rules' and duplicates' examples point
    /// to, by index (ascending).
    pub(crate) paths: Vec<(u32, String)>,
}

impl ScanReport {
    /// The report of what was put together in `a`.
    pub(crate) fn assembled(a: Assembled) -> ScanReport {
        let rules = a.rules.len();
        let mut paths = PathList::default();
        for (i, p) in &a.paths {
            paths.push(*i, p);
        }
        paths.seal();
        ScanReport {
            files: a.files,
            paths,
            skipped: a.skipped,
            skipped_members: a.skipped_members,
            problems: a.problems,
            totals: a.totals,
            rules: a.rules,
            tally: super::Tally::new(super::TallyBy::Off, rules, 0),
            elapsed: a.elapsed,
            threads: 1,
            duplicates: a.duplicates,
            minutes: crate::spill::Runs::new("per-minute statistics"),
            sample_runs: crate::spill::Runs::new("samples"),
            lost: Mutex::new(a.lost),
            notes: a.notes,
            event_ids: EventIds::default(),
        }
    }

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
