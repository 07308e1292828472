//! One gzip member inflated in one call by libdeflate, with the number of
//! compressed bytes it used.
//!
//! The safe `libdeflater` wrapper does not say how much input a member
//! used, so a file of two members whose sizes agree with the last
//! trailer looked complete after the first. This wrapper calls
//! `libdeflate_gzip_decompress_ex`, which reports both counts, so the
//! caller can tell a file that is exactly one member from one that holds
//! more (or trailing bytes) and read the latter member by member.

use std::ffi::c_void;
use std::ptr::NonNull;

use super::decode::Limits;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// A libdeflate decompressor (reusable from member to member).
pub(crate) struct Inflater {
    raw: NonNull<libdeflate_decompressor>,
}

// SAFETY: a libdeflate decompressor holds no thread-local state; it is only
// used through `&mut self`, so never from two threads at once.
unsafe impl Send for Inflater {}

/// One member inflated: compressed bytes used, decoded bytes written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) consumed: usize,
    pub(crate) produced: usize,
}

impl Inflater {
    pub(crate) fn new() -> Inflater {
        // SAFETY: allocation has no preconditions; null means out of memory.
        let raw = unsafe { libdeflate_alloc_decompressor() };
        Inflater { raw: NonNull::new(raw).expect("libdeflate: out of memory allocating a decompressor") }
    }

    /// Inflate the gzip member at the start of `input` into `out`. `None`
    /// when it is damaged, not gzip, or does not fit in `out`: the caller
    /// then reads the input with the streaming decoder, which says what is
    /// wrong and keeps what came before.
    pub(crate) fn gzip_member(&mut self, input: &[u8], out: &mut [u8]) -> Option<Member> {
        let (mut consumed, mut produced) = (0usize, 0usize);
        // SAFETY: the decompressor is live; the pointers and lengths
        // describe `input` and `out`, both borrowed for the call; libdeflate
        // writes only inside `out` and into the two counters.
        let result = unsafe {
            libdeflate_gzip_decompress_ex(
                self.raw.as_ptr(),
                input.as_ptr().cast::<c_void>(),
                input.len(),
                out.as_mut_ptr().cast::<c_void>(),
                out.len(),
                &mut consumed,
                &mut produced,
            )
        };
        (result == libdeflate_result_LIBDEFLATE_SUCCESS).then_some(Member { consumed, produced })
    }
}

impl Inflater {
    /// Inflate `data` into `out` (grown as needed) when it is exactly one
    /// gzip member, the whole of `data`, whose trailer gives its size: the
    /// decoded length. The trailer is only a hint (a truncated file ends
    /// with anything; in a file of several members it is the last one's
    /// size), so a size above `max` or the `limits` gives `None` too, and
    /// the caller streams, counting what is really decoded.
    pub(crate) fn whole_file(&mut self, data: &[u8], limits: Limits, max: u64, out: &mut Vec<u8>) -> Option<usize> {
        let n = data.len();
        if n < 18 {
            return None;
        }
        let size = u64::from(u32::from_le_bytes([data[n - 4], data[n - 3], data[n - 2], data[n - 1]]));
        let plausible = size <= limits.max_decompressed
            && (size <= limits.ratio_floor || size <= (n as u64).saturating_mul(limits.max_ratio));
        if !plausible || size > max {
            return None;
        }
        let need = size as usize;
        grow_scratch(out, need);
        let m = self.gzip_member(data, &mut out[..need])?;
        (m.consumed == n && m.produced == need).then_some(need)
    }
}

/// Make `buf` at least `len` bytes long, for content that is about to be
/// overwritten. Its length never shrinks, so a smaller file costs no
/// zero-filling; a larger one gets a fresh buffer of exactly its size (zeroed
/// pages from the system: nothing copied, and no doubling past the largest
/// file).
pub(crate) fn grow_scratch(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        // The old buffer is freed before the new one is allocated: never
        // both at once.
        *buf = Vec::new();
        *buf = vec![0; len];
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor`, freed once.
        unsafe { libdeflate_free_decompressor(self.raw.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::gzip;

    #[test]
    fn a_member_says_how_much_input_it_used() {
        let one = gzip(b"hello world");
        let mut two = one.clone();
        two.extend(gzip(b"HELLO WORLD"));
        let mut out = vec![0u8; 64];
        let mut inf = Inflater::new();
        assert_eq!(inf.gzip_member(&one, &mut out), Some(Member { consumed: one.len(), produced: 11 }));
        // Equal decoded sizes: the last trailer agrees with the first
        // member, and only the count of input used shows the second.
        assert_eq!(inf.gzip_member(&two, &mut out), Some(Member { consumed: one.len(), produced: 11 }));
        assert_eq!(inf.gzip_member(&one, &mut out[..5]), None, "no room");
        assert_eq!(inf.gzip_member(&one[..one.len() - 3], &mut out), None, "cut short");
        assert_eq!(inf.gzip_member(b"not gzip at all, no", &mut out), None);
    }
}
