//! Repeated events (the same `eventID` seen more than once) found in
//! bounded memory.
//!
//! Every record that publishes leaves one entry, its event ID and where it
//! is. A worker keeps at most [`RUN_ENTRIES`] of them; past that it sorts
//! them and appends them as a *run* to one anonymous temporary file shared
//! by all workers ([`Spill`]). At the end every run, in memory or on disk,
//! is merged in order, so copies of an event meet one after the other.
//! Each run notes where the [`PARTS`] of the key space begin in it, and the
//! parts are merged at the same time, one per thread. The runs on disk
//! share a fixed budget of read buffers ([`MERGE_BUFFER`]): all of them are
//! merged at once while each still gets [`MIN_READ_ENTRIES`] (3,591 runs
//! for one thread, about 7.4 million entries); more are first merged into
//! longer runs. The memory this takes barely grows with the number of
//! records: one run per worker, 160 bytes of bookkeeping per run written
//! (0.08 bytes per entry), and the read buffers while merging.
//!
//! If the temporary file cannot be created or written, runs stay in memory
//! (the result is the same; only memory grows) and [`Spill::problem`] says
//! why.

use std::cmp::Reverse;
use std::collections::binary_heap::{BinaryHeap, PeekMut};
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

use rayon::prelude::*;

use super::Location;

/// Entries a worker holds before it writes them out as a run.
pub const RUN_ENTRIES: usize = 2048;
/// Bytes of read buffers shared by the runs merged at once.
pub const MERGE_BUFFER: usize = 4 << 20;
/// Entries read from a run on disk at a time, at most and at least.
const MAX_READ_ENTRIES: usize = 256;
const MIN_READ_ENTRIES: usize = 16;
/// Bytes of one entry on disk: tag, two halves of the ID, file, member,
/// offset.
const ENTRY_BYTES: usize = 1 + 16 + 4 + 4 + 8;
/// Bytes one buffered entry takes while merging: read, then decoded.
const BUFFERED_BYTES: usize = ENTRY_BYTES + std::mem::size_of::<Entry>();
/// Runs merged at once.
const FAN_IN: usize = MERGE_BUFFER / (MIN_READ_ENTRIES * BUFFERED_BYTES);

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

impl EventId {
    /// The ID of an `eventID` text.
    pub fn of(id: &str) -> EventId {
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

/// Parts of the key space, merged on their own and at the same time:
/// UUIDs by their top four bits (random in CloudTrail's version 4 UUIDs),
/// then every other ID. Copies of an event fall in the same part.
pub const PARTS: usize = 17;

/// The part an ID falls in; parts follow the sort order.
fn part_of(id: &EventId) -> usize {
    match id {
        EventId::Uuid([hi, _]) => (hi >> 60) as usize,
        EventId::Other(_) => PARTS - 1,
    }
}

/// Where each part starts in a sorted run (in entries); the last is the
/// run's length.
type Bounds = [u64; PARTS + 1];

fn bounds_of(run: &[Entry]) -> Bounds {
    let mut b = [0; PARTS + 1];
    for (p, at) in b.iter_mut().enumerate().skip(1) {
        *at = run.partition_point(|e| part_of(&e.0) < p) as u64;
    }
    b
}

/// A run written to the spill file.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// Byte offset of its first entry.
    start: u64,
    /// Where each part begins.
    bounds: Bounds,
}

impl Run {
    /// Part `p` of the run, read `chunk` entries at a time.
    fn part(&self, p: usize, chunk: usize) -> Source<'static> {
        let first = self.bounds[p];
        let len = self.bounds[p + 1] - first;
        Source::Disk {
            start: self.start + first * ENTRY_BYTES as u64,
            len,
            read: 0,
            buf: Vec::new(),
            at: 0,
            bytes: Vec::new(),
            chunk,
        }
    }
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
        Ok(Run { start, bounds: bounds_of(run) })
    }

    /// Why runs had to stay in memory, if they did.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }
}

/// Write `bytes` at `*end` of the spill file and move the end past them.
pub(super) fn append(mut file: &File, end: &mut u64, bytes: &[u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(*end))?;
    file.write_all(bytes)?;
    *end += bytes.len() as u64;
    Ok(())
}

/// Fill `buf` from `offset` of the file without using (or moving) the
/// shared file position, so that parts can be read at the same time.
pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            match std::os::windows::fs::FileExt::seek_read(file, &mut buf[done..], offset + done as u64)? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => done += n,
            }
        }
        Ok(())
    }
}

