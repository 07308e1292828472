//! Finding the end of a JSON object at memory speed.
//!
//! Records are located by tracking braces outside strings. Instead of
//! looking at one byte at a time, each 64-byte block is classified into
//! bit masks (quotes, backslashes, `{`, `}`) with SIMD compares; escaped
//! characters and the inside of strings are then derived with a few integer
//! operations (the technique of simdjson's first stage), and only the brace
//! bits outside strings are visited. x86-64 uses AVX-512 (BW) or AVX2 when
//! the CPU has them and SSE2 otherwise; other targets use a portable path.
//! A scalar reference implementation is kept for the tests, which check
//! every path against it.
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use super::probes::{compared_at, push_hits, Hit, Probes, ALIGNED_UP_TO, MAX_PROBES};

/// Scanning state carried from one buffer to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanState {
    /// Open braces not yet closed (1 right after the record's `{`).
    pub(crate) depth: u32,
    /// Inside a string.
    pub(crate) in_string: bool,
    /// The next byte is escaped (an odd run of backslashes ended the buffer).
    pub(crate) escaped: bool,
    /// A backslash was among the bytes scanned since this was last cleared
    /// (up to the closing brace, when one was found). Without one, the
    /// object holds no escapes at all.
    pub(crate) backslash: bool,
}

impl ScanState {
    /// The state right after an object's opening `{`.
    pub fn in_object() -> ScanState {
        ScanState { depth: 1, ..ScanState::default() }
    }
}

/// Bit masks of one 64-byte block (bit i = byte i).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

/// One 64-byte block, classified.
#[derive(Clone, Copy)]
struct Block<const N: usize> {
    m: Masks,
    /// For each probe, where its byte is: on the bytes it follows at its
    /// offset (up to [`ALIGNED_UP_TO`] probes), else on the byte itself.
    bytes: [u64; N],
    /// The byte after the block is escaped.
    escaped_next: bool,
    /// Bits inside strings (from an opening quote up to its closing one).
    in_string: u64,
    /// Braces outside strings.
    open: u64,
    close: u64,
}

impl<const N: usize> Block<N> {
    /// All ones when the block ends inside a string, else zero.
    #[inline(always)]
    fn string_carry(&self) -> u64 {
        ((self.in_string as i64) >> 63) as u64
    }
}

const ODD_BITS: u64 = 0xAAAA_AAAA_AAAA_AAAA;

/// Which bytes are escaped (preceded by an odd run of backslashes), given
/// the backslash mask and whether the first byte is escaped. Returns the
/// mask and whether the byte after the block is escaped.
#[inline(always)]
fn escaped(backslash: u64, first_escaped: bool) -> (u64, bool) {
    let carry = u64::from(first_escaped);
    if backslash == 0 {
        return (carry, false);
    }
    // A backslash that is itself escaped does not escape the next byte.
    let potential = backslash & !carry;
    let maybe_escaped = potential << 1;
    let maybe_escaped_and_odd = maybe_escaped | ODD_BITS;
    let even_series = maybe_escaped_and_odd.wrapping_sub(potential);
    let escape_and_terminal = even_series ^ ODD_BITS;
    let escaped = escape_and_terminal ^ (backslash | carry);
    let escape = escape_and_terminal & backslash;
    (escaped, escape >> 63 == 1)
}

/// Bits set from each unescaped quote up to (not including) the next.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Bytes a block's classification reads: the block and the 64 after it,
/// where the probes' bytes of its quotes lie (offsets are below 64).
const WINDOW: usize = 128;

/// A block's probe masks: for probe `p`, bit `j` is set when
/// `window[j + compared_at(p)]` is the probe's byte.
fn probe_masks_portable<const N: usize>(window: &[u8; WINDOW], probes: &Probes) -> [u64; N] {
    let mut found = [0u64; N];
    for (p, f) in found.iter_mut().enumerate() {
        let (want, k) = (probes.bytes[p], compared_at::<N>(probes, p));
        for (j, &b) in window[k..k + 64].iter().enumerate() {
            *f |= u64::from(b == want) << j;
        }
    }
    found
}

