//! The CloudWatch alarm state machine over time, as a pure function of a
//! metric's datapoints (no I/O): each evaluation instant decided by
//! [`super::decide`].
//!
//! Sliding windows (the default) are evaluated every minute; wall-clock
//! windows at each period boundary. Between two instants where a datapoint
//! enters or leaves a period slot the evaluation cannot change, so only
//! those instants are computed; the transitions are exactly those of a
//! minute-by-minute replay.
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::iter::Peekable;

use super::decide::{decide, decide_worded, Slot};
use super::spec::{AlarmSpec, AlarmState, EvaluationWindow};
use crate::metric::series::{Minute, Stats, MINUTE_MS};
use crate::record::EpochMs;

/// A state change.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// The evaluation instant.
    pub at: EpochMs,
    /// Previous state.
    pub from: AlarmState,
    /// New state.
    pub to: AlarmState,
    /// StateReason.
    pub reason: String,
}

/// One evaluation, for per-period output.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalPoint {
    /// Start of the newest period evaluated.
    pub newest_period: EpochMs,
    /// The evaluation instant.
    pub at: EpochMs,
    /// State after it.
    pub state: AlarmState,
}

/// A replayed alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// State before the first evaluation.
    pub(crate) initial: AlarmState,
    /// First evaluation instant.
    pub(crate) start: EpochMs,
    /// Last evaluation instant.
    pub(crate) end: EpochMs,
    /// State changes, in time order.
    pub transitions: Vec<Transition>,
    /// Individual evaluations (only filled by [`evaluate_periods`]).
    pub points: Vec<EvalPoint>,
}

impl Evaluation {
    fn tally(&self, state: AlarmState) -> Tally {
        let mut tally = Tally::new(state, self.initial, self.start);
        self.transitions.iter().for_each(|t| tally.add(t));
        tally
    }

    /// How many times the alarm entered ALARM.
    pub fn alarm_episodes(&self) -> u64 {
        self.tally(AlarmState::Alarm).entered()
    }

    /// State after the last evaluation.
    #[cfg(test)]
    pub(crate) fn final_state(&self) -> AlarmState {
        self.transitions.last().map_or(self.initial, |t| t.to)
    }

    /// Minutes spent in `state` between the first and last evaluation.
    #[cfg(test)]
    pub(crate) fn minutes_in(&self, state: AlarmState) -> u64 {
        self.tally(state).minutes(self.end)
    }
}

/// Time spent in one state and entries into it, added up as a replay's
/// transitions go by (none need be kept).
#[derive(Clone, Copy, Debug)]
pub struct Tally {
    state: AlarmState,
    current: AlarmState,
    since: EpochMs,
    ms: i64,
    entered: u64,
}

impl Tally {
    /// Count `state` for a replay that starts at `start` in `initial`.
    pub(crate) fn new(state: AlarmState, initial: AlarmState, start: EpochMs) -> Tally {
        Tally { state, current: initial, since: start, ms: 0, entered: 0 }
    }

    /// One state change.
    pub(crate) fn add(&mut self, t: &Transition) {
        if self.current == self.state {
            self.ms += t.at - self.since;
        }
        self.entered += u64::from(t.to == self.state);
        self.current = t.to;
        self.since = t.at;
    }

    /// Times the state was entered.
    pub(crate) fn entered(&self) -> u64 {
        self.entered
    }

    /// The state after the last change (the initial one if none).
    pub(crate) fn current(&self) -> AlarmState {
        self.current
    }

    /// Whole minutes in the state up to `end`.
    pub(crate) fn minutes(&self, end: EpochMs) -> u64 {
        let tail = if self.current == self.state { end - self.since } else { 0 };
        ((self.ms + tail).max(0) / MINUTE_MS) as u64
    }
}

/// Value of the period `[lo, hi)` from the minutes held (ascending).
fn period_value(held: &VecDeque<(Minute, Stats)>, lo: Minute, hi: Minute, spec: &AlarmSpec) -> Option<f64> {
    let from = held.partition_point(|(m, _)| *m < lo);
    let mut acc: Option<Stats> = None;
    for (_, s) in held.range(from..).take_while(|(m, _)| *m < hi) {
        match &mut acc {
            Some(a) => a.merge(s),
            None => acc = Some(s.clone()),
        }
    }
    spec.statistic.of(&acc?)
}

