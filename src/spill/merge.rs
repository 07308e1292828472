//! Merging ascending sequences into one, folding together the items that
//! share a key: how runs written to a temporary file (and what is still in
//! memory) become one sequence again, read in order without being held.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An item of an ascending sequence.
pub(crate) trait Keyed {
    /// What the sequences are sorted by (no key twice within one).
    type Key: Ord + Copy;
    /// This item's key.
    fn key(&self) -> Self::Key;
    /// Fold in another item with the same key from another sequence.
    fn fold(&mut self, other: Self);
}

/// Several ascending sequences merged into one ascending sequence; items of
/// the same key are folded together.
pub(crate) struct Merge<I: Iterator>
where
    I::Item: Keyed,
{
    sources: Vec<I>,
    /// The next item of each source that has one.
    heads: Vec<Option<I::Item>>,
    /// (key, source) of every head, smallest first.
    order: BinaryHeap<Reverse<(<I::Item as Keyed>::Key, usize)>>,
}

impl<I: Iterator> Merge<I>
where
    I::Item: Keyed,
{
    /// Merge `sources`.
    pub(crate) fn new(sources: Vec<I>) -> Merge<I> {
        let mut merge = Merge { heads: (0..sources.len()).map(|_| None).collect(), sources, order: BinaryHeap::new() };
        for i in 0..merge.sources.len() {
            merge.advance(i);
        }
        merge
    }

    fn advance(&mut self, i: usize) {
        if let Some(item) = self.sources[i].next() {
            self.order.push(Reverse((item.key(), i)));
            self.heads[i] = Some(item);
        }
    }
}

impl<I: Iterator> Iterator for Merge<I>
where
    I::Item: Keyed,
{
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let Reverse((key, i)) = self.order.pop()?;
        let mut acc = self.heads[i].take().expect("a head for every entry");
        self.advance(i);
        while let Some(&Reverse((k, j))) = self.order.peek() {
            if k != key {
                break;
            }
            self.order.pop();
            acc.fold(self.heads[j].take().expect("a head for every entry"));
            self.advance(j);
        }
        Some(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Keyed for (u32, u32) {
        type Key = u32;
        fn key(&self) -> u32 {
            self.0
        }
        fn fold(&mut self, other: (u32, u32)) {
            self.1 += other.1;
        }
    }

    #[test]
    fn merges_in_order_and_folds_equal_keys() {
        let a = vec![(1, 1), (4, 1), (9, 1)];
        let b = vec![(2, 10), (4, 10)];
        let c: Vec<(u32, u32)> = vec![];
        let d = vec![(4, 100), (10, 100)];
        let got: Vec<_> = Merge::new(vec![a.into_iter(), b.into_iter(), c.into_iter(), d.into_iter()]).collect();
        assert_eq!(got, [(1, 1), (2, 10), (4, 111), (9, 1), (10, 100)]);
    }
}
