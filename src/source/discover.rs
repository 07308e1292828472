//! Finding the input files: walking directories in a deterministic order,
//! recognising CloudTrail object names, and reporting what cannot be read.
//!
//! Every path the user gives ends up in exactly one place: a file to read,
//! a skipped kind (digest, Insights, special file, duplicate path), or a
//! problem (missing, unreadable directory, symlink loop).
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use crate::record::time::parse_event_time;
use crate::record::EpochMs;

/// What a file's name says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json[.gz]`.
    TrailLog {
        /// The delivery stamp in the name.
        delivered: Option<EpochMs>,
    },
    /// A `CloudTrail-Digest` file (integrity chain, no events).
    Digest,
    /// A `CloudTrail-Insight` file.
    Insight,
    /// Anything else: the content decides.
    Other,
}

/// One file to read.
#[derive(Clone, Debug)]
pub struct InputFile {
    /// Its path.
    pub path: PathBuf,
    /// Size on disk in bytes.
    pub size: u64,
    /// What the name says.
    pub name: NameKind,
    /// The directory it was listed in, while the walk holds it open.
    dir: Weak<File>,
    /// A pipe, FIFO or device named on the command line (or `-`, standard
    /// input): its content, copied to an anonymous temporary file, since
    /// it can be read only once and an archive needs to seek.
    spooled: Option<Arc<File>>,
}

impl InputFile {
    /// The path for display (lossy for names that are not UTF-8).
    pub(crate) fn display(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Open the file for reading. While the walk still holds its directory
    /// open, the file is opened by its name within that directory: one
    /// lookup instead of one per component of its path (a CloudTrail log's
    /// path has a dozen).
    pub(crate) fn open(&self) -> io::Result<File> {
        if let Some(spool) = &self.spooled {
            let mut f = spool.try_clone()?;
            io::Seek::seek(&mut f, io::SeekFrom::Start(0))?;
            return Ok(f);
        }
        #[cfg(unix)]
        if let (Some(dir), Some(name)) = (self.dir.upgrade(), self.path.file_name()) {
            return open_at(&dir, name);
        }
        File::open(&self.path)
    }
}

/// Open `name` in the open directory `dir`, read-only.
#[cfg(unix)]
fn open_at(dir: &File, name: &std::ffi::OsStr) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    Ok(File::from(fd))
}

/// Why a file was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// CloudTrail digest file.
    Digest,
    /// CloudTrail Insights file.
    Insight,
    /// Not a CloudTrail log by name or content.
    NotTrailLog,
    /// Empty file.
    Empty,
    /// FIFO, socket or device met while walking a directory (one named on
    /// the command line is read).
    Special,
    /// The same file reached twice (by two arguments or through links).
    Duplicate,
}

impl SkipKind {
    /// All kinds, in report order.
    pub(crate) const ALL: [SkipKind; 6] = [
        SkipKind::Digest,
        SkipKind::Insight,
        SkipKind::NotTrailLog,
        SkipKind::Empty,
        SkipKind::Special,
        SkipKind::Duplicate,
    ];

    /// The stable JSON name.
    pub(crate) fn key(self) -> &'static str {
        match self {
            SkipKind::Digest => "digest",
            SkipKind::Insight => "insight",
            SkipKind::NotTrailLog => "not_trail_log",
            SkipKind::Empty => "empty",
            SkipKind::Special => "special",
            SkipKind::Duplicate => "duplicate",
        }
    }
}

/// A path that could not be walked.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PathProblem {
    /// The path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// The result of walking the inputs.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to read, in path order.
    pub files: Vec<InputFile>,
    /// Files skipped by name or type, with their paths.
    pub skipped: Vec<(SkipKind, String)>,
    /// Paths that could not be walked.
    pub problems: Vec<PathProblem>,
}

/// Walk `paths` (files or directories, recursively) and collect the result.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut walker = Walker::new(paths);
    walker.skipped_paths = Some(Vec::new());
    let files = walker.by_ref().collect();
    let mut skipped = walker.skipped_paths.unwrap_or_default();
    skipped.sort();
    Discovery { files, skipped, problems: walker.problems }
}

