//! The scan engine: every input file read once, in parallel, every record
//! offered to every rule, datapoints aggregated per minute.
//!
//! Parallelism is at file granularity (rayon work stealing). Each worker
//! accumulates a partial result (`partial`); partials merge associatively
//! and commutatively, and everything order-dependent (file lists, samples)
//! is sorted by a key that does not depend on scheduling, so the result is
//! identical for any thread count and any order of the inputs. What a
//! worker would hold past a budget it writes out as sorted runs
//! (`crate::spill`), so memory stays flat however much is read.
//!
//! - `options`: how to run a scan;
//! - this module: the driver, from paths to a [`ScanReport`];
//! - `partial`: one worker's results, file by file, and their merge;
//! - `sink`: what one record does to them;
//! - `minutes`, `samples`, `paths`, `repeats`, `publication`: what a worker
//!   holds of each kind and how it is written out;
//! - `tally`: matching records counted by who and what;
//! - `report`: what a scan found, and reading back what was written out.

mod minutes;
mod options;
mod partial;
mod paths;
pub mod prefilter;
mod progress;
mod publication;
mod repeats;
mod report;
mod samples;
mod sink;
pub mod tally;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::metric::series::{Dimensions, Minute, Stats};
use crate::rules::Rule;
use crate::source::discover::{PathProblem, Walker};
use crate::source::SkipKind;
use crate::spill::{Runs, FAN_IN};
use partial::{Ctx, Partial, Spills};
use paths::keep_paths;
use prefilter::Prefilter;
use publication::{Publication, READ_RUNS};
use sink::apply;

pub use minutes::RUN_MINUTES;
pub use options::{EventsBy, ScanOptions};
pub use paths::{PathList, LIST_BYTES};
pub use progress::{Progress, Snapshot};
pub use publication::RUN_PUBLICATIONS;
pub(crate) use repeats::{find_repeats, part_of, Entry, EventId, IdWriter, ID_BYTES};
pub(crate) use report::Assembled;
pub(crate) use report::EventIds;
pub use report::{Duplicates, FileReport, Location, RuleResult, Sample, ScanReport, Totals, Unplaced};
pub(crate) use samples::RUN_SAMPLES;
pub use samples::{RUN_KEPT, UNPLACED};
pub use tally::{Tally, TallyBy};

/// Per-minute runs, by rule and metric dimensions.
type MinuteRuns = Runs<(usize, Dimensions)>;
/// Sample runs, by rule.
type SampleRuns = Runs<usize>;

/// Scan `paths` with `rules`.
pub fn scan(paths: &[PathBuf], rules: &[Rule], opts: &ScanOptions) -> ScanReport {
    let start = Instant::now();
    let threads =
        if opts.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.threads };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let prefilter = opts.prefilter.then(|| Prefilter::new(rules)).filter(|p| !p.is_trivial());
    let ctx = Ctx { rules, opts, prefilter: prefilter.as_ref(), scratch: Mutex::new(Vec::new()), runs: Spills::new() };
    // Files are read while the walk goes on; each keeps the index the walk
    // gave it, so the result does not depend on which thread read what.
    let mut walker = Walker::new(paths);
    let progress = opts.progress.as_deref();
    let partial = pool.install(|| {
        walker
            .by_ref()
            .inspect(|f| {
                if let Some(p) = progress {
                    p.found(f.size);
                }
            })
            .chain(std::iter::from_fn(|| {
                if let Some(p) = progress {
                    p.walked();
                }
                None
            }))
            .enumerate()
            .par_bridge()
            .fold(
                || Partial::new(rules, opts),
                |mut acc, (i, f)| {
                    acc.read(i as u32, &f, &ctx);
                    if let Some(p) = progress {
                        p.done(f.size);
                    }
                    acc
                },
            )
            .reduce(|| Partial::new(rules, opts), |a, b| a.merge(b, opts, &ctx))
    });
    // In the pool: the repeated-event merge runs its parts on its threads.
    pool.install(|| finish(rules, walker.skipped, walker.problems, partial, ctx.runs, opts, start, threads))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    rule_set: &[Rule],
    mut skipped: BTreeMap<SkipKind, u64>,
    problems: Vec<PathProblem>,
    mut partial: Partial,
    mut runs: Spills,
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
    let (duplicates, event_ids) = resolve_duplicates(&mut partial, &mut runs, rule_set, opts);
    let Spills { ids: _, minutes, samples, held, paths } = runs;
    let (held, path_runs) = (held.into_inner().expect("held lock"), paths.into_inner().expect("paths lock"));
    let mut minutes = minutes.into_inner().expect("minutes lock");
    let mut sample_runs = samples.into_inner().expect("samples lock");
    // Fewer, longer runs to read back: one per metric, which the report
    // reads three times; samples are read once. If merging fails, the runs
    // stay as they are: reading them takes more buffers, and the result is
    // the same.
    let _ = minutes.compact::<(Minute, Stats)>(1);
    let _ = sample_runs.compact::<(i64, Sample)>(FAN_IN);
    let mut rules = partial.rules;
    let mut tally = partial.tally;
    tally.finish();
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
    let held_paths = std::mem::take(&mut partial.paths);
    let lost = Mutex::new(None);
    let paths = keep_paths(&path_runs, held_paths, &wanted).unwrap_or_else(|e| {
        *lost.lock().expect("lost lock") = Some(e);
        PathList::default()
    });
    let mut skipped_members = std::mem::take(&mut partial.skipped_members);
    skipped_members.sort();
    let mut notes: Vec<String> = std::mem::take(&mut partial.notes);
    notes.sort();
    notes.extend(
        [minutes.problem(), sample_runs.problem(), path_runs.problem(), held.problem()]
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
        tally,
        elapsed: start.elapsed(),
        threads,
        duplicates,
        minutes,
        sample_runs,
        lost,
        notes,
        event_ids,
    }
}

