//! Arbitrary bytes as an input file, read whole (as a small file is) and
//! streamed (as a large file or an archive member is), raw and wrapped in
//! gzip. Reading never panics or hangs; every record handed over is an
//! in-bounds `{...}` span at a strictly increasing offset; the outcome's
//! record count is what the sink saw; both paths find the same records;
//! each span's backslash flag matches its bytes; where the sink's probes
//! were looked for, every needle inside a record is among the hits.
//! Archives are read member by member, and each member as an input.
#![no_main]

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use trailwatch::source::archive::{read_archive_from, Entry, MemberData};
use trailwatch::record::Probes;
use trailwatch::source::{read_records, Batch, Limits, ReadBuffers, ReadOutcome, RecordSink, Source};

/// Needles the sink asks the splitter to probe for.
const NEEDLES: [&[u8]; 3] = [b"\"errorCode\"", b"\"a\"", b"\"}\""];

/// Small limits, so that the guards are reached by small inputs.
const LIMITS: Limits = Limits {
    max_decompressed: 1 << 20,
    max_ratio: 50,
    ratio_floor: 16 << 10,
    max_record: 2048,
    max_archive_decompressed: 4 << 20,
    max_archive_entries: 64,
};

/// Everything the reader reported, in order.
#[derive(Default, Debug, PartialEq)]
struct Seen {
    /// (offset, record bytes, CloudWatch stamp)
    records: Vec<(u64, Vec<u8>, Option<i64>)>,
    oversized: Vec<(u64, u64)>,
    invalid: Vec<u64>,
}

impl RecordSink for Seen {
    fn batch(&mut self, batch: &Batch<'_>) {
        assert!(!batch.spans.is_empty(), "empty batch");
        if let Some(stamps) = batch.stamps {
            assert_eq!(stamps.len(), batch.spans.len());
        }
        for (i, s) in batch.spans.iter().enumerate() {
            assert!(s.start < s.end && s.end <= batch.buf.len(), "span {s:?} outside {}", batch.buf.len());
            let rec = batch.record(i);
            assert!(rec[0] == b'{' && rec[rec.len() - 1] == b'}', "not an object: {rec:?}");
            // The flag the splitter gathers is what the bytes say.
            assert_eq!(s.backslash, rec.contains(&b'\\'), "backslash flag of {rec:?}");
            assert_eq!(batch.text(i).ok(), std::str::from_utf8(rec).ok());
            if let Some(hits) = batch.hits {
                for (p, needle) in NEEDLES.iter().enumerate() {
                    for at in (s.start..s.end).filter(|&at| batch.buf[at..s.end].starts_with(needle)) {
                        assert!(hits.iter().any(|h| h.probe == p && h.pos == at), "needle {p} at {at} not hit");
                    }
                }
            }
            let offset = batch.offset(i);
            if let Some((last, ..)) = self.records.last() {
                assert!(offset > *last, "offsets go back: {last} then {offset}");
            }
            self.records.push((offset, rec.to_vec(), batch.stamps.map(|t| t[i])));
        }
    }

    fn oversized(&mut self, offset: u64, len: u64) {
        assert!(len > LIMITS.max_record as u64);
        self.oversized.push((offset, len));
    }

    fn invalid(&mut self, offset: u64, why: &str) {
        assert!(!why.is_empty());
        self.invalid.push(offset);
    }

    fn probes(&self) -> Probes {
        let mut p = Probes::none();
        for n in NEEDLES {
            p.add(n).expect("room for the needles");
        }
        p
    }
}

thread_local! {
    /// Buffers reused from input to input, as a scan worker reuses them, so
    /// that state left over from one input cannot leak into the next.
    static BUFS: std::cell::RefCell<Vec<ReadBuffers>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn read(source: Source<'_>, trusted: bool) -> (Seen, ReadOutcome) {
    let mut seen = Seen::default();
    let mut bufs = BUFS.with(|b| b.borrow_mut().pop()).unwrap_or_default();
    let out = read_records(source, trusted, LIMITS, &mut bufs, &mut seen);
    BUFS.with(|b| b.borrow_mut().push(bufs));
    let found = seen.records.len() + seen.oversized.len() + seen.invalid.len();
    assert_eq!(out.records, found as u64, "outcome count vs sink: {out:?}");
    let _ = out.error.as_ref().map(|e| e.to_string());
    (seen, out)
}

/// Read `data` both ways and compare.
fn check(data: &[u8], trusted: bool, depth: u32) {
    let (whole, out) = read(Source::Bytes(data), trusted);
    let (streamed, out2) = read(Source::Stream(Box::new(data), data.len() as u64), trusted);
    assert_eq!(out.archive, out2.archive);
    if out.archive.is_none() {
        assert_eq!(whole.records, streamed.records, "whole {out:?} vs streamed {out2:?}");
        assert_eq!(out.error.is_some(), out2.error.is_some(), "whole {out:?} vs streamed {out2:?}");
    }
    if let (Some(kind), 0) = (out.archive, depth) {
        let r = read_archive_from(Cursor::new(data), data.len() as u64, kind, LIMITS, &mut |entry| {
            if let Entry::Member { data: member, .. } = entry {
                match member {
                    MemberData::Bytes(b) => check(&b, trusted, depth + 1),
                    MemberData::Stream(r, packed) => {
                        read(Source::Stream(r, packed), trusted);
                    }
                }
            }
        });
        let _ = r.map_err(|e| e.to_string());
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else { return };
    let trusted = mode & 1 == 1;
    if mode & 2 == 0 {
        check(data, trusted, 0);
    } else {
        check(&gzip(data), trusted, 0);
    }
});
