//! The alarm replay: the step between a scan and its report.
//!
//! For each rule, the scan's per-minute metric is rolled into period
//! windows, each judged by the alarm and given its first samples, and the
//! alarm is evaluated over it minute by minute as CloudWatch would, giving
//! its state changes, its ALARM episodes and its final state. The lists
//! are made anew each time they are read, from the per-minute data the
//! scan wrote out, and never held: a replay over months costs the memory
//! of one window.

use std::collections::VecDeque;

use crate::alarm::alarm_episodes;
use crate::alarm::eval::{Replay, Tally};
use crate::alarm::{AlarmSpec, AlarmState};
use crate::metric::series::{Minute, Stats};
use crate::metric::window::{windows, Window};
use crate::record::EpochMs;
use crate::rules::Rule;
use crate::scan::tally::Group;
use crate::scan::{RuleResult, Sample, ScanOptions, ScanReport, UNPLACED};

/// One rule's alarm, replayed over what a scan found.
#[derive(Clone, Copy, Debug)]
pub struct AlarmReplay<'a> {
    /// The rule.
    pub(crate) rule: &'a Rule,
    /// What the scan found for it.
    pub(crate) result: &'a RuleResult,
    /// Windows whose value breaches the threshold.
    pub(crate) breaching_windows: u64,
    /// Times the alarm entered ALARM.
    pub(crate) alarm_episodes: u64,
    /// Minutes the alarm spent in ALARM.
    pub(crate) minutes_in_alarm: u64,
    /// State at the last evaluation.
    pub(crate) final_state: AlarmState,
    report: &'a ScanReport,
    index: usize,
    opts: &'a ScanOptions,
}

/// A period window judged by the alarm, with its first matching events.
#[derive(Clone, Debug)]
pub struct JudgedWindow {
    /// The window and its value.
    pub(crate) window: Window,
    /// Whether the value breaches the threshold.
    pub(crate) breaching: bool,
    /// The first matching events, earliest first: `--samples` of them, or
    /// `--max-events` in a breaching window with `--events windows`.
    pub(crate) events: Vec<Sample>,
    /// A breaching window's matching records counted by who and what,
    /// when every matching record was kept and contributors are asked for.
    pub(crate) contributors: Option<Group>,
}

/// An ALARM episode with the records behind it: those of the period
/// windows from `EvaluationPeriods` periods before it began to its end
/// (the data the alarm looked at to enter ALARM and to stay there).
#[derive(Clone, Debug)]
pub struct Episode {
    /// When the alarm entered ALARM.
    pub(crate) start: EpochMs,
    /// When it left (`None`: still in ALARM when the replay ended).
    pub(crate) end: Option<EpochMs>,
    /// Period windows with data in its span.
    pub(crate) windows: u64,
    /// How many of them breach.
    pub(crate) breaching_windows: u64,
    /// Matching records in those windows.
    pub(crate) matches: u64,
    /// The first `--max-events` of them, earliest first.
    pub(crate) events: Vec<Sample>,
    /// Those records counted by who and what, when every matching record
    /// was kept and contributors are asked for.
    pub(crate) contributors: Option<Group>,
}

/// Replay every rule's alarm over `report` (scanned with `rules` and
/// `opts`), in rule order.
pub fn replay<'a>(report: &'a ScanReport, rules: &'a [Rule], opts: &'a ScanOptions) -> Vec<AlarmReplay<'a>> {
    rules
        .iter()
        .zip(&report.rules)
        .enumerate()
        .map(|(index, (rule, result))| replay_one(report, index, rule, result, opts))
        .collect()
}

fn replay_one<'a>(
    report: &'a ScanReport,
    index: usize,
    rule: &'a Rule,
    result: &'a RuleResult,
    opts: &'a ScanOptions,
) -> AlarmReplay<'a> {
    let mut r = AlarmReplay {
        rule,
        result,
        breaching_windows: 0,
        alarm_episodes: 0,
        minutes_in_alarm: 0,
        final_state: rule.alarm.initial_state,
        report,
        index,
        opts,
    };
    let spec = &rule.alarm;
    r.breaching_windows = r.raw_windows().filter(|w| spec.breaches(w.value)).count() as u64;
    let mut evaluation = Replay::new(r.minutes(), spec, opts.from, opts.to);
    let mut alarm = Tally::new(AlarmState::Alarm, spec.initial_state, evaluation.start());
    evaluation.by_ref().for_each(|t| alarm.add(&t));
    let end: EpochMs = evaluation.end().expect("replayed to its end");
    r.alarm_episodes = alarm.entered();
    r.minutes_in_alarm = alarm.minutes(end);
    r.final_state = alarm.current();
    r
}

