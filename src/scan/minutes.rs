//! Per-minute statistic sets in bounded memory.
//!
//! A metric has one statistic set per minute of activity, so a scan over
//! months would otherwise hold (in every worker, then merged) a set for
//! each of tens of thousands of minutes. A worker holds at most
//! [`RUN_MINUTES`] sets (by default) over all its rules; past that it takes them out,
//! sorted by metric and minute, and appends each metric's as a *run* to one
//! anonymous temporary file shared by all workers ([`MinuteSpill`]). When
//! the scan is done, each metric is read back as the ascending merge of its
//! runs and of what the workers still held ([`MinuteSpill::read`]): the
//! report rolls it into windows and replays the alarm in one pass each,
//! holding one evaluation range. A metric with more than [`FAN_IN`] runs has
//! them merged into longer ones first, so reading holds at most `FAN_IN`
//! buffers of [`READ_BYTES`].
//!
//! If the temporary file cannot be created or written, sets stay in memory
//! (the result is the same; only memory grows) and [`MinuteSpill::problem`]
//! says why. If it cannot be read back, the metric ends early and the
//! reader records why: the scan then counts as failed.

use std::io;
use std::sync::Mutex;

use super::runfile::RunFile;
use crate::metric::series::{Dimensions, MergeMinutes, Minute, Stats};

/// Statistic sets a worker holds (over all rules) before it writes them out,
/// by default (see [`super::ScanOptions::minutes_held`]): 7/8 of 1,024,
/// the most one rule's 1,024-bucket table holds before it doubles (about
/// 80 KiB).
pub const RUN_MINUTES: usize = 896;
/// Runs of one metric read at once.
pub const FAN_IN: usize = 16;
/// Bytes read from a run at a time.
const READ_BYTES: usize = 4096;
/// Bytes gathered before they are appended while merging runs.
const WRITE_BYTES: usize = 64 << 10;

/// One run on disk: the sets of one metric, ascending by minute.
#[derive(Clone, Debug)]
struct Run {
    rule: usize,
    dims: Dimensions,
    start: u64,
    len: u64,
}

/// The runs written out.
#[derive(Debug, Default)]
pub struct MinuteSpill {
    file: RunFile,
    runs: Vec<Run>,
}

impl MinuteSpill {
    /// Append the sets of `rule`'s metric `dims`, ascending by minute. On
    /// failure the caller keeps them; after the first failure no more
    /// writes are tried.
    pub fn write(&mut self, rule: usize, dims: &Dimensions, sets: &[(Minute, Stats)]) -> Result<(), ()> {
        debug_assert!(sets.windows(2).all(|w| w[0].0 < w[1].0));
        let mut bytes = Vec::new();
        for (m, s) in sets {
            s.encode(*m, &mut bytes);
        }
        let start = self.file.write(&bytes, "per-minute statistics")?;
        self.runs.push(Run { rule, dims: dims.clone(), start, len: bytes.len() as u64 });
        Ok(())
    }

    /// Why sets had to stay in memory, if they did.
    pub fn problem(&self) -> Option<&str> {
        self.file.problem()
    }

    /// Merge runs until no metric has more than [`FAN_IN`]. On failure the
    /// runs not yet merged stay as they are (reading them takes more
    /// buffers, and the result is the same).
    pub fn compact(&mut self) -> io::Result<()> {
        loop {
            let mut keys: Vec<(usize, &Dimensions)> = self.runs.iter().map(|r| (r.rule, &r.dims)).collect();
            keys.sort();
            let Some(crowded) = keys.chunk_by(|a, b| a == b).find(|k| k.len() > FAN_IN).map(|k| k[0]) else {
                return Ok(());
            };
            let (rule, dims) = (crowded.0, crowded.1.clone());
            let group: Vec<Run> =
                self.runs.iter().filter(|r| r.rule == rule && r.dims == dims).take(FAN_IN).cloned().collect();
            let problem = Mutex::new(None);
            let start = self.file.end();
            let sources: Vec<Source<'_>> =
                group.iter().map(|r| Source::Disk(RunReader::new(&self.file, r, &problem))).collect();
            let mut out = Vec::new();
            for (m, s) in MergeMinutes::new(sources) {
                s.encode(m, &mut out);
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
            self.runs.retain(|r| !(r.rule == rule && r.dims == dims && starts.contains(&r.start)));
            self.runs.push(Run { rule, dims, start, len: self.file.end() - start });
        }
    }

    /// `rule`'s metric `dims`, ascending by minute: its runs merged with
    /// `held` (the sets still in memory, ascending). A run that cannot be
    /// read back ends early, and `problem` says why.
    pub fn read<'a>(
        &'a self,
        rule: usize,
        dims: &Dimensions,
        held: Vec<(Minute, &'a Stats)>,
        problem: &'a Mutex<Option<String>>,
    ) -> MergeMinutes<Source<'a>> {
        let mut sources: Vec<Source<'a>> = self
            .runs
            .iter()
            .filter(|r| r.rule == rule && r.dims == *dims)
            .map(|r| Source::Disk(RunReader::new(&self.file, r, problem)))
            .collect();
        sources.push(Source::Memory(held.into_iter()));
        MergeMinutes::new(sources)
    }
}

