//! Runs: ascending sequences of items of one key, appended to a
//! [`RunFile`] and read back merged.
//!
//! A key with more than [`FAN_IN`] runs can have them merged into longer
//! ones first ([`Runs::compact`]), so that reading it holds a bounded
//! number of buffers of [`READ_BYTES`].

use std::collections::BTreeMap;
use std::io;
use std::sync::Mutex;

use super::file::RunFile;
use super::merge::{Keyed, Merge};

/// Runs merged into one at a time while compacting.
pub(crate) const FAN_IN: usize = 16;
/// Bytes read from a run at a time.
pub(crate) const READ_BYTES: usize = 4096;
/// Bytes gathered before they are appended, while writing or merging runs.
const WRITE_BYTES: usize = 64 << 10;

/// An item of a run: written and read back in a binary form.
pub(crate) trait Item: Keyed + Sized {
    /// Append the binary form.
    fn encode(&self, out: &mut Vec<u8>);
    /// Read one item from the front of `bytes`: the item and the bytes it
    /// took, `Ok(None)` when `bytes` holds only part of it, an error when
    /// it is not one.
    fn decode(bytes: &[u8]) -> Result<Option<(Self, usize)>, &'static str>;
}

/// A run was not written: the temporary file could not be (or could no
/// longer be) written, and [`Runs::problem`] says why. The caller keeps
/// the items in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unwritten;

/// One run on disk: items of one key, ascending.
#[derive(Clone, Debug)]
struct Run<K> {
    key: K,
    start: u64,
    len: u64,
}

/// The runs written out, by key (a rule, a rule's metric, a part of the
/// key space).
#[derive(Debug)]
pub(crate) struct Runs<K> {
    file: RunFile,
    runs: Vec<Run<K>>,
    /// What the items are, for messages.
    what: &'static str,
}

impl<K: Ord + Clone> Runs<K> {
    /// No runs yet, of items described as `what`.
    pub(crate) fn new(what: &'static str) -> Runs<K> {
        Runs { file: RunFile::default(), runs: Vec::new(), what }
    }

    /// Append `items` (ascending) as a run of `key`. On failure the caller
    /// keeps them; after the first failure no more writes are tried.
    pub(crate) fn write<T: Item>(&mut self, key: &K, items: &[T]) -> Result<(), Unwritten> {
        self.write_each([(key, items)])
    }

    /// Append each of `runs` (items ascending) as a run of its key, with
    /// as few writes as their bytes allow: a worker writes out one run per
    /// key at a time, and a write per small run cost more than the run.
    /// On failure none of them is kept and the caller keeps them all; after
    /// the first failure no more writes are tried.
    pub(crate) fn write_each<'a, T: Item + 'a>(
        &mut self,
        runs: impl IntoIterator<Item = (&'a K, &'a [T])>,
    ) -> Result<(), Unwritten>
    where
        K: 'a,
    {
        // Written in pieces of about WRITE_BYTES, so that the encoded runs
        // are never held whole (256 samples are some 200 KB); `&mut self`
        // is the only writer, so the pieces follow one another.
        let mut start = self.file.end();
        let mut bytes = Vec::new();
        let mut written = Vec::new();
        for (key, items) in runs {
            debug_assert!(items.windows(2).all(|w| w[0].key() < w[1].key()));
            let mut len = 0;
            for item in items {
                let at = bytes.len();
                item.encode(&mut bytes);
                len += (bytes.len() - at) as u64;
                if bytes.len() >= WRITE_BYTES {
                    self.file.write(&bytes, self.what).ok_or(Unwritten)?;
                    bytes.clear();
                }
            }
            written.push(Run { key: key.clone(), start, len });
            start += len;
        }
        // One write at least: no items make an empty run.
        self.file.write(&bytes, self.what).ok_or(Unwritten)?;
        self.runs.extend(written);
        Ok(())
    }

    /// Why items had to stay in memory, if they did.
    pub(crate) fn problem(&self) -> Option<&str> {
        self.file.problem()
    }

