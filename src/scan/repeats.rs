//! Repeated events (the same `eventID` seen more than once) found in
//! bounded memory.
//!
//! Every record that publishes leaves one entry, its event ID and where it
//! is. A worker keeps at most [`RUN_ENTRIES`] of them; past that it sorts
//! them and appends them as a *run* to one anonymous temporary file shared
//! by all workers ([`Spill`]). At the end every run, in memory or on disk,
//! is merged in order (at most [`FAN_IN`] at a time; more are first merged
//! into longer runs), so copies of an event meet one after the other. The
//! memory this takes does not grow with the number of records: one run per
//! worker, and a small read buffer per run while merging.
//!
//! If the temporary file cannot be created or written, runs stay in memory
//! (the result is the same; only memory grows) and [`Spill::problem`] says
//! why.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::Location;

/// Entries a worker holds before it writes them out as a run.
pub const RUN_ENTRIES: usize = 4096;
/// Runs merged at once.
const FAN_IN: usize = 64;
/// Entries read from a run on disk at a time.
const READ_ENTRIES: usize = 256;
/// Bytes of one entry on disk: tag, two halves of the ID, file, member,
/// offset.
const ENTRY_BYTES: usize = 1 + 16 + 4 + 4 + 8;

/// An `eventID`: CloudTrail's are UUIDs, kept exactly as 128 bits; any
/// other text is hashed to 128 bits. The bits are two `u64`s (high, low)
/// rather than a `u128`, whose 16-byte alignment would make every entry 48
/// bytes instead of 40.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventId {
    /// A UUID in CloudTrail's form, exactly.
    Uuid([u64; 2]),
    /// Any other text, hashed.
    Other([u64; 2]),
}

/// One publishing record: its event ID and where it is.
pub type Entry = (EventId, Location);

fn halves(v: u128) -> [u64; 2] {
    [(v >> 64) as u64, v as u64]
}