/// Where the next entries of one run (or part of one) come from.
enum Source<'a> {
    Memory(std::slice::Iter<'a, Entry>),
    Disk { start: u64, len: u64, read: u64, buf: Vec<Entry>, at: usize, bytes: Vec<u8>, chunk: usize },
}

impl Source<'_> {
    fn next(&mut self, file: Option<&File>) -> io::Result<Option<Entry>> {
        match self {
            Source::Memory(it) => Ok(it.next().copied()),
            Source::Disk { start, len, read, buf, at, bytes, chunk } => {
                if *at == buf.len() {
                    let n = (*len - *read).min(*chunk as u64);
                    if n == 0 {
                        return Ok(None);
                    }
                    let file = file.expect("runs on disk have a file");
                    bytes.resize(n as usize * ENTRY_BYTES, 0);
                    read_at(file, bytes, *start + *read * ENTRY_BYTES as u64)?;
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
    // The smallest head is replaced in place by its successor: one
    // sift down instead of a pop and a push.
    while let Some(mut top) = heads.peek_mut() {
        let Reverse((e, i)) = *top;
        match sources[i].next(file)? {
            Some(next) => *top = Reverse((next, i)),
            None => {
                PeekMut::pop(top);
            }
        }
        visit(e)?;
    }
    Ok(())
}

/// Entries each of `runs` runs on disk reads at a time, within the budget.
fn read_chunk(runs: usize) -> usize {
    (MERGE_BUFFER / BUFFERED_BYTES / runs.max(1)).clamp(MIN_READ_ENTRIES, MAX_READ_ENTRIES)
}

/// The sources of part `p`: that part of every run.
fn part_sources<'a>(memory: &[(&'a [Entry], Bounds)], disk: &[Run], p: usize, chunk: usize) -> Vec<Source<'a>> {
    let mut sources: Vec<Source<'a>> =
        memory.iter().map(|(r, b)| Source::Memory(r[b[p] as usize..b[p + 1] as usize].iter())).collect();
    sources.extend(disk.iter().map(|r| r.part(p, chunk)));
    sources
}

/// Visit every entry of `memory` (sorted runs) and of the runs in `spill`
/// in sorted order, one part of the key space at a time and parts at the
/// same time (on the current rayon pool). Each part is folded into its own
/// accumulator, made by `new`; the accumulators come back in key order,
/// with the first error met while reading, if any (the entries after it in
/// that part are not visited).
pub fn merge_all<A: Send>(
    memory: &[Vec<Entry>],
    spill: Spill,
    new: impl Fn() -> A + Sync,
    visit: impl Fn(&mut A, Entry) + Sync,
) -> (Vec<A>, Option<io::Error>) {
    let threads = rayon::current_num_threads();
    merge_runs(memory, spill, (FAN_IN / threads).max(2), threads, new, visit)
}

/// [`merge_all`], merging at most `fan_in` runs at once, with `threads`
/// parts at a time sharing the read budget.
fn merge_runs<A: Send>(
    memory: &[Vec<Entry>],
    mut spill: Spill,
    fan_in: usize,
    threads: usize,
    new: impl Fn() -> A + Sync,
    visit: impl Fn(&mut A, Entry) + Sync,
) -> (Vec<A>, Option<io::Error>) {
    let memory: Vec<(&[Entry], Bounds)> = memory.iter().map(|r| (r.as_slice(), bounds_of(r))).collect();
    // Merge runs on disk into longer ones until the rest can be merged at
    // once. Should that fail (a full disk, say), the runs are all still
    // there: they are merged at once, over the read budget, but whole.
    while spill.runs.len() + memory.len() > fan_in && spill.runs.len() > 1 {
        if merge_some(&mut spill, fan_in).is_err() {
            break;
        }
    }
    let chunk = read_chunk(spill.runs.len() * threads.min(PARTS));
    let file = spill.file.as_ref();
    let merged: Vec<(A, io::Result<()>)> = (0..PARTS)
        .into_par_iter()
        .map(|p| {
            let mut acc = new();
            let r = merge(part_sources(&memory, &spill.runs, p, chunk), file, &mut |e| {
                visit(&mut acc, e);
                Ok(())
            });
            (acc, r)
        })
        .collect();
    let mut problem = None;
    let accs = merged
        .into_iter()
        .map(|(acc, r)| {
            if let Err(e) = r {
                problem.get_or_insert(e);
            }
            acc
        })
        .collect();
    (accs, problem)
}

