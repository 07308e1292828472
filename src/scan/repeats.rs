//! Repeated events (the same `eventID` seen more than once) found in
//! bounded memory.
//!
//! Every record that publishes leaves one entry, its event ID and where it
//! is. A worker holds at most [`RUN_ENTRIES`] of them; past that it sorts
//! them and writes them out as runs, one per [part](PARTS) of the key
//! space. At the end each part's runs and what the workers still hold are
//! merged in order, parts at the same time, so copies of an event meet one
//! after the other. A part with more runs than can be read at once within
//! [`MERGE_BUFFER`] has them merged into longer ones first. The memory this
//! takes barely grows with the number of records: one run per worker, a
//! few bytes of bookkeeping per run written, and the read buffers while
//! merging.

use std::fs::File;
use std::io::{self, Seek, Write};
use std::sync::Mutex;

use rayon::prelude::*;

use super::report::{EventIds, Location};
use crate::spill::{Hold, Item, Keyed, Runs, FAN_IN, READ_BYTES};

/// Entries a worker holds before it writes them out as runs.
pub(super) const RUN_ENTRIES: usize = 8192;
/// Bytes of read buffers shared by the runs merged at once.
pub(super) const MERGE_BUFFER: usize = 4 << 20;
/// Bytes of one entry on disk: tag, two halves of the ID, file, member,
/// offset.
const ENTRY_BYTES: usize = 1 + 16 + 4 + 4 + 8;

/// An `eventID`: CloudTrail's are UUIDs, kept exactly as 128 bits; any
/// other text is hashed to 128 bits. The bits are two `u64`s (high, low)
/// rather than a `u128`, whose 16-byte alignment would make every entry 48
/// bytes instead of 40.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum EventId {
    /// A UUID in CloudTrail's form, exactly.
    Uuid([u64; 2]),
    /// Any other text, hashed.
    Other([u64; 2]),
}

/// One publishing record: its event ID and where it is.
pub(crate) type Entry = (EventId, Location);

impl EventId {
    /// The ID of an `eventID` text.
    pub(crate) fn of(id: &str) -> EventId {
        match parse_uuid(id) {
            Some(halves) => EventId::Uuid(halves),
            None => {
                use std::hash::{Hash, Hasher};
                let half = |salt: u8| {
                    let mut h = std::hash::DefaultHasher::new();
                    salt.hash(&mut h);
                    id.hash(&mut h);
                    h.finish()
                };
                EventId::Other([half(1), half(2)])
            }
        }
    }
}

/// Bytes of an event ID written out: its kind, then its two halves.
pub(crate) const ID_BYTES: usize = 17;

impl EventId {
    /// The ID as [`ID_BYTES`] bytes (kind, high half, low half), in an
    /// order-keeping form.
    pub(crate) fn to_bytes(self) -> [u8; ID_BYTES] {
        let (tag, [hi, lo]) = match self {
            EventId::Uuid(h) => (0u8, h),
            EventId::Other(h) => (1u8, h),
        };
        let mut b = [0u8; ID_BYTES];
        b[0] = tag;
        b[1..9].copy_from_slice(&hi.to_be_bytes());
        b[9..].copy_from_slice(&lo.to_be_bytes());
        b
    }

