//! The matching events a scan keeps per window for drill-down: at most
//! `--samples` per window, the earliest, written out past a budget.

use super::report::{Location, RuleResult, Sample};
use crate::record::{EpochMs, EventSummary};
use crate::spill::codec::{put_text, Fields};
use crate::spill::{Hold, Item, Keyed};
use rustc_hash::FxHashMap;

/// Samples a worker holds (over all rules) before it writes them out, by
/// default (see [`super::ScanOptions::samples_held`]): a few hundred bytes
/// each.
pub(crate) const RUN_SAMPLES: usize = 256;

/// Samples a worker holds before it writes them out when every matching
/// record is kept ([`super::ScanOptions::keep_all`]), by default: about a
/// kilobyte each, so a few megabytes per worker, and one run written per
/// this many matching records instead of per 256.
pub const RUN_KEPT: usize = 4096;

/// Lists of at most this many samples are kept exactly as long as they are.
const EXACT_UP_TO: usize = 64;

/// The window of matching records without a usable time, kept only when
/// every matching record is ([`super::ScanOptions::keep_all`]); their
/// [`Sample::time`] is the same value. Before every real window.
pub const UNPLACED: i64 = i64::MIN;

/// Keep the `cap` smallest samples (by time, then location): whether `s`
/// was added (not put in another's place).
pub(super) fn keep_sample(v: &mut Vec<Sample>, s: Sample, cap: usize) -> bool {
    if v.len() < cap {
        // Exactly as long as it is: most windows get one or two samples
        // in a thread, and a list of four (what `push` would make room
        // for) took a kilobyte however few it held. Not when every record
        // is kept: growing by one each time would copy the list each time.
        if cap < EXACT_UP_TO {
            v.reserve_exact(1);
        }
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

/// Whether a sample with this key could still be kept, given the
/// window's samples held and its [bar](Bars).
pub(super) fn wants_sample(
    v: Option<&Vec<Sample>>,
    bar: Option<(EpochMs, Location)>,
    time: EpochMs,
    at: Location,
    cap: usize,
) -> bool {
    if bar.is_some_and(|b| (time, at) >= b) {
        return false;
    }
    match v {
        None => cap > 0,
        Some(v) if v.len() < cap => true,
        Some(v) => v.iter().any(|s| (time, at) < (s.time, s.at)),
    }
}

/// Windows a worker keeps a bar for before it forgets them all.
const BARS: usize = 16_384;

/// For the windows whose samples a worker wrote out while their list was
/// full, the latest of those samples (by time, then location): the
/// window's first samples are all at or before it, so a record after it
/// needs no summary. A later record that is not wanted is only work saved:
/// past [`BARS`] windows they are forgotten.
#[derive(Debug, Default)]
pub(super) struct Bars(FxHashMap<(u32, i64), (EpochMs, Location)>);

impl Bars {
    /// The bar of rule `rule`'s window `k`.
    pub(super) fn get(&self, rule: usize, k: i64) -> Option<(EpochMs, Location)> {
        if self.0.is_empty() {
            return None;
        }
        self.0.get(&(rule as u32, k)).copied()
    }

    /// Lower the bar of rule `rule`'s window `k` to `key` if that is
    /// earlier.
    fn lower(&mut self, rule: usize, k: i64, key: (EpochMs, Location)) {
        if self.0.len() >= BARS && !self.0.contains_key(&(rule as u32, k)) {
            self.0.clear();
        }
        let bar = self.0.entry((rule as u32, k)).or_insert(key);
        *bar = (*bar).min(key);
    }

    /// Another worker's bars (its written samples are among the ones
    /// merged too).
    pub(super) fn absorb(&mut self, other: Bars) {
        for ((rule, k), key) in other.0 {
            self.lower(rule as usize, k, key);
        }
    }
}

/// The samples a worker holds, over all rules, with their count: written
/// out as one run per rule, by window, then time and location.
pub(super) struct SamplesHeld<'a> {
    pub(super) rules: &'a mut [RuleResult],
    pub(super) count: &'a mut usize,
    /// Set, or lowered, for the windows written out with `cap` samples.
    pub(super) bars: &'a mut Bars,
    pub(super) cap: usize,
}

impl Hold for SamplesHeld<'_> {
    type Key = usize;
    type Item = (i64, Sample);

    fn held(&self) -> usize {
        *self.count
    }

    fn take(&mut self) -> Vec<(usize, Vec<(i64, Sample)>)> {
        let mut runs = Vec::new();
        for (i, r) in self.rules.iter_mut().enumerate() {
            for (k, v) in &r.samples {
                if v.len() >= self.cap {
                    if let Some(last) = v.iter().map(|s| (s.time, s.at)).max() {
                        self.bars.lower(i, *k, last);
                    }
                }
            }
            let mut items: Vec<(i64, Sample)> =
                r.samples.drain().flat_map(|(k, v)| v.into_iter().map(move |s| (k, s))).collect();
            if !items.is_empty() {
                items.sort_unstable_by_key(|(k, s)| (*k, s.time, s.at));
                runs.push((i, items));
            }
        }
        *self.count = 0;
        runs
    }

    fn put_back(&mut self, rule: usize, run: Vec<(i64, Sample)>) {
        *self.count += run.len();
        let samples = &mut self.rules[rule].samples;
        for (k, s) in run {
            samples.entry(k).or_default().push(s);
        }
    }
}

