//! Who and what is behind the matches: matching records counted by the
//! fields an analyst asks about first (principal, source IP, eventName,
//! errorCode, account, region), with first and last seen and the earliest
//! examples, per group: per rule, or per side of a comparison of two rules.
//!
//! Counts, first and last seen and examples are the same whatever the
//! order the records are read in. Past [`MAX_VALUES`] distinct values of
//! one field in one group, further new values are counted together as
//! `other` (and which values made it first can then depend on the order):
//! the report says so.

use rustc_hash::FxHashMap;

use super::report::{Location, Sample};
use super::samples::keep_sample;
use crate::record::{EpochMs, EventSummary};

/// Distinct values kept per field and group.
pub const MAX_VALUES: usize = 100_000;

/// The fields matching records are counted by.
pub const FACETS: [&str; 6] = ["principal", "sourceIPAddress", "eventName", "errorCode", "accountId", "awsRegion"];

/// What to count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TallyBy {
    /// Nothing (the default).
    #[default]
    Off,
    /// Each rule's matching records: group `i` is rule `i`.
    Rules,
    /// Two rules compared: group 0 holds the records only rule `a` matched,
    /// group 1 those only rule `b` matched, group 2 those both matched.
    Contrast(usize, usize),
}

impl TallyBy {
    fn groups(self, rules: usize) -> usize {
        match self {
            TallyBy::Off => 0,
            TallyBy::Rules => rules,
            TallyBy::Contrast(..) => 3,
        }
    }

    /// Whether records' summaries are needed.
    pub(crate) fn is_on(self) -> bool {
        self != TallyBy::Off
    }
}

/// How often one value was seen, and when first and last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Matching records with this value.
    pub count: u64,
    /// The earliest of their times (records without a time are counted,
    /// not dated).
    pub first: Option<EpochMs>,
    /// The latest.
    pub last: Option<EpochMs>,
}

impl Seen {
    fn add(&mut self, other: Seen) {
        self.count += other.count;
        self.first = min_some(self.first, other.first);
        self.last = self.last.max(other.last);
    }
}

fn min_some(a: Option<EpochMs>, b: Option<EpochMs>) -> Option<EpochMs> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// One field's values in one group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facet {
    values: FxHashMap<Box<str>, Seen>,
    /// Records without the field.
    absent: Option<Seen>,
    /// Records whose value came after [`MAX_VALUES`] others.
    pub other: u64,
}

impl Facet {
    fn add(&mut self, value: Option<&str>, seen: Seen) {
        let Some(v) = value else {
            match &mut self.absent {
                Some(s) => s.add(seen),
                None => self.absent = Some(seen),
            }
            return;
        };
        // Looked up by the borrowed text: a value seen before costs no
        // allocation.
        if let Some(s) = self.values.get_mut(v) {
            s.add(seen);
        } else if self.values.len() < MAX_VALUES {
            self.values.insert(Box::from(v), seen);
        } else {
            self.other += seen.count;
        }
    }

    fn merge(&mut self, other: Facet) {
        self.other += other.other;
        if let Some(a) = other.absent {
            self.add(None, a);
        }
        for (k, v) in other.values {
            self.add(Some(&k), v);
        }
    }

    /// The `n` most frequent values, most first (ties by value; absence,
    /// `None`, before any value).
    pub fn top(&self, n: usize) -> Vec<(Option<&str>, Seen)> {
        let present = self.values.iter().map(|(k, v)| (Some(&**k), *v));
        let mut all: Vec<(Option<&str>, Seen)> = self.absent.map(|a| (None, a)).into_iter().chain(present).collect();
        all.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// Distinct values (up to [`MAX_VALUES`]), absence counted as one.
    pub fn distinct(&self) -> usize {
        self.values.len() + usize::from(self.absent.is_some())
    }
}

/// One group's matching records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    /// Records in the group.
    pub records: u64,
    /// Per field of [`FACETS`], in that order, then per `--group-by`
    /// selector.
    pub facets: Vec<Facet>,
    /// The earliest records of the group (by time, then location), as many
    /// as the scan keeps samples.
    pub examples: Vec<Sample>,
}

impl Group {
    /// An empty group counted by [`FACETS`] and `extra` further fields.
    pub(crate) fn new(extra: usize) -> Group {
        Group { facets: vec![Facet::default(); FACETS.len() + extra], ..Group::default() }
    }

    /// Count one record, at `time` if it has one.
    pub(crate) fn add(&mut self, s: &EventSummary, time: Option<EpochMs>) {
        self.records += 1;
        let seen = Seen { count: 1, first: time, last: time };
        let values = [&s.principal, &s.source_ip, &s.event_name, &s.error_code, &s.account, &s.region]
            .into_iter()
            .chain(&s.groups)
            .map(|v| v.as_deref());
        for (facet, value) in self.facets.iter_mut().zip(values) {
            facet.add(value, seen);
        }
    }
}

/// Matching records counted by group and field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// What is counted.
    pub by: TallyBy,
    /// The groups (see [`TallyBy`]).
    pub groups: Vec<Group>,
}

impl Tally {
    /// Count by [`FACETS`] and `extra` further fields (the summaries'
    /// `groups`).
    pub(crate) fn new(by: TallyBy, rules: usize, extra: usize) -> Tally {
        Tally { by, groups: (0..by.groups(rules)).map(|_| Group::new(extra)).collect() }
    }