    /// Merge runs, at most [`FAN_IN`] at a time, until no key has more
    /// than `most` (at least 1). On failure the runs not yet merged stay as
    /// they are (reading them takes more buffers and time, and the result
    /// is the same).
    pub(crate) fn compact<T: Item>(&mut self, most: usize) -> io::Result<()> {
        let most = most.max(1);
        let mut by_key: BTreeMap<K, Vec<Run<K>>> = BTreeMap::new();
        for run in std::mem::take(&mut self.runs) {
            by_key.entry(run.key.clone()).or_default().push(run);
        }
        let mut result = Ok(());
        for (key, mut runs) in by_key {
            // Oldest first: each merged run goes to the back, so every run
            // is merged once before any is merged again.
            let mut next = 0;
            while result.is_ok() && runs.len() - next > most {
                let take = FAN_IN.min(runs.len() - next - most + 1).max(2);
                match self.merge_runs::<T>(&key, &runs[next..next + take]) {
                    Ok(run) => {
                        runs.push(run);
                        next += take;
                    }
                    Err(e) => result = Err(e),
                }
            }
            self.runs.extend(runs.drain(next..));
        }
        result
    }

    /// Write the merge of `group` (runs of `key`) as one run.
    fn merge_runs<T: Item>(&self, key: &K, group: &[Run<K>]) -> io::Result<Run<K>> {
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
        Ok(Run { key: key.clone(), start, len: self.file.end() - start })
    }

    /// The same runs in a file that can be read but no longer written.
    #[cfg(test)]
    pub(crate) fn read_only(mut self) -> Runs<K> {
        self.file = self.file.read_only_copy();
        self
    }

    /// Runs of `key` written out.
    #[cfg(test)]
    pub(crate) fn count(&self, key: &K) -> usize {
        self.runs.iter().filter(|r| r.key == *key).count()
    }

    /// The items of `key`, ascending: its runs merged with `held` (the
    /// items still in memory, ascending). A run that cannot be read back
    /// ends early, and `problem` says why.
    pub(crate) fn read<'a, T: Item + 'a, H: Iterator<Item = T> + 'a>(
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
struct RunReader<'a, T> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter per key: folded by adding.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Count(u64, u64);

    impl Keyed for Count {
        type Key = u64;
        fn key(&self) -> u64 {
            self.0
        }
        fn fold(&mut self, other: Count) {
            self.1 += other.1;
        }
    }

