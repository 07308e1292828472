//! Inputs: finding files, decoding them, and streaming their records.

pub mod archive;
mod batch;
pub(crate) mod decode;
pub(crate) mod discover;
pub mod format;
pub(crate) mod gzip;
pub mod hash;
mod inflate;
pub(crate) use inflate::Inflater;
pub(crate) mod reader;
#[cfg(test)]
mod testutil;

pub use batch::{Archive, Batch, Offsets, ReadError, ReadOutcome, RecordSink, Source};
pub use decode::{DecodeError, Limits};
pub use discover::{discover, measure, Discovery, InputFile, NameKind, SkipKind, Walker};
pub(crate) use format::Form;
pub use reader::{read_records, ReadBuffers};
