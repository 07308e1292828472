//! Streaming the records of one input file: decode, split, hand each record
//! to a sink. Memory is bounded by the read chunk plus the largest record
//! kept (records above the event-size limit are dropped, as CloudTrail
//! drops them on the way to CloudWatch Logs, and counted).

use std::fmt;

use super::decode::{DecodeError, Decoded, Limits};
use super::discover::{InputFile, NameKind};
use crate::record::{SplitError, SplitErrorKind, Splitter, Step};

/// How much decoded data to ask for at a time.
const CHUNK: usize = 1 << 20;

/// Receives the records of a file.
pub trait RecordSink {
    /// One record: its bytes and the absolute offset of its first byte in
    /// the decoded stream.
    fn record(&mut self, bytes: &[u8], offset: u64);
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

/// Read every record of `file` into `sink`. `buf` is a reusable buffer.
pub fn read_records(file: &InputFile, limits: Limits, buf: &mut Vec<u8>, sink: &mut dyn RecordSink) -> ReadOutcome {
    let mut out = ReadOutcome { compressed: file.size, decompressed: 0, records: 0, not_trail_log: false, error: None };
    let mut dec = match Decoded::open(&file.path, limits) {
        Ok(d) => d,
        Err(e) => {
            out.error = Some(ReadError::Decode(e));
            return out;
        }
    };
    out.compressed = dec.compressed_len();
    let trusted_name = matches!(file.name, NameKind::TrailLog { .. });
    buf.clear();
    let mut sp = Splitter::new();
    let mut eof = false;
    loop {
        match sp.next(buf, eof) {
            Ok(Step::Record(r)) => {
                out.records += 1;
                sink.record(&buf[r.start..r.end], sp.absolute(r.start));
            }
            Ok(Step::Discarded { offset, len }) => {
                out.records += 1;
                sink.oversized(offset, len);
            }
            Ok(Step::NeedMore) if eof => break,
            Ok(Step::NeedMore) => {
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
                        out.error = Some(ReadError::Decode(e));
                        break;
                    }
                }
            }
            Err(e) => {
                // A file whose name does not claim to be a trail log and
                // whose content is not a Records document is simply
                // something else.
                let foreign = matches!(e.kind, SplitErrorKind::NotAnObject | SplitErrorKind::NoRecords)
                    || (e.kind == SplitErrorKind::Truncated && e.offset == 0);
                if !trusted_name && out.records == 0 && foreign {
                    out.not_trail_log = true;
                } else {
                    out.error = Some(ReadError::Structure(e));
                }
                break;
            }
        }
    }
    out.decompressed = dec.produced();
    out
}
