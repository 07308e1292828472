//! The verdict on a set of digests and log files, as a pure function of
//! what was read: which log files are vouched for, which were changed,
//! lost or added, whether the digest chain is whole, and whether each
//! digest's signature holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::digest::Digest;
use super::keys::{PublicKeys, SignatureProblem};
use crate::record::time::{format_rfc3339, parse_event_time};
use crate::record::EpochMs;
use crate::source::discover::{trail_name, TrailName};

/// A digest file as read.
#[derive(Clone, Debug)]
pub struct DigestInput {
    /// Its path.
    pub path: String,
    /// Hex SHA-256 of its uncompressed content.
    pub sha256: String,
    /// Its content, or why it could not be read.
    pub digest: Result<Digest, String>,
}

/// A log file as read.
#[derive(Clone, Debug)]
pub struct LogInput {
    /// Its path.
    pub path: String,
    /// Hex SHA-256 of its uncompressed content, or why it could not be
    /// read.
    pub sha256: Result<String, String>,
}

/// What is wrong, or worth knowing, about one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// A listed log file whose content has another SHA-256.
    Modified,
    /// A listed log file that is not in the copy.
    Missing,
    /// A log file no digest lists, though digests cover its hour.
    NotCovered,
    /// A log file delivered after the newest digest (not yet vouched for).
    NewerThanDigests,
    /// A digest the next digest does not vouch for: its SHA-256 is not the
    /// next digest's `previousDigestHashValue`.
    DigestModified,
    /// Digests missing from the chain: a gap in the evidence.
    DigestMissing,
    /// A digest whose signature does not verify.
    BadSignature,
    /// A digest signed by a key not among those given.
    KeyNotFound,
    /// A digest whose file name is not the one its content names.
    Moved,
    /// A file that could not be read or is not a digest.
    Unreadable,
    /// Log files of an account and region with no digest in the copy at
    /// all: nothing vouches for them.
    NoDigests,
}

impl Finding {
    /// Whether the finding fails the verification.
    pub fn fails(self) -> bool {
        !matches!(self, Finding::NewerThanDigests)
    }

    /// How the finding is named in reports.
    pub fn key(self) -> &'static str {
        match self {
            Finding::Modified => "modified",
            Finding::Missing => "missing",
            Finding::NotCovered => "not covered",
            Finding::NewerThanDigests => "newer than the newest digest",
            Finding::DigestModified => "digest modified",
            Finding::DigestMissing => "digest missing",
            Finding::BadSignature => "bad signature",
            Finding::KeyNotFound => "key not found",
            Finding::Moved => "moved",
            Finding::Unreadable => "unreadable",
            Finding::NoDigests => "no digests",
        }
    }
}

/// One finding about one file (or one gap).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    /// What.
    pub finding: Finding,
    /// The file (a path in the copy, or an S3 key when it is not there).
    pub path: String,
    /// The particulars.
    pub detail: String,
}

/// One trail's digests: account × region × trail.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TrailReport {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Trail name.
    pub trail: String,
    /// Digests in the copy (in the chain).
    pub digests: u64,
    /// Backfill digests (`_backfill`): log files a digest missed for a
    /// delay, listed outside the chain.
    pub backfill_digests: u64,
    /// Start of the oldest digest's window and end of the newest's.
    pub from: Option<String>,
    /// See `from`.
    pub to: Option<String>,
    /// Log files the digests list.
    pub listed: u64,
    /// Of those, present with the listed SHA-256.
    pub valid: u64,
    /// Digests whose signature verified.
    pub signatures_valid: u64,
    /// Digests whose signature could not be checked (no key given, or the
    /// newest digest, whose signature is in S3 metadata a download loses).
    pub signatures_unchecked: u64,
    /// Hours with no digest between the oldest and the newest, as
    /// `[start, end)` pairs.
    pub gaps: Vec<(String, String)>,
}

/// Log files per account × region: the hours they were delivered in.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Log files in the copy.
    pub log_files: u64,
    /// Hours with at least one log file.
    pub hours_with_logs: u64,
    /// Hours covered by a digest.
    pub hours_with_digests: u64,
}

/// The verdict.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Per trail.
    pub trails: Vec<TrailReport>,
    /// Per account × region.
    pub coverage: Vec<Coverage>,
    /// Every finding, by kind, then path.
    pub problems: Vec<Problem>,
    /// What did not fail the verification but bounds it.
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// Whether anything failed.
    pub fn failed(&self) -> bool {
        self.problems.iter().any(|p| p.finding.fails())
    }

    /// Findings of one kind.
    pub fn count(&self, finding: Finding) -> usize {
        self.problems.iter().filter(|p| p.finding == finding).count()
    }
}

