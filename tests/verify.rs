//! `trailwatch verify`: the generated archive's signed digests checked
//! against its log files, then copies tampered with one way each.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailwatch_synth::{self as synth, Config};

use crate::util;

/// A generated archive (seed 1, as `testdata/archive`) with its public
/// keys and the manifest.
struct Copy {
    _dir: tempfile::TempDir,
    archive: PathBuf,
    keys: PathBuf,
    manifest: synth::Manifest,
}

fn copy() -> Copy {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let manifest = synth::generate(&Config::default(), &archive).unwrap();
    let keys = dir.path().join("public-keys.json");
    fs::write(&keys, synth::test_public_keys_json()).unwrap();
    Copy { _dir: dir, archive, keys, manifest }
}

fn files(root: &Path, kind: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        synth::all_files(root).into_iter().filter(|p| p.to_string_lossy().contains(kind)).collect();
    out.sort();
    out
}

fn verify(c: &Copy, extra: &[&str]) -> (i32, Value) {
    let mut cmd = util::trailwatch();
    cmd.arg("verify").arg(&c.archive).arg("--public-keys").arg(&c.keys).args(["--format", "json"]).args(extra);
    let (code, out, err) = util::run(cmd);
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, doc)
}

/// The findings, as (finding, file name) pairs.
fn findings(doc: &Value) -> Vec<(String, String)> {
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let path = p["path"].as_str().unwrap();
            (p["finding"].as_str().unwrap().to_string(), path.rsplit('/').next().unwrap().to_string())
        })
        .collect()
}

fn total(doc: &Value, field: &str) -> u64 {
    doc["trails"].as_array().unwrap().iter().map(|t| t[field].as_u64().unwrap()).sum()
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gunzip(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(fs::File::open(path).unwrap()).read_to_end(&mut out).unwrap();
    out
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn an_untouched_copy_verifies_and_only_the_newest_signatures_wait_for_their_metadata() {
    let c = copy();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["verified"], true);
    assert_eq!(findings(&doc), []);
    assert_eq!(doc["trails"].as_array().unwrap().len(), 4);
    assert_eq!(total(&doc, "listed"), c.manifest.log_files);
    assert_eq!(total(&doc, "valid"), c.manifest.log_files);
    assert_eq!(total(&doc, "digests"), c.manifest.digest_files);
    // Each trail's newest digest is signed in S3 metadata only.
    assert_eq!(total(&doc, "signatures_valid"), c.manifest.digest_files - 4);
    assert_eq!(total(&doc, "signatures_unchecked"), 4);
    // Given those (as head-object output), every signature verifies.
    let sigs: Vec<String> = c
        .manifest
        .newest_digest_signatures
        .iter()
        .map(|(digest, sig)| {
            let f = c.archive.parent().unwrap().join(format!("{digest}.head-object.json"));
            let head = serde_json::json!({"ContentType": "application/json", "Metadata": {"signature": sig, "signature-algorithm": "SHA256withRSA"}});
            fs::write(&f, head.to_string()).unwrap();
            format!("{digest}={}", f.display())
        })
        .collect();
    let args: Vec<&str> = sigs.iter().flat_map(|s| ["--digest-signature", s.as_str()]).collect();
    let (code, doc) = verify(&c, &args);
    assert_eq!(code, 0);
    assert_eq!(total(&doc, "signatures_valid"), c.manifest.digest_files);
    assert_eq!(total(&doc, "signatures_unchecked"), 0);
}

#[test]
fn a_modified_log_file_is_named_and_the_others_stay_valid() {
    let c = copy();
    let victim = files(&c.archive, "/CloudTrail/")[7].clone();
    let mut body = gunzip(&victim);
    let at = body.len() / 2;
    body[at] = if body[at] == b'a' { b'b' } else { b'a' };
    fs::write(&victim, gz(&body)).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 3);
    assert_eq!(doc["verified"], false);
    assert_eq!(findings(&doc), [("modified".to_string(), name(&victim))]);
    assert_eq!(total(&doc, "valid"), c.manifest.log_files - 1);
}