/// Periods of this many minutes or more are kept up to date as they slide
/// (`SlidingStats`) rather than merged again at each instant. On a month of
/// minutes, two thirds with data (`cargo bench --bench scan -- replay`),
/// sliding took 8.8 ms instead of 22 ms for hourly periods but 6.1 ms
/// instead of 5.3 ms for 5-minute ones, where a period holds a few minutes
/// and the two stacks' extra copies and merges cost more than they save.
/// Percentiles are never slid: their sets carry every value, which the
/// stacks would copy again and again.
const SLIDE_FROM: i64 = 10;

/// The statistic set of a window of minutes that only moves forward, in
/// a constant number of merges per minute however long the window: a
/// period of a day holds up to 1,440 minutes, which `period_value` would
/// merge again at each of the instants the period slides through.
///
/// Two stacks: minutes enter `back`, whose merged set is kept; they leave
/// from `front`, where each entry holds the merged set of itself and every
/// newer minute of `front`. When `front` runs out, `back` is moved over,
/// newest first, merging as it goes. Each minute is thus merged a bounded
/// number of times; since exact sums, counts, minima and maxima do not
/// depend on the order of merging, the result is the same as merging the
/// window's minutes in order.
struct SlidingStats {
    /// Oldest last: `(minute, set of it and the newer minutes in front)`.
    front: Vec<(Minute, Stats)>,
    /// Ascending minutes, with their merged set.
    back: Vec<(Minute, Stats)>,
    back_set: Option<Stats>,
    /// Minutes before this have been added.
    hi: Minute,
}

impl Default for SlidingStats {
    fn default() -> SlidingStats {
        SlidingStats { front: Vec::new(), back: Vec::new(), back_set: None, hi: Minute::MIN }
    }
}

impl SlidingStats {
    /// Move the window to `[lo, hi)` (neither bound moving back) over the
    /// minutes held (ascending), and return its set (`None` when empty).
    fn slide(&mut self, held: &VecDeque<(Minute, Stats)>, lo: Minute, hi: Minute) -> Option<Stats> {
        let from = held.partition_point(|(m, _)| *m < self.hi.max(lo));
        for (m, s) in held.range(from..).take_while(|(m, _)| *m < hi) {
            match &mut self.back_set {
                Some(b) => b.merge(s),
                None => self.back_set = Some(s.clone()),
            }
            self.back.push((*m, s.clone()));
        }
        self.hi = self.hi.max(hi);
        loop {
            if self.front.is_empty() {
                if self.back.is_empty() {
                    break;
                }
                self.flip();
            }
            match self.front.last() {
                Some((m, _)) if *m < lo => {
                    self.front.pop();
                }
                _ => break,
            }
        }
        match (self.front.last(), &self.back_set) {
            (Some((_, f)), Some(b)) => {
                let mut set = f.clone();
                set.merge(b);
                Some(set)
            }
            (Some((_, f)), None) => Some(f.clone()),
            (None, b) => b.clone(),
        }
    }

    /// Move `back` over to the empty `front`.
    fn flip(&mut self) {
        for (m, mut s) in self.back.drain(..).rev() {
            if let Some((_, newer)) = self.front.last() {
                s.merge(newer);
            }
            self.front.push((m, s));
        }
        self.back_set = None;
    }
}

/// Replay an alarm over a per-minute metric (the output of a scan), read
/// once in ascending order: only the minutes of one evaluation range are
/// held, however long the metric. See [`Replay`].
pub fn evaluate_series<I: IntoIterator<Item = (Minute, Stats)>>(
    minutes: I,
    spec: &AlarmSpec,
    from: Option<EpochMs>,
    to: Option<EpochMs>,
) -> Evaluation {
    let mut replay = Replay::new(minutes, spec, from, to);
    let transitions = replay.by_ref().collect();
    Evaluation {
        initial: spec.initial_state,
        start: replay.start(),
        end: replay.end().expect("known once replayed"),
        transitions,
        points: Vec::new(),
    }
}