impl<'a> AlarmReplay<'a> {
    /// The alarm replayed.
    pub(crate) fn spec(&self) -> &'a AlarmSpec {
        &self.rule.alarm
    }

    /// The metric the alarm watches, ascending by minute, read anew.
    fn minutes(&self) -> impl Iterator<Item = (Minute, Stats)> + 'a {
        self.report.minutes(self.index, &self.rule.alarm_dimensions)
    }

    fn raw_windows(&self) -> impl Iterator<Item = Window> + 'a {
        let spec = self.spec();
        windows(self.minutes(), spec.period_ms(), spec.statistic)
    }

    /// Every period window holding at least one datapoint, ascending, each
    /// judged and with its first samples (read alongside the windows, both
    /// ascending by window).
    pub fn windows(&self) -> impl Iterator<Item = JudgedWindow> + 'a {
        let spec = self.spec();
        let period = spec.period_ms();
        let opts = self.opts;
        let mut samples = self.report.samples(self.index).peekable();
        self.raw_windows().map(move |window| {
            let k = window.start.div_euclid(period);
            while samples.next_if(|(j, _)| *j < k).is_some() {}
            let breaching = spec.breaches(window.value);
            let cap = opts.window_events(breaching);
            let mut events = Vec::new();
            let mut contributors = (breaching && opts.counts_kept()).then(|| Group::new(opts.group_by.len()));
            while let Some((_, s)) = samples.next_if(|(j, _)| *j == k) {
                if let Some(g) = &mut contributors {
                    g.add(&s.summary, Some(s.time));
                }
                if events.len() < cap {
                    events.push(s);
                }
            }
            JudgedWindow { breaching, window, events, contributors }
        })
    }

    /// Every kept matching record, by window then time and location, with
    /// its window (`None` for records without a usable time) and whether
    /// that window breaches: with [`ScanOptions::keep_all`], every matching
    /// record in the replay's range.
    pub fn records(&self) -> impl Iterator<Item = (Option<(Window, bool)>, Sample)> + 'a {
        let spec = self.spec();
        let period = spec.period_ms();
        let mut windows = self.raw_windows().peekable();
        self.report.samples(self.index).map(move |(k, s)| {
            if k == UNPLACED {
                return (None, s);
            }
            while windows.next_if(|w| w.start.div_euclid(period) < k).is_some() {}
            let w = windows.peek().filter(|w| w.start.div_euclid(period) == k);
            (w.map(|w| (w.clone(), spec.breaches(w.value))), s)
        })
    }

    /// The alarm's ALARM episodes, in time order, each with the records
    /// behind it (see [`Episode`]); read alongside the windows.
    pub fn episodes(&self) -> impl Iterator<Item = Episode> + 'a {
        let spec = self.spec();
        let period = spec.period_ms();
        let lookback = i64::from(spec.evaluation_periods) * period;
        let opts = self.opts;
        let spans = self.episode_spans();
        let mut samples = self.report.samples(self.index).peekable();
        let mut windows = self.raw_windows().peekable();
        let mut open: VecDeque<Episode> = VecDeque::new();
        let mut next = 0;
        std::iter::from_fn(move || loop {
            if let Some(front) = open.front() {
                let done = windows.peek().is_none_or(|w| front.end.is_some_and(|e| e <= w.start));
                if done {
                    return open.pop_front();
                }
            }
            if next < spans.len() && windows.peek().is_none_or(|w| spans[next].0 - lookback < w.end) {
                let (start, end) = spans[next];
                let contributors = opts.counts_kept().then(|| Group::new(opts.group_by.len()));
                open.push_back(Episode {
                    start,
                    end,
                    windows: 0,
                    breaching_windows: 0,
                    matches: 0,
                    events: Vec::new(),
                    contributors,
                });
                next += 1;
                continue;
            }
            let w = windows.next()?;
            let k = w.start.div_euclid(period);
            while samples.next_if(|(j, _)| *j < k).is_some() {}
            let breaching = spec.breaches(w.value);
            let within = |e: &Episode| e.end.is_none_or(|end| w.start < end);
            for e in open.iter_mut().filter(|e| within(e)) {
                e.windows += 1;
                e.breaching_windows += u64::from(breaching);
                e.matches += w.matches;
            }
            while let Some((_, s)) = samples.next_if(|(j, _)| *j == k) {
                for e in open.iter_mut().filter(|e| within(e)) {
                    if let Some(g) = &mut e.contributors {
                        g.add(&s.summary, Some(s.time));
                    }
                    if e.events.len() < opts.episode_events() {
                        e.events.push(s.clone());
                    }
                }
            }
        })
    }

    /// When each ALARM episode began and ended (`None`: still in ALARM at
    /// the end of the replay).
    fn episode_spans(&self) -> Vec<(EpochMs, Option<EpochMs>)> {
        let replay = self.transitions();
        let entered = (self.spec().initial_state == AlarmState::Alarm).then(|| replay.start());
        let (closed, open) = alarm_episodes(replay.map(|t| (t.at, t.to)), entered);
        closed.into_iter().map(|(s, e)| (s, Some(e))).chain(open.map(|s| (s, None))).collect()
    }

    /// The alarm's state changes, in time order.
    pub(crate) fn transitions(&self) -> Replay<'a, impl Iterator<Item = (Minute, Stats)> + 'a> {
        Replay::new(self.minutes(), self.spec(), self.opts.from, self.opts.to)
    }
}
