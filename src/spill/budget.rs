//! How much a worker holds before it writes out: one policy for everything
//! a scan accumulates.

use std::sync::Mutex;

use super::runs::{Item, Runs};

/// What a worker holds and can take out as ascending runs.
pub(crate) trait Hold {
    /// What the runs are filed under.
    type Key: Ord + Clone;
    /// What the runs hold.
    type Item: Item;
    /// How much is held, in the unit of its [`Budget`].
    fn held(&self) -> usize;
    /// Take out everything held, as ascending runs with their keys.
    fn take(&mut self) -> Vec<(Self::Key, Vec<Self::Item>)>;
    /// Take back a run that could not be written.
    fn put_back(&mut self, key: Self::Key, run: Vec<Self::Item>);
}

/// A limit on what a worker holds: past it, everything held is written out
/// as runs. Once a write fails, everything stays in memory (the result is
/// the same, only memory grows, and [`Runs::problem`] says why).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    limit: usize,
    kept: bool,
}

impl Budget {
    /// A budget of `limit` (at least 1) in the unit of what it bounds.
    pub(crate) fn new(limit: usize) -> Budget {
        Budget { limit: limit.max(1), kept: false }
    }

    /// Write out what `hold` holds if it has reached the budget.
    pub(crate) fn check<H: Hold>(&mut self, hold: H, runs: &Mutex<Runs<H::Key>>) {
        if !self.kept && hold.held() >= self.limit {
            self.spill(hold, runs);
        }
    }

    /// Write out everything `hold` holds.
    pub(crate) fn spill<H: Hold>(&mut self, mut hold: H, runs: &Mutex<Runs<H::Key>>) {
        if self.kept || hold.held() == 0 {
            return;
        }
        let taken = hold.take();
        let written = runs.lock().expect("runs lock").write_each(taken.iter().map(|(k, run)| (k, &run[..])));
        if written.is_err() {
            self.kept = true;
            for (key, run) in taken {
                hold.put_back(key, run);
            }
        }
    }

    /// Before two workers' holdings are put together: write both out if
    /// together they would reach the budget, so that what is merged never
    /// grows past it. Afterwards this budget stands for both.
    pub(crate) fn merge<H: Hold>(&mut self, other: Budget, mine: H, theirs: H, runs: &Mutex<Runs<H::Key>>) {
        self.kept |= other.kept;
        if mine.held() + theirs.held() >= self.limit {
            self.spill(mine, runs);
            self.spill(theirs, runs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spill::Keyed;

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Id(u32);

    impl Keyed for Id {
        type Key = u32;
        fn key(&self) -> u32 {
            self.0
        }
        fn fold(&mut self, _same: Id) {}
    }

    impl Item for Id {
        fn encode(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.0.to_le_bytes());
        }
        fn decode(bytes: &[u8]) -> Result<Option<(Id, usize)>, &'static str> {
            Ok(bytes.first_chunk::<4>().map(|b| (Id(u32::from_le_bytes(*b)), 4)))
        }
    }

    /// IDs held in a list, written out as one run, odd and even apart.
    impl Hold for &mut Vec<Id> {
        type Key = bool;
        type Item = Id;
        fn held(&self) -> usize {
            self.len()
        }
        fn take(&mut self) -> Vec<(bool, Vec<Id>)> {
            self.sort_unstable_by_key(|i| i.0);
            let (odd, even) = self.drain(..).partition(|i| i.0 % 2 == 1);
            vec![(false, even), (true, odd)]
        }
        fn put_back(&mut self, _key: bool, run: Vec<Id>) {
            self.extend(run);
        }
    }

    fn read(runs: &Runs<bool>, key: bool) -> Vec<u32> {
        let problem = Mutex::new(None);
        runs.read(&key, std::iter::empty(), &problem).map(|i: Id| i.0).collect()
    }

    #[test]
    fn a_worker_holds_at_most_its_budget_and_writes_the_rest_out() {
        let runs = Mutex::new(Runs::new("ids"));
        let mut budget = Budget::new(4);
        let mut held = Vec::new();
        for i in (0..10).rev() {
            held.push(Id(i));
            budget.check(&mut held, &runs);
            assert!(held.len() < 4);
        }
        assert_eq!(held.iter().map(|i| i.0).collect::<Vec<_>>(), [1, 0]);
        let runs = runs.into_inner().unwrap();
        assert_eq!((runs.count(&false), runs.count(&true)), (2, 2));
        assert_eq!(read(&runs, false), [2, 4, 6, 8]);
        assert_eq!(read(&runs, true), [3, 5, 7, 9]);
    }

    #[test]
    fn merged_holdings_are_written_out_first_when_together_they_are_too_many() {
        let runs = Mutex::new(Runs::new("ids"));
        let (mut a, mut b) = (Budget::new(4), Budget::new(4));
        let mut mine = vec![Id(1), Id(2)];
        let mut theirs = vec![Id(3)];
        b.check(&mut theirs, &runs);
        a.merge(b, &mut mine, &mut theirs, &runs);
        assert_eq!((mine.len(), theirs.len()), (2, 1), "three of four: held");
        let mut more = vec![Id(4), Id(5)];
        a.merge(Budget::new(4), &mut mine, &mut more, &runs);
        assert!(mine.is_empty() && more.is_empty(), "five of four: written out");
        assert_eq!(read(&runs.into_inner().unwrap(), true), [1, 5]);
    }

    #[test]
    fn once_a_write_fails_everything_stays_in_memory() {
        let mut written = Runs::new("ids");
        written.write(&false, &[Id(0)]).unwrap();
        // A file that can be read but not written.
        let runs = Mutex::new(written.read_only());
        let mut budget = Budget::new(2);
        let mut held = Vec::new();
        for i in 0..6 {
            held.push(Id(i));
            budget.check(&mut held, &runs);
        }
        assert_eq!(held.len(), 6, "nothing lost");
        assert!(budget.kept);
        assert!(runs.into_inner().unwrap().problem().expect("said").contains("cannot write ids"));
    }
}
