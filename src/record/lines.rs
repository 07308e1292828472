//! Finding records that are lines: JSON Lines (one event per line, as
//! `jq -c '.Records[]'`, Athena or data-lake exports write them) and
//! CloudWatch Logs exports (`<timestamp> <message>` per line).
//!
//! Like [`super::Splitter`], [`LineSplitter`] is incremental over a buffer
//! the caller fills and drains, and never keeps more than the current line.
//! Blank lines are skipped; a line's span excludes surrounding blanks and a
//! trailing `\r`. Whether a line is a valid record is decided later, by
//! whoever parses it.

use super::split::{RecordSpan, Step};

/// Incremental line finder.
#[derive(Clone, Debug, Default)]
pub struct LineSplitter {
    /// Next byte to look at, relative to the buffer.
    pos: usize,
    /// Absolute offset of buffer position 0.
    base: u64,
    /// Start of the current line, relative to the buffer.
    line_start: usize,
    /// The current line is too large: its bytes are not kept.
    discarding: bool,
    /// Absolute offset of the current line's first byte.
    line_offset: u64,
}

#[inline]
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl LineSplitter {
    /// A splitter at the start of the input.
    pub(crate) fn new() -> LineSplitter {
        LineSplitter::default()
    }

    /// Absolute offset of buffer position `pos`.
    pub(crate) fn absolute(&self, pos: usize) -> u64 {
        self.base + pos as u64
    }

    /// Start at byte `n` of the input instead of its first (past a
    /// byte-order mark). Only before the first step.
    pub(crate) fn skip_prefix(&mut self, n: usize) {
        debug_assert!(self.pos == 0 && self.base == 0);
        self.pos = n;
        self.line_start = n;
    }

    /// How many bytes at the front of the buffer are no longer needed.
    pub(crate) fn reclaimable(&self) -> usize {
        if self.discarding {
            self.pos
        } else {
            self.line_start
        }
    }

    /// Stop keeping the bytes of the current line (it is too large).
    pub(crate) fn discard_pending(&mut self) {
        if self.pos > self.line_start {
            self.discarding = true;
        }
    }

    /// The caller removed `n` bytes from the front of the buffer.
    pub(crate) fn consumed(&mut self, n: usize) {
        debug_assert!(n <= self.reclaimable());
        self.pos -= n;
        self.line_start = self.line_start.saturating_sub(n);
        self.base += n as u64;
    }

    /// Bytes of the line currently being read.
    pub(crate) fn pending_record_len(&self) -> u64 {
        self.absolute(self.pos) - self.line_offset
    }

    /// Advance to the next non-blank line. `eof`: no more data will follow
    /// `buf` (a last line without a newline is then complete).
    pub(crate) fn next(&mut self, buf: &[u8], eof: bool) -> Step {
        loop {
            if self.pos == self.line_start && !self.discarding {
                self.line_offset = self.absolute(self.line_start);
            }
            let end = match memchr::memchr(b'\n', &buf[self.pos..]) {
                Some(i) => self.pos + i,
                None if eof && (self.line_start < buf.len() || self.discarding) => buf.len(),
                None => {
                    self.pos = buf.len();
                    return Step::NeedMore;
                }
            };
            let start = self.line_start;
            self.pos = if end < buf.len() { end + 1 } else { end };
            self.line_start = self.pos;
            if self.discarding {
                self.discarding = false;
                let offset = self.line_offset;
                let len = self.absolute(end) - offset;
                return Step::Discarded { offset, len };
            }
            let mut s = start;
            let mut e = end;
            while s < e && is_blank(buf[s]) {
                s += 1;
            }
            while e > s && is_blank(buf[e - 1]) {
                e -= 1;
            }
            if s < e {
                return Step::Record(RecordSpan::of(buf, s, e));
            }
            if self.pos >= buf.len() && eof {
                return Step::NeedMore;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], chunk: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut sp = LineSplitter::new();
        let mut buf = Vec::new();
        let mut fed = 0;
        loop {
            let eof = fed == input.len();
            match sp.next(&buf, eof) {
                Step::Record(r) => out.push(String::from_utf8_lossy(&buf[r.start..r.end]).into_owned()),
                Step::Discarded { offset, len } => out.push(format!("<dropped {offset}+{len}>")),
                Step::NeedMore if eof => return out,
                Step::NeedMore => {
                    let n = sp.reclaimable();
                    buf.drain(..n);
                    sp.consumed(n);
                    if sp.pending_record_len() > 12 {
                        sp.discard_pending();
                    }
                    let take = chunk.min(input.len() - fed);
                    buf.extend_from_slice(&input[fed..fed + take]);
                    fed += take;
                }
            }
        }
    }

    #[test]
    fn lines_blank_lines_and_crlf() {
        let input = b"{\"a\":1}\n\n  {\"b\":2}\r\n{\"c\":3}";
        for chunk in [1, 2, 3, 100] {
            assert_eq!(lines(input, chunk), ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"], "chunk {chunk}");
        }
        assert!(lines(b"", 4).is_empty());
        assert!(lines(b"\n\n \n", 4).is_empty());
    }

    #[test]
    fn long_lines_are_dropped_with_their_offsets() {
        let input = b"{}\n0123456789abcdefgh\n{}\n";
        assert_eq!(lines(input, 3), ["{}", "<dropped 3+18>", "{}"]);
        // The last line, without a newline.
        assert_eq!(lines(b"{}\n0123456789abcdefgh", 3), ["{}", "<dropped 3+18>"]);
    }
}
