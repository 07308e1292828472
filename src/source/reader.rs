//! Reading the records of one input, in batches.
//!
//! An input is a file on disk, or a member of an archive (in memory, or
//! streamed when large). Its packing (gzip, tar, zip) is sniffed from the
//! raw bytes and its form (CloudTrail log file, JSON Lines, lookup-events
//! output, CloudWatch Logs export, ...) from the decoded bytes; see
//! [`super::format`]. Archives are reported back to the caller, which
//! reads their members (see [`super::archive`]).
//!
//! Two paths give the same records:
//!
//! * **whole buffer** (the common case): the input is read into a reusable
//!   buffer and a single-member gzip is inflated in one call by libdeflate
//!   into a buffer sized from the gzip trailer, and used only when that one
//!   member is the whole file; the records are found in one pass and handed
//!   over as one batch;
//! * **streaming** (inputs above [`WHOLE_FILE_MAX`], gzip that decodes to
//!   more than [`WHOLE_DECODED_MAX`], multi-member gzip, damaged gzip):
//!   flate2 inflates 1 MiB at a time, records are handed over per chunk,
//!   and memory stays bounded by the chunk plus the largest record. Damage
//!   is reported precisely and the records before it are kept.
//!
//! Records above the event-size limit are dropped (as CloudTrail drops them
//! on the way to CloudWatch Logs) and counted, without being kept in memory.
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use std::fs::File;
use std::io::{self, Read};

use super::batch::{Archive, Batch, Offsets, ReadError, ReadOutcome, RecordSink, Source};
use super::decode::{read_full, Bound, DecodeError, Decoded, Limits};
use super::format::{bom_len, detect, foreign_reason, is_tar, sniff, split_export_line, Form, Packing, DETECT_BYTES};
use super::inflate::{grow_scratch, Inflater};
use crate::json::Doc;
use crate::record::time::parse_event_time;
use crate::record::{EpochMs, Hit, Layout, LineSplitter, RecordSpan, SplitError, SplitErrorKind, Splitter, Step};

/// How much decoded data to ask for at a time when streaming.
const CHUNK: usize = 1 << 20;

/// Inputs up to this size (packed) are read whole; larger ones stream.
pub(crate) const WHOLE_FILE_MAX: u64 = 64 << 20;

/// Largest decoded size handled in one buffer, per thread: a file that
/// decodes to more is streamed, whatever its packed size, so a small file
/// that inflates to hundreds of megabytes never takes that much memory.
pub(crate) const WHOLE_DECODED_MAX: u64 = 64 << 20;

/// Buffers reused from input to input by one worker.
#[derive(Default)]
pub struct ReadBuffers {
    file: Vec<u8>,
    decoded: Vec<u8>,
    spans: Vec<RecordSpan>,
    hits: Vec<Hit>,
    inflater: Option<Inflater>,
    convert: Convert,
}

/// Scratch space for forms whose records are rewritten before delivery.
#[derive(Default)]
struct Convert {
    buf: Vec<u8>,
    spans: Vec<RecordSpan>,
    offsets: Vec<u64>,
    stamps: Vec<EpochMs>,
    doc: Doc,
}

impl ReadBuffers {
    /// Empty buffers.
    pub fn new() -> ReadBuffers {
        ReadBuffers::default()
    }
}

