//! `trailwatch verify`: the digest files of a copy checked against its log
//! files, offline.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Serialize;

use trailwatch::exit;
use trailwatch::report::evidence;
use trailwatch::report::text::Style;
use trailwatch::verify::{signature_of_head_object, verify, PublicKeys, VerifyReport};

use super::{deliver, read_input, Failure, Outcome};

/// Output format of `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// Readable summary.
    Text,
    /// The whole verdict as JSON.
    Json,
}

/// Arguments of `verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Directories or files: the log files and the CloudTrail-Digest files
    /// beside them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Public keys to check digest signatures with: the JSON output of
    /// `aws cloudtrail list-public-keys` (repeatable).
    #[arg(long, value_name = "FILE")]
    public_keys: Vec<String>,
    /// The signature of a trail's newest digest, which CloudTrail keeps in
    /// the digest's S3 object metadata: NAME is the digest's file name,
    /// FILE the output of `aws s3api head-object` for it (or the hex
    /// signature). Repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    digest_signature: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    format: VerifyFormat,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Serialize)]
struct Output<'a> {
    verified: bool,
    #[serde(flatten)]
    report: &'a VerifyReport,
    path_problems: Vec<(String, String)>,
}

/// The keys of `--public-keys` files and the signatures of
/// `--digest-signature NAME=FILE` options, by digest file name.
pub fn evidence_options(
    public_keys: &[String],
    digest_signature: &[String],
) -> Result<(PublicKeys, BTreeMap<String, String>), Failure> {
    let mut keys = PublicKeys::default();
    for p in public_keys {
        let text = read_input(p)?;
        keys.extend(PublicKeys::parse(&text).map_err(|e| Failure::Usage(format!("--public-keys {p}: {e}")))?);
    }
    let mut newest = BTreeMap::new();
    for d in digest_signature {
        let (name, file) =
            d.split_once('=').ok_or_else(|| Failure::Usage(format!("--digest-signature {d}: expected NAME=FILE")))?;
        let text = read_input(file)?;
        let sig =
            signature_of_head_object(&text).map_err(|e| Failure::Usage(format!("--digest-signature {d}: {e}")))?;
        let name = name.rsplit('/').next().unwrap_or(name);
        newest.insert(name.to_string(), sig);
    }
    Ok((keys, newest))
}

/// `verify`.
pub fn run(a: VerifyArgs) -> Outcome {
    let (keys, newest) = evidence_options(&a.public_keys, &a.digest_signature)?;
    let threads = if a.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { a.threads };
    let (report, problems) = verify(&a.paths, &keys, &newest, threads);
    let path_problems: Vec<(String, String)> = problems.into_iter().map(|p| (p.path, p.reason)).collect();
    let nothing = report.trails.is_empty() && report.coverage.is_empty();
    let status = if report.failed() || !path_problems.is_empty() {
        exit::INPUT
    } else if nothing {
        exit::NO_RECORDS
    } else {
        exit::OK
    };
    if nothing {
        let _ = writeln!(io::stderr(), "trailwatch: no log file or digest found under the paths given (archives are not opened: extract them first)");
    }
    deliver(status, || {
        let mut w = io::BufWriter::new(io::stdout().lock());
        match a.format {
            VerifyFormat::Json => {
                let out = Output { verified: status == exit::OK, report: &report, path_problems };
                serde_json::to_writer_pretty(&mut w, &out).map_err(io::Error::from)?;
                writeln!(w)?;
            }
            VerifyFormat::Text => {
                let st = Style { color: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() };
                evidence::write_text(&mut w, &report, &path_problems, st)?;
            }
        }
        w.flush()
    })
}