    /// An ID from [`EventId::to_bytes`]'s form.
    pub(crate) fn from_bytes(b: &[u8]) -> Option<EventId> {
        let b: &[u8; ID_BYTES] = b.try_into().ok()?;
        let half = |r: std::ops::Range<usize>| u64::from_be_bytes(b[r].try_into().expect("8 bytes"));
        let halves = [half(1..9), half(9..17)];
        match b[0] {
            0 => Some(EventId::Uuid(halves)),
            1 => Some(EventId::Other(halves)),
            _ => None,
        }
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            EventId::Uuid([hi, lo]) => {
                let h = format!("{hi:016x}{lo:016x}");
                write!(f, "{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
            }
            EventId::Other([hi, lo]) => write!(f, "(not a UUID; hash {hi:016x}{lo:016x})"),
        }
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower-case hex (as CloudTrail
/// writes them), as its high and low 64 bits. Every record that publishes
/// pays for this, so the digits are taken eight at a time in a `u64`.
fn parse_uuid(s: &str) -> Option<[u64; 2]> {
    let b = s.as_bytes();
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let half = |i: usize| u64::from(u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes")));
    // The 32 digits around the dashes: 8, 4 + 4, 4 + 4, 8.
    let hi = hex8(word(0))? << 32 | hex8(half(9) | half(14) << 32)?;
    let lo = hex8(half(19) | half(24) << 32)? << 32 | hex8(word(28))?;
    Some([hi, lo])
}

/// Eight lower-case hex digits, the first in the lowest byte of `x`, as
/// their 32-bit value; `None` if a byte is not one.
#[inline(always)]
fn hex8(x: u64) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // With every byte below 0x80, adding `0x80 - lo` to each sets its high
    // bit exactly when it is at least `lo`, and carries into no other byte.
    let at_least = |lo: u64| x.wrapping_add(ONES * (0x80 - lo)) & HIGH;
    let digit = at_least(u64::from(b'0')) & !at_least(u64::from(b'9') + 1);
    let letter = at_least(u64::from(b'a')) & !at_least(u64::from(b'f') + 1);
    if x & HIGH != 0 || digit | letter != HIGH {
        return None;
    }
    // '0'..='9' are 0x30..=0x39 and 'a'..='f' 0x61..=0x66: the low four
    // bits, plus 9 where bit 6 is set.
    let v = (x & 0x0F0F_0F0F_0F0F_0F0F) + 9 * (x >> 6 & ONES);
    // Pack the nibbles, first digit most significant: pairs, then pairs of
    // pairs, then the two halves.
    let v = (v & 0x000F_000F_000F_000F) << 4 | (v >> 8 & 0x000F_000F_000F_000F);
    let v = (v & 0x0000_00FF_0000_00FF) << 8 | (v >> 16 & 0x0000_00FF_0000_00FF);
    Some((v & 0xFFFF) << 16 | (v >> 32 & 0xFFFF))
}

/// Entries are ordered by event ID, then location; no two are equal.
impl Keyed for Entry {
    type Key = Entry;
    fn key(&self) -> Entry {
        *self
    }
    fn fold(&mut self, _same: Entry) {}
}

impl Item for Entry {
    fn encode(&self, out: &mut Vec<u8>) {
        let (tag, [hi, lo]) = match self.0 {
            EventId::Uuid(h) => (0u8, h),
            EventId::Other(h) => (1u8, h),
        };
        out.push(tag);
        out.extend_from_slice(&hi.to_le_bytes());
        out.extend_from_slice(&lo.to_le_bytes());
        out.extend_from_slice(&self.1.file.to_le_bytes());
        out.extend_from_slice(&self.1.member.to_le_bytes());
        out.extend_from_slice(&self.1.offset.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Result<Option<(Entry, usize)>, &'static str> {
        let Some(b) = bytes.get(..ENTRY_BYTES) else { return Ok(None) };
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let halves = [u64_at(1), u64_at(9)];
        let id = match b[0] {
            0 => EventId::Uuid(halves),
            1 => EventId::Other(halves),
            _ => return Err("an event ID of no known kind"),
        };
        let at = Location { file: u32_at(17), member: u32_at(21), offset: u64_at(25) };
        Ok(Some(((id, at), ENTRY_BYTES)))
    }
}

/// Parts of the key space, merged on their own and at the same time:
/// UUIDs by their top four bits (random in CloudTrail's version 4 UUIDs),
/// then every other ID. Copies of an event fall in the same part.
pub(super) const PARTS: usize = 17;

/// The part an ID falls in; parts follow the sort order.
pub(crate) fn part_of(id: &EventId) -> u8 {
    match id {
        EventId::Uuid([hi, _]) => (hi >> 60) as u8,
        EventId::Other(_) => PARTS as u8 - 1,
    }
}

/// The entries a worker holds: written out as one run per part.
impl Hold for &mut Vec<Entry> {
    type Key = u8;
    type Item = Entry;

    fn held(&self) -> usize {
        self.len()
    }

    fn take(&mut self) -> Vec<(u8, Vec<Entry>)> {
        self.sort_unstable();
        let mut runs: Vec<(u8, Vec<Entry>)> = Vec::new();
        for e in self.drain(..) {
            let p = part_of(&e.0);
            match runs.last_mut() {
                Some((q, run)) if *q == p => run.push(e),
                _ => runs.push((p, vec![e])),
            }
        }
        runs
    }

    fn put_back(&mut self, _part: u8, run: Vec<Entry>) {
        self.extend(run);
    }
}

/// Runs of one part read back at once: all of them share [`MERGE_BUFFER`]
/// with the parts merged at the same time.
fn runs_read_at_once(threads: usize) -> usize {
    (MERGE_BUFFER / READ_BYTES / threads.clamp(1, PARTS)).max(FAN_IN)
}

/// Distinct event IDs written in key order, one temporary file per part
/// (for a series file: see `ScanOptions::keep_ids`).
#[derive(Default)]
pub(crate) struct IdWriter {
    done: Vec<(u8, File)>,
    open: Option<(u8, io::BufWriter<File>)>,
    problem: Option<String>,
}

impl IdWriter {
    /// Write the next ID (larger than every one before).
    pub(crate) fn push(&mut self, id: EventId) {
        if self.problem.is_some() {
            return;
        }
        let part = part_of(&id);
        if self.open.as_ref().is_none_or(|(p, _)| *p != part) {
            self.close();
            match tempfile::tempfile() {
                Ok(f) => self.open = Some((part, io::BufWriter::new(f))),
                Err(e) => self.problem = Some(e.to_string()),
            }
        }
        if let Some((_, w)) = &mut self.open {
            if let Err(e) = w.write_all(&id.to_bytes()) {
                self.problem = Some(e.to_string());
            }
        }
    }

    fn close(&mut self) {
        if let Some((part, w)) = self.open.take() {
            match w.into_inner().map_err(|e| e.into_error()).and_then(|mut f| f.rewind().map(|()| f)) {
                Ok(f) => self.done.push((part, f)),
                Err(e) => self.problem = Some(e.to_string()),
            }
        }
    }

    /// Each part's file, read from its start, and why some IDs could not
    /// be kept, if they could not.
    pub(crate) fn finish(mut self) -> EventIds {
        self.close();
        EventIds { parts: self.done, problem: self.problem }
    }
}

/// Repeated events found: how many copies, and the first few.
#[derive(Debug, Default)]
pub(crate) struct Repeats {
    /// Repeated copies (an event seen three times counts two).
    pub(crate) copies: u64,
    /// The first `examples` copies: the event ID, where it was first seen
    /// and where again.
    pub(crate) examples: Vec<(EventId, Location, Location)>,
    /// Why the count is incomplete, if it is (a run could not be read
    /// back).
    pub(crate) lost: Option<String>,
    /// With `keep`: each part's distinct IDs in order, [`ID_BYTES`] each.
    pub(crate) kept: EventIds,
}

/// Find the repeated events among the entries written out to `runs` and
/// those still `held`, one part at a time and parts at the same time (on
/// the current rayon pool), keeping up to `examples` of them in key order.
pub(crate) fn find_repeats(runs: &mut Runs<u8>, mut held: Vec<Entry>, examples: usize, keep: bool) -> Repeats {
    // Few enough runs to read at once; if merging fails they stay as they
    // are (more buffers, the same result).
    let _ = runs.compact::<Entry>(runs_read_at_once(rayon::current_num_threads()));
    let runs = &*runs;
    held.sort_unstable();
    let problem = Mutex::new(None);
    let parts: Vec<Repeats> = (0..PARTS as u8)
        .into_par_iter()
        .map(|p| {
            let start = held.partition_point(|e| part_of(&e.0) < p);
            let end = held.partition_point(|e| part_of(&e.0) <= p);
            let mut found = Repeats::default();
            let mut last: Option<Entry> = None;
            let mut out = keep.then(IdWriter::default);
            for (id, at) in runs.read(&p, held[start..end].iter().copied(), &problem) {
                match last {
                    Some((seen, first)) if seen == id => {
                        found.copies += 1;
                        if found.examples.len() < examples {
                            found.examples.push((id, first, at));
                        }
                    }
                    _ => {
                        last = Some((id, at));
                        if let Some(w) = &mut out {
                            w.push(id);
                        }
                    }
                }
            }
            if let Some(w) = out {
                found.kept = w.finish();
            }
            found
        })
        .collect();
    let mut all = Repeats { lost: problem.into_inner().expect("problem lock"), ..Repeats::default() };
    for part in parts {
        all.copies += part.copies;
        all.kept.parts.extend(part.kept.parts);
        all.kept.problem = all.kept.problem.or(part.kept.problem);
        let room = examples - all.examples.len();
        all.examples.extend(part.examples.into_iter().take(room));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(id: u64, file: u32, offset: u64) -> Entry {
        // UUIDs spread over every part (the top four bits), and some others.
        let id = if id.is_multiple_of(7) { EventId::Other([id, !id]) } else { EventId::Uuid([id.rotate_right(4), id]) };
        (id, Location { file, member: file % 3, offset })
    }

    #[test]
    fn event_ids_are_exact_for_uuids_and_hashed_otherwise() {
        let uuid = "034d9c60-7a51-2925-919b-c32c456fe3e7";
        assert_eq!(EventId::of(uuid).to_string(), uuid);
        assert!(matches!(EventId::of(uuid), EventId::Uuid(_)));
        // Upper case is not how CloudTrail writes them: hashed, and distinct.
        let upper = EventId::of(&uuid.to_uppercase());
        assert!(matches!(upper, EventId::Other(_)));
        assert!(upper.to_string().starts_with("(not a UUID; hash "));
        assert_eq!(EventId::of("evt-1"), EventId::of("evt-1"));
        assert_ne!(EventId::of("evt-1"), EventId::of("evt-2"));
        // Ordered as the 128-bit numbers are.
        let a = EventId::of("00000000-0000-0000-0000-000000000001");
        let b = EventId::of("00000000-0000-0001-0000-000000000000");
        assert!(a < b);
        assert_eq!(std::mem::size_of::<Entry>(), 40);
    }

    /// The byte-at-a-time reference for `parse_uuid`.
    fn parse_uuid_reference(s: &str) -> Option<[u64; 2]> {
        let b = s.as_bytes();
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return None;
        }
        let mut v = [0u64; 2];
        let digits = (0..36).filter(|i| ![8, 13, 18, 23].contains(i));
        for (k, i) in digits.enumerate() {
            let d = match b[i] {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                _ => return None,
            };
            v[k / 16] = v[k / 16] << 4 | u64::from(d);
        }
        Some(v)
    }

    #[test]
    fn uuids_parse_exactly_and_nothing_else_does() {
        assert_eq!(parse_uuid("00000000-0000-0000-0000-00000000000f"), Some([0, 15]));
        assert_eq!(parse_uuid("f0000000-0000-0000-0000-000000000000"), Some([0xf << 60, 0]));
        assert_eq!(
            parse_uuid("0123abcd-4567-89ef-0123-456789abcdef"),
            Some([0x0123_abcd_4567_89ef, 0x0123_4567_89ab_cdef])
        );
        for bad in [
            "0123abcd-4567-89ef-0123-456789abcdeg",
            "0123ABCD-4567-89ef-0123-456789abcdef",
            "0123abcd-4567-89ef-0123-456789abcde",
            "0123abcd04567-89ef-0123-456789abcdef",
            "0123abcd-4567-89ef-0123-456789abcdef0",
            "0123abcd-4567-89ef-0123-456789abcd\u{e9}",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
    }

    #[test]
    fn entries_survive_the_disk_format() {
        for e in [entry(0, 0, 0), entry(u64::MAX, u32::MAX, u64::MAX), entry(12345, 7, 1 << 40)] {
            let mut b = Vec::new();
            e.encode(&mut b);
            assert_eq!(b.len(), ENTRY_BYTES);
            assert_eq!(Entry::decode(&b).unwrap(), Some((e, ENTRY_BYTES)));
            assert_eq!(Entry::decode(&b[..ENTRY_BYTES - 1]).unwrap(), None);
        }
        let mut b = vec![0u8; ENTRY_BYTES];
        b[0] = 9;
        assert!(Entry::decode(&b).is_err());
    }

    #[test]
    fn the_runs_read_at_once_stay_within_the_budget() {
        for threads in [1, 2, 8, 64] {
            let runs = runs_read_at_once(threads);
            assert!(runs * READ_BYTES * threads.min(PARTS) <= MERGE_BUFFER, "{threads} threads");
        }
        // A million publishing records in runs of RUN_ENTRIES, merged by
        // two threads: each part's runs all at once.
        assert!(1_000_000usize.div_ceil(RUN_ENTRIES) <= runs_read_at_once(2));
    }

    /// The repeats found the plain way: sort everything, count neighbours.
    fn repeats_reference(mut entries: Vec<Entry>) -> u64 {
        entries.sort_unstable();
        entries.windows(2).filter(|w| w[0].0 == w[1].0).count() as u64
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

        /// The word-at-a-time parse agrees with the byte-at-a-time one on
        /// text near a UUID: bytes next to the digit ranges, upper case,
        /// dashes out of place, non-ASCII.
        #[test]
        fn uuid_parse_agrees_with_the_reference(
            hi in any::<u64>(),
            lo in any::<u64>(),
            edits in proptest::collection::vec((0usize..36, prop_oneof![
                Just(b'/'), Just(b':'), Just(b'`'), Just(b'g'), Just(b'A'), Just(b'F'), Just(b'-'),
                Just(b'0'), Just(b'9'), Just(b'a'), Just(b'f'), Just(0x80u8), Just(0xffu8), Just(0u8)
            ]), 0..3),
        ) {
            let mut text = EventId::Uuid([hi, lo]).to_string().into_bytes();
            for (at, b) in edits {
                text[at] = b;
            }
            let text = String::from_utf8_lossy(&text).into_owned();
            prop_assert_eq!(parse_uuid(&text), parse_uuid_reference(&text), "{}", text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Every UUID text, in CloudTrail's form, parses to its number.
        #[test]
        fn every_uuid_parses_to_its_number(hi in any::<u64>(), lo in any::<u64>()) {
            let id = EventId::Uuid([hi, lo]);
            prop_assert_eq!(parse_uuid(&id.to_string()), Some([hi, lo]));
        }

        /// However entries are cut into runs, whichever go to disk and
        /// however few runs can be read at once, every repeat is found, and
        /// the examples are the first in key order.
        #[test]
        fn every_repeat_is_found_however_entries_are_written(
            ids in proptest::collection::vec(0u64..500, 0..3000),
            budget in 1usize..200,
            to_disk in proptest::collection::vec(any::<bool>(), 1..40),
            threads in 1usize..4,
        ) {
            let entries: Vec<Entry> = ids.iter().enumerate().map(|(i, &id)| entry(id, i as u32, i as u64 * 3)).collect();
            let runs = Mutex::new(Runs::new("event IDs"));
            let mut held = Vec::new();
            for (k, chunk) in entries.chunks(budget).enumerate() {
                let mut worker = chunk.to_vec();
                if to_disk[k % to_disk.len()] {
                    crate::spill::Budget::new(budget).check(&mut worker, &runs);
                }
                held.extend(worker);
            }
            let mut runs = runs.into_inner().unwrap();
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let found = pool.install(|| find_repeats(&mut runs, held, 5, true));
            prop_assert_eq!(found.lost, None);
            prop_assert_eq!(found.copies, repeats_reference(entries.clone()));
            // The IDs kept: each once, parts in order, in key order.
            let mut kept = Vec::new();
            let mut parts = found.kept.parts;
            parts.sort_by_key(|(p, _)| *p);
            for (_, mut f) in parts {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
                kept.extend(bytes.chunks(ID_BYTES).map(|b| EventId::from_bytes(b).unwrap()));
            }
            let mut distinct: Vec<EventId> = entries.iter().map(|e| e.0).collect();
            distinct.sort_unstable();
            distinct.dedup();
            prop_assert_eq!(kept, distinct);
            let mut sorted = entries;
            sorted.sort_unstable();
            let mut want = Vec::new();
            for w in sorted.windows(2) {
                if w[0].0 == w[1].0 && want.len() < 5 {
                    let first = sorted.iter().find(|e| e.0 == w[0].0).unwrap().1;
                    want.push((w[1].0, first, w[1].1));
                }
            }
            prop_assert_eq!(found.examples, want);
        }
    }
}