fn masks_portable<const N: usize>(window: &[u8; WINDOW], probes: &Probes) -> (Masks, [u64; N]) {
    let mut m = Masks::default();
    for (i, &b) in window[..64].iter().enumerate() {
        let bit = 1u64 << i;
        match b {
            b'"' => m.quote |= bit,
            b'\\' => m.backslash |= bit,
            b'{' => m.open |= bit,
            b'}' => m.close |= bit,
            _ => {}
        }
    }
    (m, probe_masks_portable(window, probes))
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{compared_at, Masks, Probes, ALIGNED_UP_TO, WINDOW};
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU must support AVX2 (checked by the caller).
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn masks_avx2<const N: usize>(window: &[u8; WINDOW], probes: &Probes) -> (Masks, [u64; N]) {
        // 64 bytes from `at` as a mask per byte value `c`.
        let eq = |at: usize, c: u8| {
            // SAFETY: `at + 64 <= WINDOW` (the block, or a probe's offset
            // below 64); unaligned loads are allowed.
            let (lo, hi) = unsafe {
                let p = window.as_ptr().add(at);
                (_mm256_loadu_si256(p as *const __m256i), _mm256_loadu_si256(p.add(32) as *const __m256i))
            };
            let v = _mm256_set1_epi8(c as i8);
            let a = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v)) as u32 as u64;
            let b = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v)) as u32 as u64;
            a | (b << 32)
        };
        let found = std::array::from_fn(|p| eq(compared_at::<N>(probes, p), probes.bytes[p]));
        (Masks { quote: eq(0, b'"'), backslash: eq(0, b'\\'), open: eq(0, b'{'), close: eq(0, b'}') }, found)
    }

    /// One 64-byte load; each compare writes its 64-bit mask directly,
    /// where AVX2 needs two compares, two mask moves and a shift.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and BW (checked by the caller).
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(crate) unsafe fn masks_avx512<const N: usize>(window: &[u8; WINDOW], probes: &Probes) -> (Masks, [u64; N]) {
        // SAFETY: `at + 64 <= WINDOW` (the block, or a probe's offset below
        // 64); unaligned loads are allowed.
        let load = |at: usize| unsafe { _mm512_loadu_si512(window.as_ptr().add(at) as *const __m512i) };
        let v = load(0);
        let eq = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
        let found = std::array::from_fn(|p| {
            // Const-folded, so that the block's own load serves when the
            // probes are compared within the block.
            let bytes = if N <= ALIGNED_UP_TO { load(probes.offsets[p] as usize) } else { v };
            _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(probes.bytes[p] as i8))
        });
        (Masks { quote: eq(b'"'), backslash: eq(b'\\'), open: eq(b'{'), close: eq(b'}') }, found)
    }

    /// Prefix XOR of a bit mask with one carry-less multiplication by all
    /// ones.
    ///
    /// # Safety
    /// The CPU must support PCLMULQDQ.
    #[target_feature(enable = "pclmulqdq")]
    pub(crate) unsafe fn prefix_xor_clmul(x: u64) -> u64 {
        let v = _mm_set_epi64x(0, x as i64);
        let ones = _mm_set1_epi8(-1);
        _mm_cvtsi128_si64(_mm_clmulepi64_si128(v, ones, 0)) as u64
    }

    /// SSE2 is part of x86-64, so this needs no detection.
    pub(crate) fn masks_sse2<const N: usize>(window: &[u8; WINDOW], probes: &Probes) -> (Masks, [u64; N]) {
        // 64 bytes from `at` as a mask per byte value `c`.
        let eq = |at: usize, c: u8| {
            let mut m = 0u64;
            for k in 0..4 {
                // SAFETY: SSE2 is always available on x86-64; `at + 64 <=
                // WINDOW` (the block, or a probe's offset below 64), and
                // unaligned loads are allowed.
                m |= unsafe {
                    let part = _mm_loadu_si128(window.as_ptr().add(at + 16 * k) as *const __m128i);
                    _mm_movemask_epi8(_mm_cmpeq_epi8(part, _mm_set1_epi8(c as i8))) as u32 as u64
                } << (16 * k);
            }
            m
        };
        let found = std::array::from_fn(|p| eq(compared_at::<N>(probes, p), probes.bytes[p]));
        (Masks { quote: eq(0, b'"'), backslash: eq(0, b'\\'), open: eq(0, b'{'), close: eq(0, b'}') }, found)
    }
}

