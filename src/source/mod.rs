//! Inputs: finding files, decoding them, and streaming their records.

pub mod decode;
pub mod discover;
pub mod metric_data;
pub mod reader;

pub use decode::{DecodeError, Limits};
pub use discover::{discover, Discovery, InputFile, NameKind, SkipKind};
pub use reader::{read_records, ReadBuffers, ReadError, ReadOutcome, RecordSink};
