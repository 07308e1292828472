//! Probes: the bytes of a few literals a pattern needs, looked for right
//! after a quote while the record finder classifies each block, so that a
//! record that cannot match is known without parsing it.

/// Most probes a scan looks for at once.
pub(crate) const MAX_PROBES: usize = 4;

/// Needles looked for while records are scanned, so that a prefilter need
/// not search the bytes again. A needle that opens with a quote (a key
/// token `"eventName"`, a quoted value `"Root"`) is probed by that quote and
/// the needle's rarest byte: every occurrence of the needle is a [`Hit`];
/// a hit is only a candidate, to be compared with the whole needle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Probes {
    pub(super) len: u8,
    /// The byte each probe looks for, `offsets[p]` bytes after a quote.
    pub(super) bytes: [u8; MAX_PROBES],
    pub(super) offsets: [u8; MAX_PROBES],
}

/// Bytes of CloudTrail JSON, most frequent first (measured on the public
/// corpus); bytes not listed are rarer than all of them.
const COMMON_BYTES: &[u8] = b"\"eatrs:no-i,c12dum03.7lApI84v9wf5b6 /SgyCTDE{}hNRHPMVzFQZqkxKUOjLBG_X(";

impl Probes {
    /// No probes: the scan only finds records.
    pub fn none() -> Probes {
        Probes::default()
    }

    /// Add a probe for `needle`; its index, or `None` when the needle does
    /// not open with a quote, is a lone quote, or there is no room.
    pub fn add(&mut self, needle: &[u8]) -> Option<usize> {
        if needle.first() != Some(&b'"') || needle.len() < 2 || self.len as usize == MAX_PROBES {
            return None;
        }
        let commonness =
            |b: u8| COMMON_BYTES.len() - COMMON_BYTES.iter().position(|&c| c == b).unwrap_or(COMMON_BYTES.len());
        // Offsets 1..=63: the probed byte is at most one block away. Zero
        // is never probed: the end of a buffer is scanned zero-padded.
        let k = (1..needle.len().min(64)).filter(|&k| needle[k] != 0).min_by_key(|&k| commonness(needle[k]))?;
        let p = self.len as usize;
        self.bytes[p] = needle[k];
        self.offsets[p] = k as u8;
        self.len += 1;
        Some(p)
    }

    /// Number of probes.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Where probe `probe` matched: `buf[pos]` is a quote and the probe's byte
/// follows at its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Position in the scanned buffer.
    pub pos: usize,
    /// Index of the probe ([`Probes::add`]).
    pub probe: usize,
}

/// Up to this many probes, each probe's byte is compared at the probe's
/// offset from every byte of the block (one more load per probe), which
/// puts its bits on the quotes. With more, those loads cost more than
/// shifting the quote masks to the probes' bytes instead (a one-thread
/// run: one probe 2.3% faster, two 1.8%, three 0.8% slower, the 15 CIS
/// rules' three 3% slower).
pub(super) const ALIGNED_UP_TO: usize = 2;

/// Where a probe's bytes are compared from the block's start: its offset
/// when the probes are few enough to be aligned to the quotes, else 0.
#[inline(always)]
pub(super) fn compared_at<const N: usize>(probes: &Probes, p: usize) -> usize {
    if N <= ALIGNED_UP_TO {
        probes.offsets[p] as usize
    } else {
        0
    }
}

/// Record the hits of the block starting at `at`. With few probes, the
/// quotes (`quote`) whose probe byte follows (`bytes`, already aligned to
/// the quotes) count, among the quotes within `limit`. With more, `bytes`
/// are the probe bytes themselves, each matched with a quote `k` bytes
/// before it: this block's quotes or the previous block's (`prev_quote`,
/// for the bytes near the start), among the probe bytes within `limit`.
#[inline(always)]
pub(super) fn push_hits<const N: usize>(
    offsets: &[u32; N],
    at: usize,
    quote: u64,
    prev_quote: u64,
    bytes: &[u64; N],
    limit: u64,
    hits: &mut Vec<Hit>,
) {
    for p in 0..N {
        if N <= ALIGNED_UP_TO {
            let c = bytes[p] & quote & limit;
            if c != 0 {
                push_bits(hits, at, c, p);
            }
        } else {
            let k = offsets[p];
            let c = bytes[p] & limit & ((quote << k) | (prev_quote >> (64 - k)));
            if c != 0 {
                push_bits(hits, at.wrapping_sub(k as usize), c, p);
            }
        }
    }
}

/// Out of the block loop: most blocks have no hit, and a call that may
/// grow the vector would make the loop keep its registers on the stack.
/// Bit `j` of `bits` is a hit at `at + j`.
#[cold]
#[inline(never)]
pub(super) fn push_bits(hits: &mut Vec<Hit>, at: usize, mut bits: u64, probe: usize) {
    while bits != 0 {
        hits.push(Hit { pos: at.wrapping_add(bits.trailing_zeros() as usize), probe });
        bits &= bits - 1;
    }
}