/// Which block classifier to use. Only [`Engine::detect`] (or
/// `Engine::portable`) makes one, so an engine whose instructions this
/// CPU lacks cannot be chosen from safe code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Engine(Kind);

/// The classifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// AVX-512 F and BW, with the features of [`Kind::Avx2`], on CPUs
    /// that also have VBMI2 (see [`Engine::detect`]).
    Avx512,
    /// AVX2 with POPCNT, BMI1, BMI2 and PCLMULQDQ (x86-64 CPUs that have
    /// them).
    Avx2,
    /// SSE2 (every x86-64 CPU).
    Sse2,
    /// Portable Rust (constructed on other architectures, and by tests).
    #[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
    Portable,
}

impl Engine {
    /// The portable engine, which every CPU runs.
    #[cfg(test)]
    pub(crate) fn portable() -> Engine {
        Engine(Kind::Portable)
    }

    /// The fastest engine this CPU supports.
    pub fn detect() -> Engine {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("popcnt")
                && std::is_x86_feature_detected!("bmi1")
                && std::is_x86_feature_detected!("bmi2")
                && std::is_x86_feature_detected!("pclmulqdq")
            {
                // VBMI2 is not used; it marks the CPUs (Ice Lake and later,
                // Zen 4) where 512-bit instructions cost the core little or
                // no clock speed. On Skylake-X they lower it, which would
                // slow the decompressor sharing the core by more than the
                // scanner gains.
                if std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512bw")
                    && std::is_x86_feature_detected!("avx512vbmi2")
                {
                    return Engine(Kind::Avx512);
                }
                return Engine(Kind::Avx2);
            }
            Engine(Kind::Sse2)
        }
        #[cfg(not(target_arch = "x86_64"))]
        Engine(Kind::Portable)
    }
}