/// Walks the inputs lazily, yielding the files to read in path order
/// (roots sorted, then depth first with each directory's entries sorted,
/// which is the order of sorting all paths). Only the open directories'
/// entry lists and the identities of the directories walked are held, so
/// memory does not grow with the number of files.
///
/// A file reached twice (through a symbolic link, a second hard link, or a
/// root that names a file inside another root) is read once: the first
/// path in walk order is read and the other skipped as a duplicate. Only
/// files that can be reached twice need their identity remembered: a file
/// with one hard link, found by listing its directory, can only be reached
/// again by a link or root naming it, and those check whether the listing
/// has already passed it (its real directory was walked and no longer holds
/// its name) instead.
/// What is skipped (counted by kind; the paths only on request) or cannot
/// be walked accumulates in `Walker::skipped` and `Walker::problems`.
pub struct Walker {
    /// Paths still to visit: the roots, then each open directory's
    /// remaining entries (reversed, so `pop` gives the next).
    pending: Vec<Level>,
    /// Identity of each open directory, parallel to `pending[1..]`.
    open: Vec<(u64, u64)>,
    /// Identities of the directories walked and of the files that could be
    /// reached again (see above), by device, then inode.
    seen: BTreeMap<u64, HashSet<u64>>,
    /// Files skipped by name or type, counted by kind.
    pub(crate) skipped: BTreeMap<SkipKind, u64>,
    /// With `Some`, the skipped files' paths are kept too (in walk order).
    pub(crate) skipped_paths: Option<Vec<(SkipKind, String)>>,
    /// Paths that could not be walked.
    pub(crate) problems: Vec<PathProblem>,
    /// Give digest files too, instead of skipping them (for `verify`).
    keep_digests: bool,
}

/// The files a scan of `paths` will read and their size on disk, found by
/// the same walk (for a progress display); `None` when some path is
/// standard input, a pipe or a device, which can be read only once.
pub fn measure(paths: &[PathBuf]) -> Option<(u64, u64)> {
    let plain = |p: &PathBuf| p.as_os_str() != "-" && fs::metadata(p).is_ok_and(|m| m.is_dir() || m.is_file());
    if !paths.iter().all(plain) {
        return None;
    }
    Some(Walker::new(paths).fold((0, 0), |(n, bytes), f| (n + 1, bytes + f.size)))
}

/// The entries left to visit in one directory (or among the roots).
struct Level {
    /// The directory (`None`: the roots, whose names are whole paths).
    dir: Option<PathBuf>,
    /// The directory, open, for the files found in it to be opened by
    /// name ([`InputFile::open`]); they hold it weakly, so that only the
    /// directories being walked stay open, however many files are kept.
    handle: Option<Arc<File>>,
    /// Names still to visit, last first, each with what its directory
    /// listing already told of it.
    names: Vec<(std::ffi::OsString, Option<Stat>)>,
}

/// What the walk needs to know of a path.
#[derive(Clone, Copy, Debug)]
struct Stat {
    dir: bool,
    file: bool,
    len: u64,
    id: (u64, u64),
    /// Hard links to it.
    links: u64,
}

impl Stat {
    fn of(m: &fs::Metadata) -> Stat {
        Stat { dir: m.is_dir(), file: m.is_file(), len: m.len(), id: identity(m), links: links(m) }
    }
}

impl Walker {
    /// A walk over `paths`.
    pub(crate) fn new(paths: &[PathBuf]) -> Walker {
        let mut roots = paths.to_vec();
        roots.sort();
        roots.reverse();
        let roots =
            Level { dir: None, handle: None, names: roots.into_iter().map(|r| (r.into_os_string(), None)).collect() };
        Walker {
            pending: vec![roots],
            open: Vec::new(),
            seen: BTreeMap::new(),
            skipped: BTreeMap::new(),
            skipped_paths: None,
            problems: Vec::new(),
            keep_digests: false,
        }
    }

    /// A walk that gives digest files as well as the others.
    pub(crate) fn with_digests(paths: &[PathBuf]) -> Walker {
        Walker { keep_digests: true, ..Walker::new(paths) }
    }

