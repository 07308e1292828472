//! How to run a scan.

use super::paths::LIST_BYTES;
use super::publication::RUN_PUBLICATIONS;
use super::tally::TallyBy;
use super::{RUN_MINUTES, RUN_SAMPLES};
use crate::record::EpochMs;
use crate::source::Limits;

/// How to run a scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Shift added to `eventTime` to get the CloudWatch timestamp.
    pub lag_ms: i64,
    /// Ignore datapoints before this instant.
    pub from: Option<EpochMs>,
    /// Ignore datapoints at or after this instant.
    pub to: Option<EpochMs>,
    /// Matching events kept per window for drill-down.
    pub samples: usize,
    /// Decoding limits.
    pub limits: Limits,
    /// Skip records that cannot match any rule without parsing them
    /// (default). Off: every record is parsed and validated — the reference
    /// path the prefilter is tested against.
    pub prefilter: bool,
    /// Drop repeated copies of an event (same `eventID`), keeping the
    /// first in input order.
    pub dedup: bool,
    /// Per-minute statistic sets a worker holds, over all rules, before it
    /// writes them to a temporary file (default [`RUN_MINUTES`]; the result
    /// does not depend on it).
    pub minutes_held: usize,
    /// Bytes of paths a worker holds before it writes them to a temporary
    /// file (default [`LIST_BYTES`]; the result does not depend on it).
    pub paths_held: usize,
    /// Samples a worker holds, over all rules, before it writes them to a
    /// temporary file (default `RUN_SAMPLES`; the result does not depend
    /// on it).
    pub samples_held: usize,
    /// With `dedup`: publications a worker holds back before it writes
    /// them to a temporary file (default [`RUN_PUBLICATIONS`]; the result
    /// does not depend on it).
    pub publications_held: usize,
    /// Count the matching records by principal, source IP, eventName,
    /// errorCode, account and region (see [`TallyBy`]).
    pub tally: TallyBy,
    /// With `tally` = [`TallyBy::Rules`]: the values of each field the
    /// reports show per rule, most frequent first.
    pub contributors: usize,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            threads: 0,
            lag_ms: 0,
            from: None,
            to: None,
            samples: 3,
            limits: Limits::default(),
            prefilter: true,
            dedup: false,
            minutes_held: RUN_MINUTES,
            paths_held: LIST_BYTES,
            samples_held: RUN_SAMPLES,
            publications_held: RUN_PUBLICATIONS,
            tally: TallyBy::Off,
            contributors: 10,
        }
    }
}