/// Count repeated events; with `--dedup`, apply the first copy of each
/// held-back event and drop the others. Copies are ordered by location, so
/// the result does not depend on which thread saw which copy first.
fn resolve_duplicates(
    partial: &mut Partial,
    spills: &mut Spills,
    rules: &[Rule],
    opts: &ScanOptions,
) -> (Duplicates, EventIds) {
    const EXAMPLES: usize = 5;
    let mut d = Duplicates { dropped: opts.dedup, ..Duplicates::default() };
    let ids = spills.ids.get_mut().expect("ids lock");
    d.problem = ids.problem().map(str::to_string);
    // The IDs come in order from this stream, or with --dedup (when the
    // publications were held back instead) from the held-back ones below.
    let found = find_repeats(ids, std::mem::take(&mut partial.ids), EXAMPLES, opts.keep_ids && !opts.dedup);
    let mut event_ids = found.kept;
    let mut kept = (opts.keep_ids && opts.dedup).then(IdWriter::default);
    d.copies = found.copies;
    let mut examples = found.examples;
    if let Some(e) = found.lost {
        event_ids.problem.get_or_insert_with(|| e.clone());
        d.problem = Some(format!("repeated events not fully counted: {e}"));
    }
    // What was held back: the runs written out merged with what the
    // workers still hold, in event ID then location order, so each event's
    // copies are neighbours and its first copy comes first.
    let held = spills.held.get_mut().expect("held lock");
    // Few enough runs to read at once; if merging fails they stay as they
    // are (more buffers, the same result).
    let _ = held.compact::<Publication>(READ_RUNS);
    let held = spills.held.lock().expect("held lock");
    let mut deferred = std::mem::take(&mut partial.deferred);
    deferred.sort_unstable_by_key(|p| (p.id, p.at));
    let lost = Mutex::new(None);
    let mut merged = held.read(&(), deferred.into_iter(), &lost).peekable();
    while let Some(first) = merged.next() {
        if let Some(w) = &mut kept {
            w.push(first.id);
        }
        while let Some(again) = merged.next_if(|p| p.id == first.id) {
            d.copies += 1;
            if examples.len() < EXAMPLES {
                examples.push((first.id, first.at, again.at));
            }
        }
        let summary = || first.summary.clone().expect("kept for every matching event");
        let (results, bars) = (&mut partial.rules, &partial.sample_bars);
        let added =
            apply(results, bars, &mut partial.tally, rules, opts, first.at, first.time, &first.points, &summary);
        partial.samples_held += added;
        partial.check_budgets(spills, opts.kept_per_window());
    }
    drop(merged);
    drop(held);
    let lost = lost.into_inner().expect("lost lock");
    if let Some(w) = kept {
        event_ids = w.finish();
        if let Some(e) = &lost {
            event_ids.problem.get_or_insert_with(|| e.clone());
        }
    }
    if let Some(e) = lost {
        d.problem = Some(format!("results incomplete: {e}"));
    }
    d.examples = examples.into_iter().map(|(id, first, again)| (id.to_string(), first, again)).collect();
    d.examples.sort();
    (d, event_ids)
}
