//! `scan --manifest`: what was run, on what, with which rules.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::util;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_manifest_lists_every_input_with_its_sha256_and_the_rules_as_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.json");
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args([
        "scan",
        "testdata/archive",
        "--rules",
        "cis",
        "--threshold",
        "2",
        "--manifest",
    ]);
    cmd.arg(&path);
    let (code, _, err) = util::run(cmd);
    assert_eq!(code, 1, "{err}");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(m["trailwatch"], env!("CARGO_PKG_VERSION"));
    let command: Vec<&str> = m["command"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(&command[1..6], ["scan", "testdata/archive", "--rules", "cis", "--threshold"]);
    // Every file under the path, digests and all, each hashed as on disk.
    let inputs = m["inputs"].as_array().unwrap();
    let mut on_disk = 0;
    for d in walk(&util::testdata("archive")) {
        on_disk += 1;
        let rel = d.strip_prefix(util::root()).unwrap().display().to_string();
        let entry = inputs.iter().find(|i| i["path"] == rel.as_str()).unwrap_or_else(|| panic!("{rel} not listed"));
        let bytes = std::fs::read(&d).unwrap();
        assert_eq!(entry["sha256"].as_str(), Some(hex(&Sha256::digest(&bytes)).as_str()), "{rel}");
        assert_eq!(entry["bytes"].as_u64(), Some(bytes.len() as u64), "{rel}");
    }
    assert_eq!(inputs.len(), on_disk);
    assert_eq!(m["bytes"].as_u64(), Some(inputs.iter().map(|i| i["bytes"].as_u64().unwrap()).sum()));
    // The rules with their texts and alarm settings as they ran.
    let rules = m["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 15);
    assert!(rules.iter().all(|r| r["threshold"] == 2.0 && r["statistic"] == "Sum" && r["pattern"].is_string()));
    assert_eq!(m["records"], 2400);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn standard_input_is_read_once_and_said_not_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.json");
    let log = util::testdata(
        "archive/AWSLogs/598324417001/CloudTrail/eu-west-1/2023/07/10/598324417001_CloudTrail_eu-west-1_20230710T0006Z_A6VvojKGFYjl3iVx.json.gz",
    );
    let mut cmd = util::trailwatch();
    cmd.args(["scan", "-", "--format", "json", "--manifest"]).arg(&path);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(log).unwrap()).unwrap();
    let out = child.wait_with_output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["inputs"]["records"].as_u64().unwrap() > 0, "the scan read standard input");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(m["not_hashed"], serde_json::json!(["-"]));
    assert_eq!(m["inputs"], serde_json::json!([]));
}