/// Merge the first `fan_in` runs on disk into one, part by part. They are
/// replaced only once the merged run is written.
fn merge_some(spill: &mut Spill, fan_in: usize) -> io::Result<()> {
    let take = fan_in.min(spill.runs.len());
    let group: Vec<Run> = spill.runs[..take].to_vec();
    let chunk = read_chunk(take);
    let file = spill.file.as_ref().expect("runs on disk have a file");
    let start = spill.end;
    let mut bounds = [0; PARTS + 1];
    let mut out = Vec::new();
    for p in 0..PARTS {
        let mut len = bounds[p];
        merge(part_sources(&[], &group, p, chunk), Some(file), &mut |e| {
            encode(&e, &mut out);
            len += 1;
            if out.len() >= MAX_READ_ENTRIES * ENTRY_BYTES * 16 {
                append(file, &mut spill.end, &out)?;
                out.clear();
            }
            Ok(())
        })?;
        bounds[p + 1] = len;
    }
    append(file, &mut spill.end, &out)?;
    spill.runs.drain(..take);
    spill.runs.push(Run { start, bounds });
    Ok(())
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
            encode(&e, &mut b);
            assert_eq!(b.len(), ENTRY_BYTES);
            assert_eq!(decode(&b).unwrap(), e);
        }
        let mut b = vec![0u8; ENTRY_BYTES];
        b[0] = 9;
        assert!(decode(&b).is_err());
    }

    #[test]
    fn merge_buffers_stay_within_the_budget() {
        assert_eq!(FAN_IN, 3591);
        for runs in 1..=FAN_IN {
            let chunk = read_chunk(runs);
            assert!((MIN_READ_ENTRIES..=MAX_READ_ENTRIES).contains(&chunk));
            assert!(chunk * runs * BUFFERED_BYTES <= MERGE_BUFFER, "{runs} runs of {chunk}");
        }
        // A million publishing records in 2,048-entry runs, merged by two
        // threads: all at once.
        assert!(1_000_000usize.div_ceil(RUN_ENTRIES) <= FAN_IN / 2);
    }

    #[test]
    fn runs_that_cannot_be_merged_into_longer_ones_are_merged_whole() {
        let entries: Vec<Entry> = (0..600u64).map(|i| entry(i * 7919 % 600, i as u32, i)).collect();
        let mut spill = Spill::default();
        for chunk in entries.chunks(50) {
            let mut run = chunk.to_vec();
            run.sort_unstable();
            spill.write(&run).unwrap();
        }
        // The same runs in a file that can be read but not written: the
        // longer runs cannot be written out.
        let mut bytes = vec![0; spill.end as usize];
        read_at(spill.file.as_ref().unwrap(), &mut bytes, 0).unwrap();
        let copy = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(copy.path(), &bytes).unwrap();
        spill.file = Some(File::open(copy.path()).unwrap());
        assert!(merge_some(&mut spill, 3).is_err());
        assert_eq!(spill.runs.len(), 12, "a failed merge keeps its runs");
        let (parts, problem) = merge_runs(&[], spill, 3, 1, Vec::new, |v: &mut Vec<Entry>, e| v.push(e));
        assert!(problem.is_none(), "{problem:?}");
        let mut want = entries;
        want.sort_unstable();
        assert_eq!(parts.concat(), want);
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

        /// However entries are cut into runs and whichever runs go to disk,
        /// the merge yields every entry once, in sorted order — also when
        /// there are more runs than can be merged at once.
        #[test]
        fn merge_yields_every_entry_in_order(
            ids in proptest::collection::vec(0u64..500, 0..3000),
            run_len in 1usize..200,
            to_disk in proptest::collection::vec(any::<bool>(), 1..40),
            fan_in in 2usize..10,
            threads in 1usize..4,
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
            let (parts, problem) = merge_runs(&memory, spill, fan_in, threads, Vec::new, |v: &mut Vec<Entry>, e| v.push(e));
            prop_assert!(problem.is_none());
            prop_assert_eq!(parts.len(), PARTS);
            for (p, part) in parts.iter().enumerate() {
                prop_assert!(part.iter().all(|e| part_of(&e.0) == p), "part {}", p);
            }
            let mut want = entries;
            want.sort_unstable();
            prop_assert_eq!(parts.concat(), want);
        }
    }
}
