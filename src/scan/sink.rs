//! What one record does to a worker's results: evaluated against every
//! rule (or only the candidates the prefilter marked), its datapoints
//! added to the series and its matches kept as samples.

use std::str::Utf8Error;

use super::partial::{Ctx, Partial};
use super::prefilter::Prefilter;
use super::publication::Publication;
use super::repeats::EventId;
use super::report::{FileReport, Location, RuleResult, Sample};
use super::samples::{keep_sample, wants_sample, Bars, UNPLACED};
use super::tally::Tally;
use super::ScanOptions;
use crate::json::Value;
use crate::metric::series::minute_of;
use crate::metric::window::window_index;
use crate::metric::Datapoint;
use crate::pattern::Event;
use crate::record::{event_time_of, summary_text, EpochMs, EventSummary, Probes, TimeProblem};
use crate::rules::Rule;
use crate::source::Batch;

pub(super) struct FileSink<'a> {
    /// Input file and archive member.
    pub(super) at: (u32, u32),
    pub(super) ctx: &'a Ctx<'a>,
    pub(super) acc: &'a mut Partial,
    pub(super) report: &'a mut FileReport,
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
                let wanted = opts.samples > 0 || opts.keep_all || opts.tally.is_on();
                let summary = (matched && wanted).then(|| (summarise(root, text, opts), self.report.path.clone()));
                acc.deferred.push(Publication { id, at, time, points: std::mem::take(&mut points), summary });
                acc.budgets.held.check(&mut acc.deferred, &self.ctx.runs.held);
            }
            (id, _) => {
                if let Some(id) = id {
                    acc.ids.push((id, at));
                }
                let path = &self.report.path;
                let summary = || (summarise(root, text, opts), path.clone());
                let (results, bars) = (&mut acc.rules, &acc.sample_bars);
                acc.samples_held += apply(results, bars, &mut acc.tally, rules, opts, at, time, &points, &summary);
                acc.budgets.ids.check(&mut acc.ids, &self.ctx.runs.ids);
                acc.check_budgets(&self.ctx.runs, opts.kept_per_window());
            }
        }
        acc.points = points;
    }
}

/// What the reports show of a matching record: its key fields, the
/// `--group-by` fields and, with `--full`, its text.
fn summarise(root: Value<'_>, text: &str, opts: &ScanOptions) -> EventSummary {
    let mut s = EventSummary::of(root);
    s.groups = opts.group_by.iter().map(|g| summary_text(g.get(root))).collect();
    if opts.full {
        s.record = Some(text.to_string());
    }
    s
}

/// Add one record's datapoints to the results (`bars`: what is known of
/// the samples written out; `summary`: what the record is and the path of
/// its file, for a sample): the number of samples added.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply(
    results: &mut [RuleResult],
    bars: &Bars,
    tally: &mut Tally,
    rules: &[Rule],
    opts: &ScanOptions,
    at: Location,
    time: Result<EpochMs, TimeProblem>,
    points: &[(u32, Datapoint)],
    summary: &dyn Fn() -> (EventSummary, String),
) -> usize {
    let matched = |i: usize| points.iter().any(|(j, dp)| *j as usize == i && dp.matched);
    // Made once for the tally and the samples both; the tally reads it, the
    // samples take copies, and the last one the summary itself.
    let made = std::cell::OnceCell::new();
    let get = || made.get_or_init(summary);
    tally.add(matched, rules.len(), time.ok(), at, opts.samples, &get);
    let mut added = 0;
    let cap = opts.kept_per_window();
    // Where the last sample wanted goes (rule, window, time).
    let mut pending: Option<(usize, i64, EpochMs)> = None;
    for (i, dp) in points {
        let i = *i as usize;
        let r = &mut results[i];
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
                    if opts.keep_all {
                        if let Some(to) = pending.replace((i, UNPLACED, UNPLACED)) {
                            added += keep(results, to, at, get().clone(), cap);
                        }
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
        if dp.matched && cap > 0 {
            let k = window_index(t, rules[i].alarm.period_ms());
            if wants_sample(r.samples.get(&k), bars.get(i, k), t, at, cap) {
                if let Some(to) = pending.replace((i, k, t)) {
                    added += keep(results, to, at, get().clone(), cap);
                }
            }
        }
    }
    if let Some(to) = pending {
        added += keep(results, to, at, made.into_inner().unwrap_or_else(summary), cap);
    }
    added
}

/// Keep a sample of rule `rule`'s window `k` at `time`: 1 if it was added,
/// 0 if it took another's place or was not kept.
fn keep(
    results: &mut [RuleResult],
    (rule, k, time): (usize, i64, EpochMs),
    at: Location,
    (summary, path): (EventSummary, String),
    cap: usize,
) -> usize {
    let s = Sample { time, at, summary, path };
    usize::from(keep_sample(results[rule].samples.entry(k).or_default(), s, cap))
}

impl crate::source::RecordSink for FileSink<'_> {
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
