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
use crate::source::reader::WHOLE_DECODED_MAX;
use crate::source::{Inflater, InputFile, Limits, NameKind};

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
fn decoded(mut input: Box<dyn BufRead>) -> std::io::Result<Box<dyn Read>> {
    let gzip = input.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip { Box::new(MultiGzDecoder::new(input)) } else { Box::new(input) })
}

/// Read a digest whole, with the SHA-256 of its uncompressed content.
fn read_digest(f: &InputFile) -> DigestInput {
    let mut content = Vec::new();
    let read = f
        .open()
        .and_then(|file| decoded(Box::new(BufReader::new(file)))?.take(MAX_DIGEST_BYTES + 1).read_to_end(&mut content));
    let digest = match read {
        Err(e) => Err(format!("cannot read: {e}")),
        Ok(n) if n as u64 > MAX_DIGEST_BYTES => Err(format!("decodes to more than {MAX_DIGEST_BYTES} bytes")),
        Ok(_) => Digest::parse(&content).map_err(|e| format!("not a digest: {e}")),
    };
    DigestInput { path: f.display(), sha256: digest::hex(&Sha256::digest(&content)), digest }
}

/// Log files up to this size are read whole, to be inflated in one call.
const WHOLE_FILE_MAX: u64 = 16 << 20;

/// The SHA-256 of a log file's uncompressed content: a file that is one
/// gzip member is inflated in one call (libdeflate); anything else (several
/// members, damage, no gzip, large files) is read as a stream.
fn hash_log(f: &InputFile) -> LogInput {
    let sha256 = f.open().and_then(|mut file| {
        if file.metadata()?.len() <= WHOLE_FILE_MAX {
            let mut data = Vec::new();
            file.read_to_end(&mut data)?;
            if let Some(h) = whole_member_sha256(&data) {
                return Ok(h);
            }
            return stream_sha256(Box::new(BufReader::new(std::io::Cursor::new(data))));
        }
        stream_sha256(Box::new(BufReader::new(file)))
    });
    LogInput { path: f.display(), sha256: sha256.map_err(|e| format!("cannot read: {e}")) }
}

/// The SHA-256 of `data` inflated, when it is exactly one gzip member whose
/// trailer gives its size (as the scan reads such a file).
fn whole_member_sha256(data: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    let n = Inflater::new().whole_file(data, Limits::default(), WHOLE_DECODED_MAX, &mut out)?;
    Some(digest::hex(&Sha256::digest(&out[..n])))
}

/// The SHA-256 of what `input` decodes to, read as a stream, bounded like
/// the scan's decoding.
fn stream_sha256(input: Box<dyn BufRead>) -> std::io::Result<String> {
    let cap = Limits::default().max_decompressed;
    let mut hasher = Sha256::new();
    let n = std::io::copy(&mut decoded(input)?.take(cap + 1), &mut hasher)?;
    if n > cap {
        return Err(std::io::Error::other(format!("decodes to more than {cap} bytes (a gzip bomb?)")));
    }
    Ok(digest::hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn streamed(data: &[u8]) -> String {
        stream_sha256(Box::new(BufReader::new(std::io::Cursor::new(data.to_vec())))).unwrap()
    }

    #[test]
    fn one_member_is_hashed_in_one_call_and_the_rest_as_a_stream_with_the_same_result() {
        let body = br#"{"Records":[{"eventID":"1"}]}"#.repeat(1000);
        let want = digest::hex(&Sha256::digest(&body));
        let one = gz(&body);
        assert_eq!(whole_member_sha256(&one).as_deref(), Some(want.as_str()));
        assert_eq!(streamed(&one), want);
        // Two members: not whole; the stream reads both.
        let (a, b) = body.split_at(1234);
        let two = [gz(a), gz(b)].concat();
        assert_eq!(whole_member_sha256(&two), None);
        assert_eq!(streamed(&two), want);
        // A forged size, bytes after the member, no gzip at all.
        let mut forged = one.clone();
        let n = forged.len();
        forged[n - 4..].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(whole_member_sha256(&forged), None);
        let trailing = [one.clone(), b"x".to_vec()].concat();
        assert_eq!(whole_member_sha256(&trailing), None);
        assert_eq!(whole_member_sha256(&body), None);
        assert_eq!(streamed(&body), want);
    }
}
