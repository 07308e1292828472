//! The alarm replay: the step between a scan and its report.
//!
//! For each rule, the scan's per-minute metric is rolled into period
//! windows, each judged by the alarm and given its first samples, and the
//! alarm is evaluated over it minute by minute as CloudWatch would, giving
//! its state changes, its ALARM episodes and its final state. The lists
//! are made anew each time they are read, from the per-minute data the
//! scan wrote out, and never held: a replay over months costs the memory
//! of one window.

use crate::alarm::eval::{Replay, Tally, Transition};
use crate::alarm::{AlarmSpec, AlarmState};
use crate::metric::series::{Minute, Stats};
use crate::metric::window::{windows, Window};
use crate::record::EpochMs;
use crate::rules::Rule;
use crate::scan::{RuleResult, Sample, ScanOptions, ScanReport};

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
    /// The first `--samples` matching events, earliest first.
    pub(crate) events: Vec<Sample>,
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
        let cap = self.opts.samples;
        let mut samples = self.report.samples(self.index).peekable();
        self.raw_windows().map(move |window| {
            let k = window.start.div_euclid(period);
            while samples.next_if(|(j, _)| *j < k).is_some() {}
            let mut events = Vec::new();
            while let Some((_, s)) = samples.next_if(|(j, _)| *j == k) {
                if events.len() < cap {
                    events.push(s);
                }
            }
            JudgedWindow { breaching: spec.breaches(window.value), window, events }
        })
    }

    /// The alarm's state changes, in time order.
    pub(crate) fn transitions(&self) -> impl Iterator<Item = Transition> + 'a {
        Replay::new(self.minutes(), self.spec(), self.opts.from, self.opts.to)
    }
}
