//! Two rules compared over the same logs: the records one matched and the
//! other did not, counted by who and what, and the ALARM episodes one
//! alarm would have had and the other not. A changed pattern, reviewed
//! like a code diff.

use crate::record::EpochMs;
use crate::rules::Rule;
use crate::scan::tally::{Group, TallyBy};
use crate::scan::{ScanOptions, ScanReport};
use crate::tune::{episodes, metric, Episodes};

/// One side of the comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// The rule's name.
    pub name: String,
    /// Its filter pattern, as written.
    pub pattern: String,
    /// Records it matched.
    pub matches: u64,
    /// Its alarm's ALARM episodes.
    pub episodes: Episodes,
    /// The records it matched and the other did not.
    pub only: Group,
    /// Its episodes that overlap none of the other's.
    pub unshared: Vec<(EpochMs, EpochMs)>,
}

/// Two rules compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Rule A, then rule B.
    pub sides: [Side; 2],
    /// Records both matched.
    pub both: u64,
}

/// Episodes of `mine` that overlap none of `theirs` (both in time order,
/// each [start, end)).
fn unshared(mine: &[(EpochMs, EpochMs)], theirs: &[(EpochMs, EpochMs)]) -> Vec<(EpochMs, EpochMs)> {
    let mut k = 0;
    let mut out = Vec::new();
    for &(a, b) in mine {
        while k < theirs.len() && theirs[k].1 <= a {
            k += 1;
        }
        let overlaps = theirs.get(k).is_some_and(|&(c, _)| c < b);
        if !overlaps {
            out.push((a, b));
        }
    }
    out
}

/// Compare rules 0 and 1 of `report`, which was scanned with `opts`
/// (`opts.tally` = `TallyBy::Contrast(0, 1)`).
///
/// # Panics
/// If the scan did not count the contrast of rules 0 and 1.
pub fn compare(report: &ScanReport, rules: &[Rule], opts: &ScanOptions) -> Comparison {
    assert_eq!(report.tally.by, TallyBy::Contrast(0, 1), "the scan counts what differs between rules 0 and 1");
    let mut groups = report.tally.groups.clone().into_iter();
    let (only_a, only_b, both) = (groups.next(), groups.next(), groups.next());
    let ep: Vec<Episodes> = (0..2).map(|i| episodes(&metric(report, i, &rules[i]), &rules[i].alarm, opts)).collect();
    let side = |i: usize, only: Group| Side {
        name: rules[i].name.clone(),
        pattern: rules[i].pattern.source().to_string(),
        matches: report.rules[i].matches,
        episodes: ep[i].clone(),
        only,
        unshared: unshared(&ep[i].list, &ep[1 - i].list),
    };
    Comparison {
        sides: [side(0, only_a.unwrap_or_default()), side(1, only_b.unwrap_or_default())],
        both: both.map_or(0, |g| g.records),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_is_unshared_when_it_overlaps_none_of_the_others() {
        let mine = [(0, 10), (20, 30), (40, 50), (60, 70)];
        let theirs = [(10, 20), (25, 26), (45, 80)];
        // [0,10) touches [10,20) but does not overlap it; [20,30) holds
        // [25,26); [40,50) and [60,70) overlap [45,80).
        assert_eq!(unshared(&mine, &theirs), [(0, 10)]);
        assert_eq!(unshared(&theirs, &mine), [(10, 20)]);
        assert_eq!(unshared(&mine, &[]), mine);
    }
}
