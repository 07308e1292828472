//! Sorted runs in bounded memory: per-minute statistic sets and drill-down
//! samples.
//!
//! A metric has one statistic set per minute of activity, and an alarm up
//! to `--samples` events per window, so a scan over months would otherwise
//! hold (in every worker, then merged) an item for each of tens of
//! thousands of minutes and windows. A worker holds a fixed number of them
//! ([`RUN_MINUTES`], [`RUN_SAMPLES`] by default) over all its rules; past
//! that it takes them out, sorted, and appends each rule's (or metric's)
//! as a *run* to one anonymous temporary file shared by all workers
//! ([`Runs`]). When the scan is done, each is read back as the ascending
//! merge of its runs and of what the workers still held ([`Runs::read`]):
//! the report rolls minutes into windows, replays the alarm and picks each
//! window's samples as it writes them. A key with more than [`FAN_IN`] runs
//! has them merged into longer ones first, so reading holds at most
//! `FAN_IN` buffers of [`READ_BYTES`]. A metric's runs are merged into one
//! ([`Runs::compact`] with `most` 1): the report reads each metric three
//! times (counts, windows, state changes), and one merge is cheaper than
//! three.
//!
//! If the temporary file cannot be created or written, items stay in
//! memory (the result is the same; only memory grows) and [`Runs::problem`]
//! says why. If it cannot be read back, the sequence ends early and the
//! reader records why: the scan then counts as failed.

use std::io;
use std::sync::Mutex;

use super::runfile::RunFile;
use super::{Location, Sample};
use crate::merge::{Keyed, Merge};
use crate::metric::series::{Minute, Stats};
use crate::record::EventSummary;

/// Statistic sets a worker holds (over all rules) before it writes them out,
/// by default (see [`super::ScanOptions::minutes_held`]): 7/8 of 1,024,
/// the most one rule's 1,024-bucket table holds before it doubles (about
/// 80 KiB).
pub const RUN_MINUTES: usize = 896;
/// Samples a worker holds (over all rules) before it writes them out, by
/// default (see [`super::ScanOptions::samples_held`]): a few hundred bytes
/// each.
pub const RUN_SAMPLES: usize = 256;
/// Runs of one key read at once.
pub const FAN_IN: usize = 16;
/// Bytes read from a run at a time.
const READ_BYTES: usize = 4096;
/// Bytes gathered before they are appended, while writing or merging runs.
const WRITE_BYTES: usize = 64 << 10;

/// An item of a run: written and read back in a binary form.
pub trait Item: Keyed + Sized {
    /// Append the binary form.
    fn encode(&self, out: &mut Vec<u8>);
    /// Read one item from the front of `bytes`: the item and the bytes it
    /// took, `Ok(None)` when `bytes` holds only part of it, an error when
    /// it is not one.
    fn decode(bytes: &[u8]) -> Result<Option<(Self, usize)>, &'static str>;
}

/// One run on disk: items of one key, ascending.
#[derive(Clone, Debug)]
struct Run<K> {
    key: K,
    start: u64,
    len: u64,
}

/// The runs written out, by key (a rule, or a rule's metric).
#[derive(Debug)]
pub struct Runs<K> {
    file: RunFile,
    runs: Vec<Run<K>>,
    /// What the items are, for messages.
    what: &'static str,
}

impl<K: Ord + Clone> Runs<K> {
    /// No runs yet, of items described as `what`.
    pub fn new(what: &'static str) -> Runs<K> {
        Runs { file: RunFile::default(), runs: Vec::new(), what }
    }