impl EventId {
    /// The ID of an `eventID` text.
    pub fn of(id: &str) -> EventId {
        match parse_uuid(id) {
            Some(u) => EventId::Uuid(halves(u)),
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

/// Value of each lower-case hex digit; 0xFF for every other byte.
const HEX: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Where the 32 digits of a UUID are, around its four dashes.
const DIGITS: [usize; 32] = {
    let mut at = [0; 32];
    let (mut i, mut k) = (0, 0);
    while i < 36 {
        if !matches!(i, 8 | 13 | 18 | 23) {
            at[k] = i;
            k += 1;
        }
        i += 1;
    }
    at
};

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower-case hex (as CloudTrail
/// writes them). Every record that publishes pays for this, so it is a
/// table lookup per digit without a branch.
fn parse_uuid(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut bad = 0u8;
    let mut half = |digits: &[usize]| {
        let mut v = 0u64;
        for &i in digits {
            let d = HEX[b[i] as usize];
            bad |= d;
            v = v << 4 | u64::from(d & 0xF);
        }
        v
    };
    let (hi, lo) = (half(&DIGITS[..16]), half(&DIGITS[16..]));
    (bad & 0xF0 == 0).then_some(u128::from(hi) << 64 | u128::from(lo))
}

fn encode(e: &Entry, out: &mut Vec<u8>) {
    let (tag, [hi, lo]) = match e.0 {
        EventId::Uuid(h) => (0u8, h),
        EventId::Other(h) => (1u8, h),
    };
    out.push(tag);
    out.extend_from_slice(&hi.to_le_bytes());
    out.extend_from_slice(&lo.to_le_bytes());
    out.extend_from_slice(&e.1.file.to_le_bytes());
    out.extend_from_slice(&e.1.member.to_le_bytes());
    out.extend_from_slice(&e.1.offset.to_le_bytes());
}

fn decode(b: &[u8]) -> io::Result<Entry> {
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let halves = [u64_at(1), u64_at(9)];
    let id = match b[0] {
        0 => EventId::Uuid(halves),
        1 => EventId::Other(halves),
        t => return Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad entry tag {t} in the spill file"))),
    };
    Ok((id, Location { file: u32_at(17), member: u32_at(21), offset: u64_at(25) }))
}

/// A run written to the spill file.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// Byte offset of its first entry.
    start: u64,
    /// Entries.
    len: u64,
}

/// The runs written out, in one anonymous temporary file (removed by the
/// system when it is closed, even if the process is killed).
#[derive(Debug, Default)]
pub struct Spill {
    file: Option<File>,
    end: u64,
    runs: Vec<Run>,
    problem: Option<String>,
}

impl Spill {
    /// Append a sorted run. On failure the caller keeps the run in memory;
    /// after the first failure no more writes are tried.
    pub fn write(&mut self, run: &[Entry]) -> Result<(), ()> {
        debug_assert!(run.is_sorted());
        if self.problem.is_some() {
            return Err(());
        }
        match self.try_write(run) {
            Ok(r) => {
                self.runs.push(r);
                Ok(())
            }
            Err(e) => {
                let dir = std::env::temp_dir();
                self.problem = Some(format!(
                    "cannot write event IDs to a temporary file in {} (kept in memory instead): {e}",
                    dir.display()
                ));
                Err(())
            }
        }
    }

    fn try_write(&mut self, run: &[Entry]) -> io::Result<Run> {
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        let mut bytes = Vec::with_capacity(run.len() * ENTRY_BYTES);
        for e in run {
            encode(e, &mut bytes);
        }
        let start = self.end;
        append(self.file.as_ref().expect("created"), &mut self.end, &bytes)?;
        Ok(Run { start, len: run.len() as u64 })
    }

    /// Why runs had to stay in memory, if they did.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }
}

/// Write `bytes` at `*end` of the spill file and move the end past them.
fn append(mut file: &File, end: &mut u64, bytes: &[u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(*end))?;
    file.write_all(bytes)?;
    *end += bytes.len() as u64;
    Ok(())
}

/// Where the next entries of one run come from.
enum Source<'a> {
    Memory(std::slice::Iter<'a, Entry>),
    Disk { run: Run, read: u64, buf: Vec<Entry>, at: usize, bytes: Vec<u8> },
}

impl Source<'_> {
    fn disk(run: Run) -> Source<'static> {
        Source::Disk { run, read: 0, buf: Vec::new(), at: 0, bytes: Vec::new() }
    }

    fn next(&mut self, file: Option<&File>) -> io::Result<Option<Entry>> {
        match self {
            Source::Memory(it) => Ok(it.next().copied()),
            Source::Disk { run, read, buf, at, bytes } => {
                if *at == buf.len() {
                    let n = (run.len - *read).min(READ_ENTRIES as u64);
                    if n == 0 {
                        return Ok(None);
                    }
                    let mut f = file.expect("runs on disk have a file");
                    f.seek(SeekFrom::Start(run.start + *read * ENTRY_BYTES as u64))?;
                    bytes.resize(n as usize * ENTRY_BYTES, 0);
                    f.read_exact(bytes)?;
                    buf.clear();
                    for chunk in bytes.chunks_exact(ENTRY_BYTES) {
                        buf.push(decode(chunk)?);
                    }
                    *read += n;
                    *at = 0;
                }
                *at += 1;
                Ok(Some(buf[*at - 1]))
            }
        }
    }
}

/// Merge sorted sources, calling `visit` on every entry in order.
fn merge(
    mut sources: Vec<Source<'_>>,
    file: Option<&File>,
    visit: &mut dyn FnMut(Entry) -> io::Result<()>,
) -> io::Result<()> {
    let mut heads = BinaryHeap::new();
    for (i, s) in sources.iter_mut().enumerate() {
        if let Some(e) = s.next(file)? {
            heads.push(Reverse((e, i)));
        }
    }
    while let Some(Reverse((e, i))) = heads.pop() {
        if let Some(next) = sources[i].next(file)? {
            heads.push(Reverse((next, i)));
        }
        visit(e)?;
    }
    Ok(())
}

/// Visit every entry of `memory` (sorted runs) and of the runs in `spill`,
/// in sorted order.
pub fn merge_all(memory: &[Vec<Entry>], mut spill: Spill, visit: &mut dyn FnMut(Entry)) -> io::Result<()> {
    // Merge runs on disk into longer ones until the rest can be merged at
    // once.
    while spill.runs.len() + memory.len() > FAN_IN && spill.runs.len() > 1 {
        let take = FAN_IN.min(spill.runs.len());
        let group: Vec<Source<'_>> = spill.runs.drain(..take).map(Source::disk).collect();
        let mut out = Vec::new();
        let mut len = 0u64;
        let start = spill.end;
        let file = spill.file.as_ref().expect("runs on disk have a file");
        merge(group, Some(file), &mut |e| {
            encode(&e, &mut out);
            len += 1;
            if out.len() >= READ_ENTRIES * ENTRY_BYTES * 16 {
                append(file, &mut spill.end, &out)?;
                out.clear();
            }
            Ok(())
        })?;
        append(file, &mut spill.end, &out)?;
        spill.runs.push(Run { start, len });
    }
    let mut sources: Vec<Source<'_>> = memory.iter().map(|r| Source::Memory(r.iter())).collect();
    sources.extend(spill.runs.iter().map(|&r| Source::disk(r)));
    merge(sources, spill.file.as_ref(), &mut |e| {
        visit(e);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(id: u64, file: u32, offset: u64) -> Entry {
        let id = if id % 7 == 0 { EventId::Other([id, !id]) } else { EventId::Uuid([id >> 3, id]) };
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

    #[test]
    fn uuids_parse_exactly_and_nothing_else_does() {
        assert_eq!(parse_uuid("00000000-0000-0000-0000-00000000000f"), Some(15));
        assert_eq!(parse_uuid("f0000000-0000-0000-0000-000000000000"), Some(0xf << 124));
        assert_eq!(parse_uuid("0123abcd-4567-89ef-0123-456789abcdef"), Some(0x0123abcd_4567_89ef_0123_456789abcdef));
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
            encode(&e, &mut b);
            assert_eq!(b.len(), ENTRY_BYTES);
            assert_eq!(decode(&b).unwrap(), e);
        }
        let mut b = vec![0u8; ENTRY_BYTES];
        b[0] = 9;
        assert!(decode(&b).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Every UUID text, in CloudTrail's form, parses to its number.
        #[test]
        fn every_uuid_parses_to_its_number(v in any::<u128>()) {
            let id = EventId::Uuid(halves(v));
            prop_assert_eq!(parse_uuid(&id.to_string()), Some(v));
        }

        /// However entries are cut into runs and whichever runs go to disk,
        /// the merge yields every entry once, in sorted order — also when
        /// there are more runs than can be merged at once.
        #[test]
        fn merge_yields_every_entry_in_order(
            ids in proptest::collection::vec(0u64..500, 0..3000),
            run_len in 1usize..200,
            to_disk in proptest::collection::vec(any::<bool>(), 1..40),
        ) {
            let entries: Vec<Entry> = ids.iter().enumerate().map(|(i, &id)| entry(id, i as u32, i as u64 * 3)).collect();
            let mut spill = Spill::default();
            let mut memory = Vec::new();
            for (k, chunk) in entries.chunks(run_len).enumerate() {
                let mut run = chunk.to_vec();
                run.sort_unstable();
                if to_disk[k % to_disk.len()] {
                    spill.write(&run).unwrap();
                } else {
                    memory.push(run);
                }
            }
            let mut got = Vec::new();
            merge_all(&memory, spill, &mut |e| got.push(e)).unwrap();
            let mut want = entries;
            want.sort_unstable();
            prop_assert_eq!(got, want);
        }
    }
}