/// The block loop, expanded once per classifier so that the classifier is
/// inlined (an AVX2 function can only be inlined into another AVX2
/// function).
macro_rules! scan_blocks {
    ($buf:expr, $pos:expr, $state:expr, $probes:expr, $hits:expr, $masks:expr, $prefix_xor:expr) => {{
        // `N`, the number of probes, is the calling function's parameter.
        let buf: &[u8] = $buf;
        let state: &mut ScanState = $state;
        let probes: &Probes = $probes;
        let hits: &mut Vec<Hit> = $hits;
        let offsets: [u32; N] = std::array::from_fn(|p| u32::from(probes.offsets[p]));
        // With many probes, a needle's quote may lie in the block before
        // its probe byte.
        let mut prev_quote = 0u64;
        // Work on locals: through `&mut` the compiler would store the state
        // back to memory after every block.
        let mut depth = state.depth;
        let mut carry_string: u64 = if state.in_string { u64::MAX } else { 0 };
        let mut carry_escaped = state.escaped;
        // Bits ORed over the blocks: a test per block would cost more.
        let mut slashes = 0u64;
        let mut at: usize = $pos;
        let mut found = None;
        // Classify the block that starts `window`, of which the first `n`
        // bytes (1 to 64) are data.
        macro_rules! classify {
            ($window:expr, $n:expr, $carry_escaped:expr, $carry_string:expr) => {{
                let window: &[u8; WINDOW] = $window;
                let n: usize = $n;
                // Past the data there are only zeros: no quote, backslash
                // or brace.
                let (m, bytes): (Masks, [u64; N]) = $masks(window, probes);
                let (esc, escaped_next) = escaped(m.backslash, $carry_escaped);
                // In a part block, the byte after the data is the next one.
                let escaped_next = if n == 64 { escaped_next } else { (esc >> n) & 1 == 1 };
                let quotes = m.quote & !esc;
                let in_string = $prefix_xor(quotes) ^ $carry_string;
                let open = m.open & !in_string & !esc;
                let close = m.close & !in_string & !esc;
                Block::<N> { m, bytes, escaped_next, in_string, open, close }
            }};
        }
        // The block of `buf` at `$at`, which has a whole window.
        macro_rules! classify_at {
            ($at:expr, $carry_escaped:expr, $carry_string:expr) => {{
                // SAFETY: `at + WINDOW <= buf.len()` (checked by the callers).
                let window: &[u8; WINDOW] = unsafe { &*(buf.as_ptr().add($at) as *const [u8; WINDOW]) };
                classify!(window, 64, $carry_escaped, $carry_string)
            }};
        }
        // A block at `at` that does not close the object: its hits. (The
        // string and escape carries are set once per step, from the
        // step's last block: the next one was classified with them.)
        macro_rules! pass {
            ($block:expr) => {{
                let b: Block<N> = $block;
                push_hits(&offsets, at, b.m.quote, prev_quote, &b.bytes, u64::MAX, hits);
                if N > ALIGNED_UP_TO {
                    prev_quote = b.m.quote;
                }
                slashes |= b.m.backslash;
                at += 64;
            }};
        }
        // A block at `at` that may close the object, leaving the loop if
        // it does.
        macro_rules! step {
            ($block:expr) => {{
                let b: Block<N> = $block;
                // Most blocks cannot close the object: even if every `}`
                // came first the depth would stay above zero. Count them
                // without a branch per brace.
                let closes = b.close.count_ones();
                if depth > closes {
                    depth = depth + b.open.count_ones() - closes;
                } else if let Some(i) = closing_brace(b.open, b.close, &mut depth) {
                    slashes |= b.m.backslash & up_to(i);
                    // A needle inside the object ends by its closing brace.
                    push_hits(&offsets, at, b.m.quote, prev_quote, &b.bytes, up_to(i), hits);
                    found = Some(at + i + 1);
                    break;
                }
                pass!(b);
            }};
        }
        while at + WINDOW <= buf.len() {
            if at + 64 + WINDOW <= buf.len() {
                // Two whole blocks: where neither can close the object (the
                // closing braces of both are fewer than the depth), one
                // test and one loop step serve 128 bytes.
                let a = classify_at!(at, carry_escaped, carry_string);
                let b = classify_at!(at + 64, a.escaped_next, a.string_carry());
                let closes = a.close.count_ones() + b.close.count_ones();
                if depth > closes {
                    depth = depth + a.open.count_ones() + b.open.count_ones() - closes;
                    pass!(a);
                    pass!(b);
                } else {
                    step!(a);
                    step!(b);
                }
                carry_string = b.string_carry();
                carry_escaped = b.escaped_next;
                continue;
            }
            let one = classify_at!(at, carry_escaped, carry_string);
            step!(one);
            carry_string = one.string_carry();
            carry_escaped = one.escaped_next;
        }
        if found.is_none() && at < buf.len() {
            // The last bytes, fewer than a window: one or two blocks of a
            // zero-padded copy (zero is no probe's byte).
            let rest = buf.len() - at;
            let mut tail = [0u8; WINDOW + 64];
            tail[..rest].copy_from_slice(&buf[at..]);
            let mut off = 0;
            while off < rest {
                let window: &[u8; WINDOW] = tail[off..off + WINDOW].try_into().expect("a window");
                let b = classify!(window, (rest - off).min(64), carry_escaped, carry_string);
                step!(b);
                carry_string = b.string_carry();
                carry_escaped = b.escaped_next;
                off += 64;
            }
        }
        let backslash = state.backslash || slashes != 0;
        match found {
            Some(end) => {
                // Right after a brace outside any string.
                *state = ScanState { depth: 0, in_string: false, escaped: false, backslash };
                Some(end)
            }
            None => {
                *state = ScanState { depth, in_string: carry_string != 0, escaped: carry_escaped, backslash };
                None
            }
        }
    }};
}

/// Bits 0..=i.
#[inline(always)]
fn up_to(i: usize) -> u64 {
    u64::MAX >> (63 - i)
}

/// The brace of one block that brings the depth to zero, if one does:
/// `Some(index)`; otherwise `None` with `depth` updated past the block.
/// Only the closing braces are visited, each one's depth counted from the
/// opening braces before it: one branch per `}` instead of one per brace,
/// which mispredicts less.
#[inline(always)]
fn closing_brace(open: u64, close: u64, depth: &mut u32) -> Option<usize> {
    let mut closes = close;
    let mut closed = 0u32;
    while closes != 0 {
        let i = closes.trailing_zeros();
        closed += 1;
        // Opening braces before this one (bits below `i`).
        let opened = (open & ((1u64 << i) - 1)).count_ones();
        if *depth + opened == closed {
            return Some(i as usize);
        }
        closes &= closes - 1;
    }
    *depth = *depth + open.count_ones() - closed;
    None
}

