//! How far a scan has got, for a progress display: counters the walk and
//! the workers add to, read from another thread. Pure counting; showing it
//! is the caller's business.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Files and bytes found and read so far.
#[derive(Debug, Default)]
pub struct Progress {
    found_files: AtomicU64,
    found_bytes: AtomicU64,
    done_files: AtomicU64,
    done_bytes: AtomicU64,
    walked: AtomicBool,
    /// Files and bytes the whole run will read, when measured beforehand.
    expected: std::sync::OnceLock<(u64, u64)>,
}

/// One reading of a [`Progress`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Files found by the walk so far.
    pub found_files: u64,
    /// Their size on disk.
    pub found_bytes: u64,
    /// Files read.
    pub done_files: u64,
    /// Their size on disk.
    pub done_bytes: u64,
    /// Whether the walk is over (the totals found are final).
    pub walked: bool,
    /// The files and bytes the run will read, once known: measured
    /// beforehand ([`Progress::expect`]) or found by the finished walk.
    pub total: Option<(u64, u64)>,
}

impl Progress {
    pub(crate) fn found(&self, bytes: u64) {
        self.found_files.fetch_add(1, Ordering::Relaxed);
        self.found_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn walked(&self) {
        self.walked.store(true, Ordering::Release);
    }

    /// Say how many files and bytes the run will read (measured by a walk
    /// of its own beforehand).
    pub fn expect(&self, files: u64, bytes: u64) {
        let _ = self.expected.set((files, bytes));
    }

    pub(crate) fn done(&self, bytes: u64) {
        self.done_files.fetch_add(1, Ordering::Relaxed);
        self.done_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let walked = self.walked.load(Ordering::Acquire);
        let (found_files, found_bytes) =
            (self.found_files.load(Ordering::Relaxed), self.found_bytes.load(Ordering::Relaxed));
        Snapshot {
            total: if walked { Some((found_files, found_bytes)) } else { self.expected.get().copied() },
            walked,
            found_files,
            found_bytes,
            done_files: self.done_files.load(Ordering::Relaxed),
            done_bytes: self.done_bytes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_what_was_measured_until_the_walk_is_over() {
        let p = Progress::default();
        assert_eq!(p.snapshot(), Snapshot::default());
        p.found(100);
        p.found(50);
        p.done(100);
        assert_eq!(p.snapshot().total, None, "not known yet");
        p.expect(3, 400);
        let s = p.snapshot();
        assert_eq!((s.found_files, s.found_bytes, s.done_files, s.done_bytes), (2, 150, 1, 100));
        assert_eq!(s.total, Some((3, 400)));
        p.walked();
        assert_eq!(p.snapshot().total, Some((2, 150)), "the walk's own count wins");
    }
}