    /// Count one record, which matched the rules `matched` says it did
    /// (`summary`: what it is and the path of its file, made once).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add<'s>(
        &mut self,
        matched: impl Fn(usize) -> bool,
        rules: usize,
        time: Option<EpochMs>,
        at: Location,
        examples: usize,
        summary: &dyn Fn() -> &'s (EventSummary, String),
    ) {
        match self.by {
            TallyBy::Off => {}
            TallyBy::Rules => {
                for g in (0..rules).filter(|&i| matched(i)) {
                    self.count(g, time, at, examples, summary());
                }
            }
            TallyBy::Contrast(a, b) => {
                let g = match (matched(a), matched(b)) {
                    (true, false) => 0,
                    (false, true) => 1,
                    (true, true) => 2,
                    (false, false) => return,
                };
                self.count(g, time, at, examples, summary());
            }
        }
    }

    /// Count one record in group `g`.
    fn count(&mut self, g: usize, time: Option<EpochMs>, at: Location, examples: usize, made: &(EventSummary, String)) {
        let (s, path) = made;
        let group = &mut self.groups[g];
        group.add(s, time);
        if let Some(t) = time {
            let wanted = group.examples.len() < examples || group.examples.iter().any(|e| (t, at) < (e.time, e.at));
            if wanted {
                let sample = Sample { time: t, at, summary: s.clone(), path: path.clone() };
                keep_sample(&mut group.examples, sample, examples);
            }
        }
    }

    pub(super) fn merge(&mut self, other: Tally, examples: usize) {
        for (a, b) in self.groups.iter_mut().zip(other.groups) {
            a.records += b.records;
            for (x, y) in a.facets.iter_mut().zip(b.facets) {
                x.merge(y);
            }
            for e in b.examples {
                keep_sample(&mut a.examples, e, examples);
            }
        }
    }

    /// Sort each group's examples by time and location.
    pub(super) fn finish(&mut self) {
        for g in &mut self.groups {
            g.examples.sort_by_key(|e| (e.time, e.at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(principal: &str, name: &str) -> EventSummary {
        EventSummary { event_name: Some(name.into()), principal: Some(principal.into()), ..EventSummary::default() }
    }

    fn at(offset: u64) -> Location {
        Location { file: 0, member: 0, offset }
    }

    #[test]
    fn a_contrast_counts_each_record_on_its_side_and_any_split_merges_to_the_same() {
        // (matched a, matched b, principal, time)
        let records = [
            (true, false, "alice", 5),
            (true, false, "alice", 1),
            (false, true, "bob", 3),
            (true, true, "carol", 2),
            (false, false, "dave", 4),
            (true, false, "bob", 9),
        ];
        let count = |part: &[(bool, bool, &str, i64)], base: u64| {
            let mut t = Tally::new(TallyBy::Contrast(0, 1), 2, 0);
            for (k, &(a, b, who, time)) in part.iter().enumerate() {
                let made = (summary(who, "Run"), "f".to_string());
                t.add(|i| [a, b][i], 2, Some(time), at(base + k as u64), 2, &|| &made);
            }
            t
        };
        let mut whole = count(&records, 0);
        whole.finish();
        assert_eq!(whole.groups.iter().map(|g| g.records).collect::<Vec<_>>(), [3, 1, 1]);
        let only_a = &whole.groups[0];
        let top = only_a.facets[0].top(5);
        assert_eq!(top[0], (Some("alice"), Seen { count: 2, first: Some(1), last: Some(5) }));
        assert_eq!(top[1], (Some("bob"), Seen { count: 1, first: Some(9), last: Some(9) }));
        assert_eq!(only_a.examples.iter().map(|e| e.time).collect::<Vec<_>>(), [1, 5]);
        // Split in two and merged (in either order): the same.
        for cut in 0..records.len() {
            let (x, y) = records.split_at(cut);
            let (mut p, q) = (count(y, cut as u64), count(x, 0));
            p.merge(q, 2);
            p.finish();
            assert_eq!(p, whole, "cut at {cut}");
        }
    }

    #[test]
    fn per_rule_counts_a_record_once_for_each_rule_it_matched_and_absent_fields_as_none() {
        let mut t = Tally::new(TallyBy::Rules, 3, 0);
        let made = (EventSummary::from_fields(Default::default()), "f".to_string());
        t.add(|i| i != 1, 3, None, at(0), 3, &|| &made);
        assert_eq!(t.groups.iter().map(|g| g.records).collect::<Vec<_>>(), [1, 0, 1]);
        assert_eq!(t.groups[0].facets[3].top(1), [(None, Seen { count: 1, first: None, last: None })]);
        assert!(t.groups[0].examples.is_empty(), "no time, no example");
    }

    #[test]
    fn past_the_cap_new_values_are_counted_as_other() {
        let mut f = Facet::default();
        for i in 0..MAX_VALUES + 5 {
            f.add(Some(&i.to_string()), Seen { count: 1, first: None, last: None });
        }
        f.add(Some("0"), Seen { count: 1, first: None, last: None });
        assert_eq!((f.distinct(), f.other), (MAX_VALUES, 5));
        assert_eq!(f.top(1)[0].1.count, 2);
    }
}
