//! Reading the records of one input file, in batches.
//!
//! Two paths give the same records:
//!
//! * **whole buffer** (the common case): the file is read into a reusable
//!   buffer and a single-member gzip is inflated in one call by libdeflate
//!   into a buffer sized from the gzip trailer; the records are found in one
//!   pass and handed over as one batch;
//! * **streaming** (files above [`WHOLE_FILE_MAX`], multi-member gzip, or
//!   damaged gzip): flate2 inflates 1 MiB at a time, records are handed over
//!   per chunk, and memory stays bounded by the chunk plus the largest
//!   record. Damage is reported precisely and the records before it are
//!   kept.
//!
//! Records above the event-size limit are dropped (as CloudTrail drops them
//! on the way to CloudWatch Logs) and counted, without being kept in memory.

use std::fmt;
use std::fs::File;
use std::io::Read;

use super::decode::{sniff, DecodeError, Decoded, Encoding, Limits};
use super::discover::{InputFile, NameKind};
use crate::record::{RecordSpan, SplitError, SplitErrorKind, Splitter, Step};

/// How much decoded data to ask for at a time when streaming.
const CHUNK: usize = 1 << 20;

/// Files up to this size (on disk) are read whole; larger ones stream.
pub const WHOLE_FILE_MAX: u64 = 64 << 20;

/// Largest decoded size handled in one buffer.
pub const WHOLE_DECODED_MAX: u64 = 512 << 20;

/// Receives the records of a file.
pub trait RecordSink {
    /// Records `buf[span.start..span.end]`, in order; `base` is the absolute
    /// offset of `buf[0]` in the decoded file.
    fn batch(&mut self, buf: &[u8], spans: &[RecordSpan], base: u64);
    /// A record larger than the event-size limit was dropped.
    fn oversized(&mut self, offset: u64, len: u64);
}

/// Why reading stopped early.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or decompressing failed.
    Decode(DecodeError),
    /// The JSON document is malformed or cut short.
    Structure(SplitError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Decode(e) => write!(f, "{e}"),
            ReadError::Structure(e) => write!(f, "{e}"),
        }
    }
}

/// What happened to one file.
#[derive(Debug)]
pub struct ReadOutcome {
    /// Compressed (on-disk) bytes.
    pub compressed: u64,
    /// Decoded bytes read.
    pub decompressed: u64,
    /// Records handed to the sink (or dropped as oversized).
    pub records: u64,
    /// The file turned out not to be a CloudTrail log at all (not an error).
    pub not_trail_log: bool,
    /// Why reading stopped early, if it did. Records before the damage
    /// were delivered.
    pub error: Option<ReadError>,
}

/// Buffers reused from file to file by one worker.
#[derive(Default)]
pub struct ReadBuffers {
    file: Vec<u8>,
    decoded: Vec<u8>,
    spans: Vec<RecordSpan>,
    inflater: Option<libdeflater::Decompressor>,
}

impl ReadBuffers {
    /// Empty buffers.
    pub fn new() -> ReadBuffers {
        ReadBuffers::default()
    }
}

/// Read every record of `file` into `sink`.
pub fn read_records(
    file: &InputFile,
    limits: Limits,
    bufs: &mut ReadBuffers,
    sink: &mut dyn RecordSink,
) -> ReadOutcome {
    let mut out = ReadOutcome { compressed: file.size, decompressed: 0, records: 0, not_trail_log: false, error: None };
    let trusted = matches!(file.name, NameKind::TrailLog { .. });
    if file.size <= WHOLE_FILE_MAX {
        match read_whole(file, limits, bufs) {
            Whole::Ready { compressed, decoded_len, in_file } => {
                out.compressed = compressed;
                out.decompressed = decoded_len as u64;
                let ReadBuffers { file: fbuf, decoded, spans, .. } = bufs;
                let data = if in_file { &fbuf[..decoded_len] } else { &decoded[..decoded_len] };
                split_whole(data, limits, spans, trusted, sink, &mut out);
                return out;
            }
            Whole::Failed(e) => {
                out.error = Some(ReadError::Decode(e));
                return out;
            }
            Whole::Stream => {}
        }
    }
    stream(file, limits, bufs, trusted, sink, &mut out);
    out
}

