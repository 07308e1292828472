//! A small, fast, non-cryptographic hasher for the crate's internal tables
//! (per-minute series, the prefilter's exact-value tables). Pattern literals
//! are ours; minutes come from `eventTime`, which a log's author controls,
//! but colliding minutes must lie 2^k minutes apart for a table of 2^k
//! slots, and eventTime's 10,000-year range allows only a few thousand of
//! those: no flood worth a keyed hash. Keys that are log text (dimension
//! values) use the standard library's keyed hasher instead.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate hashing, one 64-bit word at a time.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.word(n);
    }
    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.word(n as u64);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` using [`FxHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_minutes_spread_over_buckets_and_tags() {
        // hashbrown picks the bucket from the low bits and a 7-bit tag from
        // the top bits; consecutive minutes must spread over both.
        let mut buckets = std::collections::HashSet::new();
        let mut tags = std::collections::HashSet::new();
        for m in 0..10_000i64 {
            let mut h = FxHasher::default();
            h.write_i64(28_000_000 + m);
            buckets.insert(h.finish() & 4095);
            tags.insert(h.finish() >> 57);
        }
        assert_eq!(buckets.len(), 4096);
        assert_eq!(tags.len(), 128);
    }
}