/// An alarm replayed over a per-minute metric, yielding its state changes
/// as they happen (so that neither the metric nor the transitions are ever
/// held whole).
///
/// Evaluations run from `from` (default: the first datapoint's minute) to
/// `to` (default: long enough after the last datapoint for every period
/// slot to have emptied again).
pub struct Replay<'s, I: Iterator<Item = (Minute, Stats)>> {
    minutes: Peekable<I>,
    spec: &'s AlarmSpec,
    /// Period and evaluation range, in minutes and periods.
    p: i64,
    r: i64,
    start: Minute,
    to: Option<Minute>,
    /// Instants where some minute with data enters or leaves a slot, found
    /// as the minutes are read: a minute's instants all come after it, so
    /// an instant is final once the next minute is not before it.
    instants: BTreeSet<Minute>,
    /// The minutes of the evaluation ranges still to come, ascending.
    held: VecDeque<(Minute, Stats)>,
    /// Values of the periods evaluated so far that later ranges may hold
    /// again, by the minute each ends, ascending. A period is evaluated
    /// only once its last minute has been read, so its value is final.
    values: VecDeque<(Minute, Option<f64>)>,
    /// The slots of the current evaluation (kept to reuse the allocation).
    slots: Vec<Slot>,
    /// The newest period of each evaluation, kept up to date as it slides
    /// (see `SLIDE_FROM`).
    newest: Option<SlidingStats>,
    last: Option<Minute>,
    state: AlarmState,
    /// The last evaluation instant, once every minute has been read.
    end: Option<Minute>,
}

impl<'s, I: Iterator<Item = (Minute, Stats)>> Replay<'s, I> {
    /// Replay `spec` over `minutes` (ascending).
    pub fn new<M: IntoIterator<IntoIter = I>>(
        minutes: M,
        spec: &'s AlarmSpec,
        from: Option<EpochMs>,
        to: Option<EpochMs>,
    ) -> Replay<'s, I> {
        let p = spec.period_s / 60;
        let mut minutes = minutes.into_iter().peekable();
        let first = minutes.peek().map(|(m, _)| *m);
        let start = align(spec, p, from.map(|f| (f + MINUTE_MS - 1).div_euclid(MINUTE_MS)).or(first).unwrap_or(0));
        let to = to.map(|t| t.div_euclid(MINUTE_MS).max(start));
        let mut instants = BTreeSet::from([start]);
        if let Some(end) = to.filter(|&e| e > start) {
            instants.insert(end);
        }
        Replay {
            minutes,
            spec,
            p,
            r: i64::from(spec.range()),
            start,
            to,
            instants,
            held: VecDeque::new(),
            values: VecDeque::new(),
            slots: Vec::new(),
            newest: (p >= SLIDE_FROM && !spec.statistic.needs_values()).then(SlidingStats::default),
            last: None,
            state: spec.initial_state,
            end: None,
        }
    }

    /// The first evaluation instant.
    pub(crate) fn start(&self) -> EpochMs {
        self.start * MINUTE_MS
    }

    /// The last evaluation instant, once the replay has run to its end.
    pub(crate) fn end(&self) -> Option<EpochMs> {
        self.end.map(|e| e * MINUTE_MS)
    }

    /// Read one minute: note its instants, hold it.
    fn take(&mut self, m: Minute, s: Stats, next: Option<Minute>) {
        let (p, r) = (self.p, self.r);
        let base = match self.spec.window {
            EvaluationWindow::Sliding => m + 1,
            EvaluationWindow::WallClock => (m.div_euclid(p) + 1) * p,
        };
        for j in 0..=r {
            let i = base + j * p;
            if i > self.start && self.to.is_none_or(|e| i <= e) {
                self.instants.insert(i);
            }
        }
        // Minutes older than every evaluation range still to come.
        let oldest = next.unwrap_or(m + 1).min(m + 1) - r * p;
        while self.held.front().is_some_and(|(h, _)| *h < oldest) {
            self.held.pop_front();
        }
        self.held.push_back((m, s));
        self.last = Some(m);
    }

    /// The value of the period ending at `t` from the sliding window.
    #[inline(never)]
    fn slide_newest(&mut self, t: Minute) -> Option<f64> {
        let window = self.newest.as_mut().expect("sliding");
        window.slide(&self.held, t - self.p, t).and_then(|s| self.spec.statistic.of(&s))
    }

    /// Evaluate at instant `t`: the state change, if any.
    fn evaluate(&mut self, t: Minute) -> Option<Transition> {
        let (p, spec) = (self.p, self.spec);
        // Instants only move forward: periods ending before this range's
        // oldest are not looked at again.
        let oldest = t - (self.r - 1) * p;
        while self.values.front().is_some_and(|(hi, _)| *hi < oldest) {
            self.values.pop_front();
        }
        self.slots.clear();
        for i in 0..self.r {
            let hi = t - i * p;
            let value = match self.values.binary_search_by_key(&hi, |(h, _)| *h) {
                Ok(k) => self.values[k].1,
                Err(k) => {
                    let v = if hi == t && self.newest.is_some() {
                        self.slide_newest(t)
                    } else {
                        period_value(&self.held, hi - p, hi, spec)
                    };
                    self.values.insert(k, (hi, v));
                    v
                }
            };
            self.slots.push(Slot { start: (hi - p) * MINUTE_MS, value });
        }
        let d = decide_worded(&self.slots, spec, self.state, false);
        if d.state == self.state {
            return None;
        }
        let from = std::mem::replace(&mut self.state, d.state);
        Some(Transition { at: t * MINUTE_MS, from, to: d.state, reason: d.reason })
    }
}