/// A sample with the index of its window, as samples are merged: sorted by
/// window, then time and location (no two samples share both).
impl Keyed for (i64, Sample) {
    type Key = (i64, i64, Location);
    fn key(&self) -> (i64, i64, Location) {
        (self.0, self.1.time, self.1.at)
    }
    fn fold(&mut self, _same: (i64, Sample)) {}
}

impl Item for (i64, Sample) {
    /// A little-endian `u32` length of the rest, then the window, time,
    /// file, member, offset, the path and the summary (see
    /// [`put_summary`]); texts a `u32` length (`u32::MAX`: absent) and
    /// their bytes.
    fn encode(&self, out: &mut Vec<u8>) {
        let (k, s) = self;
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&k.to_le_bytes());
        out.extend_from_slice(&s.time.to_le_bytes());
        out.extend_from_slice(&s.at.file.to_le_bytes());
        out.extend_from_slice(&s.at.member.to_le_bytes());
        out.extend_from_slice(&s.at.offset.to_le_bytes());
        put_text(out, Some(&s.path));
        put_summary(out, &s.summary);
        let len = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Result<Option<((i64, Sample), usize)>, &'static str> {
        let Some(head) = bytes.get(..4) else { return Ok(None) };
        let len = u32::from_le_bytes(head.try_into().expect("4 bytes")) as usize;
        let Some(rest) = bytes.get(4..4 + len) else { return Ok(None) };
        let mut r = Fields::new(rest, "a sample is cut short");
        let k = r.word()? as i64;
        let time = r.word()? as i64;
        let at = Location { file: r.half()?, member: r.half()?, offset: r.word()? };
        let path = r.text()?.ok_or("a sample without a path")?;
        let summary = read_summary(&mut r)?;
        if !r.is_done() {
            return Err("a sample is longer than its fields");
        }
        Ok(Some(((k, Sample { time, at, summary, path }), 4 + len)))
    }
}

/// A summary written out: its fields, the number of `--group-by` values
/// and those values, and the whole record (or none).
pub(super) fn put_summary(out: &mut Vec<u8>, s: &EventSummary) {
    for f in s.fields() {
        put_text(out, f.as_deref());
    }
    out.extend_from_slice(&(s.groups.len() as u32).to_le_bytes());
    for g in &s.groups {
        put_text(out, g.as_deref());
    }
    put_text(out, s.record.as_deref());
}