/// The last component of a path or key.
fn base(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// The trail a digest belongs to, from its key:
/// `<account>_CloudTrail-Digest_<region>_<trail>_<home region>_<stamp>.json.gz`.
fn trail_of(d: &Digest) -> (String, String, String) {
    let name = base(&d.digest_s3_object);
    let after = name.split_once("_CloudTrail-Digest_").map_or(name, |(_, rest)| rest);
    let stem = after.strip_suffix(".json.gz").unwrap_or(after);
    let stem = stem.strip_suffix("_backfill").unwrap_or(stem);
    let mut parts: Vec<&str> = stem.split('_').collect();
    let region = if parts.is_empty() { String::new() } else { parts.remove(0).to_string() };
    // The stamp and the home region are the last two parts.
    parts.truncate(parts.len().saturating_sub(2));
    (d.aws_account_id.clone(), region, parts.join("_"))
}

/// Check one digest's signature, if there is one and keys to check it
/// with, counting it in `t` or reporting what is wrong: whether a signature
/// went unchecked for want of keys.
fn judge_signature(
    keys: &PublicKeys,
    (d, g): (&DigestInput, &Digest),
    signature: Option<&str>,
    t: &mut TrailReport,
    problem: &mut dyn FnMut(Finding, &str, String),
) -> bool {
    let Some(sig) = signature else {
        t.signatures_unchecked += 1;
        return false;
    };
    if keys.is_empty() {
        t.signatures_unchecked += 1;
        return true;
    }
    match keys.verify(&g.digest_public_key_fingerprint, &g.signing_string(&d.sha256), sig) {
        Ok(()) => t.signatures_valid += 1,
        Err(SignatureProblem::KeyNotFound(fp)) => {
            problem(Finding::KeyNotFound, &d.path, format!("no public key given has fingerprint {fp}"))
        }
        Err(e) => problem(Finding::BadSignature, &d.path, e.to_string()),
    }
    false
}

/// Whether a digest is a backfill digest (`..._<stamp>_backfill.json.gz`).
fn is_backfill(d: &Digest) -> bool {
    base(&d.digest_s3_object).ends_with("_backfill.json.gz")
}

const HOUR: EpochMs = 3_600_000;
/// Hours of one digest's window counted as covered, at most.
const MAX_DIGEST_HOURS: i64 = 24;

/// One trail's digests, as read and as parsed.
type Chain<'a> = Vec<(&'a DigestInput, &'a Digest)>;

/// The verdict on `digests` and `logs`. `keys`: the public keys given
/// (none: signatures are not checked); `newest`: signatures given for
/// digests no later digest vouches for, by digest file name.
pub fn check(
    digests: &[DigestInput],
    logs: &[LogInput],
    keys: &PublicKeys,
    newest: &BTreeMap<String, String>,
) -> VerifyReport {
    let mut report = VerifyReport::default();
    let mut problems: Vec<Problem> = Vec::new();
    let mut notes: BTreeSet<String> = BTreeSet::new();
    let mut problem = |finding: Finding, path: &str, detail: String| {
        problems.push(Problem { finding, path: path.to_string(), detail });
    };
    // Log files by name (CloudTrail's names are unique: they end in a
    // random id).
    let mut by_name: HashMap<&str, &LogInput> = HashMap::new();
    for l in logs {
        by_name.insert(base(&l.path), l);
    }
    let good: Vec<(&DigestInput, &Digest)> = digests
        .iter()
        .filter_map(|d| match &d.digest {
            Ok(g) => Some((d, g)),
            Err(e) => {
                problem(Finding::Unreadable, &d.path, e.clone());
                None
            }
        })
        .collect();
    let mut trails: BTreeMap<(String, String, String), Chain<'_>> = BTreeMap::new();
    for (d, g) in &good {
        if base(&d.path) != base(&g.digest_s3_object) {
            problem(Finding::Moved, &d.path, format!("its content names it {}", g.digest_s3_object));
        }
        trails.entry(trail_of(g)).or_default().push((d, g));
    }
    let mut listed: BTreeSet<&str> = BTreeSet::new();
    let mut digest_hours: BTreeMap<(String, String), BTreeSet<i64>> = BTreeMap::new();
    let mut newest_end: BTreeMap<(String, String), EpochMs> = BTreeMap::new();
    let mut unchecked_keys = false;
    for ((account, region, trail), digests) in trails {
        let (backfills, mut chain): (Chain<'_>, Chain<'_>) = digests.into_iter().partition(|c| is_backfill(c.1));
        chain.sort_by(|a, b| a.1.digest_end_time.cmp(&b.1.digest_end_time).then(a.0.path.cmp(&b.0.path)));
        let mut t = TrailReport { account: account.clone(), region: region.clone(), trail, ..TrailReport::default() };
        t.digests = chain.len() as u64;
        t.backfill_digests = backfills.len() as u64;
        t.from = chain.first().map(|c| c.1.digest_start_time.clone());
        t.to = chain.last().map(|c| c.1.digest_end_time.clone());
        let by_key: HashMap<&str, usize> =
            chain.iter().enumerate().map(|(i, c)| (c.1.digest_s3_object.as_str(), i)).collect();
        // The digest that vouches for each: the one naming it as previous.
        let mut next: HashMap<usize, usize> = HashMap::new();
        for (i, (_, g)) in chain.iter().enumerate() {
            if let Some(&p) = g.previous_digest_s3_object.as_deref().and_then(|k| by_key.get(k)) {
                next.insert(p, i);
            }
        }
        for (i, (d, g)) in chain.iter().enumerate() {
            let hours = digest_hours.entry((account.clone(), region.clone())).or_default();
            if let (Some(s), Some(e)) = (parse_event_time(&g.digest_start_time), parse_event_time(&g.digest_end_time)) {
                // CloudTrail's digests span an hour; the window is the
                // digest's text, so at most a day of it is counted.
                let to = e.div_euclid(HOUR).max(s.div_euclid(HOUR) + 1);
                hours.extend(s.div_euclid(HOUR).max(to - MAX_DIGEST_HOURS)..to);
                let end = newest_end.entry((account.clone(), region.clone())).or_insert(e);
                *end = (*end).max(e);
            }
            // The chain: the previous digest is here and unchanged, or
            // missing.
            if let Some(prev) = g.previous_digest_s3_object.as_deref() {
                match by_key.get(prev) {
                    Some(&p) => {
                        let (pd, _) = chain[p];
                        if g.previous_digest_hash_value.as_deref() != Some(pd.sha256.as_str()) {
                            problem(
                                Finding::DigestModified,
                                &pd.path,
                                format!("its SHA-256 is not the one {} records for it", base(&d.path)),
                            );
                        }
                    }
                    None if i > 0 => problem(
                        Finding::DigestMissing,
                        prev,
                        format!(
                            "named as previous by {}, between {} and {}",
                            base(&d.path),
                            chain[i - 1].1.digest_end_time,
                            g.digest_start_time
                        ),
                    ),
                    None => {
                        notes.insert(format!(
                            "{}: the chain starts before the copy ({} names {prev} as previous)",
                            t.trail,
                            base(&d.path)
                        ));
                    }
                }
            }
            // Hours with no digest between two in the chain.
            if i > 0 {
                let a = &chain[i - 1].1.digest_end_time;
                if a < &g.digest_start_time {
                    t.gaps.push((a.clone(), g.digest_start_time.clone()));
                }
            }
            // The signature: carried by the next digest, or given.
            let signature = match next.get(&i) {
                Some(&n) => chain[n].1.previous_digest_signature.clone(),
                None => newest.get(base(&d.path)).cloned(),
            };
            unchecked_keys |= judge_signature(keys, (d, g), signature.as_deref(), &mut t, &mut problem);
        }
        // The log files every digest lists, backfill digests included.
        for (d, g) in chain.iter().chain(&backfills) {
            for f in &g.log_files {
                let name = base(&f.s3_object);
                listed.insert(name);
                t.listed += 1;
                match by_name.get(name) {
                    None => problem(Finding::Missing, &f.s3_object, format!("listed in {}", base(&d.path))),
                    Some(l) => match &l.sha256 {
                        Ok(h) if h.eq_ignore_ascii_case(&f.hash_value) => t.valid += 1,
                        Ok(h) => problem(
                            Finding::Modified,
                            &l.path,
                            format!("SHA-256 {h}, {} lists {}", base(&d.path), f.hash_value),
                        ),
                        Err(e) => problem(Finding::Unreadable, &l.path, e.clone()),
                    },
                }
            }
        }
        // Backfill digests stand outside the chain: their signature is in
        // S3 metadata only.
        for &(d, g) in &backfills {
            let signature = newest.get(base(&d.path)).map(String::as_str);
            unchecked_keys |= judge_signature(keys, (d, g), signature, &mut t, &mut problem);
        }
        report.trails.push(t);
    }
    // Log files no digest lists.
    let mut undigested: BTreeSet<(String, String)> = BTreeSet::new();
    let mut log_hours: BTreeMap<(String, String), (u64, BTreeSet<i64>)> = BTreeMap::new();
    for l in logs {
        let name = base(&l.path);
        let Some(TrailName { account, region, delivered: time }) = trail_name(name) else { continue };
        let group = (account.to_string(), region.to_string());
        let entry = log_hours.entry(group.clone()).or_default();
        entry.0 += 1;
        if let Some(t) = time {
            entry.1.insert(t.div_euclid(HOUR));
        }
        if listed.contains(name) {
            continue;
        }
        if let Err(e) = &l.sha256 {
            problem(Finding::Unreadable, &l.path, e.clone());
            continue;
        }
        match (newest_end.get(&group), time) {
            (None, _) => {
                undigested.insert(group);
            }
            (Some(&end), Some(t)) if t >= end => problem(
                Finding::NewerThanDigests,
                &l.path,
                format!("delivered at {}, after the newest digest ({})", format_rfc3339(t), format_rfc3339(end)),
            ),
            (Some(_), _) => problem(Finding::NotCovered, &l.path, "listed in no digest".to_string()),
        }
    }
    for (account, region) in &undigested {
        let files = log_hours.get(&(account.clone(), region.clone())).map_or(0, |h| h.0);
        problem(
            Finding::NoDigests,
            &format!("{account}/{region}"),
            format!("{files} log files and no digest in the copy: nothing vouches for them"),
        );
    }
    let groups: BTreeSet<(String, String)> = log_hours.keys().chain(digest_hours.keys()).cloned().collect();
    for g in groups {
        let (files, hours) = log_hours.get(&g).cloned().unwrap_or_default();
        let digest = digest_hours.get(&g).map_or(0, |h| h.len() as u64);
        report.coverage.push(Coverage {
            account: g.0,
            region: g.1,
            log_files: files,
            hours_with_logs: hours.len() as u64,
            hours_with_digests: digest,
        });
    }
    if unchecked_keys {
        notes.insert(
            "signatures not checked: give the keys with --public-keys (aws cloudtrail list-public-keys output)".into(),
        );
    }
    if report.trails.iter().any(|t| t.signatures_unchecked > 0) && !keys.is_empty() {
        notes.insert(
            "the newest digest of a trail is signed in its S3 object metadata, which a download loses: give it with --digest-signature NAME=FILE (aws s3api head-object output)".into(),
        );
    }
    problems.sort();
    report.problems = problems;
    report.notes = notes.into_iter().collect();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(object: &str) -> Digest {
        let doc = serde_json::json!({
            "awsAccountId": "111122223333", "digestStartTime": "2015-08-17T14:01:31Z",
            "digestEndTime": "2015-08-17T15:01:31Z", "digestS3Bucket": "b", "digestS3Object": object,
            "digestPublicKeyFingerprint": "f", "digestSignatureAlgorithm": "SHA256withRSA", "logFiles": []
        });
        Digest::parse(doc.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_digest_claiming_ten_thousand_years_covers_a_day_at_most() {
        let doc = serde_json::json!({
            "awsAccountId": "111122223333", "digestStartTime": "0001-01-01T00:00:00Z",
            "digestEndTime": "9999-12-31T00:00:00Z", "digestS3Bucket": "b",
            "digestS3Object": "x/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_99991231T000000Z.json.gz",
            "digestPublicKeyFingerprint": "f", "digestSignatureAlgorithm": "SHA256withRSA", "logFiles": []
        });
        let input = DigestInput {
            path: "x/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_99991231T000000Z.json.gz".into(),
            sha256: "00".into(),
            digest: Ok(Digest::parse(doc.to_string().as_bytes()).unwrap()),
        };
        let r = check(&[input], &[], &PublicKeys::default(), &BTreeMap::new());
        assert_eq!(r.coverage[0].hours_with_digests, 24);
    }

    #[test]
    fn a_digest_names_its_trail_even_with_underscores_in_it() {
        let d = digest("AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my_org_trail_us-east-1_20150817T150131Z.json.gz");
        assert_eq!(trail_of(&d), ("111122223333".into(), "us-east-2".into(), "my_org_trail".into()));
        let b = digest("AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my_org_trail_us-east-1_20150817T150131Z_backfill.json.gz");
        assert_eq!(trail_of(&b), trail_of(&d));
        assert!(is_backfill(&b) && !is_backfill(&d));
    }

    #[test]
    fn a_log_file_name_gives_its_account_region_and_delivery() {
        let t = trail_name("111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz").unwrap();
        assert_eq!((t.account, t.region), ("111122223333", "us-east-2"));
        assert_eq!(t.delivered, parse_event_time("2015-08-17T14:45:00Z"));
        assert_eq!(trail_name("notes.json"), None);
    }

    #[test]
    fn a_copy_without_digests_fails_once_per_account_and_region() {
        let logs = [LogInput {
            path: "x/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz".into(),
            sha256: Ok("00".into()),
        }];
        let r = check(&[], &logs, &PublicKeys::default(), &BTreeMap::new());
        assert!(r.failed());
        assert_eq!(r.coverage.len(), 1);
        assert_eq!((r.coverage[0].log_files, r.coverage[0].hours_with_digests), (1, 0));
        assert_eq!(r.problems.len(), 1);
        assert_eq!(
            (r.problems[0].finding, r.problems[0].path.as_str()),
            (Finding::NoDigests, "111122223333/us-east-2")
        );
    }
}