    /// Note a file or directory walked; false if it was already.
    fn first_visit(&mut self, (dev, ino): (u64, u64)) -> bool {
        self.seen.entry(dev).or_default().insert(ino)
    }

    fn was_seen(&self, (dev, ino): (u64, u64)) -> bool {
        self.seen.get(&dev).is_some_and(|s| s.contains(&ino))
    }

    /// Whether the file at `path` was reached before (`listed`: found by
    /// listing its directory, not through a link or as a root). Remembers
    /// it if it could be reached again.
    fn reached_before(&mut self, path: &Path, listed: bool, meta: Stat) -> bool {
        if self.was_seen(meta.id) {
            return true;
        }
        if listed && meta.links <= 1 {
            return false;
        }
        if !listed && self.listing_passed(path) {
            return true;
        }
        self.first_visit(meta.id);
        false
    }

    /// Whether the file a link or root `path` names was already reached by
    /// listing its real directory: that directory was walked, and is
    /// closed or no longer holds the file's name.
    fn listing_passed(&self, path: &Path) -> bool {
        let Ok(real) = fs::canonicalize(path) else { return false };
        let (Some(dir), Some(name)) = (real.parent(), real.file_name()) else { return false };
        let Ok(dir_id) = fs::metadata(dir).map(|m| identity(&m)) else { return false };
        if !self.was_seen(dir_id) {
            return false;
        }
        match self.open.iter().position(|o| *o == dir_id) {
            None => true,
            // `pending[0]` is the roots; `pending[i + 1]` is `open[i]`.
            Some(i) => !self.pending[i + 1].names.iter().any(|(n, _)| n == name),
        }
    }

    fn skip(&mut self, kind: SkipKind, path: &Path) {
        *self.skipped.entry(kind).or_default() += 1;
        if let Some(paths) = &mut self.skipped_paths {
            paths.push((kind, shown(path)));
        }
    }

    /// Visit one path: a file to read, or `None` (a directory opened, or
    /// something skipped or reported). `known`: its directory listing's
    /// `stat`, for an entry that is not a symbolic link; `dir`: the open
    /// directory it was listed in.
    fn visit(&mut self, path: PathBuf, known: Option<Stat>, dir: Option<&Arc<File>>) -> Option<InputFile> {
        let root = self.pending.len() == 1;
        if root && path.as_os_str() == "-" {
            return self.spool(path, &mut io::stdin().lock());
        }
        let meta = match known.map(Ok).unwrap_or_else(|| fs::metadata(&path).map(|m| Stat::of(&m))) {
            Ok(m) => m,
            Err(e) => {
                let reason = if fs::symlink_metadata(&path).is_ok() {
                    format!("broken or looping symbolic link: {e}")
                } else {
                    e.to_string()
                };
                self.problems.push(PathProblem { path: shown(&path), reason });
                return None;
            }
        };
        let id = meta.id;
        if meta.dir {
            if cfg!(unix) && self.open.contains(&id) {
                let reason = "symbolic link loop (directory contains itself)".into();
                self.problems.push(PathProblem { path: shown(&path), reason });
                return None;
            }
            if cfg!(unix) && !self.first_visit(id) {
                // Reached again through another link: already walked.
                return None;
            }
            let entries = match fs::read_dir(&path) {
                Ok(e) => e,
                Err(e) => {
                    let reason = format!("cannot read directory: {e}");
                    self.problems.push(PathProblem { path: shown(&path), reason });
                    return None;
                }
            };
            let mut names = Vec::new();
            for entry in entries {
                match entry {
                    // An entry that is not a symbolic link is stat'ed here,
                    // relative to the open directory: a lookup of one name
                    // instead of the whole path's later.
                    Ok(e) => {
                        let known = e.file_type().is_ok_and(|t| !t.is_symlink()).then(|| e.metadata().ok());
                        names.push((e.file_name(), known.flatten().map(|m| Stat::of(&m))));
                    }
                    Err(e) => self
                        .problems
                        .push(PathProblem { path: shown(&path), reason: format!("cannot list directory: {e}") }),
                }
            }
            // Paths with one parent sort as their names do (one component
            // each), and names compare as plain bytes.
            names.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            names.reverse();
            // Opening a directory as a file works on Unix.
            let handle = if cfg!(unix) { File::open(&path).ok().map(Arc::new) } else { None };
            self.pending.push(Level { dir: Some(path), handle, names });
            self.open.push(id);
            return None;
        }
        if !meta.file {
            // Named on the command line (`/dev/stdin`, `<(zcat ...)`, a
            // FIFO): the user asked for it, so it is read.
            if root {
                return match File::open(&path) {
                    Ok(mut f) => self.spool(path, &mut f),
                    Err(e) => {
                        self.problems.push(PathProblem { path: shown(&path), reason: e.to_string() });
                        None
                    }
                };
            }
            self.skip(SkipKind::Special, &path);
            return None;
        }
        if cfg!(unix) && self.reached_before(&path, known.is_some(), meta) {
            self.skip(SkipKind::Duplicate, &path);
            return None;
        }
        let name = classify_name(&path);
        match name {
            NameKind::Digest if !self.keep_digests => self.skip(SkipKind::Digest, &path),
            NameKind::Insight => self.skip(SkipKind::Insight, &path),
            _ if meta.len == 0 => self.skip(SkipKind::Empty, &path),
            _ => {
                let dir = dir.map(Arc::downgrade).unwrap_or_default();
                return Some(InputFile { path, size: meta.len, name, dir, spooled: None });
            }
        }
        None
    }
}