/// Read every record of an input into `sink`. `trusted`: the input's name
/// says it is a CloudTrail log file, so content that is not one is damage
/// rather than a foreign file.
pub fn read_records(
    source: Source<'_>,
    trusted: bool,
    limits: Limits,
    bufs: &mut ReadBuffers,
    sink: &mut dyn RecordSink,
) -> ReadOutcome {
    let mut out = ReadOutcome::default();
    match source {
        Source::File(file) if file.size <= WHOLE_FILE_MAX => {
            let mut data = std::mem::take(&mut bufs.file);
            let read = file.open().and_then(|mut f| read_whole(&mut f, file.size, &mut data));
            match read {
                Ok(n) => read_bytes(&data[..n], trusted, limits, bufs, sink, &mut out),
                Err(e) => out.error = Some(ReadError::Decode(DecodeError::Io(e))),
            }
            bufs.file = data;
        }
        Source::File(file) => match file.open() {
            Ok(f) => stream(Box::new(f), file.size, trusted, limits, bufs, sink, &mut out),
            Err(e) => out.error = Some(ReadError::Decode(DecodeError::Io(e))),
        },
        Source::Bytes(data) => read_bytes(data, trusted, limits, bufs, sink, &mut out),
        Source::Stream(reader, packed) => stream(reader, packed, trusted, limits, bufs, sink, &mut out),
    }
    out
}

/// Read a whole file, whose size the walk reported, into `data[..n]`: one
/// read of `size + 1` bytes (the extra byte shows the end) instead of
/// `read_to_end`'s own size query; a file that grew since is read on.
fn read_whole(f: &mut File, size: u64, data: &mut Vec<u8>) -> io::Result<usize> {
    let want = size as usize + 1;
    grow_scratch(data, want);
    let n = read_full(f, &mut data[..want])?;
    if n < want {
        return Ok(n);
    }
    data.truncate(n);
    f.read_to_end(data)?;
    Ok(data.len())
}

fn read_bytes(
    data: &[u8],
    trusted: bool,
    limits: Limits,
    bufs: &mut ReadBuffers,
    sink: &mut dyn RecordSink,
    out: &mut ReadOutcome,
) {
    let compressed = data.len() as u64;
    out.compressed = compressed;
    if let Some(kind) = archive_of(data, false) {
        out.archive = Some(kind);
        return;
    }
    if sniff(data) != Packing::Gzip {
        if compressed > limits.max_decompressed {
            out.error = Some(ReadError::Decode(DecodeError::Bomb {
                decompressed: compressed,
                compressed,
                limit: Bound::PerFile,
            }));
            return;
        }
        out.decompressed = compressed;
        split_buffer(data, trusted, limits, bufs, sink, out);
        return;
    }
    // Exactly one member that is the whole file, in one call; anything else
    // (several members, bytes after the member, a trailer that does not
    // tell the size, damage) streams, and the streaming path reads every
    // member and says precisely what is wrong.
    let inflater = bufs.inflater.get_or_insert_with(Inflater::new);
    match inflater.whole_file(data, limits, WHOLE_DECODED_MAX, &mut bufs.decoded) {
        Some(len) => {
            let decoded = std::mem::take(&mut bufs.decoded);
            out.decompressed = len as u64;
            if let Some(kind) = archive_of(&decoded[..len], true) {
                out.archive = Some(kind);
            } else {
                split_buffer(&decoded[..len], trusted, limits, bufs, sink, out);
            }
            bufs.decoded = decoded;
        }
        None => stream(Box::new(io::Cursor::new(data)), compressed, trusted, limits, bufs, sink, out),
    }
}

/// Whether content is an archive, from its first bytes after any gzip
/// layer (`gzip`: there was one). The one place both read paths ask. A zip
/// needs random access, so only a bare one is an archive; a
/// gzip-compressed zip is content that fits no form.
fn archive_of(head: &[u8], gzip: bool) -> Option<Archive> {
    if gzip {
        return is_tar(head).then_some(Archive::TarGz);
    }
    match sniff(head) {
        Packing::Zip => Some(Archive::Zip),
        Packing::Tar => Some(Archive::Tar),
        Packing::Gzip | Packing::Plain => None,
    }
}

/// The record finder for a form.
enum Finder {
    Json(Splitter),
    Lines(LineSplitter),
}

