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
//! Damage keeps what came before it: the members before it, and the part
//! of the damaged member that decodes. A zip whose central directory is
//! missing or damaged is read from its members' local headers.
//!
//! Bombs: the limits hold for the archive as a whole (decoded bytes over
//! all members, the ratio of all of them to the archive's size, the number
//! of entries) and for each member (`--max-decompressed`); zip entries
//! whose data overlap (several entries decoding the same bytes) are
//! refused.
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use super::batch::Archive;
use super::decode::{bomb_message, Bound, Limits};
use super::gzip::GzipReader;
use super::reader::WHOLE_FILE_MAX;

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
        /// Its content (with `damage`, the part before the damage).
        data: MemberData<'a>,
        /// Why the member's data ends early, if it does.
        damage: Option<String>,
    },
    /// Not a regular file (a link, a device, a FIFO).
    Special {
        /// Its path inside the archive.
        name: String,
    },
    /// Something about the archive worth knowing that loses nothing (two
    /// members of one name, both read).
    Note(String),
    /// A regular file that cannot be read.
    Unreadable {
        /// Its path inside the archive.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Why an archive could not be read completely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveError {
    /// What is wrong, and where.
    pub(crate) message: String,
}

impl ArchiveError {
    fn new(message: impl Into<String>) -> ArchiveError {
        ArchiveError { message: message.into() }
    }
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Visit every entry of the archive in `file`. Entries before a damaged
/// part are visited; the error says where reading stopped.
pub(crate) fn read_archive(
    file: File,
    kind: Archive,
    limits: Limits,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<(), ArchiveError> {
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
    let total = Cell::new(0);
    match kind {
        Archive::Tar => read_tar(reader, limits, visit),
        Archive::TarGz => {
            let guard = Guard {
                inner: GzipReader::new(reader),
                packed,
                limits,
                produced: 0,
                total: &total,
                cap: Bound::Archive,
            };
            read_tar(guard, limits, visit)
        }
        Archive::Zip => read_zip(reader, packed, limits, visit),
    }
}

fn read_tar<R: Read>(reader: R, limits: Limits, visit: &mut dyn FnMut(Entry<'_>)) -> Result<(), ArchiveError> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| ArchiveError::new(format!("not a readable tar archive: {e}")))?;
    for (count, entry) in entries.enumerate() {
        let count = count as u64;
        if count >= limits.max_archive_entries {
            return Err(too_many(limits));
        }
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
            let (bytes, err) = read_keeping(&mut entry, size);
            let cut = match err {
                Some(e) => Some(e),
                None if (bytes.len() as u64) < size => {
                    Some(io::Error::new(io::ErrorKind::UnexpectedEof, format!("member {name:?} is cut short")))
                }
                None => None,
            };
            let damage = cut.map(|e| tar_error(e, count));
            visit(Entry::Member {
                name,
                data: MemberData::Bytes(bytes),
                damage: damage.as_ref().map(|d| d.message.clone()),
            });
            if let Some(d) = damage {
                return Err(d);
            }
        } else {
            visit(Entry::Member { name, data: MemberData::Stream(Box::new(&mut entry), size), damage: None });
        }
    }
    // The end of the tar is not the end of the file: a compressed tar's
    // last gzip member and its checksum are read too, so damage there is
    // reported.
    io::copy(&mut archive.into_inner(), &mut io::sink())
        .map_err(|e| ArchiveError::new(format!("damaged after the tar archive's end: {e}")))?;
    Ok(())
}

/// Read up to `size` bytes (a hint) to the end, keeping what was read
/// before an error.
fn read_keeping(r: &mut dyn Read, size: u64) -> (Vec<u8>, Option<io::Error>) {
    let mut bytes = Vec::with_capacity(size.min(WHOLE_FILE_MAX) as usize);
    let mut chunk = [0u8; 64 << 10];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => return (bytes, None),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (bytes, Some(e)),
        }
    }
}

fn tar_error(e: io::Error, members: u64) -> ArchiveError {
    ArchiveError::new(format!("damaged tar archive after {members} members: {e}"))
}