impl Walker {
    /// Copy a stream named on the command line to an anonymous temporary
    /// file, to be read as a file of that name.
    fn spool(&mut self, path: PathBuf, from: &mut dyn io::Read) -> Option<InputFile> {
        let copied = tempfile::tempfile().and_then(|mut f| io::copy(from, &mut f).map(|n| (f, n)));
        match copied {
            Ok((_, 0)) => {
                self.skip(SkipKind::Empty, &path);
                None
            }
            Ok((f, size)) => {
                let name = classify_name(&path);
                Some(InputFile { path, size, name, dir: Weak::new(), spooled: Some(Arc::new(f)) })
            }
            Err(e) => {
                let reason =
                    format!("cannot copy the stream to a temporary file in {}: {e}", std::env::temp_dir().display());
                self.problems.push(PathProblem { path: shown(&path), reason });
                None
            }
        }
    }
}

impl Iterator for Walker {
    type Item = InputFile;

    fn next(&mut self) -> Option<InputFile> {
        loop {
            let level = self.pending.last_mut()?;
            match level.names.pop() {
                Some((name, known)) => {
                    let path = match &level.dir {
                        Some(dir) => dir.join(name),
                        None => PathBuf::from(name),
                    };
                    let handle = level.handle.clone();
                    if let Some(file) = self.visit(path, known, handle.as_ref()) {
                        return Some(file);
                    }
                }
                None => {
                    self.pending.pop();
                    // Every level but the roots is an open directory.
                    if !self.pending.is_empty() {
                        self.open.pop();
                    }
                }
            }
        }
    }
}

fn shown(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(unix)]
fn identity(m: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(_m: &fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(unix)]
fn links(m: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(m)
}

#[cfg(not(unix))]
fn links(_m: &fs::Metadata) -> u64 {
    1
}

/// What a path's name says about the file.
pub(crate) fn classify_name(path: &Path) -> NameKind {
    let in_dir = |kind: &str| path.components().any(|c| c.as_os_str() == kind);
    let file = path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default();
    if in_dir("CloudTrail-Digest") || file.contains("_CloudTrail-Digest_") {
        return NameKind::Digest;
    }
    if in_dir("CloudTrail-Insight") || file.contains("_CloudTrail-Insight_") {
        return NameKind::Insight;
    }
    match trail_name(&file) {
        Some(t) => NameKind::TrailLog { delivered: t.delivered },
        None => NameKind::Other,
    }
}

/// What a trail log file's name says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TrailName<'a> {
    pub(crate) account: &'a str,
    pub(crate) region: &'a str,
    /// The delivery stamp (`None` when it is not a valid time).
    pub(crate) delivered: Option<EpochMs>,
}