impl<I: Iterator<Item = (Minute, Stats)>> Iterator for Replay<'_, I> {
    type Item = Transition;

    fn next(&mut self) -> Option<Transition> {
        while self.end.is_none() {
            let next = self.instants.first().copied();
            if let Some((m, s)) = self.minutes.next_if(|(m, _)| next.is_none_or(|t| *m < t)) {
                self.take(m, s, next);
                continue;
            }
            if let Some(t) = self.instants.pop_first() {
                if let Some(change) = self.evaluate(t) {
                    return Some(change);
                }
                continue;
            }
            // Without `to`, the end comes after every instant of the last
            // minute.
            let (p, r) = (self.p, self.r);
            let end = self.to.or(self.last.map(|l| align(self.spec, p, l + 1 + (r + 1) * p))).unwrap_or(self.start);
            let end = end.max(self.start);
            self.end = Some(end);
            if self.to.is_none() && end > self.start {
                return self.evaluate(end);
            }
        }
        None
    }
}

/// ALARM episodes from state changes in time order (`entered`: when the
/// alarm was already in ALARM at the start): each closed one as [entered,
/// left), and when the one still open at the end began, if one is.
pub fn alarm_episodes(
    changes: impl IntoIterator<Item = (EpochMs, AlarmState)>,
    mut entered: Option<EpochMs>,
) -> (Vec<(EpochMs, EpochMs)>, Option<EpochMs>) {
    let mut closed = Vec::new();
    for (at, to) in changes {
        match (to, entered) {
            (AlarmState::Alarm, None) => entered = Some(at),
            (to, Some(s)) if to != AlarmState::Alarm => {
                closed.push((s, at));
                entered = None;
            }
            _ => {}
        }
    }
    (closed, entered)
}

/// The first evaluation instant at or after minute `t`.
fn align(spec: &AlarmSpec, p: i64, t: Minute) -> Minute {
    match spec.window {
        EvaluationWindow::Sliding => t,
        EvaluationWindow::WallClock => (t + p - 1).div_euclid(p) * p,
    }
}

