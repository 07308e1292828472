//! Inputs: finding files, decoding them, and streaming their records.

pub mod archive;
pub mod decode;
pub mod discover;
pub mod format;
pub mod gzip;
mod inflate;
pub mod metric_data;
pub mod reader;
#[cfg(test)]
mod testutil;

pub use decode::Bound;
pub use decode::{DecodeError, Limits};
pub use discover::{discover, Discovery, InputFile, NameKind, SkipKind, Walker};
pub use format::Form;
pub use reader::{read_records, Archive, Batch, Offsets, ReadBuffers, ReadError, ReadOutcome, RecordSink, Source};