/// `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json[.gz]`, or
/// `None` when the name is not of that form.
pub(crate) fn trail_name(file: &str) -> Option<TrailName<'_>> {
    let stem = file.strip_suffix(".json.gz").or_else(|| file.strip_suffix(".json"))?;
    let mut parts = stem.split('_');
    let account = parts.next()?;
    if parts.next()? != "CloudTrail" || account.is_empty() {
        return None;
    }
    let region = parts.next()?;
    let stamp = parts.next()?;
    let _id = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let b = stamp.as_bytes();
    let delivered = if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
        None
    } else {
        let iso =
            format!("{}-{}-{}T{}:{}:00Z", &stamp[0..4], &stamp[4..6], &stamp[6..8], &stamp[9..11], &stamp[11..13]);
        parse_event_time(&iso)
    };
    Some(TrailName { account, region, delivered })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let p = |s: &str| classify_name(Path::new(s));
        assert_eq!(
            p("AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"),
            NameKind::TrailLog { delivered: parse_event_time("2015-08-01T02:10:00Z") }
        );
        assert_eq!(
            p("AWSLogs/o-abc123/111122223333/CloudTrail/apiso-northsouth-3r/2024/07/30/111122223333_CloudTrail_apiso-northsouth-3r_20240730T2135Z_abcdefghijklmnop.json.gz"),
            NameKind::TrailLog { delivered: parse_event_time("2024-07-30T21:35:00Z") }
        );
        assert_eq!(
            p("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/1_CloudTrail-Digest_us-east-1_trail_us-east-1_20240101T000000Z.json.gz"),
            NameKind::Digest
        );
        assert_eq!(p("AWSLogs/1/CloudTrail-Insight/us-east-1/2024/01/01/x.json.gz"), NameKind::Insight);
        assert_eq!(p("notes.txt"), NameKind::Other);
        assert_eq!(p("export.json.gz"), NameKind::Other);
        assert_eq!(p("1_CloudTrail_r_2024XX01T0000Z_id.json.gz"), NameKind::TrailLog { delivered: None });
    }

    #[test]
    fn walks_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/CloudTrail-Digest")).unwrap();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("b/z.json"), "{}").unwrap();
        fs::write(root.join("a/y.json"), "{}").unwrap();
        fs::write(root.join("b/CloudTrail-Digest/d.json.gz"), "x").unwrap();
        fs::write(root.join("a/empty.json"), "").unwrap();
        let d = discover(&[root.join("b"), root.to_path_buf()]);
        let names: Vec<_> = d.files.iter().map(|f| f.path.strip_prefix(root).unwrap().to_path_buf()).collect();
        assert_eq!(names, [PathBuf::from("a/y.json"), PathBuf::from("b/z.json")]);
        let kinds: Vec<_> = d.skipped.iter().map(|(k, _)| *k).collect();
        assert!(kinds.contains(&SkipKind::Digest));
        assert!(kinds.contains(&SkipKind::Empty));
        let missing = discover(&[root.join("nope")]);
        assert_eq!(missing.problems.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_opens_within_its_open_directory_and_by_path_once_it_is_closed() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("d/e")).unwrap();
        fs::write(root.join("d/e/x.json"), "in e").unwrap();
        let read = |f: &InputFile| {
            let mut s = String::new();
            f.open().unwrap().read_to_string(&mut s).unwrap();
            s
        };
        // While the walk is in its directory, the file is opened there: it
        // is found even after the directory was renamed.
        let mut walker = Walker::new(&[root.to_path_buf()]);
        let live = walker.next().unwrap();
        assert!(live.dir.upgrade().is_some(), "the directory is held open");
        fs::rename(root.join("d/e"), root.join("d/moved")).unwrap();
        assert_eq!(read(&live), "in e");
        assert!(live.open().is_ok());
        // Once the walk has closed it, by path.
        assert_eq!(walker.next().map(|f| f.path), None);
        assert!(live.dir.upgrade().is_none(), "closed with the walk's level");
        fs::rename(root.join("d/moved"), root.join("d/e")).unwrap();
        assert_eq!(read(&live), "in e");
        // A collected walk holds no directory open.
        let found = discover(&[root.to_path_buf()]).files;
        assert_eq!(found.len(), 1);
        assert!(found[0].dir.upgrade().is_none());
        assert_eq!(read(&found[0]), "in e");
    }

    #[test]
    fn the_lazy_walk_yields_the_order_of_sorting_every_path() {
        // Names that sort differently as strings and as paths: '-' and '.'
        // sort before '/', so "a-b/x" < "a/x" as text but "a" < "a-b" as
        // path components.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = ["a/x.json", "a-b/x.json", "a.json", "a/b/c.json", "a/b.json", "A/z.json", "b", "a b/y.json"];
        for f in files {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, "{}").unwrap();
        }
        let mut want: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
        want.sort();
        // Overlapping roots in any order give the same walk.
        let walked: Vec<PathBuf> = Walker::new(&[root.join("a"), root.to_path_buf()]).map(|f| f.path).collect();
        assert_eq!(walked, want);
        let walked: Vec<PathBuf> = Walker::new(&[root.to_path_buf(), root.join("a")]).map(|f| f.path).collect();
        assert_eq!(walked, want);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_reported_not_followed_forever() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("d")).unwrap();
        fs::write(root.join("d/x.json"), "{}").unwrap();
        std::os::unix::fs::symlink(root.join("d"), root.join("d/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("d/x.json"), root.join("d/alias.json")).unwrap();
        let d = discover(&[root.to_path_buf()]);
        assert_eq!(d.files.len(), 1);
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        assert!(d.skipped.iter().any(|(k, _)| *k == SkipKind::Duplicate));
    }

    /// Paths of the files read and of those skipped as duplicates,
    /// relative to `root`.
    #[cfg(unix)]
    fn read_and_repeated(root: &Path, roots: &[PathBuf]) -> (Vec<String>, Vec<String>) {
        let d = discover(roots);
        let rel = |p: &Path| p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let read = d.files.iter().map(|f| rel(&f.path)).collect();
        let again =
            d.skipped.iter().filter(|(k, _)| *k == SkipKind::Duplicate).map(|(_, p)| rel(Path::new(p))).collect();
        (read, again)
    }

    #[cfg(unix)]
    #[test]
    fn a_file_reached_twice_is_read_once_whichever_way_comes_first() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = &dir.path().canonicalize().unwrap();
        for d in ["a", "b", "outside"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in ["a/1.json", "b/2.json", "b/3.json", "outside/4.json", "a/5.json"] {
            fs::write(root.join(f), "{}").unwrap();
        }
        // A link walked after its target's directory was listed.
        symlink(root.join("a/1.json"), root.join("b/0-to-a1.json")).unwrap();
        // A link walked before its target, in the same directory and in a
        // directory not listed yet.
        symlink(root.join("b/3.json"), root.join("b/2a-to-b3.json")).unwrap();
        symlink(root.join("b/2.json"), root.join("a/0-to-b2.json")).unwrap();
        // A link to a file outside the walk, twice.
        symlink(root.join("outside/4.json"), root.join("b/9-out.json")).unwrap();
        symlink(root.join("outside/4.json"), root.join("b/9-out-again.json")).unwrap();
        // A second hard link.
        fs::hard_link(root.join("a/5.json"), root.join("b/5-hard.json")).unwrap();
        let (read, again) = read_and_repeated(root, &[root.join("a"), root.join("b")]);
        assert_eq!(read, ["a/0-to-b2.json", "a/1.json", "a/5.json", "b/2a-to-b3.json", "b/9-out-again.json"]);
        let mut again = again;
        again.sort();
        assert_eq!(again, ["b/0-to-a1.json", "b/2.json", "b/3.json", "b/5-hard.json", "b/9-out.json"]);
        // A root naming a file inside another root, before or after it in
        // walk order.
        let (read, again) = read_and_repeated(root, &[root.join("a"), root.join("a/1.json")]);
        assert_eq!(read.iter().filter(|p| *p == "a/1.json").count(), 1, "{read:?}");
        assert_eq!(again, ["a/1.json"]);
        let (read, again) = read_and_repeated(root, &[root.join("b/3.json"), root.join("b")]);
        assert_eq!(read.iter().filter(|p| p.ends_with("3.json")).count(), 1, "{read:?} {again:?}");
    }
}