#[test]
fn a_deleted_log_file_is_missing() {
    let c = copy();
    let victim = files(&c.archive, "/CloudTrail/")[3].clone();
    fs::remove_file(&victim).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 3);
    assert_eq!(findings(&doc), [("missing".to_string(), name(&victim))]);
    assert_eq!(total(&doc, "valid"), c.manifest.log_files - 1);
}

#[test]
fn an_extra_log_file_is_not_covered_unless_it_is_newer_than_every_digest() {
    let c = copy();
    let model = files(&c.archive, "/CloudTrail/")[0].clone();
    let dir = model.parent().unwrap();
    let account = name(&model).split('_').next().unwrap().to_string();
    let region = name(&model).split('_').nth(2).unwrap().to_string();
    // Delivered inside the digests' hours, but listed in none.
    let extra = dir.join(format!("{account}_CloudTrail_{region}_20230710T0210Z_AAAAAAAAAAAAAAAA.json.gz"));
    fs::write(&extra, gz(br#"{"Records":[]}"#)).unwrap();
    // Delivered after the newest digest: not yet vouched for.
    let later = dir.join(format!("{account}_CloudTrail_{region}_20230710T0710Z_BBBBBBBBBBBBBBBB.json.gz"));
    fs::write(&later, gz(br#"{"Records":[]}"#)).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 3);
    assert_eq!(
        findings(&doc),
        [("not_covered".to_string(), name(&extra)), ("newer_than_digests".to_string(), name(&later))]
    );
    assert_eq!(total(&doc, "valid"), c.manifest.log_files);
    // Only the newer one: not a failure.
    fs::remove_file(&extra).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!((code, doc["verified"].as_bool()), (0, Some(true)));
}

#[test]
fn a_deleted_digest_is_a_gap_in_the_chain() {
    let c = copy();
    let digests = files(&c.archive, "CloudTrail-Digest");
    let victim = digests.iter().find(|p| name(p).ends_with("20230710T030000Z.json.gz")).unwrap().clone();
    fs::remove_file(&victim).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 3);
    let f = findings(&doc);
    assert!(f.contains(&("digest_missing".to_string(), name(&victim))), "{f:?}");
    // Its log files are no longer vouched for.
    assert!(f.iter().all(|(k, _)| k == "digest_missing" || k == "not_covered"), "{f:?}");
    assert!(f.iter().any(|(k, _)| k == "not_covered"), "{f:?}");
    let gaps: Vec<&Value> =
        doc["trails"].as_array().unwrap().iter().flat_map(|t| t["gaps"].as_array().unwrap()).collect();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0], &serde_json::json!(["2023-07-10T02:00:00Z", "2023-07-10T03:00:00Z"]));
}

#[test]
fn an_edited_digest_fails_its_chain_link_and_its_signature() {
    let c = copy();
    let digests = files(&c.archive, "CloudTrail-Digest");
    let victim = digests.iter().find(|p| name(p).ends_with("20230710T020000Z.json.gz")).unwrap().clone();
    let text = String::from_utf8(gunzip(&victim)).unwrap().replace("SHA256withRSA", "SHA256withRSX");
    fs::write(&victim, gz(text.as_bytes())).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 3);
    assert_eq!(
        findings(&doc),
        [("digest_modified".to_string(), name(&victim)), ("bad_signature".to_string(), name(&victim))]
    );
    assert_eq!(total(&doc, "valid"), c.manifest.log_files);
}