/// A summary written by [`put_summary`], read back.
pub(super) fn read_summary(r: &mut Fields<'_>) -> Result<EventSummary, &'static str> {
    let mut fields: [Option<String>; EventSummary::FIELDS] = Default::default();
    for f in &mut fields {
        *f = r.text()?;
    }
    let groups = r.half()? as usize;
    if groups > r.left() / 4 {
        return Err(r.short());
    }
    let groups = (0..groups).map(|_| r.text()).collect::<Result<Vec<_>, _>>()?;
    let record = r.text()?;
    Ok(EventSummary { groups, record, ..EventSummary::from_fields(fields) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spill::Runs;
    use std::sync::Mutex;

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

    #[test]
    fn a_window_written_out_full_wants_only_samples_before_its_latest() {
        let mut rules = vec![RuleResult::default(), RuleResult::default()];
        rules[0].samples.insert(7, vec![sample(30), sample(10)]);
        rules[0].samples.insert(8, vec![sample(500)]);
        rules[1].samples.insert(7, vec![sample(40), sample(20)]);
        let (mut count, mut bars) = (5, Bars::default());
        let taken = SamplesHeld { rules: &mut rules, count: &mut count, bars: &mut bars, cap: 2 }.take();
        assert_eq!((taken.len(), count), (2, 0));
        assert!(rules.iter().all(|r| r.samples.is_empty()));
        // Full windows get the latest of their samples as a bar; the window
        // written with one sample of two gets none.
        let at = |t: EpochMs| Location { file: 0, member: 0, offset: t as u64 };
        assert_eq!(bars.get(0, 7), Some((30, at(30))));
        assert_eq!(bars.get(1, 7), Some((40, at(40))));
        assert_eq!(bars.get(0, 8), None);
        assert!(wants_sample(None, bars.get(0, 7), 29, at(29), 2));
        assert!(!wants_sample(None, bars.get(0, 7), 30, at(30), 2));
        assert!(!wants_sample(None, bars.get(0, 7), 31, at(31), 2));
        assert!(wants_sample(None, bars.get(0, 8), 900, at(900), 2));
        // A second write-out lowers a bar, never raises it; another
        // worker's bars are taken the same way.
        rules[0].samples.insert(7, vec![sample(25), sample(5)]);
        let mut other = Bars::default();
        other.lower(0, 7, (90, at(90)));
        other.lower(1, 9, (60, at(60)));
        SamplesHeld { rules: &mut rules, count: &mut count, bars: &mut bars, cap: 2 }.take();
        bars.absorb(other);
        assert_eq!(bars.get(0, 7), Some((25, at(25))));
        assert_eq!(bars.get(1, 9), Some((60, at(60))));
    }

    #[test]
    fn bars_are_forgotten_past_their_bound_and_only_cost_work() {
        let mut bars = Bars::default();
        let at = Location { file: 1, member: 0, offset: 0 };
        for k in 0..BARS as i64 {
            bars.lower(0, k, (k, at));
        }
        assert_eq!(bars.get(0, 0), Some((0, at)));
        bars.lower(0, 0, (-1, at));
        assert_eq!(bars.0.len(), BARS, "a window it has is lowered in place");
        bars.lower(1, 0, (5, at));
        assert_eq!(bars.0.len(), 1);
        assert_eq!((bars.get(0, 0), bars.get(1, 0)), (None, Some((5, at))));
    }

    fn keyed(k: i64, time: i64, file: u32, name: Option<&str>) -> (i64, Sample) {
        let mut summary = EventSummary { event_name: name.map(str::to_string), ..EventSummary::default() };
        if file == 3 {
            summary.groups = vec![Some("arn:aws:iam::1:role/r".into()), None];
            summary.record = Some(r#"{"eventName":"ConsoleLogin"}"#.into());
        }
        let at = Location { file, member: file % 2, offset: u64::from(file) * 1000 + 7 };
        (k, Sample { time, at, summary, path: format!("dir/é{file}.json.gz") })
    }

    #[test]
    fn samples_survive_their_binary_form_and_merge_by_window_then_time() {
        let all = [keyed(1, 60, 3, Some("ConsoleLogin")), keyed(1, 61, 1, None), keyed(2, 5, 2, Some(""))];
        let mut bytes = Vec::new();
        all.iter().for_each(|s| s.encode(&mut bytes));
        let mut rest = &bytes[..];
        for want in &all {
            let (got, n) = <(i64, Sample)>::decode(rest).unwrap().unwrap();
            assert_eq!(&got, want);
            for cut in 0..n {
                assert!(<(i64, Sample)>::decode(&rest[..cut]).unwrap().is_none(), "cut at {cut}");
            }
            rest = &rest[n..];
        }
        let mut spill: Runs<usize> = Runs::new("samples");
        spill.write(&0, &[all[0].clone(), all[2].clone()]).unwrap();
        let problem = Mutex::new(None);
        let merged: Vec<(i64, Sample)> = spill.read(&0, std::iter::once(all[1].clone()), &problem).collect();
        assert_eq!(merged, [all[0].clone(), all[1].clone(), all[2].clone()]);
        // Damage is an error, not a panic.
        let mut bad = Vec::new();
        all[0].encode(&mut bad);
        bad[4 + 32..4 + 36].copy_from_slice(&999u32.to_le_bytes());
        assert!(<(i64, Sample)>::decode(&bad).is_err());
    }
}