enum Whole {
    /// Decoded data is ready (in the file buffer when the file is plain).
    Ready { compressed: u64, decoded_len: usize, in_file: bool },
    /// Use the streaming path (multi-member, damaged, or too large).
    Stream,
    /// Reading failed, or a limit was exceeded.
    Failed(DecodeError),
}

fn read_whole(file: &InputFile, limits: Limits, bufs: &mut ReadBuffers) -> Whole {
    bufs.file.clear();
    let read = File::open(&file.path).and_then(|mut f| f.read_to_end(&mut bufs.file));
    if let Err(e) = read {
        return Whole::Failed(DecodeError::Io(e));
    }
    let data = &bufs.file;
    let compressed = data.len() as u64;
    if sniff(data) == Encoding::Plain {
        if compressed > limits.max_decompressed {
            return Whole::Failed(DecodeError::Bomb {
                decompressed: compressed,
                compressed,
                limit: "more than the per-file decompressed limit",
            });
        }
        return Whole::Ready { compressed, decoded_len: data.len(), in_file: true };
    }
    if data.len() < 18 {
        return Whole::Stream;
    }
    let n = data.len();
    let isize = u64::from(u32::from_le_bytes([data[n - 4], data[n - 3], data[n - 2], data[n - 1]]));
    if isize > limits.max_decompressed {
        return Whole::Failed(DecodeError::Bomb {
            decompressed: isize,
            compressed,
            limit: "the gzip trailer announces more than the per-file decompressed limit",
        });
    }
    if isize > limits.ratio_floor && isize > compressed.saturating_mul(limits.max_ratio) {
        return Whole::Failed(DecodeError::Bomb {
            decompressed: isize,
            compressed,
            limit: "the gzip trailer announces a compression ratio above the limit",
        });
    }
    if isize > WHOLE_DECODED_MAX {
        return Whole::Stream;
    }
    bufs.decoded.resize(isize as usize, 0);
    let inflater = bufs.inflater.get_or_insert_with(libdeflater::Decompressor::new);
    match inflater.gzip_decompress(data, &mut bufs.decoded) {
        Ok(len) if len as u64 == isize => Whole::Ready { compressed, decoded_len: len, in_file: false },
        // Several members, a trailer that does not tell the size, or damage:
        // the streaming path handles all of them and says precisely what is
        // wrong.
        _ => Whole::Stream,
    }
}

fn split_whole(
    data: &[u8],
    limits: Limits,
    spans: &mut Vec<RecordSpan>,
    trusted: bool,
    sink: &mut dyn RecordSink,
    out: &mut ReadOutcome,
) {
    let mut sp = Splitter::new();
    collect(&mut sp, data, true, limits, spans, trusted, sink, out);
    if !spans.is_empty() {
        sink.batch(data, spans, 0);
    }
}

/// Find the complete records in `buf` into `spans` (dropping oversized
/// ones). Returns false when the document structure is broken.
#[allow(clippy::too_many_arguments)]
fn collect(
    sp: &mut Splitter,
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
        match sp.next(buf, eof) {
            Ok(Step::Record(r)) => {
                out.records += 1;
                if r.end - r.start > limits.max_record {
                    sink.oversized(sp.absolute(r.start), (r.end - r.start) as u64);
                } else {
                    spans.push(r);
                }
            }
            Ok(Step::Discarded { offset, len }) => {
                out.records += 1;
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
    } else {
        out.error = Some(ReadError::Structure(e));
    }
}

fn stream(
    file: &InputFile,
    limits: Limits,
    bufs: &mut ReadBuffers,
    trusted: bool,
    sink: &mut dyn RecordSink,
    out: &mut ReadOutcome,
) {
    let mut dec = match Decoded::open(&file.path, limits) {
        Ok(d) => d,
        Err(e) => {
            out.error = Some(ReadError::Decode(e));
            return;
        }
    };
    out.compressed = dec.compressed_len();
    let ReadBuffers { decoded: buf, spans, .. } = bufs;
    buf.clear();
    let mut sp = Splitter::new();
    let mut eof = false;
    loop {
        let intact = collect(&mut sp, buf, eof, limits, spans, trusted, sink, out);
        if !spans.is_empty() {
            sink.batch(buf, spans, sp.absolute(0));
        }
        if !intact || eof {
            break;
        }
        if sp.pending_record_len() > limits.max_record as u64 {
            sp.discard_pending();
        }
        let n = sp.reclaimable();
        buf.drain(..n);
        sp.consumed(n);
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
    out.decompressed = dec.produced();
}
