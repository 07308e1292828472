//! The tokens of the JSON reader: whitespace, strings, numbers and
//! literals, found a word at a time where it pays.

use super::{JsonError, JsonErrorKind};

pub(super) fn err<T>(offset: usize, kind: JsonErrorKind) -> Result<T, JsonError> {
    Err(JsonError { offset, kind })
}

#[inline(always)]
pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    // Compact JSON (every CloudTrail file) has no blanks: one compare.
    if b.get(i).is_some_and(|&c| c > b' ') {
        return i;
    }
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Index of the first byte in `b[i..]` that is `"`, `\\` or a control
/// character (or `b.len()`). JSON strings are mostly short, so a loop over
/// 16-byte (SSE2) or 8-byte (portable) words without call overhead beats a
/// general SIMD search here.
#[inline(always)]
pub(super) fn next_special(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while i + 16 <= b.len() {
            // SAFETY: SSE2 is part of x86-64; the load reads b[i..i + 16],
            // which is in bounds; unaligned loads are allowed.
            let hit = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                // Unsigned v < 0x20  <=>  max(v, 0x1f) == 0x1f.
                let low = _mm_set1_epi8(0x1f);
                let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), control)) as u32
            };
            if hit != 0 {
                return i + hit.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let quote = w ^ (ONES * b'"' as u64);
        let slash = w ^ (ONES * b'\\' as u64);
        // A byte is flagged when it is zero in `quote` or `slash`, or below
        // 0x20 in `w`; the lowest flag is exact (borrows only move up).
        let hit = ((quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if hit != 0 {
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f) {
        i += 1;
    }
    i
}

/// Scan a string body starting just after the opening quote. Returns the
/// index of the closing quote and whether an escape was seen.
///
/// Most strings end at the first special byte, their closing quote: that
/// case is inlined into the parser (no call, no result in memory); escapes
/// and errors go on in [`scan_string_rest`].
#[inline(always)]
pub(super) fn scan_string(b: &[u8], i: usize) -> Result<(usize, bool), JsonError> {
    let i = next_special(b, i);
    if b.get(i) == Some(&b'"') {
        return Ok((i, false));
    }
    scan_string_rest(b, i)
}

/// [`scan_string`] from its first special byte that is not the closing
/// quote.
#[inline(never)]
pub(super) fn scan_string_rest(b: &[u8], mut i: usize) -> Result<(usize, bool), JsonError> {
    let mut escaped = false;
    loop {
        i = next_special(b, i);
        match b.get(i) {
            None => return err(b.len(), JsonErrorKind::UnexpectedEnd),
            Some(b'"') => return Ok((i, escaped)),
            Some(b'\\') => {}
            Some(_) => return err(i, JsonErrorKind::ControlCharacter),
        }
        // Backslash escape.
        escaped = true;
        match b.get(i + 1) {
            None => return err(b.len(), JsonErrorKind::UnexpectedEnd),
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
            Some(b'u') => {
                let hex = b.get(i + 2..i + 6);
                match hex {
                    Some(h) if h.iter().all(u8::is_ascii_hexdigit) => i += 6,
                    Some(_) => return err(i, JsonErrorKind::BadEscape),
                    None => return err(b.len(), JsonErrorKind::UnexpectedEnd),
                }
            }
            Some(_) => return err(i, JsonErrorKind::BadEscape),
        }
    }
}

/// Check the literal `word` (`true`, `false`, `null`) at `i`; returns the
/// index just past it. Compared as a fixed-size array, so in a register or
/// two rather than by a library call.
#[inline(always)]
pub(super) fn literal<const N: usize>(b: &[u8], i: usize, word: &[u8; N]) -> Result<usize, JsonError> {
    match b.get(i..i + N) {
        None => err(b.len(), JsonErrorKind::UnexpectedEnd),
        Some(w) if <[u8; N]>::try_from(w).is_ok_and(|w| w == *word) => Ok(i + N),
        Some(_) => err(i, JsonErrorKind::UnexpectedByte(word[0])),
    }
}

/// Validate a number starting at `i`; returns the index just past it.
#[inline]
pub(super) fn scan_number(b: &[u8], start: usize) -> Result<usize, JsonError> {
    let mut i = start;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        _ => return err(i, JsonErrorKind::BadNumber),
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return err(i, JsonErrorKind::BadNumber);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return err(i, JsonErrorKind::BadNumber);
        }
    }
    Ok(i)
}