/// Replay an alarm over per-period datapoints (e.g. from
/// `get-metric-statistics`), evaluating once per period: the newest period
/// evaluated runs from the first datapoint's period (or `from`) to the last
/// one's (or `to`), both inclusive. Periods without a datapoint are missing;
/// datapoints before `from` still count as history in the range.
pub fn evaluate_periods(
    points: &BTreeMap<EpochMs, f64>,
    spec: &AlarmSpec,
    from: Option<EpochMs>,
    to: Option<EpochMs>,
) -> Evaluation {
    let pm = spec.period_ms();
    let r = i64::from(spec.range());
    let floor = |t: EpochMs| t.div_euclid(pm) * pm;
    let first = from.map(floor).or(points.keys().next().map(|&t| floor(t))).unwrap_or(0);
    let last = to.map(floor).or(points.keys().next_back().map(|&t| floor(t))).unwrap_or(first).max(first);
    let mut by_period: BTreeMap<EpochMs, f64> = BTreeMap::new();
    for (&t, &v) in points {
        by_period.insert(floor(t), v);
    }
    let mut state = spec.initial_state;
    let mut transitions = Vec::new();
    let mut evals = Vec::new();
    let mut newest = first;
    while newest <= last {
        let slots: Vec<Slot> = (0..r)
            .map(|i| {
                let start = newest - i * pm;
                Slot { start, value: by_period.get(&start).copied() }
            })
            .collect();
        let d = decide(&slots, spec, state);
        let at = newest + pm;
        if d.state != state {
            transitions.push(Transition { at, from: state, to: d.state, reason: d.reason });
            state = d.state;
        }
        evals.push(EvalPoint { newest_period: newest, at, state });
        newest += pm;
    }
    Evaluation { initial: spec.initial_state, start: first + pm, end: last + pm, transitions, points: evals }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episodes_run_from_entering_alarm_to_leaving_it_and_the_last_may_stay_open() {
        use AlarmState::{Alarm, InsufficientData as Insufficient, Ok as Fine};
        let changes = [(1, Alarm), (5, Fine), (7, Alarm), (8, Insufficient), (9, Alarm)];
        assert_eq!(alarm_episodes(changes, None), (vec![(1, 5), (7, 8)], Some(9)));
        // Already in ALARM at the start: the first change out closes it.
        assert_eq!(alarm_episodes([(3, Fine)], Some(0)), (vec![(0, 3)], None));
        assert_eq!(alarm_episodes([], None), (vec![], None));
    }
    use crate::alarm::spec::{Statistic, TreatMissing};
    use AlarmState::{Alarm, InsufficientData as Insufficient, Ok};

    fn series(minutes: &[i64]) -> BTreeMap<Minute, Stats> {
        let mut m = BTreeMap::new();
        for &t in minutes {
            let mut s = Stats::new(false);
            s.add(1.0, true);
            m.insert(t, s);
        }
        m
    }

    #[test]
    fn single_event_cis_alarm_sliding() {
        // One match in minute 100; period 5 min, N = M = 1, R = 3.
        let ev = evaluate_series(stream(&series(&[100])), &AlarmSpec::default(), None, None);
        let at: Vec<(i64, AlarmState)> = ev.transitions.iter().map(|t| (t.at / MINUTE_MS, t.to)).collect();
        // ALARM as soon as the minute is in the newest period (instant 101),
        // INSUFFICIENT_DATA once the datapoint left the 3-period range.
        assert_eq!(at, [(101, Alarm), (116, Insufficient)]);
        assert_eq!(ev.alarm_episodes(), 1);
        assert_eq!(ev.minutes_in(Alarm), 15);
    }

    #[test]
    fn events_six_minutes_apart_are_one_episode() {
        let ev = evaluate_series(stream(&series(&[100, 106])), &AlarmSpec::default(), None, None);
        assert_eq!(ev.alarm_episodes(), 1);
        let nb = AlarmSpec { treat_missing: TreatMissing::NotBreaching, ..AlarmSpec::default() };
        let ev = evaluate_series(stream(&series(&[100, 106])), &nb, None, None);
        let to: Vec<AlarmState> = ev.transitions.iter().map(|t| t.to).collect();
        // A new alarm with notBreaching goes OK at its first evaluation.
        assert_eq!(to, [Ok, Alarm, Ok]);
        assert_eq!(ev.alarm_episodes(), 1);
    }

    #[test]
    fn ignore_latches_alarm() {
        let ig = AlarmSpec { treat_missing: TreatMissing::Ignore, ..AlarmSpec::default() };
        let ev = evaluate_series(stream(&series(&[100])), &ig, None, None);
        assert_eq!(ev.final_state(), Alarm);
    }

    #[test]
    fn wall_clock_windows() {
        let wc = AlarmSpec { window: EvaluationWindow::WallClock, ..AlarmSpec::default() };
        let ev = evaluate_series(stream(&series(&[101])), &wc, None, None);
        let at: Vec<(i64, AlarmState)> = ev.transitions.iter().map(|t| (t.at / MINUTE_MS, t.to)).collect();
        // Minute 101 is in [100, 105): evaluated at the boundary 105.
        assert_eq!(at, [(105, Alarm), (120, Insufficient)]);
    }

    fn stream(m: &BTreeMap<Minute, Stats>) -> impl Iterator<Item = (Minute, Stats)> + '_ {
        m.iter().map(|(k, v)| (*k, v.clone()))
    }

    /// The period `[lo, hi)` from the whole metric (the reference for the
    /// streamed replay, which holds only one evaluation range).
    fn whole_period_value(s: &BTreeMap<Minute, Stats>, lo: Minute, hi: Minute, spec: &AlarmSpec) -> Option<f64> {
        let mut acc: Option<Stats> = None;
        for s in s.range(lo..hi).map(|(_, s)| s) {
            match &mut acc {
                Some(a) => a.merge(s),
                None => acc = Some(s.clone()),
            }
        }
        spec.statistic.of(&acc?)
    }

    /// Evaluate at every instant the alarm would (every minute when
    /// sliding, every period boundary on the wall clock) from `start` to
    /// `end`, reading periods from the whole metric: the state after each
    /// instant, whether the newest real datapoint breaches, and the reason.
    fn minute_by_minute(
        s: &BTreeMap<Minute, Stats>,
        spec: &AlarmSpec,
        start: Minute,
        end: Minute,
    ) -> Vec<(EpochMs, AlarmState, bool, String)> {
        let p = spec.period_s / 60;
        let r = i64::from(spec.range());
        let step = match spec.window {
            EvaluationWindow::Sliding => 1,
            EvaluationWindow::WallClock => p,
        };
        let mut state = spec.initial_state;
        let mut out = Vec::new();
        let mut t = start;
        while t <= end {
            let slots: Vec<Slot> = (0..r)
                .map(|i| {
                    let hi = t - i * p;
                    Slot { start: (hi - p) * MINUTE_MS, value: whole_period_value(s, hi - p, hi, spec) }
                })
                .collect();
            let d = decide(&slots, spec, state);
            let newest_real_breaches =
                slots.iter().find_map(|s| s.value).is_some_and(|v| spec.comparison.breaches(v, spec.threshold));
            state = d.state;
            out.push((t * MINUTE_MS, state, newest_real_breaches, d.reason));
            t += step;
        }
        out
    }

    /// The state changes of an instant-by-instant replay, with their
    /// reasons.
    fn transitions_of(
        steps: &[(EpochMs, AlarmState, bool, String)],
        initial: AlarmState,
    ) -> Vec<(EpochMs, AlarmState, String)> {
        let mut state = initial;
        let mut out = Vec::new();
        for (at, st, _, reason) in steps {
            if *st != state {
                out.push((*at, *st, reason.clone()));
                state = *st;
            }
        }
        out
    }

    proptest::proptest! {
        /// With N = M = 1 and Sum >= 1 on a count metric, the alarm is in
        /// ALARM at a minute exactly when a breaching datapoint is the newest
        /// real one in the range; and skipping to the instants where a
        /// datapoint enters or leaves a slot gives the transitions of a
        /// minute-by-minute replay, for every missing-data treatment.
        #[test]
        fn alarm_follows_the_newest_real_datapoint(
            minutes in proptest::collection::btree_set(1000i64..1120, 1..8),
            treat in proptest::sample::select(vec![TreatMissing::Missing, TreatMissing::NotBreaching, TreatMissing::Breaching, TreatMissing::Ignore]),
            period in proptest::sample::select(vec![60i64, 300, 600]),
        ) {
            let map = series(&minutes.iter().copied().collect::<Vec<_>>());
            let spec = AlarmSpec { treat_missing: treat, period_s: period, ..AlarmSpec::default() };
            let fast = evaluate_series(stream(&map), &spec, None, None);
            let slow = minute_by_minute(&map, &spec, fast.start / MINUTE_MS, fast.end / MINUTE_MS);
            for &(at, st, newest_breaches, _) in &slow {
                if treat == TreatMissing::Missing || treat == TreatMissing::NotBreaching {
                    proptest::prop_assert_eq!(st == Alarm, newest_breaches, "minute {}", at / MINUTE_MS);
                }
            }
            let fast: Vec<_> = fast.transitions.iter().map(|t| (t.at, t.to, t.reason.clone())).collect();
            proptest::prop_assert_eq!(fast, transitions_of(&slow, spec.initial_state));
        }

        /// For any M out of N, range, window kind, threshold and
        /// `--from`/`--to`, the replay that reads the metric once and holds
        /// one evaluation range changes state exactly where the replay
        /// that evaluates every instant over the whole metric does, for
        /// the same reasons, and evaluates from and to the documented
        /// instants.
        #[test]
        fn streamed_replay_equals_the_whole_metric_replay(
            points in proptest::collection::btree_map(900i64..1300, 1u8..4, 0..40),
            treat in proptest::sample::select(vec![TreatMissing::Missing, TreatMissing::NotBreaching, TreatMissing::Breaching, TreatMissing::Ignore]),
            period in proptest::sample::select(vec![60i64, 300, 600, 3600]),
            n in 1u32..5,
            m in 1u32..5,
            extra in 0u32..3,
            wall in proptest::bool::ANY,
            threshold in 1u8..5,
            statistic in proptest::sample::select(vec![
                Statistic::Sum,
                Statistic::SampleCount,
                Statistic::Average,
                Statistic::Minimum,
                Statistic::Maximum,
                Statistic::Percentile(50.0),
            ]),
            negative in proptest::bool::ANY,
            from in proptest::option::of(800i64..1400),
            span in proptest::option::of(0i64..400),
        ) {
            let m = m.min(n);
            // Before 1970 as well as after.
            let shift = if negative { -2_000 } else { 0 };
            let (from, points): (Option<i64>, BTreeMap<i64, u8>) =
                (from.map(|f| f + shift), points.into_iter().map(|(k, v)| (k + shift, v)).collect());
            let mut map = BTreeMap::new();
            for (&minute, &v) in &points {
                // Two datapoints in some minutes: count, sum and spread differ.
                let mut s = Stats::new(statistic.needs_values());
                s.add(f64::from(v), true);
                if minute % 3 == 0 {
                    s.add(f64::from(v) * 0.5, true);
                }
                map.insert(minute, s);
            }
            let spec = AlarmSpec {
                treat_missing: treat,
                period_s: period,
                evaluation_periods: n,
                datapoints_to_alarm: m,
                evaluation_range: Some(n + extra),
                threshold: f64::from(threshold),
                statistic,
                window: if wall { EvaluationWindow::WallClock } else { EvaluationWindow::Sliding },
                ..AlarmSpec::default()
            };
            let from_ms = from.map(|f| f * MINUTE_MS + 17);
            let to_ms = from.zip(span).map(|(f, s)| (f + s) * MINUTE_MS);
            let fast = evaluate_series(stream(&map), &spec, from_ms, to_ms);
            // The documented range, computed here from the whole metric.
            let p = period / 60;
            let r = i64::from(spec.range());
            let align = |t: Minute| if wall { (t + p - 1).div_euclid(p) * p } else { t };
            let start = align(from.map(|f| f + 1).or(map.keys().next().copied()).unwrap_or(0));
            let end = to_ms
                .map(|t| t / MINUTE_MS)
                .or(map.keys().next_back().map(|l| align(l + 1 + (r + 1) * p)))
                .unwrap_or(start)
                .max(start);
            proptest::prop_assert_eq!((fast.start, fast.end), (start * MINUTE_MS, end * MINUTE_MS));
            let mut slow = minute_by_minute(&map, &spec, start, end);
            // An explicit end off the wall clock's boundaries is evaluated too.
            if wall && end > start && (end - start) % p != 0 {
                let before = slow.last().map_or(spec.initial_state, |s| s.1);
                let slots: Vec<Slot> = (0..r)
                    .map(|i| {
                        let hi = end - i * p;
                        Slot { start: (hi - p) * MINUTE_MS, value: whole_period_value(&map, hi - p, hi, &spec) }
                    })
                    .collect();
                let d = decide(&slots, &spec, before);
                slow.push((end * MINUTE_MS, d.state, false, d.reason));
            }
            let fast: Vec<_> = fast.transitions.iter().map(|t| (t.at, t.to, t.reason.clone())).collect();
            proptest::prop_assert_eq!(fast, transitions_of(&slow, spec.initial_state));
        }
    }

    #[test]
    fn per_period_evaluation() {
        let mut pts = BTreeMap::new();
        let t0 = 1_688_989_800_000;
        pts.insert(t0, 3.0);
        pts.insert(t0 + 600_000, 0.0);
        let ev = evaluate_periods(&pts, &AlarmSpec::default(), None, None);
        let states: Vec<AlarmState> = ev.points.iter().map(|p| p.state).collect();
        // Periods t0, t0+5m (missing, range still holds t0), t0+10m (0.0).
        assert_eq!(states, [Alarm, Alarm, Ok]);
        assert_eq!(ev.points[0].newest_period, t0);
        // A single evaluation with history before --from.
        let one = evaluate_periods(&pts, &AlarmSpec::default(), Some(t0 + 300_000), Some(t0 + 300_000));
        assert_eq!(one.points.len(), 1);
        assert_eq!(one.points[0].state, Alarm);
    }
}