impl Finder {
    /// For `form`; `None` for content that holds no events.
    fn for_form(form: Form, trusted: bool) -> Option<Finder> {
        let layout = match form {
            Form::CloudTrail => Layout::Document("Records"),
            Form::LookupEvents => Layout::Document("Events"),
            Form::JsonArray => Layout::Array,
            Form::JsonObjects => Layout::Objects,
            Form::JsonLines | Form::CloudWatchExport => return Some(Finder::Lines(LineSplitter::new())),
            // A file named as a CloudTrail log: read it as one, to say
            // precisely what is wrong with it.
            Form::Unknown if trusted => Layout::Document("Records"),
            Form::Unknown => return None,
        };
        Some(Finder::Json(Splitter::with_layout(layout)))
    }

    fn next(&mut self, buf: &[u8], eof: bool) -> Result<Step, SplitError> {
        match self {
            Finder::Json(s) => s.next(buf, eof),
            Finder::Lines(s) => Ok(s.next(buf, eof)),
        }
    }

    fn absolute(&self, pos: usize) -> u64 {
        match self {
            Finder::Json(s) => s.absolute(pos),
            Finder::Lines(s) => s.absolute(pos),
        }
    }

    fn skip_prefix(&mut self, n: usize) {
        match self {
            Finder::Json(s) => s.skip_prefix(n),
            Finder::Lines(s) => s.skip_prefix(n),
        }
    }

    fn reclaimable(&self) -> usize {
        match self {
            Finder::Json(s) => s.reclaimable(),
            Finder::Lines(s) => s.reclaimable(),
        }
    }

    fn consumed(&mut self, n: usize) {
        match self {
            Finder::Json(s) => s.consumed(n),
            Finder::Lines(s) => s.consumed(n),
        }
    }

    fn pending_record_len(&self) -> u64 {
        match self {
            Finder::Json(s) => s.pending_record_len(),
            Finder::Lines(s) => s.pending_record_len(),
        }
    }

    fn discard_pending(&mut self) {
        match self {
            Finder::Json(s) => s.discard_pending(),
            Finder::Lines(s) => s.discard_pending(),
        }
    }
}

/// Decide the form of `head` and set up its finder, past any byte-order
/// mark; `None` when the input is not an event log (recorded in `out`, with
/// what it seems to be).
fn start(head: &[u8], trusted: bool, out: &mut ReadOutcome) -> Option<(Form, Finder)> {
    let form = detect(head);
    out.form = Some(form);
    let Some(mut finder) = Finder::for_form(form, trusted) else {
        out.not_trail_log = true;
        out.foreign = Some(foreign_reason(head));
        return None;
    };
    let bom = bom_len(head);
    if bom > 0 {
        finder.skip_prefix(bom);
    }
    Some((form, finder))
}

fn split_buffer(
    data: &[u8],
    trusted: bool,
    limits: Limits,
    bufs: &mut ReadBuffers,
    sink: &mut dyn RecordSink,
    out: &mut ReadOutcome,
) {
    let Some((form, mut finder)) = start(data, trusted, out) else { return };
    let ReadBuffers { spans, convert, hits, .. } = bufs;
    // The whole input is in one buffer, so the hits of every record are
    // complete. Records that are rewritten before delivery are not probed.
    let probes = sink.probes();
    let probed = match &mut finder {
        Finder::Json(s) if !probes.is_empty() && form != Form::LookupEvents => {
            s.probe(probes, std::mem::take(hits));
            true
        }
        _ => false,
    };
    collect(&mut finder, data, true, limits, spans, trusted, sink, out);
    if let (true, Finder::Json(s)) = (probed, &mut finder) {
        *hits = s.take_hits();
    }
    deliver(form, data, spans, 0, probed.then_some(&hits[..]), convert, sink);
}

