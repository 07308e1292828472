//! How to run a scan.

use super::paths::LIST_BYTES;
use super::publication::RUN_PUBLICATIONS;
use super::tally::TallyBy;
use super::{RUN_MINUTES, RUN_SAMPLES};
use std::sync::Arc;

use super::progress::Progress;
use crate::pattern::FieldSelector;
use crate::record::EpochMs;
use crate::source::Limits;

/// What `--events` shows records for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventsBy {
    /// Each breaching window.
    Windows,
    /// Each ALARM episode.
    Episodes,
}

impl EventsBy {
    /// As the reports name it.
    pub fn key(self) -> &'static str {
        match self {
            EventsBy::Windows => "windows",
            EventsBy::Episodes => "episodes",
        }
    }
}

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
    /// temporary file (default `RUN_SAMPLES`; with `keep_all`, callers use
    /// [`RUN_KEPT`](super::RUN_KEPT); the result does not depend on it).
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
    /// Keep every matching record (written out past `samples_held`), not
    /// only the first `samples` of each window: for `--events-out`, and for
    /// events and contributors per window and per ALARM episode. Matching
    /// records without a usable time are kept too, in no window
    /// ([`UNPLACED`](super::UNPLACED)).
    pub keep_all: bool,
    /// Keep the event IDs of the records that published, for a series
    /// file (`ScanReport` hands them to `series::write`), so that repeats
    /// across shards can be found when the series are merged.
    pub keep_ids: bool,
    /// Show the matching records behind each breaching window or each
    /// ALARM episode (`--events`), `max_events` each.
    pub events: Option<EventsBy>,
    /// With `events`: matching records kept for each breaching window and
    /// each ALARM episode.
    pub max_events: usize,
    /// Keep each kept record's whole text (`--full`).
    pub full: bool,
    /// Further fields to count matching records by and to show for each
    /// kept record (`--group-by`).
    pub group_by: Vec<FieldSelector>,
    /// Counters of the files and bytes found and read, for a progress
    /// display.
    pub progress: Option<Arc<Progress>>,
}

impl ScanOptions {
    /// Matching records kept per window.
    pub(crate) fn kept_per_window(&self) -> usize {
        if self.keep_all {
            usize::MAX
        } else {
            self.samples.max(self.episode_events())
        }
    }

    /// Matching records shown for a window.
    pub(crate) fn window_events(&self, breaching: bool) -> usize {
        if breaching && self.events == Some(EventsBy::Windows) {
            self.max_events
        } else {
            self.samples
        }
    }

    /// Matching records shown per ALARM episode.
    pub(crate) fn episode_events(&self) -> usize {
        if self.events.is_some() {
            self.max_events
        } else {
            self.samples
        }
    }

    /// Whether each alarm's ALARM episodes are listed with the records
    /// behind them.
    pub(crate) fn lists_episodes(&self) -> bool {
        self.events == Some(EventsBy::Episodes) || self.counts_kept()
    }

    /// Whether breaching windows and ALARM episodes have their records
    /// counted by who and what (every matching record kept, contributors
    /// asked for).
    pub(crate) fn counts_kept(&self) -> bool {
        self.keep_all && self.contributors > 0 && self.tally == TallyBy::Rules
    }
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
            keep_all: false,
            keep_ids: false,
            events: None,
            max_events: 20,
            full: false,
            group_by: Vec::new(),
            progress: None,
        }
    }
}