    impl Item for Count {
        fn encode(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.0.to_le_bytes());
            out.extend_from_slice(&self.1.to_le_bytes());
        }
        fn decode(bytes: &[u8]) -> Result<Option<(Count, usize)>, &'static str> {
            let Some(b) = bytes.get(..16) else { return Ok(None) };
            let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
            if word(0) == u64::MAX {
                return Err("a damaged count");
            }
            Ok(Some((Count(word(0), word(8)), 16)))
        }
    }

    fn read_all(runs: &Runs<u8>, key: u8, held: &[Count]) -> Vec<Count> {
        let problem = Mutex::new(None);
        let out = runs.read(&key, held.iter().copied(), &problem).collect();
        assert_eq!(*problem.lock().unwrap(), None);
        out
    }

    #[test]
    fn a_run_larger_than_one_write_and_an_empty_run_read_back_whole() {
        let mut runs = Runs::new("counts");
        let many: Vec<Count> = (0..10_000).map(|k| Count(k, 1)).collect();
        runs.write(&0, &many).unwrap();
        assert!(runs.runs[0].len > 2 * WRITE_BYTES as u64, "more than two pieces");
        runs.write::<Count>(&1, &[]).unwrap();
        runs.write(&2, &[Count(7, 1)]).unwrap();
        assert_eq!(read_all(&runs, 0, &[]), many);
        assert_eq!(read_all(&runs, 1, &[]), []);
        assert_eq!(read_all(&runs, 2, &[]), [Count(7, 1)]);
    }

    #[test]
    fn runs_written_together_read_back_each_under_its_key() {
        let mut runs = Runs::new("counts");
        let many: Vec<Count> = (0..5_000).map(|k| Count(k, 2)).collect();
        let few = [Count(3, 1), Count(9, 1)];
        // A piece boundary falls inside the first run; the empty run takes
        // no bytes and the last run follows it.
        let together: [(u8, &[Count]); 3] = [(0, &many), (1, &[]), (2, &few)];
        runs.write_each(together.iter().map(|(k, r)| (k, *r))).unwrap();
        assert_eq!(runs.runs.len(), 3);
        assert_eq!(read_all(&runs, 0, &[]), many);
        assert_eq!(read_all(&runs, 1, &[]), []);
        assert_eq!(read_all(&runs, 2, &[]), few);
        runs.write(&2, &[Count(9, 10)]).unwrap();
        assert_eq!(read_all(&runs, 2, &[]), [Count(3, 1), Count(9, 11)]);
    }

    #[test]
    fn runs_and_held_items_read_back_as_one_sequence() {
        let mut runs = Runs::new("counts");
        runs.write(&0, &[Count(1, 1), Count(5, 2)]).unwrap();
        runs.write(&1, &[Count(1, 100)]).unwrap();
        runs.write(&0, &[Count(3, 4), Count(5, 8)]).unwrap();
        let held = [Count(5, 16), Count(7, 32)];
        assert_eq!(read_all(&runs, 0, &held), [Count(1, 1), Count(3, 4), Count(5, 26), Count(7, 32)]);
        assert_eq!(read_all(&runs, 2, &[]), []);
    }

    #[test]
    fn compaction_leaves_at_most_the_runs_asked_for_and_the_same_items() {
        let mut runs = Runs::new("counts");
        // 100 runs of 3 keys each, overlapping.
        for r in 0..100u64 {
            let items: Vec<Count> = (0..3).map(|i| Count(r + i * 40, 1)).collect();
            runs.write(&0, &items).unwrap();
        }
        runs.write(&1, &[Count(0, 1)]).unwrap();
        let before = read_all(&runs, 0, &[]);
        assert_eq!(before.len(), 180, "keys 0 to 179");
        assert_eq!(before.iter().map(|c| c.1).sum::<u64>(), 300);
        for most in [40, FAN_IN, 3, 1] {
            runs.compact::<Count>(most).unwrap();
            assert_eq!(runs.count(&0), most, "compacted to {most}");
            assert_eq!(runs.count(&1), 1);
            assert_eq!(read_all(&runs, 0, &[]), before);
        }
        assert_eq!(read_all(&runs, 1, &[]), [Count(0, 1)]);
    }

    #[test]
    fn a_failed_compaction_keeps_every_run() {
        let mut runs = Runs::new("counts");
        for r in 0..10u64 {
            runs.write(&0, &[Count(r, 1), Count(r + 10, 1)]).unwrap();
        }
        // The same runs in a file that can be read but not written.
        let mut runs = runs.read_only();
        assert!(runs.compact::<Count>(2).is_err());
        assert_eq!(runs.count(&0), 10);
        assert_eq!(read_all(&runs, 0, &[]), (0..20).map(|k| Count(k, 1)).collect::<Vec<_>>());
    }

    #[test]
    fn a_damaged_run_ends_the_sequence_and_says_why() {
        let mut runs = Runs::new("counts");
        runs.write(&0, &[Count(1, 1), Count(2, 1)]).unwrap();
        // The run claims a byte more than was written.
        runs.runs[0].len += 1;
        let problem = Mutex::new(None);
        let got: Vec<Count> = runs.read(&0, std::iter::empty(), &problem).collect();
        assert!(got.len() <= 2);
        let why = problem.into_inner().unwrap().expect("a problem");
        assert!(why.contains("counts lost"), "{why}");
        // An item that is not one is said the same way.
        let mut runs = Runs::new("counts");
        runs.write(&0, &[Count(u64::MAX, 1)]).unwrap();
        let problem = Mutex::new(None);
        assert_eq!(runs.read(&0, std::iter::empty::<Count>(), &problem).count(), 0);
        assert!(problem.into_inner().unwrap().expect("a problem").contains("a damaged count"));
    }
}