/// Find the complete records in `buf` into `spans` (dropping oversized
/// ones). Returns false when the document structure is broken.
#[allow(clippy::too_many_arguments)]
fn collect(
    finder: &mut Finder,
    buf: &[u8],
    eof: bool,
    limits: Limits,
    spans: &mut Vec<RecordSpan>,
    trusted: bool,
    sink: &mut dyn RecordSink,
    out: &mut ReadOutcome,
) -> bool {
    spans.clear();
    loop {
        match finder.next(buf, eof) {
            Ok(Step::Record(r)) => {
                out.records += 1;
                out.recovered_to = finder.absolute(r.end);
                if r.end - r.start > limits.max_record {
                    sink.oversized(finder.absolute(r.start), (r.end - r.start) as u64);
                } else {
                    spans.push(r);
                }
            }
            Ok(Step::Discarded { offset, len }) => {
                out.records += 1;
                out.recovered_to = offset + len;
                sink.oversized(offset, len);
            }
            Ok(Step::NeedMore) => return true,
            Err(e) => {
                structure_error(e, trusted, out);
                return false;
            }
        }
    }
}

fn structure_error(e: SplitError, trusted: bool, out: &mut ReadOutcome) {
    // A file whose name does not claim to be a trail log and whose content
    // is not a Records document is simply something else.
    let foreign = matches!(e.kind, SplitErrorKind::NotAnObject | SplitErrorKind::NoRecords)
        || (e.kind == SplitErrorKind::Truncated && e.offset == 0);
    if !trusted && out.records == 0 && foreign {
        out.not_trail_log = true;
        out.foreign = Some(format!("not an event log: {e}"));
    } else {
        out.error = Some(ReadError::Structure(e));
    }
}

/// Hand the records found to the sink, converting them first where the
/// form requires it.
fn deliver(
    form: Form,
    buf: &[u8],
    spans: &[RecordSpan],
    base: u64,
    hits: Option<&[Hit]>,
    cv: &mut Convert,
    sink: &mut dyn RecordSink,
) {
    if spans.is_empty() {
        return;
    }
    match form {
        Form::JsonLines => {
            cv.spans.clear();
            for s in spans {
                if buf[s.start] == b'{' && buf[s.end - 1] == b'}' {
                    cv.spans.push(*s);
                } else {
                    sink.invalid(base + s.start as u64, "the line is not a JSON object");
                }
            }
            if !cv.spans.is_empty() {
                sink.batch(&Batch { buf, spans: &cv.spans, offsets: Offsets::Base(base), stamps: None, hits: None });
            }
        }
        Form::CloudWatchExport => {
            cv.spans.clear();
            cv.stamps.clear();
            for s in spans {
                let line = &buf[s.start..s.end];
                let parsed = split_export_line(line).and_then(|(stamp, message)| {
                    let t = parse_event_time(std::str::from_utf8(stamp).ok()?)?;
                    Some((t, message))
                });
                match parsed {
                    Some((t, message)) if message.first() == Some(&b'{') && message.last() == Some(&b'}') => {
                        let start = s.end - message.len();
                        cv.spans.push(RecordSpan::of(buf, start, s.end));
                        cv.stamps.push(t);
                    }
                    Some(_) => sink.invalid(base + s.start as u64, "the message is not a JSON object"),
                    None => sink
                        .invalid(base + s.start as u64, "not a CloudWatch Logs export line (`<timestamp> <message>`)"),
                }
            }
            if !cv.spans.is_empty() {
                let batch =
                    Batch { buf, spans: &cv.spans, offsets: Offsets::Base(base), stamps: Some(&cv.stamps), hits: None };
                sink.batch(&batch);
            }
        }
        Form::LookupEvents => {
            cv.buf.clear();
            cv.spans.clear();
            cv.offsets.clear();
            for s in spans {
                let offset = base + s.start as u64;
                let start = cv.buf.len();
                match lookup_event_record(&buf[s.start..s.end], &mut cv.doc, &mut cv.buf) {
                    Ok(()) => {
                        cv.spans.push(RecordSpan::of(&cv.buf, start, cv.buf.len()));
                        cv.offsets.push(offset);
                    }
                    Err(why) => sink.invalid(offset, why),
                }
            }
            if !cv.spans.is_empty() {
                let batch = Batch {
                    buf: &cv.buf,
                    spans: &cv.spans,
                    offsets: Offsets::Each(&cv.offsets),
                    stamps: None,
                    hits: None,
                };
                sink.batch(&batch);
            }
        }
        _ => sink.batch(&Batch { buf, spans, offsets: Offsets::Base(base), stamps: None, hits }),
    }
}

