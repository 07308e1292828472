//! The paths a [`Location`](super::Location) can point to, kept compactly.
//!
//! A scan keeps the path of every clean file with a record that published,
//! so that samples and repeated events can name it at the end. Files are
//! found in path order, so a path mostly repeats the one before it up to
//! the last few characters (`…/2026/11/27/123456789012_CloudTrail_
//! us-east-1_20261127T1710Z_` is shared, `Ab12Cd34.json.gz` is not). Each
//! path is stored as the length it shares with the previous one plus the
//! rest (front coding), with a full path every [`RESTART`] entries so that
//! any one decodes from at most that many.
//!
//! Over many files even that grows, so a worker writes its list out once it
//! takes [`LIST_BYTES`] ([`PathList::encode`], to the scan's temporary
//! file) and starts a new one. At the end only the paths the report names
//! (examples of repeated and unplaced events; a sample carries its own) are
//! read back and kept ([`PathList::keep`]).

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::spill::{Hold, Item, Keyed, Runs};

/// Bytes a worker's list takes before it is written out.
pub const LIST_BYTES: usize = 16 << 10;

/// Entries between full paths.
const RESTART: usize = 16;

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Discovery index of the file.
    index: u32,
    /// Where its own bytes start in `bytes`.
    start: u32,
    /// Bytes shared with the previous path.
    shared: u32,
}

/// Paths by discovery index, front-coded.
#[derive(Debug, Default)]
pub struct PathList {
    entries: Vec<Entry>,
    bytes: Vec<u8>,
    last: Vec<u8>,
    /// Positions in `entries` by increasing index (built by [`PathList::seal`]).
    order: Vec<u32>,
}

impl PathList {
    /// Add the path of file `index`.
    pub(crate) fn push(&mut self, index: u32, path: &str) {
        let p = path.as_bytes();
        let shared = if self.entries.len().is_multiple_of(RESTART) {
            0
        } else {
            self.last.iter().zip(p).take_while(|(a, b)| a == b).count()
        };
        self.entries.push(Entry { index, start: self.bytes.len() as u32, shared: shared as u32 });
        self.bytes.extend_from_slice(&p[shared..]);
        self.last.clear();
        self.last.extend_from_slice(p);
        self.order.clear();
    }

    /// Add every path of `other`.
    pub(crate) fn append(&mut self, other: PathList) {
        if self.entries.is_empty() {
            *self = other;
            return;
        }
        // In order, each path is the one before cut to what they share,
        // plus its own bytes.
        let mut path = Vec::new();
        for (k, e) in other.entries.iter().enumerate() {
            path.truncate(e.shared as usize);
            path.extend_from_slice(other.own_bytes(k));
            self.push(e.index, std::str::from_utf8(&path).expect("stored from a str"));
        }
    }