fn too_many(limits: Limits) -> ArchiveError {
    ArchiveError::new(format!(
        "more than {} entries: reading stopped (possible zip or tar bomb)",
        limits.max_archive_entries
    ))
}

/// A zip entry, from the central directory or a local header.
#[derive(Clone, Debug)]
struct ZipEntry {
    name: String,
    /// The name's length in the archive, in bytes (`name` is decoded
    /// lossily, and may be longer).
    name_len: u64,
    flags: u16,
    method: u16,
    crc: u32,
    packed: u64,
    size: u64,
    /// Offset of its local header.
    offset: u64,
    /// A directory: no data, only structure.
    dir: bool,
    /// Not a regular file by its Unix mode (a link, a device).
    special: bool,
}

/// Most bytes of central directory per entry it counts: real entries take
/// about a hundred, so a directory far larger than its count says is
/// damage, not something to read into memory.
const DIRECTORY_BYTES_PER_ENTRY: u64 = 4096;

const LOCAL: &[u8; 4] = b"PK\x03\x04";
const CENTRAL: &[u8; 4] = b"PK\x01\x02";
const END: &[u8; 4] = b"PK\x05\x06";

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn read_at<R: Read + Seek>(r: &mut R, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Why the central directory's entries cannot be had.
enum Directory {
    /// Missing or damaged: the local headers are walked instead.
    Damaged(String),
    /// More entries than allowed: nothing is read.
    TooMany,
}

impl From<String> for Directory {
    fn from(s: String) -> Directory {
        Directory::Damaged(s)
    }
}

impl From<&str> for Directory {
    fn from(s: &str) -> Directory {
        Directory::Damaged(s.into())
    }
}

/// The central directory's entries, or why they cannot be had.
fn central_directory<R: Read + Seek>(r: &mut R, packed: u64, limits: Limits) -> Result<Vec<ZipEntry>, Directory> {
    let tail_len = packed.min(22 + 65535);
    let tail = read_at(r, packed - tail_len, tail_len as usize).map_err(|e| e.to_string())?;
    let at = tail.windows(4).rposition(|w| w == END).filter(|&i| i + 22 <= tail.len());
    let at = at.ok_or("no end-of-central-directory record")?;
    let eocd = &tail[at..];
    let mut count = u64::from(le16(eocd, 10));
    if le16(eocd, 8) != le16(eocd, 10) {
        return Err("the end-of-central-directory record's two entry counts differ".into());
    }
    let mut cd_size = u64::from(le32(eocd, 12));
    let mut cd_offset = u64::from(le32(eocd, 16));
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        // Zip64: the locator, 20 bytes before, points at the real record.
        let loc = at.checked_sub(20).map(|i| &tail[i..i + 20]).filter(|l| l.starts_with(b"PK\x06\x07"));
        let loc = loc.ok_or("zip64 end-of-central-directory locator missing")?;
        let rec = read_at(r, le64(loc, 8), 56).map_err(|e| format!("zip64 record: {e}"))?;
        if !rec.starts_with(b"PK\x06\x06") {
            return Err("zip64 end-of-central-directory record missing".into());
        }
        count = le64(&rec, 32);
        cd_size = le64(&rec, 40);
        cd_offset = le64(&rec, 48);
    }
    if count > limits.max_archive_entries {
        return Err(Directory::TooMany);
    }
    if cd_offset.checked_add(cd_size).is_none_or(|end| end > packed) {
        return Err("the central directory lies outside the file".into());
    }
    if cd_size > count.max(1).saturating_mul(DIRECTORY_BYTES_PER_ENTRY) {
        return Err(
            format!("the central directory's {cd_size} bytes are far more than its {count} entries need").into()
        );
    }
    let cd = read_at(r, cd_offset, cd_size as usize).map_err(|e| e.to_string())?;
    let mut entries = Vec::with_capacity(count as usize);
    let mut p = 0;
    for i in 0..count {
        if p + 46 > cd.len() || &cd[p..p + 4] != CENTRAL {
            return Err(format!("central directory entry {} is damaged", i + 1).into());
        }
        let h = &cd[p..];
        let (name_len, extra_len, comment_len) = (le16(h, 28) as usize, le16(h, 30) as usize, le16(h, 32) as usize);
        if p + 46 + name_len + extra_len + comment_len > cd.len() {
            return Err(format!("central directory entry {} is cut short", i + 1).into());
        }
        let name = String::from_utf8_lossy(&h[46..46 + name_len]).into_owned();
        let mode = le32(h, 38) >> 16;
        let made_on_unix = h[5] == 3;
        // A directory holds no data: an entry that claims to be one and
        // has data is read as a file, so its data cannot be hidden.
        let empty = le32(h, 20) == 0 && le32(h, 24) == 0;
        let mut e = ZipEntry {
            name_len: name_len as u64,
            dir: empty && (name.ends_with('/') || (made_on_unix && mode & 0o170000 == 0o040000)),
            special: made_on_unix && mode & 0o170000 != 0 && mode & 0o170000 != 0o100000 && mode & 0o170000 != 0o040000,
            name,
            flags: le16(h, 8),
            method: le16(h, 10),
            crc: le32(h, 16),
            packed: u64::from(le32(h, 20)),
            size: u64::from(le32(h, 24)),
            offset: u64::from(le32(h, 42)),
        };
        zip64_extra(&h[46 + name_len..46 + name_len + extra_len], &mut e);
        entries.push(e);
        p += 46 + name_len + extra_len + comment_len;
    }
    if p != cd.len() {
        return Err(format!("the central directory holds more than the {count} entries its end record counts").into());
    }
    Ok(entries)
}

