//! What one worker accumulates as it reads its files, and how two
//! workers' results are put together.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use super::minutes::MinutesHeld;
use super::paths::PathList;
use super::prefilter::Prefilter;
use super::publication::Publication;
use super::repeats::{Entry, RUN_ENTRIES};
use super::report::{FileReport, RuleResult, Totals};
use super::samples::{keep_sample, Bars, SamplesHeld};
use super::sink::FileSink;
use super::tally::Tally;
use super::{MinuteRuns, SampleRuns, ScanOptions};
use crate::json::Doc;
use crate::metric::series::Series;
use crate::metric::Datapoint;
use crate::rules::Rule;
use crate::source::archive::{read_archive, Entry as Member, MemberData};
use crate::source::discover::classify_name;
use crate::source::{
    read_records, Archive, Form, InputFile, NameKind, ReadBuffers, ReadError, ReadOutcome, SkipKind, Source,
};
use crate::spill::{Budget, Runs};

/// What every worker shares.
pub(super) struct Ctx<'a> {
    pub(super) rules: &'a [Rule],
    pub(super) opts: &'a ScanOptions,
    pub(super) prefilter: Option<&'a Prefilter>,
    /// Parse and read buffers, lent to a partial for one file at a time:
    /// as many exist as files are read at once, however many partials
    /// rayon's splitting makes.
    pub(super) scratch: Mutex<Vec<(Doc, ReadBuffers)>>,
    /// What the workers write out.
    pub(super) runs: Spills,
}

/// The runs the workers write out, one temporary file each.
pub(super) struct Spills {
    /// Event IDs, by part of the key space (repeated-event detection).
    pub(super) ids: Mutex<Runs<u8>>,
    /// Per-minute statistic sets, by rule and metric dimensions.
    pub(super) minutes: Mutex<MinuteRuns>,
    /// Samples, by rule.
    pub(super) samples: Mutex<SampleRuns>,
    /// Publications held back (`--dedup`).
    pub(super) held: Mutex<Runs<()>>,
    /// Lists of paths.
    pub(super) paths: Mutex<Runs<()>>,
}

impl Spills {
    pub(super) fn new() -> Spills {
        Spills {
            ids: Mutex::new(Runs::new("event IDs")),
            minutes: Mutex::new(Runs::new("per-minute statistics")),
            samples: Mutex::new(Runs::new("samples")),
            held: Mutex::new(Runs::new("held-back publications (--dedup)")),
            paths: Mutex::new(Runs::new("paths")),
        }
    }
}

/// How much of each thing a worker holds before it writes it out.
#[derive(Clone, Copy)]
pub(super) struct Budgets {
    pub(super) ids: Budget,
    pub(super) minutes: Budget,
    pub(super) samples: Budget,
    pub(super) held: Budget,
    pub(super) paths: Budget,
}

impl Budgets {
    fn new(opts: &ScanOptions) -> Budgets {
        Budgets {
            ids: Budget::new(RUN_ENTRIES),
            minutes: Budget::new(opts.minutes_held),
            samples: Budget::new(opts.samples_held),
            held: Budget::new(opts.publications_held),
            paths: Budget::new(opts.paths_held),
        }
    }
}

/// What one worker accumulated.
pub(super) struct Partial {
    pub(super) rules: Vec<RuleResult>,
    /// Matching records counted by who and what.
    pub(super) tally: Tally,
    /// Event IDs of the records this worker saw publish, with where they
    /// are (repeated-event detection).
    pub(super) ids: Vec<Entry>,
    /// Publications held back until duplicates are resolved (`--dedup`).
    pub(super) deferred: Vec<Publication>,
    /// Samples held, over all rules.
    pub(super) samples_held: usize,
    /// What is known of the samples written out.
    pub(super) sample_bars: Bars,
    pub(super) budgets: Budgets,
    /// Scratch: one record's datapoints.
    pub(super) points: Vec<(u32, Datapoint)>,
    /// Inputs reported one by one (see [`ScanReport::files`]).
    pub(super) files: Vec<FileReport>,
    /// The other inputs, only counted.
    pub(super) totals: Totals,
    /// Paths of those other inputs that published (see [`ScanReport::paths`]).
    pub(super) paths: PathList,
    /// Archive members skipped by name or type, by kind.
    pub(super) skipped: BTreeMap<SkipKind, u64>,
    /// What is worth knowing about the archives read and loses nothing.
    pub(super) notes: Vec<String>,
    /// Archive members skipped for their type (see
    /// [`ScanReport::skipped_members`]).
    pub(super) skipped_members: Vec<(SkipKind, String, String)>,
    pub(super) doc: Doc,
    bufs: ReadBuffers,
    pub(super) masks: Vec<u64>,
}