    /// Paths kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn own_bytes(&self, k: usize) -> &[u8] {
        let end = self.entries.get(k + 1).map_or(self.bytes.len(), |e| e.start as usize);
        &self.bytes[self.entries[k].start as usize..end]
    }

    /// Rebuild entry `k` into `out`.
    fn decode_into(&self, k: usize, out: &mut Vec<u8>) {
        out.clear();
        for j in k - k % RESTART..=k {
            out.truncate(self.entries[j].shared as usize);
            out.extend_from_slice(self.own_bytes(j));
        }
    }

    /// Bytes the list takes (its entries and their bytes).
    pub(crate) fn footprint(&self) -> usize {
        self.entries.len() * std::mem::size_of::<Entry>() + self.bytes.len()
    }

    /// Append the list's binary form: the number of entries, each entry's
    /// index, start and shared length, then the bytes (little-endian
    /// `u32`s). See [`PathList::decode`].
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            for x in [e.index, e.start, e.shared] {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out.extend_from_slice(&self.bytes);
    }

    /// A list written by [`PathList::encode`] (sealed), or `None` if
    /// `bytes` is not one.
    pub(crate) fn decode(bytes: &[u8]) -> Option<PathList> {
        let (n, rest) = bytes.split_first_chunk::<4>()?;
        let n = u32::from_le_bytes(*n) as usize;
        let table = rest.get(..n.checked_mul(12)?)?;
        let entries: Vec<Entry> = table
            .chunks_exact(12)
            .map(|c| {
                let word = |i: usize| u32::from_le_bytes(c[i..i + 4].try_into().expect("4 bytes"));
                Entry { index: word(0), start: word(4), shared: word(8) }
            })
            .collect();
        let bytes = rest[table.len()..].to_vec();
        // Every entry's bytes in order and in range, and every shared
        // prefix no longer than what the entry before it decodes to, so
        // that lookups cannot go out of bounds.
        let mut len = 0usize;
        for (k, e) in entries.iter().enumerate() {
            let end = entries.get(k + 1).map_or(bytes.len(), |n| n.start as usize);
            let shared = e.shared as usize;
            if (e.start as usize) > end || end > bytes.len() || (k % RESTART == 0 && shared != 0) || shared > len {
                return None;
            }
            len = shared + end - e.start as usize;
        }
        let mut list = PathList { entries, bytes, last: Vec::new(), order: Vec::new() };
        list.seal();
        Some(list)
    }

    /// Add to `out` the paths of this (sealed) list whose index is in
    /// `wanted`.
    pub(crate) fn keep(&self, wanted: &BTreeSet<u32>, out: &mut PathList) {
        for &i in wanted {
            if let Some(p) = self.get(i) {
                out.push(i, &p);
            }
        }
    }

    /// Sort the lookup order (once every path has been added).
    pub(crate) fn seal(&mut self) {
        let mut order: Vec<u32> = (0..self.entries.len() as u32).collect();
        order.sort_unstable_by_key(|&k| self.entries[k as usize].index);
        self.order = order;
        self.last = Vec::new();
    }

    /// The path of file `index`, if it is kept. Needs [`PathList::seal`].
    pub(crate) fn get(&self, index: u32) -> Option<String> {
        debug_assert_eq!(self.order.len(), self.entries.len(), "sealed");
        let at = self.order.binary_search_by_key(&index, |&k| self.entries[k as usize].index).ok()?;
        let mut out = Vec::new();
        self.decode_into(self.order[at] as usize, &mut out);
        // Stored from a `str`; lossy only if what was read back is damaged.
        Some(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
}

/// A list as a run's item: a little-endian `u32` length, then its
/// [`PathList::encode`] form. Lists are ordered by their first index (no
/// two lists share one: every file is read once).
impl Keyed for PathList {
    type Key = u32;
    fn key(&self) -> u32 {
        self.entries.first().map_or(0, |e| e.index)
    }
    fn fold(&mut self, other: PathList) {
        self.append(other);
    }
}

impl Item for PathList {
    fn encode(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        PathList::encode(self, out);
        let len = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Result<Option<(PathList, usize)>, &'static str> {
        let Some(head) = bytes.first_chunk::<4>() else { return Ok(None) };
        let len = u32::from_le_bytes(*head) as usize;
        let Some(list) = bytes.get(4..4 + len) else { return Ok(None) };
        let list = PathList::decode(list).ok_or("a list of paths is damaged")?;
        Ok(Some((list, 4 + len)))
    }
}

/// The list a worker holds, measured in bytes: written out whole.
impl Hold for &mut PathList {
    type Key = ();
    type Item = PathList;

    fn held(&self) -> usize {
        self.footprint()
    }

    fn take(&mut self) -> Vec<((), Vec<PathList>)> {
        vec![((), vec![std::mem::take(*self)])]
    }

    fn put_back(&mut self, _key: (), run: Vec<PathList>) {
        for list in run {
            self.append(list);
        }
    }
}

/// The paths of the files in `wanted`, from the lists written out to
/// `runs` and `held` (the rest), read back one list at a time.
pub(super) fn keep_paths(runs: &Runs<()>, mut held: PathList, wanted: &BTreeSet<u32>) -> Result<PathList, String> {
    let mut out = PathList::default();
    held.seal();
    held.keep(wanted, &mut out);
    let problem = Mutex::new(None);
    for list in runs.read(&(), std::iter::empty::<PathList>(), &problem) {
        list.keep(wanted, &mut out);
    }
    if let Some(e) = problem.into_inner().expect("problem lock") {
        return Err(e);
    }
    out.seal();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shares_prefixes_and_finds_every_path() {
        let dir = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/111122223333_CloudTrail_us-east-1_20261127T";
        let paths: Vec<String> = (0..40).map(|i| format!("{dir}{:04}Z_{i:x}é.json.gz", i * 5)).collect();
        let mut list = PathList::default();
        for (i, p) in paths.iter().enumerate() {
            list.push(i as u32 * 2, p);
        }
        list.seal();
        for (i, p) in paths.iter().enumerate() {
            assert_eq!(list.get(i as u32 * 2).as_deref(), Some(p.as_str()));
            assert_eq!(list.get(i as u32 * 2 + 1), None);
        }
        let full: usize = paths.iter().map(String::len).sum();
        assert!(list.bytes.len() * 4 < full, "{} of {full} bytes", list.bytes.len());
    }

    proptest! {
        /// Lists built in pieces and appended in any order find the same
        /// paths as the paths themselves say.
        #[test]
        fn append_keeps_every_path(
            parts in proptest::collection::vec(proptest::collection::vec("[ab/é]{0,12}", 0..40), 1..5),
        ) {
            let mut all = PathList::default();
            let mut want = Vec::new();
            let mut index = 0u32;
            for part in &parts {
                let mut list = PathList::default();
                for p in part {
                    list.push(index, p);
                    want.push((index, p.clone()));
                    index += 1;
                }
                all.append(list);
            }
            all.seal();
            prop_assert_eq!(all.len(), want.len());
            for (i, p) in want {
                prop_assert_eq!(all.get(i), Some(p));
            }
        }
    }

    #[test]
    fn lists_written_out_and_held_give_back_the_wanted_paths() {
        let runs = Mutex::new(Runs::new("paths"));
        let mut budget = crate::spill::Budget::new(200);
        let mut held = PathList::default();
        for i in 0..100u32 {
            held.push(i, &format!("AWSLogs/1/CloudTrail/eu-west-1/2026/11/27/f{i}.json.gz"));
            budget.check(&mut held, &runs);
        }
        let runs = runs.into_inner().unwrap();
        assert!(runs.count(&()) > 10, "{} lists written", runs.count(&()));
        let kept = keep_paths(&runs, held, &BTreeSet::from([0, 42, 99, 100])).unwrap();
        assert_eq!(kept.len(), 3);
        assert_eq!(kept.get(42).as_deref(), Some("AWSLogs/1/CloudTrail/eu-west-1/2026/11/27/f42.json.gz"));
        assert_eq!(kept.get(100), None);
    }

    #[test]
    fn a_list_survives_its_binary_form_and_keeps_what_is_wanted() {
        let mut list = PathList::default();
        for i in 0..50u32 {
            list.push(i * 3, &format!("AWSLogs/1/CloudTrail/eu-west-1/2026/11/{:02}/f{i}.json.gz", i / 10));
        }
        let mut bytes = Vec::new();
        list.encode(&mut bytes);
        let back = PathList::decode(&bytes).expect("valid");
        list.seal();
        for i in 0..150 {
            assert_eq!(back.get(i), list.get(i));
        }
        let mut kept = PathList::default();
        back.keep(&BTreeSet::from([0, 3, 4, 147]), &mut kept);
        kept.seal();
        assert_eq!(kept.len(), 3);
        assert_eq!(kept.get(147), list.get(147));
        assert_eq!(kept.get(6), None);
        // Damage is refused, not looked up out of bounds.
        assert!(PathList::decode(&bytes[..bytes.len() / 2]).is_none());
        let mut bad = bytes.clone();
        bad[4 + 12 + 4..4 + 12 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(PathList::decode(&bad).is_none());
    }
}
