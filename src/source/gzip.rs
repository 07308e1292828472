//! A streaming gzip reader (RFC 1952) that keeps every byte decoded before
//! damage.
//!
//! flate2's gzip readers return an error from the read call that meets
//! corrupt data, dropping what that call had already decoded (up to a whole
//! buffer). For a forensic reader every record before the damage counts, so
//! this reader frames the members itself around flate2's raw inflater:
//! output decoded before an error is returned first, the error on the next
//! call. It reads concatenated members, checks each member's CRC-32 and
//! size, and counts the compressed bytes it consumed, so damage is located
//! in the compressed file too.

use std::io::{self, BufRead, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

/// Header flag bits.
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Header,
    Body,
    Trailer,
    Done,
}

/// Decodes gzip from a buffered reader.
pub(crate) struct GzipReader<R> {
    inner: R,
    state: State,
    inflate: Decompress,
    crc: Crc,
    /// An error met after output that was already returned.
    pending: Option<io::Error>,
    /// Compressed bytes consumed.
    consumed: u64,
    /// Complete members read.
    members: u64,
    /// A bare deflate stream (a zip member) whose CRC-32 and size are
    /// known from elsewhere, instead of gzip members.
    raw: Option<(u32, u64)>,
}

impl<R: BufRead> GzipReader<R> {
    /// A reader at the start of a gzip stream.
    pub(crate) fn new(inner: R) -> GzipReader<R> {
        GzipReader {
            inner,
            state: State::Header,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            pending: None,
            consumed: 0,
            members: 0,
            raw: None,
        }
    }

    /// A reader of one bare deflate stream (a zip member's data), checked
    /// against the CRC-32 and decoded size its archive records. Like a
    /// gzip member, what decodes before damage is returned first.
    pub(crate) fn deflate(inner: R, crc: u32, size: u64) -> GzipReader<R> {
        let mut r = GzipReader::new(inner);
        r.raw = Some((crc, size));
        r.state = State::Body;
        r
    }

