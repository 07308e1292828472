//! What reading an input hands out: its records in batches to a
//! [`RecordSink`], and what happened to it ([`ReadOutcome`]); and where
//! its bytes come from ([`Source`]).

use std::fmt;
use std::io::Read;

use super::decode::DecodeError;
use super::discover::InputFile;
use super::format::Form;
use crate::record::{EpochMs, Hit, Probes, RecordSpan, SplitError};

/// Where the byte offsets of a batch's records come from.
#[derive(Clone, Copy, Debug)]
pub enum Offsets<'a> {
    /// `base + span.start`: the records are where they are in the input.
    Base(u64),
    /// One offset per span: the records were converted (lookup-events
    /// output), the offsets are those of their source in the input.
    Each(&'a [u64]),
}

/// Records of one input, handed over together.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// The bytes the spans point into.
    pub buf: &'a [u8],
    /// The records, in input order.
    pub spans: &'a [RecordSpan],
    /// Their offsets in the decoded input.
    pub(crate) offsets: Offsets<'a>,
    /// CloudWatch timestamps, one per span, when the input carries them
    /// (CloudWatch Logs exports); otherwise the time comes from `eventTime`.
    pub stamps: Option<&'a [EpochMs]>,
    /// Where the sink's probes hit in `buf`, when they were looked for:
    /// every occurrence of a probed needle inside a record is among them.
    /// `None`: not looked for (the input was streamed, or its records
    /// rewritten), so the sink must search.
    pub hits: Option<&'a [Hit]>,
}

impl Batch<'_> {
    /// The bytes of record `i`.
    pub fn record(&self, i: usize) -> &[u8] {
        let s = self.spans[i];
        &self.buf[s.start..s.end]
    }

    /// The text of record `i`. A record that is ASCII, as almost every one
    /// is, needs no other check (`is_ascii` is several times cheaper than
    /// UTF-8 validation); any other is checked as UTF-8.
    pub fn text(&self, i: usize) -> Result<&str, std::str::Utf8Error> {
        let bytes = self.record(i);
        if bytes.is_ascii() {
            // SAFETY: ASCII is valid UTF-8.
            Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
        } else {
            std::str::from_utf8(bytes)
        }
    }

    /// The decoded-input offset of record `i`.
    pub fn offset(&self, i: usize) -> u64 {
        match self.offsets {
            Offsets::Base(base) => base + self.spans[i].start as u64,
            Offsets::Each(o) => o[i],
        }
    }
}

/// Receives the records of an input.
pub trait RecordSink {
    /// Records found, in input order.
    fn batch(&mut self, batch: &Batch<'_>);
    /// A record larger than the event-size limit was dropped.
    fn oversized(&mut self, offset: u64, len: u64);
    /// A record (a line, a lookup-events entry) that is not a usable event.
    fn invalid(&mut self, offset: u64, why: &str);
    /// Needles to look for while records are found, so that the sink need
    /// not search every byte again (see [`Batch::hits`]); none by default.
    fn probes(&self) -> Probes {
        Probes::none()
    }
}

/// Why reading stopped early.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or decompressing failed.
    Decode(DecodeError),
    /// The JSON document is malformed or cut short.
    Structure(SplitError),
    /// The archive member's data ends early (what is wrong, and where).
    Archive(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Decode(e) => write!(f, "{e}"),
            ReadError::Structure(e) => write!(f, "{e}"),
            ReadError::Archive(e) => f.write_str(e),
        }
    }
}

/// An archive, whose members the caller reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Archive {
    /// A tar archive.
    Tar,
    /// A gzip-compressed tar archive.
    TarGz,
    /// A zip archive.
    Zip,
}

/// What happened to one input.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Packed (on-disk, or in-archive) bytes.
    pub(crate) compressed: u64,
    /// Decoded bytes read.
    pub(crate) decompressed: u64,
    /// Records found (handed to the sink, dropped as oversized, or reported
    /// invalid).
    pub records: u64,
    /// The form of its content, once known.
    pub(crate) form: Option<Form>,
    /// The input is an archive: nothing was read, the caller reads its
    /// members.
    pub archive: Option<Archive>,
    /// The content is not an event log at all (not an error).
    pub(crate) not_trail_log: bool,
    /// With `not_trail_log`: what the content seems to be instead.
    pub(crate) foreign: Option<String>,
    /// Why reading stopped early, if it did. Records before the damage
    /// were delivered.
    pub error: Option<ReadError>,
    /// With an error: the decoded offset up to which records were
    /// recovered (the end of the last complete record).
    pub(crate) recovered_to: u64,
}

/// Where the bytes of an input come from.
pub enum Source<'a> {
    /// A file found by the walk.
    File(&'a InputFile),
    /// Bytes in memory (a small archive member).
    Bytes(&'a [u8]),
    /// A stream (a large archive member) and its packed size.
    Stream(Box<dyn Read + 'a>, u64),
}
