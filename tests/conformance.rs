//! The pattern conformance suite: TestMetricFilter request/response pairs in
//! `tests/conformance/*.json`, written from documented and observed
//! CloudWatch behaviour (authoring source: `tests/conformance/cases.py`).

use std::fs;

use serde_json::Value;
use trailwatch::testfilter::{self, TestRequest, TestResponse};

use crate::util;

struct Case {
    file: String,
    id: String,
    request: TestRequest,
    expect: Result<TestResponse, Option<usize>>,
}

fn load() -> Vec<Case> {
    let dir = util::root().join("tests/conformance");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("tests/conformance")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).expect("read case file");
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for c in doc["cases"].as_array().expect("cases array") {
            let id = c["id"].as_str().expect("id").to_string();
            let request: TestRequest = serde_json::from_value(c["request"].clone())
                .unwrap_or_else(|e| panic!("{file} {id}: bad request: {e}"));
            let expect = if let Some(err) = c.get("error") {
                Err(err.get("column").and_then(Value::as_u64).map(|n| n as usize))
            } else {
                Ok(serde_json::from_value(c["response"].clone())
                    .unwrap_or_else(|e| panic!("{file} {id}: bad response: {e}")))
            };
            cases.push(Case { file: file.clone(), id, request, expect });
        }
    }
    cases
}

#[test]
fn suite_is_large_enough() {
    let n = load().len();
    assert!(n >= 200, "the conformance suite has only {n} cases");
}

#[test]
fn every_case_passes() {
    let mut failures = Vec::new();
    let cases = load();
    for c in &cases {
        let got = testfilter::run(&c.request);
        let problem = match (&c.expect, got) {
            (Ok(want), Ok(got)) if *want == got => None,
            (Ok(want), Ok(got)) => Some(format!(
                "want {}\n      got  {}",
                serde_json::to_string(want).unwrap(),
                serde_json::to_string(&got).unwrap()
            )),
            (Ok(_), Err(e)) => Some(format!("unexpected rejection:\n{e}")),
            (Err(_), Ok(got)) => Some(format!("should be rejected, got {}", serde_json::to_string(&got).unwrap())),
            (Err(Some(col)), Err(e)) if e.column() != *col => {
                Some(format!("rejected at column {} instead of {col}:\n{e}", e.column()))
            }
            (Err(_), Err(_)) => None,
        };
        if let Some(p) = problem {
            failures.push(format!("{} {} pattern {:?}\n      {p}", c.file, c.id, c.request.filter_pattern));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} conformance cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The binary's `--request` form gives the same responses as the library.
#[test]
fn binary_request_form_agrees() {
    let cases = load();
    let mut seen_files = std::collections::BTreeSet::new();
    for c in cases.iter().filter(|c| c.expect.is_ok()) {
        if !seen_files.insert(c.file.clone()) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let req = dir.path().join("req.json");
        fs::write(&req, serde_json::to_string(&c.request).unwrap()).unwrap();
        let mut cmd = util::trailwatch();
        cmd.arg("test-pattern").arg("--request").arg(&req);
        let (code, stdout, stderr) = util::run(cmd);
        let want = c.expect.as_ref().unwrap();
        assert!(code == 0 || code == 1, "{} {}: exit {code}: {stderr}", c.file, c.id);
        let got: TestResponse = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{}: {e}: {stdout}", c.id));
        assert_eq!(&got, want, "{} {}", c.file, c.id);
    }
}

/// An invalid pattern: exit 2, the caret on stderr, nothing on stdout.
#[test]
fn binary_rejects_with_caret() {
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("req.json");
    fs::write(&req, r#"{"filterPattern":"{ $.a == 1 }","logEventMessages":["{}"]}"#).unwrap();
    let mut cmd = util::trailwatch();
    cmd.arg("test-pattern").arg("--request").arg(&req);
    let (code, stdout, stderr) = util::run(cmd);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("column 7"), "{stderr}");
    assert!(stderr.contains("{ $.a == 1 }\n        ^^"), "{stderr}");
}