    fn truncated(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the compressed stream ends early, after {} compressed bytes", self.consumed),
        )
    }

    fn corrupt(&self, what: &str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, format!("{what} at compressed byte {}", self.consumed))
    }

    /// The next byte, or `None` at the end of the input.
    fn byte(&mut self) -> io::Result<Option<u8>> {
        let b = match self.inner.fill_buf()? {
            [] => return Ok(None),
            buf => buf[0],
        };
        self.inner.consume(1);
        self.consumed += 1;
        Ok(Some(b))
    }

    fn need(&mut self) -> io::Result<u8> {
        self.byte()?.ok_or_else(|| self.truncated())
    }

    /// Parse a member header. Returns false at a clean end of input (after
    /// at least one member).
    fn header(&mut self) -> io::Result<bool> {
        if self.raw.is_some() {
            return Ok(false);
        }
        let first = match self.byte()? {
            None if self.members > 0 => return Ok(false),
            None => return Err(self.truncated()),
            Some(b) => b,
        };
        if first == 0 && self.members > 0 {
            // Zero padding after the last member (as tape and some
            // uploaders add) is not data.
            while let Some(b) = self.byte()? {
                if b != 0 {
                    return Err(self.corrupt("data after the end of the gzip stream"));
                }
            }
            return Ok(false);
        }
        if first != 0x1f || self.need()? != 0x8b {
            let what = if self.members > 0 { "data after the end of the gzip stream" } else { "not gzip data" };
            return Err(self.corrupt(what));
        }
        if self.need()? != 8 {
            return Err(self.corrupt("unknown gzip compression method"));
        }
        let flags = self.need()?;
        if flags & 0xe0 != 0 {
            return Err(self.corrupt("reserved gzip header flags set"));
        }
        for _ in 0..6 {
            self.need()?; // MTIME, XFL, OS
        }
        if flags & FEXTRA != 0 {
            let len = u16::from(self.need()?) | u16::from(self.need()?) << 8;
            for _ in 0..len {
                self.need()?;
            }
        }
        for flag in [FNAME, FCOMMENT] {
            if flags & flag != 0 {
                while self.need()? != 0 {}
            }
        }
        if flags & FHCRC != 0 {
            self.need()?;
            self.need()?;
        }
        self.inflate.reset(false);
        self.crc.reset();
        Ok(true)
    }

    fn trailer(&mut self) -> io::Result<()> {
        if let Some((crc, size)) = self.raw {
            self.members += 1;
            if crc != self.crc.sum() {
                return Err(self.corrupt("CRC-32 mismatch (the decoded data is not what was compressed)"));
            }
            if size as u32 != self.crc.amount() {
                return Err(self.corrupt("size mismatch with the archive's directory"));
            }
            return Ok(());
        }
        let mut t = [0u8; 8];
        for b in &mut t {
            *b = self.need()?;
        }
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if crc != self.crc.sum() {
            return Err(self.corrupt("CRC-32 mismatch (the decoded data is not what was compressed)"));
        }
        if size != self.crc.amount() {
            return Err(self.corrupt("size mismatch in the gzip trailer"));
        }
        self.members += 1;
        Ok(())
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.pending.take() {
            self.state = State::Done;
            return Err(e);
        }
        if dst.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::Header => {
                    self.state = if self.header()? { State::Body } else { State::Done };
                }
                State::Trailer => {
                    self.trailer()?;
                    self.state = State::Header;
                }
                State::Body => {
                    let input = self.inner.fill_buf()?;
                    let eof = input.is_empty();
                    let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
                    let flush = if eof { FlushDecompress::Finish } else { FlushDecompress::None };
                    let status = self.inflate.decompress(input, dst, flush);
                    let used = (self.inflate.total_in() - in0) as usize;
                    let written = (self.inflate.total_out() - out0) as usize;
                    self.inner.consume(used);
                    self.consumed += used as u64;
                    self.crc.update(&dst[..written]);
                    match status {
                        Ok(Status::StreamEnd) => {
                            self.state = State::Trailer;
                            if written > 0 {
                                return Ok(written);
                            }
                        }
                        Ok(_) if written > 0 => return Ok(written),
                        Ok(_) if eof => return Err(self.truncated()),
                        Ok(_) => {}
                        Err(_) => {
                            let e = self.corrupt("corrupt deflate data");
                            if written > 0 {
                                self.pending = Some(e);
                                return Ok(written);
                            }
                            self.state = State::Done;
                            return Err(e);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::gzip as gz;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    /// Read everything in `chunk`-byte reads; the output before the error
    /// and the error.
    fn drain(data: &[u8], chunk: usize) -> (Vec<u8>, Option<io::Error>) {
        let mut r = GzipReader::new(io::BufReader::with_capacity(7, data));
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n).map(|i| format!("line {i} {}\n", i * 7919 % 1000)).collect::<String>().into_bytes()
    }

    #[test]
    fn members_headers_and_padding() {
        let data = text(5000);
        for chunk in [1, 100, 1 << 20] {
            assert_eq!(drain(&gz(&data), chunk).0, data);
        }
        let mut two = gz(b"hello ");
        two.extend(gz(b"world"));
        two.extend([0u8; 10]);
        let (out, err) = drain(&two, 3);
        assert_eq!((out.as_slice(), err.is_none()), (&b"hello world"[..], true));
        // FNAME, FCOMMENT, FEXTRA and FHCRC.
        let mut e = flate2::GzBuilder::new()
            .filename("a.json")
            .comment("c")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::fast());
        e.write_all(b"named").unwrap();
        let mut named = e.finish().unwrap();
        named[3] |= FHCRC;
        let at = 10 + 2 + 3 + 7 + 2;
        named.splice(at..at, [0u8, 0]);
        assert_eq!(drain(&named, 64).0, b"named");
    }

    /// A stream whose first `k` bytes of output end on a byte boundary
    /// (sync flush), so damage right after them is exact.
    fn flushed(first: &[u8], rest: &[u8]) -> (Vec<u8>, usize) {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(first).unwrap();
        e.flush().unwrap();
        let cut = e.get_ref().len();
        e.write_all(rest).unwrap();
        (e.finish().unwrap(), cut)
    }

    #[test]
    fn everything_before_the_damage_is_returned() {
        let (first, rest) = (text(3000), text(2000));
        let (whole, cut) = flushed(&first, &rest);
        for chunk in [1, 4096, 1 << 20] {
            let (out, err) = drain(&whole[..cut], chunk);
            assert_eq!(out, first, "truncated, chunk {chunk}");
            let err = err.unwrap();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            assert_eq!(err.to_string(), format!("the compressed stream ends early, after {cut} compressed bytes"));
            let mut bad = whole.clone();
            bad[cut] = 0xff; // a block of the reserved type
            let (out, err) = drain(&bad, chunk);
            assert_eq!(out, first, "corrupt, chunk {chunk}");
            let err = err.unwrap();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert!(err.to_string().starts_with("corrupt deflate data at compressed byte"), "{err}");
        }
    }

    #[test]
    fn checksums_and_garbage() {
        let mut g = gz(b"some data");
        let n = g.len();
        g[n - 8] ^= 1;
        let (out, err) = drain(&g, 64);
        assert_eq!(out, b"some data", "the data is returned, then the checksum failure");
        assert!(err.unwrap().to_string().starts_with("CRC-32 mismatch"));
        let mut g = gz(b"x");
        g.extend_from_slice(b"garbage");
        assert!(drain(&g, 64).1.unwrap().to_string().starts_with("data after the end of the gzip stream"));
        assert!(drain(b"plain text", 64).1.unwrap().to_string().starts_with("not gzip data"));
        assert_eq!(drain(&[], 64).1.unwrap().kind(), io::ErrorKind::UnexpectedEof);
    }
}