/// A block loop for one vector classifier, compiled with the CPU features
/// it needs so that the classifier is inlined.
macro_rules! simd_find {
    ($(#[$doc:meta])* $name:ident, $features:literal, $masks:ident) => {
        #[cfg(target_arch = "x86_64")]
        $(#[$doc])*
        #[target_feature(enable = $features)]
        unsafe fn $name<const N: usize>(
            buf: &[u8],
            pos: usize,
            state: &mut ScanState,
            probes: &Probes,
            hits: &mut Vec<Hit>,
        ) -> Option<usize> {
            // SAFETY: this function only runs on CPUs with these features
            // (see `Engine::detect`).
            scan_blocks!(buf, pos, state, probes, hits, |b, p| unsafe { x86::$masks::<N>(b, p) }, |q| unsafe {
                x86::prefix_xor_clmul(q)
            })
        }
    };
}

simd_find!(
    /// # Safety
    /// The CPU must support AVX2, POPCNT, BMI1, BMI2 and PCLMULQDQ.
    find_avx2,
    "avx2,popcnt,bmi1,bmi2,pclmulqdq",
    masks_avx2
);

simd_find!(
    /// # Safety
    /// The CPU must support AVX-512 F and BW, POPCNT, BMI1, BMI2 and
    /// PCLMULQDQ.
    find_avx512,
    "avx512f,avx512bw,avx2,popcnt,bmi1,bmi2,pclmulqdq",
    masks_avx512
);

/// The block loop with a classifier that needs no CPU feature beyond the
/// target's own (SSE2 on x86-64, or portable Rust).
fn find_baseline<const N: usize>(
    buf: &[u8],
    pos: usize,
    state: &mut ScanState,
    probes: &Probes,
    hits: &mut Vec<Hit>,
    masks: impl Fn(&[u8; WINDOW], &Probes) -> (Masks, [u64; N]),
) -> Option<usize> {
    scan_blocks!(buf, pos, state, probes, hits, masks, prefix_xor)
}

/// Scan `buf[pos..]` for the brace that closes the current object.
/// Returns the index just past it, or `None` when the buffer ends first
/// (`state` then holds what the next call needs).
pub fn find_object_end(engine: Engine, buf: &[u8], pos: usize, state: &mut ScanState) -> Option<usize> {
    find_object_end_probed(engine, buf, pos, state, &Probes::none(), &mut Vec::new())
}

/// [`find_object_end`], also pushing to `hits`, in order for each probe,
/// where `probes` match in the bytes scanned up to the closing brace. The
/// hits of a needle that an object holds are complete when the object was
/// scanned in one call (not resumed in another buffer). A quote just before
/// the closing brace may also be a hit for a probe byte past it: hits are
/// candidates, to be compared with the whole needle.
pub(crate) fn find_object_end_probed(
    engine: Engine,
    buf: &[u8],
    pos: usize,
    state: &mut ScanState,
    probes: &Probes,
    hits: &mut Vec<Hit>,
) -> Option<usize> {
    // One loop per number of probes, so that their masks stay in registers.
    macro_rules! by_count {
        ($find:ident $(, $masks:ident)?) => {
            match probes.len() {
                0 => $find::<0>(buf, pos, state, probes, hits $(, $masks::<0>)?),
                1 => $find::<1>(buf, pos, state, probes, hits $(, $masks::<1>)?),
                2 => $find::<2>(buf, pos, state, probes, hits $(, $masks::<2>)?),
                3 => $find::<3>(buf, pos, state, probes, hits $(, $masks::<3>)?),
                _ => $find::<MAX_PROBES>(buf, pos, state, probes, hits $(, $masks::<MAX_PROBES>)?),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    use x86::masks_sse2;
    match engine.0 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Engine` of kind `Avx2` is made only by `Engine::detect`
        // on a CPU that has it (the kind is private to this module).
        Kind::Avx2 => unsafe { by_count!(find_avx2) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for `Avx512`.
        Kind::Avx512 => unsafe { by_count!(find_avx512) },
        #[cfg(target_arch = "x86_64")]
        Kind::Sse2 => by_count!(find_baseline, masks_sse2),
        _ => by_count!(find_baseline, masks_portable),
    }
}

/// The byte-at-a-time reference for [`find_object_end`]. As in the block
/// version, a backslash escapes the next byte wherever it is (outside a
/// string it is invalid JSON anyway; what matters is that every path
/// agrees on such input).
#[cfg(test)]
pub(crate) fn find_object_end_scalar(buf: &[u8], pos: usize, state: &mut ScanState) -> Option<usize> {
    for (i, &b) in buf.iter().enumerate().skip(pos) {
        if state.escaped {
            state.escaped = false;
            continue;
        }
        if b == b'\\' {
            state.escaped = true;
            state.backslash = true;
            continue;
        }
        if state.in_string {
            if b == b'"' {
                state.in_string = false;
            }
            continue;
        }
        match b {
            b'"' => state.in_string = true,
            b'{' => state.depth += 1,
            b'}' => {
                state.depth -= 1;
                if state.depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn engines() -> Vec<Engine> {
        let mut e = vec![Engine::portable()];
        #[cfg(target_arch = "x86_64")]
        {
            e.push(Engine(Kind::Sse2));
            match Engine::detect().0 {
                Kind::Avx512 => e.extend([Engine(Kind::Avx2), Engine(Kind::Avx512)]),
                Kind::Avx2 => e.push(Engine(Kind::Avx2)),
                _ => {}
            }
        }
        e
    }

    fn start() -> ScanState {
        ScanState::in_object()
    }

    #[test]
    fn finds_the_closing_brace() {
        let rec = br#"{"a":"}{\"}","b":{"c":"\\"},"d":[{}]}tail"#;
        for e in engines() {
            let mut s = start();
            assert_eq!(find_object_end(e, rec, 1, &mut s), Some(rec.len() - 4), "{e:?}");
        }
    }

    #[test]
    fn escape_masks() {
        // `\\\"` : backslashes at 0,1,2; byte 3 (") is escaped, so is byte 1.
        let (m, carry) = escaped(0b0111, false);
        assert_eq!(m & 0b1111, 0b1010);
        assert!(!carry);
        // A run ending the block escapes the next block's first byte.
        let (_, carry) = escaped(1 << 63, false);
        assert!(carry);
        let (m, _) = escaped(0, true);
        assert_eq!(m, 1);
    }

    #[test]
    fn a_probe_takes_the_needles_rarest_byte() {
        let mut p = Probes::none();
        assert_eq!(p.add(b"\"errorCode\""), Some(0));
        assert_eq!((p.bytes[0], p.offsets[0]), (b'C', 6));
        assert_eq!(p.add(b"\"Root\""), Some(1));
        assert_eq!((p.bytes[1], p.offsets[1]), (b'R', 1));
        assert_eq!(p.add(b"Root"), None, "no opening quote");
        assert_eq!(p.add(b"\""), None, "a lone quote");
        let long = [b"\"".as_slice(), &[b'a'; 100], b"Z\""].concat();
        assert_eq!(p.add(&long), Some(2));
        assert!(p.offsets[2] < 64, "at most a block away");
        assert_eq!(p.add(b"\"\0\0\""), Some(3), "a NUL is not probed");
        assert_eq!(p.offsets[3], 3);
        assert_eq!(p.add(b"\"y\""), None, "full");
        assert_eq!(p.len(), MAX_PROBES);
    }

    #[test]
    fn hits_are_found_across_blocks_and_stop_at_the_closing_brace() {
        // One probe (compared at its offset), and three (the quotes
        // shifted to the probes' bytes).
        for others in [&[][..], &[&b"\"zz\""[..], b"\"yy\""]] {
            hits_across_blocks(others);
        }
    }

    fn hits_across_blocks(others: &[&[u8]]) {
        let mut probes = Probes::none();
        probes.add(b"\"errorCode\"").unwrap();
        for o in others {
            probes.add(o).unwrap();
        }
        // Needles at the start, across the first block boundary (byte 64)
        // and just before the closing brace; one more after it.
        let mut rec = br#"{"errorCode":"x","#.to_vec();
        rec.resize(60, b' ');
        rec.extend_from_slice(br#""errorCode":1,"#);
        rec.resize(150, b' ');
        rec.extend_from_slice(br#""errorCode":2}"errorCode""#);
        let close = rec.iter().rposition(|&b| b == b'}').unwrap();
        for e in engines() {
            let mut hits = Vec::new();
            let mut s = start();
            assert_eq!(find_object_end_probed(e, &rec, 1, &mut s, &probes, &mut hits), Some(close + 1));
            let at: Vec<usize> = hits.iter().filter(|h| h.probe == 0).map(|h| h.pos).collect();
            assert_eq!(at, [1, 60, 150], "{e:?} with {} probes", probes.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Hits are exactly the probe matches up to the object's end: each
        /// hit is a quote followed by its probe's byte, and every needle
        /// inside the object has its hit, in order.
        #[test]
        fn probes_find_every_needle_inside_the_object(
            body in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(b'{'), Just(b'}'), Just(b'a'), Just(b'Q'), Just(b' ')], 0..400),
            needles in proptest::collection::vec(proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'Q'), Just(b'"'), Just(b'}')], 1..70), 1..5),
            copies in proptest::collection::vec((0usize..400, 0usize..4), 0..8),
        ) {
            let needles: Vec<Vec<u8>> = needles.into_iter().map(|n| [b"\"".as_slice(), &n].concat()).collect();
            // The needles copied into the body at random places.
            let mut body = body;
            for (at, which) in copies {
                let n = &needles[which % needles.len()];
                let at = at.min(body.len());
                body.splice(at..at, n.iter().copied());
            }
            let mut doc = vec![b'{'];
            doc.extend_from_slice(&body);
            let mut probes = Probes::none();
            for n in &needles {
                probes.add(n);
            }
            let mut r = start();
            let end = find_object_end_scalar(&doc, 1, &mut r).unwrap_or(doc.len());
            for e in engines() {
                let mut hits = Vec::new();
                let mut s = start();
                find_object_end_probed(e, &doc, 1, &mut s, &probes, &mut hits);
                for (p, needle) in needles.iter().enumerate() {
                    let (b, k) = (probes.bytes[p], probes.offsets[p] as usize);
                    let got: Vec<usize> = hits.iter().filter(|h| h.probe == p).map(|h| h.pos).collect();
                    prop_assert!(got.windows(2).all(|w| w[0] < w[1]), "{:?}: in order", e);
                    for &i in &got {
                        prop_assert!(i >= 1 && i < end && doc[i] == b'"' && doc.get(i + k) == Some(&b), "{:?}: false hit {}", e, i);
                    }
                    for i in 1..end {
                        if doc[i..end].starts_with(needle) {
                            prop_assert!(got.contains(&i), "{:?}: needle {} at {} missed", e, p, i);
                        }
                    }
                }
            }
        }

        /// Every engine agrees with the scalar reference, however the input
        /// is cut into buffers.
        #[test]
        fn engines_agree_with_the_reference(
            body in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(b'{'), Just(b'}'), Just(b'a'), Just(b' '), Just(0xc3), Just(0xff)], 0..300),
            cut in 0usize..300,
        ) {
            let mut doc = vec![b'{'];
            doc.extend_from_slice(&body);
            let cut = cut.min(doc.len());
            let mut r = start();
            let want_whole = find_object_end_scalar(&doc, 1, &mut r);
            for e in engines() {
                let mut s = start();
                prop_assert_eq!(find_object_end(e, &doc, 1, &mut s), want_whole, "{:?}", e);
                prop_assert_eq!(s.backslash, r.backslash, "{:?}: a backslash before the end (or the buffer's end)", e);
                if want_whole.is_none() {
                    prop_assert_eq!(s, r, "{:?} end state", e);
                }
                // Resume across a cut.
                let mut s = start();
                let mut rs = start();
                let first = find_object_end(e, &doc[..cut], 1.min(cut), &mut s);
                let rfirst = find_object_end_scalar(&doc[..cut], 1.min(cut), &mut rs);
                prop_assert_eq!(first, rfirst);
                prop_assert_eq!(s, rs, "{:?} state at the cut", e);
                if first.is_none() && cut >= 1 {
                    let got = find_object_end(e, &doc, cut, &mut s);
                    let want = find_object_end_scalar(&doc, cut, &mut rs);
                    prop_assert_eq!(got, want, "{:?} resumed", e);
                }
            }
        }
    }
}