/// Apply a zip64 extra field: the 64-bit values of those set to all ones.
fn zip64_extra(mut extra: &[u8], e: &mut ZipEntry) {
    while extra.len() >= 4 {
        let (id, len) = (le16(extra, 0), le16(extra, 2) as usize);
        let body = &extra[4..(4 + len).min(extra.len())];
        if id == 1 {
            let mut fields = body.chunks_exact(8).map(|c| le64(c, 0));
            for v in [&mut e.size, &mut e.packed, &mut e.offset] {
                if *v == 0xFFFF_FFFF {
                    match fields.next() {
                        Some(x) => *v = x,
                        None => break,
                    }
                }
            }
        }
        extra = &extra[(4 + len).min(extra.len())..];
    }
}

/// The entries found by walking the local headers from the start, for a
/// zip without a usable central directory. Stops at the central
/// directory, at the end, or at a member whose size cannot be known.
fn local_entries<R: Read + Seek>(r: &mut R, packed: u64, limits: Limits) -> (Vec<ZipEntry>, Option<String>) {
    let mut entries = Vec::new();
    let mut at = 0u64;
    loop {
        if entries.len() as u64 >= limits.max_archive_entries {
            return (entries, Some(too_many(limits).message));
        }
        let head = match read_at(r, at, 30) {
            Ok(h) if &h[..4] == LOCAL => h,
            Ok(h) if &h[..4] == CENTRAL || &h[..4] == END => return (entries, None),
            _ if at >= packed => return (entries, None),
            _ => return (entries, Some(format!("no zip member header at byte {at}"))),
        };
        let (name_len, extra_len) = (le16(&head, 26) as usize, le16(&head, 28) as usize);
        let Ok(meta) = read_at(r, at + 30, name_len + extra_len) else {
            return (entries, Some(format!("the member header at byte {at} is cut short")));
        };
        let mut e = ZipEntry {
            name: String::from_utf8_lossy(&meta[..name_len]).into_owned(),
            name_len: name_len as u64,
            flags: le16(&head, 6),
            method: le16(&head, 8),
            crc: le32(&head, 14),
            packed: u64::from(le32(&head, 18)),
            size: u64::from(le32(&head, 22)),
            offset: at,
            dir: false,
            special: false,
        };
        e.dir = e.name.ends_with('/') && e.packed == 0 && e.size == 0;
        zip64_extra(&meta[name_len..], &mut e);
        if e.flags & 8 != 0 {
            // Sizes follow the data: known only by decoding it.
            return (
                entries,
                Some(format!(
                    "member {:?} records its size after its data; it and the members after it are not read",
                    e.name
                )),
            );
        }
        at += 30 + (name_len + extra_len) as u64 + e.packed;
        entries.push(e);
    }
}

