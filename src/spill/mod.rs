//! Sorted runs on a temporary file: how a scan keeps its memory flat
//! however much it reads.
//!
//! A worker holds what it accumulates (per-minute statistic sets, samples,
//! paths, event IDs, held-back publications) up to a [`Budget`]; past it,
//! it takes what it holds out as ascending *runs* ([`Hold`]) and appends
//! them to one anonymous temporary file ([`Runs`]). When the scan is done
//! each key is read back as the ascending merge of its
//! runs and of what the workers still hold, never held whole.
//!
//! If the temporary file cannot be created or written, what would have
//! been written stays in memory (the result is the same; only memory
//! grows) and [`Runs::problem`] says why. If it cannot be read back, the
//! sequence ends early and the reader records why.

mod budget;
mod file;
mod merge;
mod runs;

pub(crate) mod codec;

pub(crate) use budget::{Budget, Hold};
pub(crate) use merge::Keyed;
#[cfg(test)]
pub(crate) use merge::Merge;
pub(crate) use runs::{Item, Runs, FAN_IN, READ_BYTES};