#[test]
fn a_wrong_key_is_not_found_or_does_not_verify() {
    let c = copy();
    // A key with another fingerprint: the digests' key is not found.
    let keys =
        fs::read_to_string(&c.keys).unwrap().replace(synth::TEST_KEY_FINGERPRINT, "00000000000000000000000000000000");
    fs::write(&c.keys, keys).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 3);
    let f = findings(&doc);
    assert_eq!(f.len() as u64, c.manifest.digest_files - 4, "{f:?}");
    assert!(f.iter().all(|(k, _)| k == "key_not_found"));
    // Another key under the digests' fingerprint: every signature fails.
    let doc: Value =
        serde_json::json!({"PublicKeyList": [{"Fingerprint": synth::TEST_KEY_FINGERPRINT, "Value": OTHER_KEY}]});
    fs::write(&c.keys, doc.to_string()).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 3);
    let f = findings(&doc);
    assert_eq!(f.len() as u64, c.manifest.digest_files - 4, "{f:?}");
    assert!(f.iter().all(|(k, _)| k == "bad_signature"));
}

#[test]
fn without_keys_the_chain_and_hashes_are_still_checked_and_the_text_says_what_was_not() {
    let c = copy();
    let mut cmd = util::trailwatch();
    cmd.arg("verify").arg(&c.archive);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("note: signatures not checked: give the keys with --public-keys"), "{out}");
    assert!(out.ends_with("verified: every listed log file is present and unchanged, the chain is whole\n"), "{out}");
}

/// A 2048-bit RSA public key (DER PKCS#1, base64) that did not sign the
/// generated digests.
const OTHER_KEY: &str = "MIIBCgKCAQEArBsVpCKTls/wiZwPoqB3z0NyW5eLuxGqajETZ9d4AL6U4VFg3b/q/tDyqh+SRrsVjlMqgzkoHcjFiBYDTU2Rr16NOWPmfXPcQFlwFfpa1APc6MzyjMkCYC3y3nSMvKnX6xjQLLfTdkIDdUpBGIBWwT4zi32I1s+EZDx9HT5UzeZtnPiIhj+Wb4mIjjSnMnw8mJ/oRmzyUWBD13ZM8mozKm+TFByz/t0+/EFbOubDIhvEvYBJiG/3o5ObvDGFHs5a8yOBFxfdTz/ePV8tsR2v6zso5PY5MvjCcKlTZumv2z26Doq62Xiv92L3oUrrYiQlhCQglvgA8L6JUdcUlvVsHQIDAQAB";

#[test]
fn scan_verify_names_the_gap_next_to_the_windows_in_it_and_fails_the_run() {
    let c = copy();
    let mut cmd = util::trailwatch();
    cmd.args(["scan", "--verify", "--format", "json", "--public-keys"]).arg(&c.keys).arg(&c.archive);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 1, "an untouched copy: the alarm fired, the evidence holds");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["evidence"]["problems"], serde_json::json!([]));
    assert!(doc["alarms"][0]["windows"].as_array().unwrap().iter().all(|w| w.get("evidence_gaps").is_none()));
    // One trail's digest for 03:00-04:00 deleted.
    let digests = files(&c.archive, "CloudTrail-Digest");
    let victim = digests.iter().find(|p| name(p).ends_with("20230710T040000Z.json.gz")).unwrap().clone();
    let account = name(&victim).split('_').next().unwrap().to_string();
    let region = name(&victim).split('_').nth(2).unwrap().to_string();
    fs::remove_file(&victim).unwrap();
    let mut cmd = util::trailwatch();
    cmd.args(["scan", "--verify", "--format", "json", "--public-keys"]).arg(&c.keys).arg(&c.archive);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 3, "a gap in the evidence fails the run like an unreadable input");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let gap = format!("no digest for {account} {region} from 2023-07-10T03:00:00Z to 2023-07-10T04:00:00Z");
    for w in doc["alarms"][0]["windows"].as_array().unwrap() {
        let start = w["start"].as_str().unwrap();
        let inside = ("2023-07-10T03:00:00Z".."2023-07-10T04:00:00Z").contains(&start);
        let gaps = w.get("evidence_gaps").cloned().unwrap_or(serde_json::json!([]));
        assert_eq!(gaps, if inside { serde_json::json!([gap]) } else { serde_json::json!([]) }, "{start}");
    }
    let mut cmd = util::trailwatch();
    cmd.args(["scan", "--verify"]).arg(&c.archive);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 3);
    assert!(out.contains(&format!("      evidence gap: {gap}\n")), "{out}");
    assert!(out.contains("digests  NOT VERIFIED: "), "{out}");
}

