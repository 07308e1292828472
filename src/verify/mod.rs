//! Evidence integrity, offline: CloudTrail's digest files checked against
//! the log files beside them, the digest chain, and the signatures.
//!
//! `digest` reads a digest and builds the string its signature covers;
//! `keys` reads `list-public-keys` output and checks one signature; `check`
//! is the verdict, a pure function of what was read; this module reads the
//! files (decompressing and hashing them in parallel).

mod check;
mod digest;
mod keys;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use flate2::read::MultiGzDecoder;
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

pub use check::{check, Coverage, DigestInput, Finding, LogInput, Problem, TrailReport, VerifyReport};
pub use digest::{Digest, LogFile};
pub use keys::{signature_of_head_object, PublicKeys, SignatureProblem};

use crate::source::discover::{PathProblem, Walker};
use crate::source::{InputFile, Limits, NameKind};

/// Largest digest read (they list an hour of log files: a few hundred
/// kilobytes at most).
const MAX_DIGEST_BYTES: u64 = 64 << 20;

/// Read the digests and log files under `paths` and give the verdict (see
/// [`check`]), with the paths that could not be walked.
pub fn verify(
    paths: &[PathBuf],
    keys: &PublicKeys,
    newest: &BTreeMap<String, String>,
    threads: usize,
) -> (VerifyReport, Vec<PathProblem>) {
    let mut walker = Walker::with_digests(paths);
    let files: Vec<InputFile> = walker.by_ref().collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let (digests, logs): (Vec<DigestInput>, Vec<LogInput>) = pool.install(|| {
        let digests = files.par_iter().filter(|f| f.name == NameKind::Digest).map(read_digest).collect();
        let logs = files.par_iter().filter(|f| matches!(f.name, NameKind::TrailLog { .. })).map(hash_log).collect();
        (digests, logs)
    });
    (check(&digests, &logs, keys, newest), walker.problems)
}

/// The content of a file: gunzipped when it starts with gzip's magic
/// bytes, as it is otherwise (digests hash the uncompressed content).
fn decoded(file: std::fs::File) -> std::io::Result<Box<dyn Read>> {
    let mut r = BufReader::new(file);
    let gzip = r.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip { Box::new(MultiGzDecoder::new(r)) } else { Box::new(r) })
}

/// Read a digest whole, with the SHA-256 of its uncompressed content.
fn read_digest(f: &InputFile) -> DigestInput {
    let mut content = Vec::new();
    let read = f.open().and_then(|file| decoded(file)?.take(MAX_DIGEST_BYTES + 1).read_to_end(&mut content));
    let digest = match read {
        Err(e) => Err(format!("cannot read: {e}")),
        Ok(n) if n as u64 > MAX_DIGEST_BYTES => Err(format!("decodes to more than {MAX_DIGEST_BYTES} bytes")),
        Ok(_) => Digest::parse(&content).map_err(|e| format!("not a digest: {e}")),
    };
    DigestInput { path: f.display(), sha256: digest::hex(&Sha256::digest(&content)), digest }
}

/// The SHA-256 of a log file's uncompressed content, read as a stream.
fn hash_log(f: &InputFile) -> LogInput {
    let cap = Limits::default().max_decompressed;
    let sha256 = f.open().and_then(|file| {
        let mut hasher = Sha256::new();
        let n = std::io::copy(&mut decoded(file)?.take(cap + 1), &mut hasher)?;
        if n > cap {
            return Err(std::io::Error::other(format!("decodes to more than {cap} bytes (a gzip bomb?)")));
        }
        Ok(digest::hex(&hasher.finalize()))
    });
    LogInput { path: f.display(), sha256: sha256.map_err(|e| format!("cannot read: {e}")) }
}
