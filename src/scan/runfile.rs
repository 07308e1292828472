//! The anonymous temporary file a scan writes what it need not hold to
//! (per-minute statistics, paths), removed by the system when it is closed,
//! even if the process is killed.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use super::repeats::{append, read_at};

/// An append-only temporary file, created on first use.
#[derive(Debug, Default)]
pub struct RunFile {
    file: Option<File>,
    /// Where the next bytes go (atomic so that bytes can be appended while
    /// runs are being read: one writer at a time).
    end: AtomicU64,
    problem: Option<String>,
}

impl RunFile {
    /// Append `bytes` and return where they start. On failure `problem`
    /// says why, naming `what` was to be written; after the first failure
    /// no more writes are tried.
    pub fn write(&mut self, bytes: &[u8], what: &str) -> Result<u64, ()> {
        if self.problem.is_some() {
            return Err(());
        }
        let start = self.end();
        match self.append(bytes) {
            Ok(()) => Ok(start),
            Err(e) => {
                self.problem = Some(format!(
                    "cannot write {what} to a temporary file in {} (kept in memory instead): {e}",
                    std::env::temp_dir().display()
                ));
                Err(())
            }
        }
    }

    /// Append `bytes`, creating the file if need be (errors returned, not
    /// recorded).
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        self.append_to_existing(bytes)
    }

    /// Append `bytes` to the file, which must exist (while runs of it are
    /// read: one writer at a time).
    pub fn append_to_existing(&self, bytes: &[u8]) -> io::Result<()> {
        let file = self.file.as_ref().ok_or(io::ErrorKind::NotFound)?;
        let mut end = self.end();
        append(file, &mut end, bytes)?;
        self.end.store(end, Ordering::Relaxed);
        Ok(())
    }

    /// Where the next bytes will go.
    pub fn end(&self) -> u64 {
        self.end.load(Ordering::Relaxed)
    }

    /// Fill `buf` from `offset`.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match &self.file {
            Some(f) => read_at(f, buf, offset),
            None => Err(io::ErrorKind::UnexpectedEof.into()),
        }
    }

    /// Why something could not be written, if it could not.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }
}