#[test]
fn the_readme_shows_what_verify_prints_on_the_sample_archive() {
    let command = "trailwatch verify testdata/archive --public-keys testdata/public-keys.json";
    assert!(util::readme_shows("### `verify PATH...`", command));
    let block = util::readme_block("### `verify PATH...`");
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(["verify", "testdata/archive", "--public-keys", "testdata/public-keys.json"]);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 0);
    assert_eq!(block, out);
    // The committed key is the generator's.
    let committed = fs::read_to_string(util::root().join("testdata/public-keys.json")).unwrap();
    assert_eq!(committed, synth::test_public_keys_json());
}

#[test]
fn digest_fields_reach_the_terminal_escaped() {
    let c = copy();
    let digests = files(&c.archive, "CloudTrail-Digest");
    let victim = digests.iter().find(|p| name(p).ends_with("20230710T010000Z.json.gz")).unwrap().clone();
    let text = String::from_utf8(gunzip(&victim))
        .unwrap()
        .replace(r#""digestStartTime":"2023-07-10T00:00:00Z""#, r#""digestStartTime":"\u001b]0;owned\u0007""#);
    fs::write(&victim, gz(text.as_bytes())).unwrap();
    let mut cmd = util::trailwatch();
    cmd.arg("verify").arg(&c.archive);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 3, "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out}");
    assert!(out.contains("owned"), "{out}");
}

#[test]
fn a_backfill_digest_vouches_for_a_late_log_file_outside_the_chain() {
    use sha2::Digest as _;
    let c = copy();
    let digests = files(&c.archive, "CloudTrail-Digest");
    let model = digests.iter().find(|p| name(p).ends_with("20230710T020000Z.json.gz")).unwrap().clone();
    let account = name(&model).split('_').next().unwrap().to_string();
    let region = name(&model).split('_').nth(2).unwrap().to_string();
    let logs = files(&c.archive, &format!("/CloudTrail/{region}/"));
    let log_dir = logs.iter().find(|p| name(p).starts_with(&account)).unwrap().parent().unwrap().to_path_buf();
    let late = log_dir.join(format!("{account}_CloudTrail_{region}_20230710T0150Z_CCCCCCCCCCCCCCCC.json.gz"));
    let body = br#"{"Records":[]}"#;
    fs::write(&late, gz(body)).unwrap();
    let hash: String = sha2::Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
    let rel = |p: &Path| p.strip_prefix(&c.archive).unwrap().to_string_lossy().replace('\\', "/");
    let backfill = model.with_file_name(name(&model).replace(".json.gz", "_backfill.json.gz"));
    let doc = serde_json::json!({
        "awsAccountId": account, "digestStartTime": "2023-07-10T01:00:00Z", "digestEndTime": "2023-07-10T02:00:00Z",
        "digestS3Bucket": "trail-bucket", "digestS3Object": rel(&backfill),
        "digestPublicKeyFingerprint": synth::TEST_KEY_FINGERPRINT, "digestSignatureAlgorithm": "SHA256withRSA",
        "logFiles": [{"s3Bucket": "trail-bucket", "s3Object": rel(&late), "hashValue": hash, "hashAlgorithm": "SHA-256"}]
    });
    fs::write(&backfill, gz(doc.to_string().as_bytes())).unwrap();
    let (code, doc) = verify(&c, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(findings(&doc), []);
    assert_eq!(total(&doc, "backfill_digests"), 1);
    assert_eq!(total(&doc, "valid"), c.manifest.log_files + 1);
    assert_eq!(total(&doc, "signatures_unchecked"), 4 + 1, "the backfill's signature is in its metadata");
}
