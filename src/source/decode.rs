//! Opening an input and turning it into decompressed bytes, with guards
//! against decompression bombs.
//!
//! gzip is recognised by its magic bytes, not by the name, and read as
//! multi-member (CloudTrail objects are single-member, but concatenated
//! gzip is valid and common in re-packed exports).

use std::fmt;
use std::io::{self, Read};

use super::format::{sniff, Packing};
use super::gzip::GzipReader;

/// Limits applied while decoding one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most decompressed bytes per file.
    pub max_decompressed: u64,
    /// Largest decompressed/compressed ratio tolerated once more than
    /// `ratio_floor` bytes have been produced.
    pub max_ratio: u64,
    /// Output below this size is never judged by its ratio (tiny files
    /// compress extremely well).
    pub ratio_floor: u64,
    /// Largest single record, in bytes.
    pub max_record: usize,
    /// Most decompressed bytes from one archive, all its members together.
    pub max_archive_decompressed: u64,
    /// Most entries in one archive.
    pub max_archive_entries: u64,
}

/// Which decompression bound an input crossed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// More decoded bytes than `--max-decompressed` (per file or member).
    PerFile,
    /// More than `--max-archive-decompressed`, all members together.
    Archive,
    /// A compression ratio above `--max-ratio`.
    Ratio,
}

impl Bound {
    /// What the bound is.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Bound::PerFile => "more than the per-file decompressed limit",
            Bound::Archive => "more than the per-archive decompressed limit",
            Bound::Ratio => "compression ratio above the limit",
        }
    }

    /// The option that sets it.
    pub(crate) fn option(self) -> &'static str {
        match self {
            Bound::PerFile => "--max-decompressed",
            Bound::Archive => "--max-archive-decompressed",
            Bound::Ratio => "--max-ratio",
        }
    }
}

impl Limits {
    /// The bound `produced` decoded bytes from `packed` compressed ones
    /// cross, if any, with `cap` the most allowed: the one check every
    /// decoder makes.
    pub(crate) fn crossed(&self, produced: u64, packed: u64, cap: Bound) -> Option<Bound> {
        let most = match cap {
            Bound::Archive => self.max_archive_decompressed,
            _ => self.max_decompressed,
        };
        if produced > most {
            return Some(cap);
        }
        (produced > self.ratio_floor && produced > packed.max(1).saturating_mul(self.max_ratio)).then_some(Bound::Ratio)
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_decompressed: 4 << 30,
            max_ratio: 1000,
            ratio_floor: 64 << 20,
            // CloudWatch Logs accepts events up to 1 MiB (since 2025); larger
            // CloudTrail records never reach it.
            max_record: 1 << 20,
            max_archive_decompressed: 64 << 30,
            max_archive_entries: 1_000_000,
        }
    }
}

/// A decoding failure.
#[derive(Debug)]
pub enum DecodeError {
    /// The operating system refused (permission, vanished file, I/O error).
    Io(io::Error),
    /// The gzip stream ends early (with where).
    TruncatedGzip(String),
    /// The deflate data is corrupt.
    CorruptGzip(String),
    /// More output than the limits allow.
    Bomb {
        /// Bytes produced when the guard tripped.
        decompressed: u64,
        /// The compressed size of the file.
        compressed: u64,
        /// Which limit.
        limit: Bound,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Io(e) => write!(f, "{e}"),
            DecodeError::TruncatedGzip(e) => write!(f, "truncated gzip: {e}"),
            DecodeError::CorruptGzip(e) => write!(f, "corrupt gzip data: {e}"),
            DecodeError::Bomb { decompressed, compressed, limit } => {
                f.write_str(&bomb_message(*decompressed, *compressed, *limit))
            }
        }
    }
}

/// The message of a decompression bomb stopped, wherever it was stopped.
pub(crate) fn bomb_message(decompressed: u64, compressed: u64, limit: Bound) -> String {
    format!(
        "decompression stopped after {decompressed} bytes from {compressed} compressed bytes: {} (possible decompression bomb; see {})",
        limit.describe(),
        limit.option()
    )
}

/// A reader of an input's decoded bytes that counts what it produced and
/// enforces [`Limits`].
pub(crate) struct Decoded<'a> {
    inner: Box<dyn Read + 'a>,
    gzip: bool,
    packed: u64,
    produced: u64,
    limits: Limits,
}