    /// Append `items` (ascending) as a run of `key`. On failure the caller
    /// keeps them; after the first failure no more writes are tried.
    pub fn write<T: Item>(&mut self, key: &K, items: &[T]) -> Result<(), ()> {
        debug_assert!(items.windows(2).all(|w| w[0].key() < w[1].key()));
        // Written in pieces of about WRITE_BYTES, so that the encoded run is
        // never held whole (256 samples are some 200 KB); `&mut self` is the
        // only writer, so the pieces follow one another.
        let start = self.file.end();
        let mut len = 0;
        let mut bytes = Vec::new();
        let mut items = items.iter().peekable();
        // One write at least: no items make an empty run.
        loop {
            while bytes.len() < WRITE_BYTES {
                match items.next() {
                    Some(item) => item.encode(&mut bytes),
                    None => break,
                }
            }
            self.file.write(&bytes, self.what)?;
            len += bytes.len() as u64;
            bytes.clear();
            if items.peek().is_none() {
                break;
            }
        }
        self.runs.push(Run { key: key.clone(), start, len });
        Ok(())
    }

    /// Why items had to stay in memory, if they did.
    pub fn problem(&self) -> Option<&str> {
        self.file.problem()
    }

    /// Merge runs, at most [`FAN_IN`] at a time, until no key has more
    /// than `most` (at least 1). On failure the runs not yet merged stay as
    /// they are (reading them takes more buffers and time, and the result
    /// is the same).
    pub fn compact<T: Item>(&mut self, most: usize) -> io::Result<()> {
        let most = most.max(1);
        loop {
            let mut keys: Vec<&K> = self.runs.iter().map(|r| &r.key).collect();
            keys.sort();
            let Some(crowded) = keys.chunk_by(|a, b| a == b).find(|k| k.len() > most).map(|k| k[0].clone()) else {
                return Ok(());
            };
            let group: Vec<Run<K>> = self.runs.iter().filter(|r| r.key == crowded).take(FAN_IN).cloned().collect();
            let problem = Mutex::new(None);
            let start = self.file.end();
            let readers = group.iter().map(|r| RunReader::<T>::new(&self.file, r.start, r.len, self.what, &problem));
            let mut out = Vec::new();
            for item in Merge::new(readers.collect()) {
                item.encode(&mut out);
                if out.len() >= WRITE_BYTES {
                    self.file.append_to_existing(&out)?;
                    out.clear();
                }
            }
            if let Some(e) = problem.into_inner().expect("problem lock") {
                return Err(io::Error::other(e));
            }
            self.file.append_to_existing(&out)?;
            let starts: Vec<u64> = group.iter().map(|r| r.start).collect();
            self.runs.retain(|r| !(r.key == crowded && starts.contains(&r.start)));
            self.runs.push(Run { key: crowded, start, len: self.file.end() - start });
        }
    }

    /// The items of `key`, ascending: its runs merged with `held` (the
    /// items still in memory, ascending). A run that cannot be read back
    /// ends early, and `problem` says why.
    pub fn read<'a, T: Item + 'a, H: Iterator<Item = T> + 'a>(
        &'a self,
        key: &K,
        held: H,
        problem: &'a Mutex<Option<String>>,
    ) -> Merge<Box<dyn Iterator<Item = T> + 'a>> {
        let mut sources: Vec<Box<dyn Iterator<Item = T> + 'a>> = self
            .runs
            .iter()
            .filter(|r| r.key == *key)
            .map(|r| {
                Box::new(RunReader::new(&self.file, r.start, r.len, self.what, problem)) as Box<dyn Iterator<Item = T>>
            })
            .collect();
        sources.push(Box::new(held));
        Merge::new(sources)
    }
}

/// Reads one run back, [`READ_BYTES`] at a time.
pub struct RunReader<'a, T> {
    file: &'a RunFile,
    /// Next byte of the file to read, and the run's end.
    at: u64,
    end: u64,
    buf: Vec<u8>,
    /// Next byte of `buf` to decode.
    pos: usize,
    what: &'static str,
    problem: &'a Mutex<Option<String>>,
    item: std::marker::PhantomData<T>,
}

impl<'a, T: Item> RunReader<'a, T> {
    fn new(
        file: &'a RunFile,
        start: u64,
        len: u64,
        what: &'static str,
        problem: &'a Mutex<Option<String>>,
    ) -> RunReader<'a, T> {
        let item = std::marker::PhantomData;
        RunReader { file, at: start, end: start + len, buf: Vec::new(), pos: 0, what, problem, item }
    }

    fn fail(&mut self, why: String) -> Option<T> {
        self.at = self.end;
        self.pos = self.buf.len();
        let mut p = self.problem.lock().expect("problem lock");
        p.get_or_insert(format!(
            "{} lost: reading back the temporary file in {} failed: {why}",
            self.what,
            std::env::temp_dir().display()
        ));
        None
    }
}

