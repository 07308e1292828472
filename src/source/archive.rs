//! Reading archives of a downloaded bucket (`.tar`, `.tar.gz`, `.zip`)
//! member by member, without unpacking them to disk.
//!
//! Each regular member is handed to a visitor as its own input: small
//! members as bytes in memory, large ones as a stream. Members that are
//! not regular files (links, devices) and members that cannot be read
//! (encrypted, unsupported compression, bombs) are reported too, so that
//! every member lands somewhere. Directory entries are structure, not
//! content, and are passed over.
//!
//! Bombs: a tar member is stored, not compressed, so its size is real; the
//! gzip stream around a tar is guarded by the compression ratio (a whole
//! bucket can legitimately decode to more than the per-file cap). A zip
//! member is guarded by the per-file cap and by its own ratio.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use super::decode::Limits;
use super::gzip::GzipReader;
use super::reader::{Archive, WHOLE_FILE_MAX};

/// The content of a member.
pub enum MemberData<'a> {
    /// The whole member, read into memory.
    Bytes(Vec<u8>),
    /// A reader over a large member, and its packed size.
    Stream(Box<dyn Read + 'a>, u64),
}

/// One entry of an archive, as the visitor sees it.
pub enum Entry<'a> {
    /// A regular file.
    Member {
        /// Its path inside the archive.
        name: String,
        /// Its content.
        data: MemberData<'a>,
    },
    /// Not a regular file (a link, a device, a FIFO).
    Special {
        /// Its path inside the archive.
        name: String,
    },
    /// A regular file that cannot be read.
    Unreadable {
        /// Its path inside the archive.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Why an archive could not be read (completely).
#[derive(Debug)]
pub struct ArchiveError(pub String);

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Visit every entry of the archive at `path`. Entries before a damaged
/// part are visited; the error says where reading stopped.
pub fn read_archive(
    path: &Path,
    kind: Archive,
    limits: Limits,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<(), ArchiveError> {
    let file = File::open(path).map_err(|e| ArchiveError(e.to_string()))?;
    let packed = file.metadata().map(|m| m.len()).unwrap_or(0);
    read_archive_from(BufReader::with_capacity(256 << 10, file), packed, kind, limits, visit)
}

/// Visit every entry of an archive of `packed` bytes read from `reader`
/// (a file, or bytes in memory).
pub fn read_archive_from<R: BufRead + Seek>(
    reader: R,
    packed: u64,
    kind: Archive,
    limits: Limits,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<(), ArchiveError> {
    match kind {
        Archive::Tar => read_tar(reader, visit),
        Archive::TarGz => read_tar(RatioGuard::new(GzipReader::new(reader), packed, limits, None), visit),
        Archive::Zip => read_zip(reader, limits, visit),
    }
}

fn read_tar<R: Read>(reader: R, visit: &mut dyn FnMut(Entry<'_>)) -> Result<(), ArchiveError> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| ArchiveError(format!("not a readable tar archive: {e}")))?;
    for (count, entry) in entries.enumerate() {
        let count = count as u64;
        let mut entry = entry.map_err(|e| tar_error(e, count))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_gnu_longname() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions()
        {
            continue;
        }
        if !kind.is_file() {
            visit(Entry::Special { name });
            continue;
        }
        let size = entry.size();
        if size <= WHOLE_FILE_MAX {
            let mut bytes = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut bytes).map_err(|e| tar_error(e, count))?;
            if (bytes.len() as u64) < size {
                let cut = io::Error::new(io::ErrorKind::UnexpectedEof, format!("member {name:?} is cut short"));
                return Err(tar_error(cut, count));
            }
            visit(Entry::Member { name, data: MemberData::Bytes(bytes) });
        } else {
            visit(Entry::Member { name, data: MemberData::Stream(Box::new(&mut entry), size) });
        }
    }
    Ok(())
}

fn tar_error(e: io::Error, members: u64) -> ArchiveError {
    ArchiveError(format!("damaged tar archive after {members} members: {e}"))
}

fn read_zip<R: Read + Seek>(reader: R, limits: Limits, visit: &mut dyn FnMut(Entry<'_>)) -> Result<(), ArchiveError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| ArchiveError(format!("not a readable zip archive: {e}")))?;
    for i in 0..zip.len() {
        let (name, is_dir, is_file, encrypted, packed, size) = match zip.by_index_raw(i) {
            Ok(m) => (m.name().to_string(), m.is_dir(), m.is_file(), m.encrypted(), m.compressed_size(), m.size()),
            Err(e) => {
                visit(Entry::Unreadable { name: format!("#{}", i + 1), reason: e.to_string() });
                continue;
            }
        };
        if is_dir {
            continue;
        }
        if !is_file {
            visit(Entry::Special { name });
            continue;
        }
        if encrypted {
            visit(Entry::Unreadable { name, reason: "encrypted zip member".into() });
            continue;
        }
        let member = match zip.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                visit(Entry::Unreadable { name, reason: e.to_string() });
                continue;
            }
        };
        let cap = Some(limits.max_decompressed);
        let mut guarded = RatioGuard::new(member, packed, limits, cap);
        if size <= WHOLE_FILE_MAX {
            let mut bytes = Vec::with_capacity(size as usize);
            match guarded.read_to_end(&mut bytes) {
                Ok(_) => visit(Entry::Member { name, data: MemberData::Bytes(bytes) }),
                Err(e) => visit(Entry::Unreadable { name, reason: e.to_string() }),
            }
        } else {
            visit(Entry::Member { name, data: MemberData::Stream(Box::new(guarded), packed) });
        }
    }
    Ok(())
}

/// Stops a decompressing reader that produces too much: more than `cap`
/// bytes, or (past the ratio floor) more than `max_ratio` times its packed
/// size.
struct RatioGuard<R> {
    inner: R,
    packed: u64,
    produced: u64,
    limits: Limits,
    cap: Option<u64>,
}

impl<R> RatioGuard<R> {
    fn new(inner: R, packed: u64, limits: Limits, cap: Option<u64>) -> RatioGuard<R> {
        RatioGuard { inner, packed, produced: 0, limits, cap }
    }
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        let bomb = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "decompression stopped after {} bytes from {} compressed bytes: {what} (possible decompression bomb; see --max-decompressed and --max-ratio)",
                    self.produced, self.packed
                ),
            )
        };
        if self.cap.is_some_and(|c| self.produced > c) {
            return Err(bomb("more than the per-file decompressed limit"));
        }
        if self.produced > self.limits.ratio_floor
            && self.produced > self.packed.max(1).saturating_mul(self.limits.max_ratio)
        {
            return Err(bomb("compression ratio above the limit"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::{gzip as gz, tar_of, zip_of};

    fn visit_all(path: &Path, kind: Archive, limits: Limits) -> (Vec<String>, Result<(), ArchiveError>) {
        let mut seen = Vec::new();
        let r = read_archive(path, kind, limits, &mut |e| {
            seen.push(match e {
                Entry::Member { name, data: MemberData::Bytes(b) } => format!("{name}: {} bytes", b.len()),
                Entry::Member { name, data: MemberData::Stream(_, n) } => format!("{name}: stream of {n}"),
                Entry::Special { name } => format!("{name}: special"),
                Entry::Unreadable { name, reason } => format!("{name}: unreadable: {reason}"),
            })
        });
        (seen, r)
    }

    #[test]
    fn tar_tar_gz_and_zip_members() {
        let dir = tempfile::tempdir().unwrap();
        let members: [(&str, &[u8]); 2] = [("AWSLogs/a.json.gz", &gz(b"{\"Records\":[]}")), ("b.json", b"{}")];
        let tar = tar_of(&members);
        let want = ["AWSLogs/a.json.gz: 34 bytes", "b.json: 2 bytes"];
        let p = dir.path().join("x.tar");
        std::fs::write(&p, &tar).unwrap();
        let (seen, r) = visit_all(&p, Archive::Tar, Limits::default());
        assert!(r.is_ok());
        assert_eq!(seen, want);
        let p = dir.path().join("x.tar.gz");
        std::fs::write(&p, gz(&tar)).unwrap();
        assert_eq!(visit_all(&p, Archive::TarGz, Limits::default()).0, want);
        let p = dir.path().join("x.zip");
        std::fs::write(&p, zip_of(&members)).unwrap();
        assert_eq!(visit_all(&p, Archive::Zip, Limits::default()).0, want);
    }

    #[test]
    fn damaged_archives_keep_the_members_before_the_damage() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b'x'; 5000];
        let tar = tar_of(&[("one", b"1"), ("two", &big), ("three", b"3")]);
        let p = dir.path().join("cut.tar");
        std::fs::write(&p, &tar[..1024 + 512 + 1000]).unwrap();
        let (seen, r) = visit_all(&p, Archive::Tar, Limits::default());
        assert_eq!(seen, ["one: 1 bytes"]);
        let e = r.unwrap_err().0;
        assert_eq!(e, "damaged tar archive after 1 members: member \"two\" is cut short");
        let p = dir.path().join("bad.zip");
        std::fs::write(&p, b"PK\x03\x04 not really").unwrap();
        let (seen, r) = visit_all(&p, Archive::Zip, Limits::default());
        assert!(seen.is_empty());
        assert!(r.unwrap_err().0.starts_with("not a readable zip archive"));
    }

    #[test]
    fn zip_bombs_are_stopped_per_member() {
        let dir = tempfile::tempdir().unwrap();
        let zeros = vec![0u8; 4 << 20];
        let p = dir.path().join("bomb.zip");
        std::fs::write(&p, zip_of(&[("ok", b"fine"), ("zeros", &zeros)])).unwrap();
        let limits = Limits { max_ratio: 100, ratio_floor: 1 << 20, ..Limits::default() };
        let (seen, r) = visit_all(&p, Archive::Zip, limits);
        assert!(r.is_ok());
        assert_eq!(seen[0], "ok: 4 bytes");
        assert!(seen[1].starts_with("zeros: unreadable: decompression stopped"), "{}", seen[1]);
        assert!(seen[1].contains("compression ratio above the limit"), "{}", seen[1]);
    }
}