fn read_zip<R: Read + Seek>(
    mut reader: R,
    packed: u64,
    limits: Limits,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<(), ArchiveError> {
    let (entries, problem) = match central_directory(&mut reader, packed, limits) {
        Ok(mut entries) => {
            // Members the directory does not list are still in the file:
            // walked from their local headers, they are read too.
            let listed: std::collections::HashSet<u64> = entries.iter().map(|e| e.offset).collect();
            let (local, _) = local_entries(&mut reader, packed, limits);
            let unlisted: Vec<ZipEntry> = local.into_iter().filter(|e| !e.dir && !listed.contains(&e.offset)).collect();
            let problem = (!unlisted.is_empty()).then(|| {
                ArchiveError::new(format!(
                    "damaged zip archive: {} member(s) the central directory does not list, read from their local headers",
                    unlisted.len()
                ))
            });
            entries.extend(unlisted);
            (entries, problem)
        }
        Err(Directory::TooMany) => return Err(too_many(limits)),
        Err(Directory::Damaged(why)) => {
            let (entries, stop) = local_entries(&mut reader, packed, limits);
            let mut message =
                format!("damaged zip archive: {why}; {} member(s) recovered from their local headers", entries.len());
            if let Some(stop) = stop {
                message.push_str(&format!(", then {stop}"));
            }
            (entries, Some(ArchiveError::new(message)))
        }
    };
    // Entries whose data overlap decode the same bytes again and again:
    // a zip bomb.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| entries[i].offset);
    let mut overlaps: HashMap<usize, usize> = HashMap::new();
    for pair in order.windows(2) {
        let (a, b) = (&entries[pair[0]], &entries[pair[1]]);
        let a_end = a.offset.saturating_add(30 + a.name_len).saturating_add(a.packed);
        if !a.dir && !b.dir && b.offset < a_end {
            overlaps.insert(pair[1], pair[0]);
        }
    }
    let total = Cell::new(0u64);
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if e.dir {
            continue;
        }
        let copies = seen.entry(e.name.as_str()).or_default();
        *copies += 1;
        // Two members of one name are both read, the later under its own
        // name.
        let name = if *copies > 1 { format!("{} (copy {copies})", e.name) } else { e.name.clone() };
        if *copies == 2 {
            visit(Entry::Note(format!(
                "more than one member is named {:?}: each is read, the later ones as \"{} (copy N)\"",
                e.name, e.name
            )));
        }
        if e.special {
            visit(Entry::Special { name });
            continue;
        }
        let unreadable = |reason: String| Entry::Unreadable { name: name.clone(), reason };
        if let Some(&other) = overlaps.get(&i) {
            visit(unreadable(format!(
                "its data overlaps that of member {:?}: refused as a zip bomb",
                entries[other].name
            )));
            continue;
        }
        if e.flags & 1 != 0 {
            visit(unreadable("encrypted zip member".into()));
            continue;
        }
        if e.method != 0 && e.method != 8 {
            visit(unreadable(format!("unsupported zip compression method {}", e.method)));
            continue;
        }
        let start = match read_at(&mut reader, e.offset, 30) {
            Ok(h) if &h[..4] == LOCAL => e.offset + 30 + u64::from(le16(&h, 26)) + u64::from(le16(&h, 28)),
            _ => {
                visit(unreadable(format!("no member header at byte {}", e.offset)));
                continue;
            }
        };
        if let Err(err) = reader.seek(SeekFrom::Start(start)) {
            visit(unreadable(err.to_string()));
            continue;
        }
        let raw = BufReader::with_capacity(64 << 10, (&mut reader).take(e.packed));
        let data: Box<dyn Read + '_> = if e.method == 8 {
            Box::new(GzipReader::deflate(raw, e.crc, e.size))
        } else {
            Box::new(Stored { inner: raw, crc: flate2::Crc::new(), want: e.crc, size: e.size })
        };
        let mut guarded = Guard { inner: data, packed, limits, produced: 0, total: &total, cap: Bound::PerFile };
        if e.size <= WHOLE_FILE_MAX {
            let (bytes, err) = read_keeping(&mut guarded, e.size);
            visit(Entry::Member { name, data: MemberData::Bytes(bytes), damage: err.map(|e| e.to_string()) });
        } else {
            visit(Entry::Member { name, data: MemberData::Stream(Box::new(guarded), e.packed), damage: None });
        }
        if total.get() > limits.max_archive_decompressed {
            return Err(ArchiveError::new(bomb_message(total.get(), packed, Bound::Archive)));
        }
    }
    problem.map_or(Ok(()), Err)
}