impl<T: Item> Iterator for RunReader<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            match T::decode(&self.buf[self.pos..]) {
                Ok(Some((item, used))) => {
                    self.pos += used;
                    return Some(item);
                }
                Ok(None) if self.at == self.end => {
                    if self.pos < self.buf.len() {
                        return self.fail("a run ends inside an item".into());
                    }
                    return None;
                }
                Ok(None) => {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                    let n = (self.end - self.at).min(READ_BYTES as u64) as usize;
                    let have = self.buf.len();
                    self.buf.resize(have + n, 0);
                    if let Err(e) = self.file.read_at(&mut self.buf[have..], self.at) {
                        return self.fail(e.to_string());
                    }
                    self.at += n as u64;
                }
                Err(why) => return self.fail(why.into()),
            }
        }
    }
}

impl Item for (Minute, Stats) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.1.encode(self.0, out);
    }
    fn decode(bytes: &[u8]) -> Result<Option<((Minute, Stats), usize)>, &'static str> {
        Ok(Stats::decode(bytes)?.map(|(m, s, n)| ((m, s), n)))
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
    use crate::metric::series::{Dimensions, Series};

    type MinuteRuns = Runs<(usize, Dimensions)>;

    fn set(v: f64) -> Stats {
        let mut s = Stats::new(false);
        s.add(v, true);
        s
    }

    fn read_all(spill: &MinuteRuns, rule: usize, dims: &Dimensions, held: &Series) -> Vec<(Minute, u64, f64)> {
        let problem = Mutex::new(None);
        let held = held.sorted(dims).into_iter().map(|(m, s)| (m, s.clone()));
        let out = spill.read(&(rule, dims.clone()), held, &problem).map(|(m, s)| (m, s.count, s.sum.value())).collect();
        assert_eq!(*problem.lock().unwrap(), None);
        out
    }

    #[test]
    fn a_run_larger_than_one_write_and_an_empty_run_read_back_whole() {
        let mut spill = MinuteRuns::new("statistics");
        let none: Dimensions = Vec::new();
        let sets: Vec<(Minute, Stats)> = (0..5000).map(|m| (m, set(m as f64))).collect();
        spill.write(&(0, none.clone()), &sets).unwrap();
        assert!(spill.runs[0].len > 3 * WRITE_BYTES as u64, "more than three pieces");
        spill.write::<(Minute, Stats)>(&(1, none.clone()), &[]).unwrap();
        spill.write(&(2, none.clone()), &[(7, set(1.0))]).unwrap();
        let got = read_all(&spill, 0, &none, &Series::new(false));
        assert_eq!(got, (0..5000).map(|m| (m, 1, m as f64)).collect::<Vec<_>>());
        assert_eq!(read_all(&spill, 1, &none, &Series::new(false)), []);
        assert_eq!(read_all(&spill, 2, &none, &Series::new(false)), [(7, 1, 1.0)]);
    }

    #[test]
    fn runs_and_held_sets_read_back_as_one_metric() {
        let mut spill = MinuteRuns::new("statistics");
        let none: Dimensions = Vec::new();
        let dims: Dimensions = vec![("User".into(), "alice".into())];
        spill.write(&(0, none.clone()), &[(1, set(1.0)), (5, set(2.0))]).unwrap();
        spill.write(&(1, none.clone()), &[(1, set(100.0))]).unwrap();
        spill.write(&(0, dims.clone()), &[(1, set(50.0))]).unwrap();
        spill.write(&(0, none.clone()), &[(3, set(4.0)), (5, set(8.0))]).unwrap();
        let mut held = Series::new(false);
        held.add(none.clone(), 5, 16.0, true);
        held.add(none.clone(), 7, 32.0, true);
        assert_eq!(read_all(&spill, 0, &none, &held), [(1, 1, 1.0), (3, 1, 4.0), (5, 3, 26.0), (7, 1, 32.0)]);
        assert_eq!(read_all(&spill, 0, &dims, &Series::new(false)), [(1, 1, 50.0)]);
        assert_eq!(read_all(&spill, 2, &none, &Series::new(false)), []);
    }

    #[test]
    fn compaction_leaves_at_most_the_runs_asked_for_and_the_same_metric() {
        let mut spill = MinuteRuns::new("statistics");
        let none: Dimensions = Vec::new();
        // 100 runs of 3 minutes each, overlapping.
        for r in 0..100i64 {
            let sets: Vec<(Minute, Stats)> = (0..3).map(|i| (r + i * 40, set(1.0))).collect();
            spill.write(&(0, none.clone()), &sets).unwrap();
        }
        spill.write(&(1, none.clone()), &[(0, set(1.0))]).unwrap();
        let before = read_all(&spill, 0, &none, &Series::new(false));
        let runs_of = |spill: &MinuteRuns, rule: usize| spill.runs.iter().filter(|r| r.key.0 == rule).count();
        spill.compact::<(Minute, Stats)>(FAN_IN).unwrap();
        assert!((2..=FAN_IN).contains(&runs_of(&spill, 0)), "{}", spill.runs.len());
        assert_eq!(read_all(&spill, 0, &none, &Series::new(false)), before);
        assert_eq!(before.iter().map(|x| x.1).sum::<u64>(), 300);
        // Down to one run per metric.
        spill.compact::<(Minute, Stats)>(1).unwrap();
        assert_eq!((runs_of(&spill, 0), runs_of(&spill, 1)), (1, 1));
        assert_eq!(read_all(&spill, 0, &none, &Series::new(false)), before);
        assert_eq!(before.len(), 180, "minutes 0 to 179");
        assert_eq!(read_all(&spill, 1, &none, &Series::new(false)), [(0, 1, 1.0)]);
    }

    #[test]
    fn sets_larger_than_a_read_are_read_whole() {
        let mut spill = MinuteRuns::new("statistics");
        let none: Dimensions = Vec::new();
        let mut big = Stats::new(true);
        for i in 0..2000 {
            big.add(f64::from(i), true);
        }
        spill.write(&(0, none.clone()), &[(1, set(1.0)), (2, big), (3, set(1.0))]).unwrap();
        let got = read_all(&spill, 0, &none, &Series::new(false));
        assert_eq!(got.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(), [(1, 1), (2, 2000), (3, 1)]);
    }

    #[test]
    fn a_damaged_run_ends_the_sequence_and_says_why() {
        let mut spill = MinuteRuns::new("per-minute statistics");
        let none: Dimensions = Vec::new();
        spill.write(&(0, none.clone()), &[(1, set(1.0)), (2, set(1.0))]).unwrap();
        // The run claims a byte more than was written.
        spill.runs[0].len += 1;
        let problem = Mutex::new(None);
        let got: Vec<Minute> =
            spill.read(&(0, none), std::iter::empty(), &problem).map(|(m, _): (Minute, Stats)| m).collect();
        assert!(got.len() <= 2);
        let why = problem.into_inner().unwrap().expect("a problem");
        assert!(why.contains("per-minute statistics lost"), "{why}");
    }

    fn sample(k: i64, time: i64, file: u32, name: Option<&str>) -> (i64, Sample) {
        let summary = EventSummary { event_name: name.map(str::to_string), ..EventSummary::default() };
        let at = Location { file, member: file % 2, offset: u64::from(file) * 1000 + 7 };
        (k, Sample { time, at, summary, path: format!("dir/é{file}.json.gz") })
    }

    #[test]
    fn samples_survive_their_binary_form_and_merge_by_window_then_time() {
        let all = [sample(1, 60, 3, Some("ConsoleLogin")), sample(1, 61, 1, None), sample(2, 5, 2, Some(""))];
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