impl<'a> Decoded<'a> {
    /// Decode `reader` (gzip when its first bytes say so, else as is);
    /// `packed` is its size, used by the ratio guard.
    pub(crate) fn from_reader(
        mut reader: Box<dyn Read + 'a>,
        packed: u64,
        limits: Limits,
    ) -> Result<Decoded<'a>, DecodeError> {
        let mut head = [0u8; 2];
        let n = read_full(&mut reader, &mut head).map_err(DecodeError::Io)?;
        let gzip = sniff(&head[..n]) == Packing::Gzip;
        let chained = io::Cursor::new(head[..n].to_vec()).chain(reader);
        let inner: Box<dyn Read + 'a> = if gzip {
            Box::new(GzipReader::new(io::BufReader::with_capacity(256 << 10, chained)))
        } else {
            Box::new(chained)
        };
        Ok(Decoded { inner, gzip, packed, produced: 0, limits })
    }

    /// Decode in-memory bytes.
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: Vec<u8>, limits: Limits) -> Decoded<'static> {
        let packed = bytes.len() as u64;
        Decoded::from_reader(Box::new(io::Cursor::new(bytes)), packed, limits).expect("reading memory cannot fail")
    }

    /// Whether the input is gzip.
    pub(crate) fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Decoded bytes produced so far.
    pub(crate) fn produced(&self) -> u64 {
        self.produced
    }

    /// Append up to `want` decoded bytes to `buf`; returns how many (0 at
    /// the end).
    pub(crate) fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> Result<usize, DecodeError> {
        let old = buf.len();
        buf.resize(old + want, 0);
        let r = loop {
            match self.inner.read(&mut buf[old..]) {
                Ok(n) => break Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        let n = match r {
            Ok(n) => n,
            Err(e) => {
                buf.truncate(old);
                return Err(self.classify(e));
            }
        };
        buf.truncate(old + n);
        self.produced += n as u64;
        let crossed = self.limits.crossed(self.produced, self.packed, Bound::PerFile);
        // Plain content is as large as it is: only compressed content has a
        // ratio.
        if let Some(limit) = crossed.filter(|b| self.gzip || *b != Bound::Ratio) {
            return Err(DecodeError::Bomb { decompressed: self.produced, compressed: self.packed, limit });
        }
        Ok(n)
    }

    fn classify(&self, e: io::Error) -> DecodeError {
        if !self.gzip {
            return DecodeError::Io(e);
        }
        match e.kind() {
            io::ErrorKind::UnexpectedEof => DecodeError::TruncatedGzip(e.to_string()),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => DecodeError::CorruptGzip(e.to_string()),
            _ => DecodeError::Io(e),
        }
    }
}

/// Read until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::gzip as gz;

    fn drain(mut d: Decoded<'_>) -> Result<Vec<u8>, DecodeError> {
        let mut buf = Vec::new();
        while d.fill(&mut buf, 7)? > 0 {}
        Ok(buf)
    }

    #[test]
    fn plain_and_gzip_and_multi_member() {
        assert_eq!(
            drain(Decoded::from_bytes(b"{\"Records\":[]}".to_vec(), Limits::default())).unwrap(),
            b"{\"Records\":[]}"
        );
        assert_eq!(drain(Decoded::from_bytes(gz(b"hello"), Limits::default())).unwrap(), b"hello");
        let mut two = gz(b"hello ");
        two.extend(gz(b"world"));
        assert_eq!(drain(Decoded::from_bytes(two, Limits::default())).unwrap(), b"hello world");
    }

    #[test]
    fn damaged_gzip() {
        let data = gz(&b"0123456789".repeat(1000));
        let cut = data[..data.len() / 2].to_vec();
        assert!(matches!(drain(Decoded::from_bytes(cut, Limits::default())), Err(DecodeError::TruncatedGzip(_))));
        let mut bad = data.clone();
        for b in &mut bad[12..40] {
            *b ^= 0x5a;
        }
        assert!(matches!(
            drain(Decoded::from_bytes(bad, Limits::default())),
            Err(DecodeError::CorruptGzip(_) | DecodeError::TruncatedGzip(_))
        ));
    }

    #[test]
    fn bomb_guard() {
        let zeros = gz(&vec![0u8; 10 << 20]);
        let limits = Limits { max_decompressed: 1 << 20, ..Limits::default() };
        assert!(matches!(drain(Decoded::from_bytes(zeros.clone(), limits)), Err(DecodeError::Bomb { .. })));
        let limits = Limits { max_ratio: 10, ratio_floor: 1 << 20, ..Limits::default() };
        let e = drain(Decoded::from_bytes(zeros, limits)).unwrap_err();
        assert!(e.to_string().contains("ratio"), "{e}");
    }
}
