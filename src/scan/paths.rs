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
    pub fn push(&mut self, index: u32, path: &str) {
        let p = path.as_bytes();
        let shared = if self.entries.len() % RESTART == 0 {
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
    pub fn append(&mut self, other: PathList) {
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
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no path is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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

    /// Sort the lookup order (once every path has been added).
    pub fn seal(&mut self) {
        let mut order: Vec<u32> = (0..self.entries.len() as u32).collect();
        order.sort_unstable_by_key(|&k| self.entries[k as usize].index);
        self.order = order;
        self.last = Vec::new();
    }

    /// The path of file `index`, if it is kept. Needs [`PathList::seal`].
    pub fn get(&self, index: u32) -> Option<String> {
        debug_assert_eq!(self.order.len(), self.entries.len(), "sealed");
        let at = self.order.binary_search_by_key(&index, |&k| self.entries[k as usize].index).ok()?;
        let mut out = Vec::new();
        self.decode_into(self.order[at] as usize, &mut out);
        Some(String::from_utf8(out).expect("stored from a str"))
    }
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
}