/// Where one metric's sets come from: a run on disk or the sets held.
pub enum Source<'a> {
    /// A run on disk.
    Disk(RunReader<'a>),
    /// Sets still in memory, ascending.
    Memory(std::vec::IntoIter<(Minute, &'a Stats)>),
}

impl Iterator for Source<'_> {
    type Item = (Minute, Stats);

    fn next(&mut self) -> Option<(Minute, Stats)> {
        match self {
            Source::Disk(r) => r.next(),
            Source::Memory(it) => it.next().map(|(m, s)| (m, s.clone())),
        }
    }
}

/// Reads one run back, [`READ_BYTES`] at a time.
pub struct RunReader<'a> {
    file: &'a RunFile,
    /// Next byte of the file to read, and the run's end.
    at: u64,
    end: u64,
    buf: Vec<u8>,
    /// Next byte of `buf` to decode.
    pos: usize,
    problem: &'a Mutex<Option<String>>,
}

impl<'a> RunReader<'a> {
    fn new(file: &'a RunFile, run: &Run, problem: &'a Mutex<Option<String>>) -> RunReader<'a> {
        RunReader { file, at: run.start, end: run.start + run.len, buf: Vec::new(), pos: 0, problem }
    }

    fn fail(&mut self, why: String) -> Option<(Minute, Stats)> {
        self.at = self.end;
        self.pos = self.buf.len();
        let mut p = self.problem.lock().expect("problem lock");
        p.get_or_insert(format!(
            "per-minute statistics lost: reading back the temporary file in {} failed: {why}",
            std::env::temp_dir().display()
        ));
        None
    }
}

impl Iterator for RunReader<'_> {
    type Item = (Minute, Stats);

    fn next(&mut self) -> Option<(Minute, Stats)> {
        loop {
            match Stats::decode(&self.buf[self.pos..]) {
                Ok(Some((m, s, used))) => {
                    self.pos += used;
                    return Some((m, s));
                }
                Ok(None) if self.at == self.end => {
                    if self.pos < self.buf.len() {
                        return self.fail("a run ends inside a minute's statistics".into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::series::Series;

    fn set(v: f64) -> Stats {
        let mut s = Stats::new(false);
        s.add(v, true);
        s
    }

    fn read_all(spill: &MinuteSpill, rule: usize, dims: &Dimensions, held: &Series) -> Vec<(Minute, u64, f64)> {
        let problem = Mutex::new(None);
        let out =
            spill.read(rule, dims, held.sorted(dims), &problem).map(|(m, s)| (m, s.count, s.sum.value())).collect();
        assert_eq!(*problem.lock().unwrap(), None);
        out
    }

    #[test]
    fn runs_and_held_sets_read_back_as_one_metric() {
        let mut spill = MinuteSpill::default();
        let none: Dimensions = Vec::new();
        let dims: Dimensions = vec![("User".into(), "alice".into())];
        spill.write(0, &none, &[(1, set(1.0)), (5, set(2.0))]).unwrap();
        spill.write(1, &none, &[(1, set(100.0))]).unwrap();
        spill.write(0, &dims, &[(1, set(50.0))]).unwrap();
        spill.write(0, &none, &[(3, set(4.0)), (5, set(8.0))]).unwrap();
        let mut held = Series::new(false);
        held.add(none.clone(), 5, 16.0, true);
        held.add(none.clone(), 7, 32.0, true);
        assert_eq!(read_all(&spill, 0, &none, &held), [(1, 1, 1.0), (3, 1, 4.0), (5, 3, 26.0), (7, 1, 32.0)]);
        assert_eq!(read_all(&spill, 0, &dims, &Series::new(false)), [(1, 1, 50.0)]);
        assert_eq!(read_all(&spill, 2, &none, &Series::new(false)), []);
    }

    #[test]
    fn compaction_leaves_at_most_fan_in_runs_and_the_same_metric() {
        let mut spill = MinuteSpill::default();
        let none: Dimensions = Vec::new();
        // 100 runs of 3 minutes each, overlapping.
        for r in 0..100i64 {
            let sets: Vec<(Minute, Stats)> = (0..3).map(|i| (r + i * 40, set(1.0))).collect();
            spill.write(0, &none, &sets).unwrap();
        }
        spill.write(1, &none, &[(0, set(1.0))]).unwrap();
        let before = read_all(&spill, 0, &none, &Series::new(false));
        spill.compact().unwrap();
        assert!(spill.runs.iter().filter(|r| r.rule == 0).count() <= FAN_IN, "{}", spill.runs.len());
        assert_eq!(read_all(&spill, 0, &none, &Series::new(false)), before);
        assert_eq!(before.iter().map(|x| x.1).sum::<u64>(), 300);
        assert_eq!(read_all(&spill, 1, &none, &Series::new(false)), [(0, 1, 1.0)]);
    }

    #[test]
    fn sets_larger_than_a_read_are_read_whole() {
        let mut spill = MinuteSpill::default();
        let none: Dimensions = Vec::new();
        let mut big = Stats::new(true);
        for i in 0..2000 {
            big.add(f64::from(i), true);
        }
        spill.write(0, &none, &[(1, set(1.0)), (2, big), (3, set(1.0))]).unwrap();
        let got = read_all(&spill, 0, &none, &Series::new(false));
        assert_eq!(got.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(), [(1, 1), (2, 2000), (3, 1)]);
    }

    #[test]
    fn a_damaged_run_ends_the_metric_and_says_why() {
        let mut spill = MinuteSpill::default();
        let none: Dimensions = Vec::new();
        spill.write(0, &none, &[(1, set(1.0)), (2, set(1.0))]).unwrap();
        // The run claims a byte more than was written.
        spill.runs[0].len += 1;
        let problem = Mutex::new(None);
        let got: Vec<Minute> = spill.read(0, &none, Vec::new(), &problem).map(|(m, _)| m).collect();
        assert!(got.len() <= 2);
        let why = problem.into_inner().unwrap().expect("a problem");
        assert!(why.contains("per-minute statistics lost"), "{why}");
    }
}