impl Partial {
    pub(super) fn new(rules: &[Rule], opts: &ScanOptions) -> Partial {
        let results = rules
            .iter()
            .map(|r| RuleResult { series: Series::new(r.alarm.statistic.needs_values()), ..RuleResult::default() })
            .collect();
        Partial {
            rules: results,
            tally: Tally::new(opts.tally, rules.len(), opts.group_by.len()),
            ids: Vec::new(),
            deferred: Vec::new(),
            samples_held: 0,
            sample_bars: Bars::default(),
            budgets: Budgets::new(opts),
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

    pub(super) fn read(&mut self, index: u32, file: &InputFile, ctx: &Ctx<'_>) {
        let (doc, bufs) = ctx.scratch.lock().expect("scratch pool").pop().unwrap_or_default();
        (self.doc, self.bufs) = (doc, bufs);
        self.read_file(index, file, ctx);
        self.budgets.paths.check(&mut self.paths, &ctx.runs.paths);
        let lent = (std::mem::take(&mut self.doc), std::mem::take(&mut self.bufs));
        ctx.scratch.lock().expect("scratch pool").push(lent);
    }

    /// Write out the per-minute sets and samples held, if past their
    /// budgets (checked per record, not per file: the tables must not grow,
    /// and double their capacity, past a run).
    pub(super) fn check_budgets(&mut self, runs: &Spills, cap: usize) {
        let b = &mut self.budgets;
        b.minutes.check(MinutesHeld(&mut self.rules), &runs.minutes);
        let held =
            SamplesHeld { rules: &mut self.rules, count: &mut self.samples_held, bars: &mut self.sample_bars, cap };
        b.samples.check(held, &runs.samples);
    }

    fn read_file(&mut self, index: u32, file: &InputFile, ctx: &Ctx<'_>) {
        let trusted = matches!(file.name, NameKind::TrailLog { .. });
        let delivered = match file.name {
            NameKind::TrailLog { delivered } => delivered,
            _ => None,
        };
        let mut report = FileReport { input: index, path: file.display(), delivered, ..FileReport::default() };
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
                Member::Member { name, data, damage } => (name, data, damage),
                Member::Special { name } => {
                    *self.skipped.entry(SkipKind::Special).or_default() += 1;
                    let why = "not a regular file (a link, a device or a FIFO): not read".to_string();
                    self.skipped_members.push((SkipKind::Special, format!("{shown}!/{name}"), why));
                    return;
                }
                Member::Note(n) => {
                    self.notes.push(format!("{shown}: {n}"));
                    return;
                }
                Member::Unreadable { name, reason } => {
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

    pub(super) fn merge(mut self, mut other: Partial, opts: &ScanOptions, ctx: &Ctx<'_>) -> Partial {
        let (samples, cap) = (opts.samples, opts.kept_per_window());
        // Both written out before they are put together, if together they
        // hold too much: what is merged never grows past a budget.
        let (runs, b, o) = (&ctx.runs, &mut self.budgets, other.budgets);
        b.minutes.merge(o.minutes, MinutesHeld(&mut self.rules), MinutesHeld(&mut other.rules), &runs.minutes);
        let mine =
            SamplesHeld { rules: &mut self.rules, count: &mut self.samples_held, bars: &mut self.sample_bars, cap };
        let theirs =
            SamplesHeld { rules: &mut other.rules, count: &mut other.samples_held, bars: &mut other.sample_bars, cap };
        b.samples.merge(o.samples, mine, theirs, &runs.samples);
        self.sample_bars.absorb(std::mem::take(&mut other.sample_bars));
        b.ids.merge(o.ids, &mut self.ids, &mut other.ids, &runs.ids);
        b.held.merge(o.held, &mut self.deferred, &mut other.deferred, &runs.held);
        b.paths.merge(o.paths, &mut self.paths, &mut other.paths, &runs.paths);
        self.ids.extend(other.ids);
        self.deferred.extend(other.deferred);
        self.paths.append(other.paths);
        self.files.extend(other.files);
        self.totals.merge(&other.totals);
        for (kind, n) in other.skipped {
            *self.skipped.entry(kind).or_default() += n;
        }
        self.notes.extend(other.notes);
        self.tally.merge(other.tally, samples);
        self.skipped_members.extend(other.skipped_members);
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
                    keep_sample(mine, s, cap);
                }
            }
        }
        self.samples_held = self.rules.iter().map(|r| r.samples.values().map(Vec::len).sum::<usize>()).sum();
        self
    }
}