/// A stored zip member, checked against its CRC-32 and size.
struct Stored<R> {
    inner: R,
    crc: flate2::Crc,
    want: u32,
    size: u64,
}

impl<R: Read> Read for Stored<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        if n == 0 && !buf.is_empty() {
            if (self.crc.amount() as u64) < self.size & 0xFFFF_FFFF {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the stored member is cut short"));
            }
            if self.crc.sum() != self.want {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "CRC-32 mismatch in a stored member"));
            }
        }
        Ok(n)
    }
}

/// Stops a decompressing reader that produces too much: past its cap,
/// past the archive's total cap, or past the ratio of everything decoded
/// from the archive to the archive's size.
struct Guard<'t, R> {
    inner: R,
    /// The archive's size.
    packed: u64,
    limits: Limits,
    /// Produced by this reader.
    produced: u64,
    /// Produced from the whole archive.
    total: &'t Cell<u64>,
    /// The bound on this reader's own output.
    cap: Bound,
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        self.total.set(self.total.get() + n as u64);
        let crossed = self
            .limits
            .crossed(self.produced, u64::MAX, self.cap)
            .or_else(|| self.limits.crossed(self.total.get(), self.packed, Bound::Archive));
        if let Some(bound) = crossed {
            let produced = if bound == Bound::PerFile { self.produced } else { self.total.get() };
            return Err(io::Error::new(io::ErrorKind::InvalidData, bomb_message(produced, self.packed, bound)));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::{gzip as gz, tar_of, zip_of};

    use std::path::Path;

    fn visit_all(path: &Path, kind: Archive, limits: Limits) -> (Vec<String>, Result<(), ArchiveError>) {
        let mut seen = Vec::new();
        let r = read_archive(File::open(path).unwrap(), kind, limits, &mut |e| {
            seen.push(match e {
                Entry::Member { name, data: MemberData::Bytes(b), damage: None } => {
                    format!("{name}: {} bytes", b.len())
                }
                Entry::Member { name, data: MemberData::Bytes(b), damage: Some(d) } => {
                    format!("{name}: {} bytes, then {d}", b.len())
                }
                Entry::Member { name, data: MemberData::Stream(_, n), .. } => format!("{name}: stream of {n}"),
                Entry::Special { name } => format!("{name}: special"),
                Entry::Note(n) => format!("note: {n}"),
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
        let e = "damaged tar archive after 1 members: member \"two\" is cut short";
        assert_eq!(seen, ["one: 1 bytes".to_string(), format!("two: 1000 bytes, then {e}")]);
        assert_eq!(r.unwrap_err().message, e);
        let p = dir.path().join("bad.zip");
        std::fs::write(&p, b"PK\x03\x04 not really").unwrap();
        let (seen, r) = visit_all(&p, Archive::Zip, Limits::default());
        assert!(seen.is_empty());
        assert_eq!(
            r.unwrap_err().message,
            "damaged zip archive: no end-of-central-directory record; 0 member(s) recovered from their local headers, then no zip member header at byte 0"
        );
    }

    #[test]
    fn zip_bombs_are_stopped_keeping_what_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let zeros = vec![0u8; 4 << 20];
        let p = dir.path().join("bomb.zip");
        std::fs::write(&p, zip_of(&[("ok", b"fine"), ("zeros", &zeros)])).unwrap();
        let limits = Limits { max_ratio: 100, ratio_floor: 1 << 20, ..Limits::default() };
        let (seen, r) = visit_all(&p, Archive::Zip, limits);
        assert!(r.is_ok());
        assert_eq!(seen[0], "ok: 4 bytes");
        // The member's data up to the bound is kept, and the bound said.
        assert!(seen[1].starts_with("zeros: "), "{}", seen[1]);
        assert!(seen[1].contains("bytes, then decompression stopped after"), "{}", seen[1]);
        assert!(
            seen[1].contains("compression ratio above the limit (possible decompression bomb; see --max-ratio)"),
            "{}",
            seen[1]
        );
    }

    #[test]
    fn the_ratio_holds_for_the_whole_zip() {
        // Many members, each under the per-member bounds, that together
        // decode to far more than the archive's size allows.
        let dir = tempfile::tempdir().unwrap();
        let zeros = vec![0u8; 256 << 10];
        let names: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
        let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &zeros[..])).collect();
        let p = dir.path().join("many.zip");
        std::fs::write(&p, zip_of(&members)).unwrap();
        let limits = Limits { max_ratio: 100, ratio_floor: 1 << 20, ..Limits::default() };
        let (seen, _) = visit_all(&p, Archive::Zip, limits);
        let stopped = seen.iter().position(|s| s.contains("decompression stopped")).expect("stopped");
        assert!(stopped > 3, "the first members pass: {seen:?}");
        assert!(seen[stopped].contains("compression ratio above the limit"), "{}", seen[stopped]);
    }

    #[test]
    fn names_that_are_not_utf8_do_not_make_members_overlap() {
        // The overlap test measures names in the archive's bytes: decoded
        // lossily, one byte 0xff becomes three.
        let dir = tempfile::tempdir().unwrap();
        let mut zip = zip_of(&[("a", b"first member"), ("b", b"second member")]);
        zip[30] = 0xff;
        let cd = zip.windows(4).position(|w| w == CENTRAL).unwrap();
        zip[cd + 46] = 0xff;
        let p = dir.path().join("names.zip");
        std::fs::write(&p, &zip).unwrap();
        let (seen, r) = visit_all(&p, Archive::Zip, Limits::default());
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(seen, ["\u{fffd}: 12 bytes", "b: 13 bytes"]);
    }

    #[test]
    fn a_directory_far_larger_than_its_count_is_not_read_into_memory() {
        let dir = tempfile::tempdir().unwrap();
        // Bytes that do not compress, so that the file is larger than the
        // bound for one entry.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..10_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut zip = zip_of(&[("a", &data)]);
        assert!(zip.len() > 8192);
        // The end record claims the whole file as one entry's directory.
        let end = zip.len() - 22;
        let size = end as u32;
        zip[end + 12..end + 16].copy_from_slice(&size.to_le_bytes());
        zip[end + 16..end + 20].copy_from_slice(&0u32.to_le_bytes());
        let p = dir.path().join("big.zip");
        std::fs::write(&p, &zip).unwrap();
        let (seen, r) = visit_all(&p, Archive::Zip, Limits::default());
        assert_eq!(seen, ["a: 10000 bytes"]);
        let e = r.unwrap_err().message;
        assert!(
            e.contains(&format!("the central directory's {size} bytes are far more than its 1 entries need")),
            "{e}"
        );
        assert!(e.contains("1 member(s) recovered from their local headers"), "{e}");
    }

    #[test]
    fn every_archive_decoder_stops_at_its_entry_count() {
        let dir = tempfile::tempdir().unwrap();
        let members: Vec<(String, Vec<u8>)> = (0..5).map(|i| (format!("m{i}"), vec![b'x'; 3])).collect();
        let refs: Vec<(&str, &[u8])> = members.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        let limits = Limits { max_archive_entries: 3, ..Limits::default() };
        let p = dir.path().join("x.zip");
        std::fs::write(&p, zip_of(&refs)).unwrap();
        let e = visit_all(&p, Archive::Zip, limits).1.unwrap_err();
        assert_eq!(e.message, "more than 3 entries: reading stopped (possible zip or tar bomb)");
        let p = dir.path().join("x.tar");
        std::fs::write(&p, tar_of(&refs)).unwrap();
        let (seen, r) = visit_all(&p, Archive::Tar, limits);
        assert_eq!(seen.len(), 3);
        assert_eq!(r.unwrap_err().message, "more than 3 entries: reading stopped (possible zip or tar bomb)");
    }
}
