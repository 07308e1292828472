//! The matching events a scan keeps per window for drill-down: at most
//! `--samples` per window, the earliest, written out past a budget.

use super::report::{Location, RuleResult, Sample};
use crate::record::{EpochMs, EventSummary};
use crate::spill::{Hold, Item, Keyed};

/// Samples a worker holds (over all rules) before it writes them out, by
/// default (see [`super::ScanOptions::samples_held`]): a few hundred bytes
/// each.
pub(crate) const RUN_SAMPLES: usize = 256;

/// Keep the `cap` smallest samples (by time, then location): whether `s`
/// was added (not put in another's place).
pub(super) fn keep_sample(v: &mut Vec<Sample>, s: Sample, cap: usize) -> bool {
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
pub(super) fn wants_sample(v: Option<&Vec<Sample>>, time: EpochMs, at: Location, cap: usize) -> bool {
    match v {
        None => cap > 0,
        Some(v) if v.len() < cap => true,
        Some(v) => v.iter().any(|s| (time, at) < (s.time, s.at)),
    }
}

/// The samples a worker holds, over all rules, with their count: written
/// out as one run per rule, by window, then time and location.
pub(super) struct SamplesHeld<'a> {
    pub(super) rules: &'a mut [RuleResult],
    pub(super) count: &'a mut usize,
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
    /// file, member, offset, and the path and summary fields, each a `u32`
    /// length (`u32::MAX`: absent) and its bytes.
    fn encode(&self, out: &mut Vec<u8>) {
        let (k, s) = self;
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&k.to_le_bytes());
        out.extend_from_slice(&s.time.to_le_bytes());
        out.extend_from_slice(&s.at.file.to_le_bytes());
        out.extend_from_slice(&s.at.member.to_le_bytes());
        out.extend_from_slice(&s.at.offset.to_le_bytes());
        let mut text = |t: Option<&str>| match t {
            Some(t) => {
                out.extend_from_slice(&(t.len() as u32).to_le_bytes());
                out.extend_from_slice(t.as_bytes());
            }
            None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
        };
        text(Some(&s.path));
        for f in s.summary.fields() {
            text(f.as_deref());
        }
        let len = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Result<Option<((i64, Sample), usize)>, &'static str> {
        let Some(head) = bytes.get(..4) else { return Ok(None) };
        let len = u32::from_le_bytes(head.try_into().expect("4 bytes")) as usize;
        let Some(mut rest) = bytes.get(4..4 + len) else { return Ok(None) };
        const SHORT: &str = "a sample is cut short";
        let mut take = |n: usize| -> Result<&[u8], &'static str> {
            let (b, tail) = rest.split_at_checked(n).ok_or(SHORT)?;
            rest = tail;
            Ok(b)
        };
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let half = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
        let k = word(take(8)?) as i64;
        let time = word(take(8)?) as i64;
        let at = Location { file: half(take(4)?), member: half(take(4)?), offset: word(take(8)?) };
        let mut text = || -> Result<Option<String>, &'static str> {
            match half(take(4)?) {
                u32::MAX => Ok(None),
                n => {
                    let b = take(n as usize)?;
                    Ok(Some(std::str::from_utf8(b).map_err(|_| "a sample's text is not UTF-8")?.to_string()))
                }
            }
        };
        let path = text()?.ok_or("a sample without a path")?;
        let mut fields: [Option<String>; EventSummary::FIELDS] = Default::default();
        for f in &mut fields {
            *f = text()?;
        }
        if !rest.is_empty() {
            return Err("a sample is longer than its fields");
        }
        let summary = EventSummary::from_fields(fields);
        Ok(Some(((k, Sample { time, at, summary, path }), 4 + len)))
    }
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

    fn keyed(k: i64, time: i64, file: u32, name: Option<&str>) -> (i64, Sample) {
        let summary = EventSummary { event_name: name.map(str::to_string), ..EventSummary::default() };
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