/// Append to `out` the CloudTrail record inside one `lookup-events` entry:
/// its `CloudTrailEvent` string, unescaped (nothing is appended on error).
fn lookup_event_record(entry: &[u8], doc: &mut Doc, out: &mut Vec<u8>) -> Result<(), &'static str> {
    let text = std::str::from_utf8(entry).map_err(|_| "the entry is not UTF-8")?;
    doc.parse_object(text).map_err(|_| "the entry is not valid JSON")?;
    let root = doc.root(text).ok_or("the entry is not valid JSON")?;
    let event = root.get("CloudTrailEvent").ok_or("the entry has no CloudTrailEvent")?;
    let record = event.as_str().ok_or("CloudTrailEvent is not a string")?;
    let trimmed = record.trim();
    if !(trimmed.starts_with('{') && trimmed.ends_with('}')) {
        return Err("CloudTrailEvent does not hold a JSON object");
    }
    out.extend_from_slice(trimmed.as_bytes());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn stream(
    reader: Box<dyn Read + '_>,
    packed: u64,
    trusted: bool,
    limits: Limits,
    bufs: &mut ReadBuffers,
    sink: &mut dyn RecordSink,
    out: &mut ReadOutcome,
) {
    let mut dec = match Decoded::from_reader(reader, packed, limits) {
        Ok(d) => d,
        Err(e) => {
            out.error = Some(ReadError::Decode(e));
            return;
        }
    };
    out.compressed = packed;
    let ReadBuffers { decoded: buf, spans, convert, .. } = bufs;
    buf.clear();
    // Enough content to tell what it is.
    let mut eof = false;
    // Damage met this early is reported after the records decoded before
    // it are read.
    let mut pending_error = None;
    while buf.len() < DETECT_BYTES && !eof {
        match dec.fill(buf, CHUNK) {
            Ok(0) => eof = true,
            Ok(_) => {}
            Err(e) => {
                pending_error = Some(ReadError::Decode(e));
                eof = true;
            }
        }
    }
    // An archive is read again member by member, which keeps the members
    // before any damage and reports the damage itself.
    if let Some(kind) = archive_of(buf, dec.is_gzip()) {
        out.archive = Some(kind);
        return;
    }
    out.decompressed = dec.produced();
    if buf.is_empty() {
        if let Some(e) = pending_error {
            out.error = Some(e);
            return;
        }
    }
    let Some((form, mut finder)) = start(buf, trusted, out) else {
        // Damaged compressed data is a failure whatever it holds.
        if let Some(e) = pending_error {
            out.not_trail_log = false;
            out.error = Some(e);
        }
        return;
    };
    loop {
        let intact = collect(&mut finder, buf, eof, limits, spans, trusted, sink, out);
        deliver(form, buf, spans, finder.absolute(0), None, convert, sink);
        if !intact || eof {
            break;
        }
        if finder.pending_record_len() > limits.max_record as u64 {
            finder.discard_pending();
        }
        let n = finder.reclaimable();
        buf.drain(..n);
        finder.consumed(n);
        match dec.fill(buf, CHUNK) {
            Ok(0) => eof = true,
            Ok(_) => {}
            Err(e) => {
                // Every record completed before the damage was delivered.
                out.error = Some(ReadError::Decode(e));
                break;
            }
        }
    }
    // Damage in the compressed stream explains a cut-short document better
    // than the cut itself.
    if let Some(e) = pending_error {
        out.error = Some(e);
    }
    out.decompressed = dec.produced();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::gzip;

    #[derive(Default)]
    struct Seen {
        records: Vec<(u64, Vec<u8>)>,
        invalid: Vec<u64>,
    }

    impl RecordSink for Seen {
        fn batch(&mut self, batch: &Batch<'_>) {
            for i in 0..batch.spans.len() {
                self.records.push((batch.offset(i), batch.record(i).to_vec()));
            }
        }
        fn oversized(&mut self, _: u64, _: u64) {}
        fn invalid(&mut self, offset: u64, _: &str) {
            self.invalid.push(offset);
        }
    }

    /// Read `data` whole (as a small file) and streamed (as a large one).
    fn both(data: &[u8]) -> [(Seen, ReadOutcome); 2] {
        let read = |source| {
            let mut seen = Seen::default();
            let out = read_records(source, false, Limits::default(), &mut ReadBuffers::new(), &mut seen);
            (seen, out)
        };
        [read(Source::Bytes(data)), read(Source::Stream(Box::new(data), data.len() as u64))]
    }

    #[test]
    fn whole_and_streamed_reads_agree_on_every_form() {
        let ev = |i: u32| format!(r#"{{"eventVersion":"1.08","eventTime":"2023-07-10T11:5{i}:00Z","eventID":"e{i}"}}"#);
        let lookup = format!(r#"{{"Events":[{{"CloudTrailEvent":{:?}}}]}}"#, ev(1));
        let forms: Vec<(Form, String)> = vec![
            (Form::CloudTrail, format!(r#"{{"Records":[{},{}]}}"#, ev(1), ev(2))),
            (Form::JsonLines, format!("{}\n{}\nnot json\n", ev(1), ev(2))),
            (Form::JsonArray, format!("[{}, {}]", ev(1), ev(2))),
            (Form::JsonObjects, format!("{{\n \"eventVersion\": \"1.08\"\n}}\n{}", ev(2))),
            (Form::LookupEvents, lookup),
            (Form::CloudWatchExport, format!("2023-07-10T11:51:00.000Z {}\n2023-07-10T11:52:00Z {}\n", ev(1), ev(2))),
        ];
        for (form, text) in forms {
            for data in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
                let [(a, oa), (b, ob)] = both(&data);
                assert_eq!((oa.form, ob.form), (Some(form), Some(form)), "{text}");
                assert!(!a.records.is_empty(), "{text}");
                assert_eq!(a.records, b.records, "{text}");
                assert_eq!(a.invalid, b.invalid, "{text}");
                assert_eq!(oa.records, ob.records);
            }
        }
    }

    #[test]
    fn a_file_is_read_whole_whatever_size_the_walk_saw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let content: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let mut data = vec![7u8; 10]; // a reused buffer with old bytes in it
        for seen in [0, 10, 4999, 5000, 5001, 9000] {
            let n = read_whole(&mut File::open(&path).unwrap(), seen, &mut data).unwrap();
            assert_eq!(&data[..n], &content[..], "size seen {seen}");
        }
    }

    #[test]
    fn a_gzip_compressed_zip_is_not_an_archive_on_either_path() {
        // Found by the read_records fuzz target: the streaming path took it
        // for a zip, which cannot be read through gzip.
        for (seen, out) in both(&gzip(b"PK\x05\x06")) {
            assert_eq!(out.archive, None);
            assert!(out.not_trail_log);
            assert!(seen.records.is_empty());
        }
        let [(_, whole), (_, streamed)] = both(b"PK\x05\x06");
        assert_eq!((whole.archive, streamed.archive), (Some(Archive::Zip), Some(Archive::Zip)));
    }

    #[test]
    fn a_compressed_tar_is_an_archive_on_both_paths_whatever_its_first_bytes() {
        // Found by the read_records fuzz target: a tar header whose name
        // starts with the gzip magic bytes, compressed.
        let mut tar = vec![0u8; 1024];
        tar[..2].copy_from_slice(&[0x1f, 0x8b]);
        tar[257..263].copy_from_slice(b"ustar\0");
        for (_, out) in both(&gzip(&tar)) {
            assert_eq!(out.archive, Some(Archive::TarGz));
        }
    }
}
