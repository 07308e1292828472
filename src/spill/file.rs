//! The anonymous temporary file runs are written to, removed by the system
//! when it is closed, even if the process is killed.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering};

/// An append-only temporary file, created on first use.
#[derive(Debug, Default)]
pub(crate) struct RunFile {
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
    pub(crate) fn write(&mut self, bytes: &[u8], what: &str) -> Option<u64> {
        if self.problem.is_some() {
            return None;
        }
        let start = self.end();
        match self.append(bytes) {
            Ok(()) => Some(start),
            Err(e) => {
                self.problem = Some(format!(
                    "cannot write {what} to a temporary file in {} (kept in memory instead): {e}",
                    std::env::temp_dir().display()
                ));
                None
            }
        }
    }

    /// Append `bytes`, creating the file if need be (errors returned, not
    /// recorded).
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        self.append_to_existing(bytes)
    }

    /// Append `bytes` to the file, which must exist (while runs of it are
    /// read: one writer at a time).
    pub(crate) fn append_to_existing(&self, bytes: &[u8]) -> io::Result<()> {
        let mut file = self.file.as_ref().ok_or(io::ErrorKind::NotFound)?;
        let end = self.end();
        file.seek(SeekFrom::Start(end))?;
        file.write_all(bytes)?;
        self.end.store(end + bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Where the next bytes will go.
    pub(crate) fn end(&self) -> u64 {
        self.end.load(Ordering::Relaxed)
    }

    /// Fill `buf` from `offset` without using (or moving) the shared file
    /// position, so that runs can be read from several threads at once.
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let Some(file) = &self.file else { return Err(io::ErrorKind::UnexpectedEof.into()) };
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                match std::os::windows::fs::FileExt::seek_read(file, &mut buf[done..], offset + done as u64)? {
                    0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                    n => done += n,
                }
            }
            Ok(())
        }
    }

    /// Why something could not be written, if it could not.
    pub(crate) fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Take the file's content as it is, for tests that need a file which
    /// can be read but not written.
    #[cfg(test)]
    pub(crate) fn read_only_copy(&self) -> RunFile {
        let mut bytes = vec![0; self.end() as usize];
        self.read_at(&mut bytes, 0).expect("read back");
        let copy = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(copy.path(), &bytes).expect("write copy");
        let file = File::open(copy.path()).expect("open copy");
        RunFile { file: Some(file), end: AtomicU64::new(self.end()), problem: None }
    }
}
