//! The SHA-256 of each input file as it lies on disk (what `sha256sum`
//! prints), for a run's manifest: the evidence a result was computed from.

use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use super::discover::{PathProblem, SkipKind, Walker};

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// One input file and its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedFile {
    /// Its path, as the walk found it.
    pub path: String,
    /// Its size in bytes, as hashed.
    pub bytes: u64,
    /// The SHA-256 of its bytes, or why it could not be read.
    pub sha256: Result<String, String>,
}

/// Every file under `paths` (those a scan reads, and the digests, Insights
/// and empty files it skips), hashed on `threads` threads, in path order.
/// Paths that are pipes, devices or standard input cannot be read a second
/// time and are returned apart, with the walk's problems.
pub fn hash_files(paths: &[PathBuf], threads: usize) -> (Vec<HashedFile>, Vec<String>, Vec<PathProblem>) {
    let (walkable, pipes): (Vec<PathBuf>, Vec<PathBuf>) = paths.iter().cloned().partition(|p| regular_or_dir(p));
    let mut walker = Walker::with_digests(&walkable);
    walker.skipped_paths = Some(Vec::new());
    let files: Vec<_> = walker.by_ref().collect();
    let mut pipes: Vec<String> = pipes.iter().map(|p| p.display().to_string()).collect();
    let mut skipped = Vec::new();
    for (kind, path) in walker.skipped_paths.take().unwrap_or_default() {
        match kind {
            SkipKind::Insight | SkipKind::Empty => skipped.push(path),
            SkipKind::Special => pipes.push(path),
            // The same file under another path, hashed there.
            _ => {}
        }
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let mut hashed: Vec<HashedFile> = pool.install(|| {
        let read = files.par_iter().map(|f| hashed(f.display(), f.size, f.open()));
        let skipped = skipped.par_iter().map(|p| hashed(p.clone(), 0, std::fs::File::open(p)));
        read.chain(skipped).collect()
    });
    hashed.sort_by(|a, b| a.path.cmp(&b.path));
    (hashed, pipes, walker.problems)
}

fn hashed(path: String, size: u64, file: io::Result<std::fs::File>) -> HashedFile {
    let (bytes, sha256) = match file.and_then(sha256_of) {
        Ok((n, h)) => (n, Ok(h)),
        Err(e) => (size, Err(e.to_string())),
    };
    HashedFile { path, bytes, sha256 }
}

fn regular_or_dir(p: &Path) -> bool {
    p.as_os_str() != "-" && std::fs::metadata(p).map_or(true, |m| m.is_file() || m.is_dir())
}

fn sha256_of(mut f: std::fs::File) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let n = io::copy(&mut f, &mut hasher)?;
    Ok((n, hex(&hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_hash_as_sha256sum_does_and_pipes_are_set_apart() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"abc").unwrap();
        let (files, pipes, problems) = hash_files(&[dir.path().to_path_buf(), PathBuf::from("-")], 2);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].bytes, 3);
        assert_eq!(files[0].sha256.as_deref(), Ok("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert_eq!((pipes, problems.len()), (vec!["-".to_string()], 0));
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
    }
}
