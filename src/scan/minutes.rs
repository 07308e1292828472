//! The per-minute statistic sets a worker holds, written out past a
//! budget as one run per metric.

use super::report::RuleResult;
use crate::metric::series::{Dimensions, Minute, Stats};
use crate::spill::{Hold, Item};

/// Statistic sets a worker holds (over all rules) before it writes them out,
/// by default (see [`super::ScanOptions::minutes_held`]): 7/8 of 1,024,
/// the most one rule's 1,024-bucket table holds before it doubles (about
/// 80 KiB).
pub const RUN_MINUTES: usize = 896;

/// The statistic sets a worker holds, over all rules: written out as one
/// run per rule and dimension values, by minute.
pub(super) struct MinutesHeld<'a>(pub(super) &'a mut [RuleResult]);

impl Hold for MinutesHeld<'_> {
    type Key = (usize, Dimensions);
    type Item = (Minute, Stats);

    fn held(&self) -> usize {
        self.0.iter().map(|r| r.series.len()).sum()
    }

    fn take(&mut self) -> Vec<((usize, Dimensions), Vec<(Minute, Stats)>)> {
        let mut runs = Vec::new();
        for (i, r) in self.0.iter_mut().enumerate() {
            runs.extend(r.series.drain_sorted().into_iter().map(|(dims, sets)| ((i, dims), sets)));
        }
        runs
    }

    fn put_back(&mut self, (rule, dims): (usize, Dimensions), run: Vec<(Minute, Stats)>) {
        for (m, s) in run {
            self.0[rule].series.insert(dims.clone(), m, s);
        }
    }
}

impl Item for (Minute, Stats) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.1.encode(self.0, out);
    }
    fn decode(bytes: &[u8]) -> Result<Option<((Minute, Stats), usize)>, &'static str> {
        Ok(Stats::decode(bytes)?.map(|(m, s, n)| ((m, s), n)))
    }
}
