//! `scan --events`, `--events-out`, `--group-by` and contributors per
//! window and episode: the records behind an alarm, counted exactly
//! against the generator's known answer, and golden files for each form.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use trailwatch_synth::{self as synth, Config};

use crate::util;

fn scan_to(dir: &Path, out: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).arg("scan").args(args).arg("--events-out").arg(dir.join(out));
    util::run(cmd)
}

fn ndjson(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn every_matching_record_is_written_once_with_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { seed: 23, records: 9000, ..Config::default() };
    let m = synth::generate(&cfg, dir.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let archive = dir.path().to_str().unwrap();
    let (code, _, err) = scan_to(out.path(), "e.ndjson", &[archive]);
    assert_eq!(code, 1, "{err}");
    let rows = ndjson(&out.path().join("e.ndjson"));
    assert_eq!(rows.len() as u64, m.matches, "one row per matching record");
    let unplaced: Vec<&Value> = rows.iter().filter(|r| r["window_start"].is_null()).collect();
    assert_eq!(unplaced.len() as u64, m.matches_without_time);
    assert!(unplaced.iter().all(|r| r["time"].is_null() && r["breaching"].is_null()));
    let mut per_window: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| !r["window_start"].is_null()) {
        assert_eq!(r["rule"], "unauthorized-api-calls");
        assert_eq!(r["breaching"], true, "every window with a match breaches Sum >= 1");
        let (start, time) = (r["window_start"].as_str().unwrap(), r["time"].as_str().unwrap());
        assert!(start <= time && time < r["window_end"].as_str().unwrap(), "{r}");
        *per_window.entry(start.to_string()).or_default() += 1;
    }
    assert_eq!(per_window, m.windows_5m);
    // In order: unplaced first, then by time.
    let times: Vec<&str> = rows.iter().filter_map(|r| r["time"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn contributors_per_window_episode_and_run_match_the_known_answer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { seed: 29, records: 9000, ..Config::default() };
    let m = synth::generate(&cfg, dir.path()).unwrap();
    let archive = dir.path().to_str().unwrap();
    let (code, doc, err) = util::scan_json(&[archive, "--contributors", "100000"]);
    assert_eq!(code, 1, "{err}");
    let a = &doc["alarms"][0];
    let counts = |c: &Value, field: &str| -> BTreeMap<String, u64> {
        let f = c["by_field"].as_array().unwrap().iter().find(|f| f["field"] == field).unwrap();
        f["top"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["value"].as_str().unwrap().to_string(), v["records"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(counts(&a["contributors"], "eventName"), m.matches_by_event_name, "whole run");
    let windows = a["windows"].as_array().unwrap();
    assert_eq!(windows.len(), m.source_ips_5m.len());
    for w in windows {
        let start = w["start"].as_str().unwrap();
        assert_eq!(counts(&w["contributors"], "sourceIPAddress"), m.source_ips_5m[start], "window {start}");
        assert_eq!(w["contributors"]["records"], w["matches"]);
    }
    // An episode's records: those of the windows from one period before it
    // began to its end.
    let episodes = a["episodes"].as_array().unwrap();
    assert_eq!(episodes.len() as u64, a["alarm_episodes"].as_u64().unwrap());
    for e in episodes {
        let start = e["start"].as_str().unwrap();
        let from = chrono::DateTime::parse_from_rfc3339(start).unwrap() - chrono::Duration::minutes(5);
        let end = e["end"].as_str().map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap());
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for (w, ips) in &m.source_ips_5m {
            let ws = chrono::DateTime::parse_from_rfc3339(w).unwrap();
            if ws + chrono::Duration::minutes(5) > from && end.is_none_or(|end| ws < end) {
                for (ip, n) in ips {
                    *want.entry(ip.clone()).or_default() += n;
                }
            }
        }
        assert_eq!(counts(&e["contributors"], "sourceIPAddress"), want, "episode from {start}");
        assert_eq!(e["matches"].as_u64().unwrap(), want.values().sum::<u64>());
    }
    // The same counts as CSV.
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("c.csv");
    let mut cmd = util::trailwatch();
    cmd.arg("scan").arg(archive).args(["--contributors", "100000", "--contributors-out"]).arg(&csv_path);
    let (code, _, err) = util::run(cmd);
    assert_eq!(code, 1, "{err}");
    let rows = csv_rows(&std::fs::read_to_string(&csv_path).unwrap());
    assert_eq!(rows[0].join(","), "rule,scope,start,end,field,value,records,first_seen,last_seen");
    let mut by_window: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for r in rows[1..].iter().filter(|r| r[1] == "window" && r[4] == "sourceIPAddress") {
        by_window.entry(r[2].clone()).or_default().insert(r[5].clone(), r[6].parse().unwrap());
    }
    assert_eq!(by_window, m.source_ips_5m);
    let run: BTreeMap<String, u64> = rows[1..]
        .iter()
        .filter(|r| r[1] == "run" && r[4] == "eventName")
        .map(|r| (r[5].clone(), r[6].parse().unwrap()))
        .collect();
    assert_eq!(run, m.matches_by_event_name);
    let episodes = rows[1..].iter().filter(|r| r[1] == "episode" && r[4] == "awsRegion").map(|r| &r[2]);
    assert_eq!(episodes.collect::<std::collections::BTreeSet<_>>().len(), a["episodes"].as_array().unwrap().len());
}

#[test]
fn events_are_bounded_per_window_and_the_rest_counted() {
    let (code, doc, err) =
        util::scan_json(&[util::testdata("archive").to_str().unwrap(), "--events", "--max-events", "2"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(doc["settings"]["events"], "windows");
    let windows = doc["alarms"][0]["windows"].as_array().unwrap();
    let crowded = windows.iter().find(|w| w["matches"] == 8).expect("a window with 8 matches");
    let events = crowded["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["errorMessage"].is_string() && e["userAgent"].is_string()));
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(["scan", "testdata/archive", "--events", "--max-events", "2"]);
    let (_, text, _) = util::run(cmd);
    assert!(text.contains("      … and 6 more\n"), "{text}");
}

/// Golden files: regenerate with `TRAILWATCH_BLESS=1 cargo test --release --test tests events::golden`.
#[test]
fn golden_outputs_on_the_sample_archive() {
    let dir = tempfile::tempdir().unwrap();
    let group = "$.userIdentity.sessionContext.sessionIssuer.arn";
    let (code, _, err) = scan_to(dir.path(), "events.ndjson", &["testdata/archive", "--group-by", group]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = scan_to(dir.path(), "events.csv", &["testdata/archive", "--group-by", group]);
    assert_eq!(code, 1, "{err}");
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args([
        "scan",
        "testdata/archive",
        "--events",
        "episodes",
        "--max-events",
        "3",
        "--contributors",
        "3",
        "--group-by",
        group,
    ]);
    let (code, text, err) = util::run(cmd);
    assert_eq!(code, 1, "{err}");
    // The timing line varies from run to run.
    let text: String = text.lines().filter(|l| !l.starts_with("time ")).map(|l| format!("{l}\n")).collect();
    let got = [
        ("events.ndjson", std::fs::read_to_string(dir.path().join("events.ndjson")).unwrap()),
        ("events.csv", std::fs::read_to_string(dir.path().join("events.csv")).unwrap()),
        ("episodes.txt", text),
    ];
    for (name, body) in got {
        let golden = util::root().join("tests/golden").join(name);
        if std::env::var_os("TRAILWATCH_BLESS").is_some() {
            std::fs::write(&golden, &body).unwrap();
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
        assert!(body == want, "{name} differs from {}:\n{body}", golden.display());
    }
}

#[test]
fn the_csv_holds_what_the_ndjson_holds() {
    let dir = tempfile::tempdir().unwrap();
    for out in ["e.ndjson", "e.csv"] {
        let (code, _, err) = scan_to(dir.path(), out, &["testdata/archive", "--rules", "cis", "--full"]);
        assert_eq!(code, 1, "{err}");
    }
    let rows = ndjson(&dir.path().join("e.ndjson"));
    let csv = std::fs::read_to_string(dir.path().join("e.csv")).unwrap();
    let mut reader = csv_rows(&csv);
    let header = reader.remove(0);
    assert_eq!(reader.len(), rows.len());
    for (cells, row) in reader.iter().zip(&rows) {
        assert_eq!(cells.len(), header.len());
        for (name, cell) in header.iter().zip(cells) {
            if name == "record" {
                assert_eq!(serde_json::from_str::<Value>(cell).unwrap(), row["record"]);
                continue;
            }
            let want = match &row[name.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            // A cell a spreadsheet would run as a formula starts with `'`.
            let guarded = cell.strip_prefix('\'').filter(|c| c.starts_with(['=', '+', '-', '@', '\t', '\r']));
            assert_eq!(guarded.unwrap_or(cell), want, "{name}");
        }
    }
    // The whole record as read, in both.
    assert!(rows.iter().all(|r| r["record"]["eventID"] == r["eventID"]));
}

/// RFC 4180 rows (quoted cells may hold commas, quotes and line breaks).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

/// A log file whose fields are hostile: terminal escapes, bidi overrides,
/// a spreadsheet formula, markup, a 100 KB string.
pub fn hostile_archive(dir: &Path) -> std::path::PathBuf {
    let big = "A".repeat(100_000);
    let record = serde_json::json!({
        "eventVersion": "1.08",
        "eventTime": "2023-07-10T11:50:01Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "Run\u{1b}[2J\u{1b}]0;owned\u{7}Instances",
        "errorCode": "Client.UnauthorizedOperation",
        "errorMessage": format!("evil\u{202e}exe.txt {big}"),
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/\u{1b}[31mred", "accountId": "111122223333"},
        "sourceIPAddress": "@SUM(1+1)*cmd|' /C calc'!A0",
        "userAgent": "=cmd|' /C calc'!A0",
        "requestParameters": {"name": "<script>alert(1)</script>"},
        "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333",
        "eventID": "00000000-0000-4000-8000-000000000001"
    });
    let body = serde_json::json!({ "Records": [record] }).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, body.as_bytes()).unwrap();
    util::write(
        dir,
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1155Z_hostile.json.gz",
        &gz.finish().unwrap(),
    )
}

#[test]
fn hostile_field_values_are_inert_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    hostile_archive(dir.path());
    let archive = dir.path().to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut cmd = util::trailwatch();
    cmd.args(["scan", archive, "--events", "--full", "--contributors", "3", "--group-by", "$.requestParameters.name"]);
    let (code, text, err) = util::run(cmd);
    assert_eq!(code, 1, "{err}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'), "{text}");
    assert!(text.contains("Run\\x1b[2J\\x1b]0;owned\\x07Instances"), "{text}");
    assert!(text.contains("evil\\u{202e}exe.txt AAAA"));
    // The summary keeps 256 characters of a field; --full shows it all.
    assert!(text.lines().any(|l| l.contains("error ") && l.ends_with("AAAA…")), "{text}");
    assert!(text.contains(&format!("{}\"", "A".repeat(100_000))));
    for file in ["e.csv", "e.ndjson"] {
        let (code, _, err) = scan_to(out.path(), file, &[archive, "--full", "--group-by", "$.requestParameters.name"]);
        assert_eq!(code, 1, "{err}");
    }
    let csv = std::fs::read_to_string(out.path().join("e.csv")).unwrap();
    let rows = csv_rows(&csv);
    let cell = |name: &str| rows[1][rows[0].iter().position(|h| h == name).unwrap()].clone();
    assert_eq!(cell("userAgent"), "'=cmd|' /C calc'!A0");
    assert_eq!(cell("sourceIPAddress"), "'@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(cell("$.requestParameters.name"), "<script>alert(1)</script>");
    let row = &ndjson(&out.path().join("e.ndjson"))[0];
    assert_eq!(row["userAgent"], "=cmd|' /C calc'!A0", "NDJSON is data, kept as it is");
    assert_eq!(row["groups"]["$.requestParameters.name"], "<script>alert(1)</script>");
    assert_eq!(row["record"]["errorMessage"].as_str().unwrap().len(), 100_000 + "evil\u{202e}exe.txt ".len());
    assert_eq!(row["errorMessage"].as_str().unwrap().chars().count(), 256);
}

#[test]
fn the_readme_walk_through_shows_the_real_output() {
    let readme = std::fs::read_to_string(util::root().join("README.md")).unwrap();
    let section = &readme[readme.find("### Investigating an alarm").unwrap()..];
    let blocks: Vec<&str> = section.split("```text\n").skip(1).map(|b| &b[..b.find("```").unwrap()]).collect();
    let args: Vec<&str> = blocks[0].split_whitespace().collect();
    assert_eq!(&args[..3], ["trailwatch", "scan", "testdata/archive"]);
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(&args[1..]);
    let (code, out, err) = util::run(cmd);
    assert_eq!(code, 1, "{err}");
    let shown = blocks[1];
    let start = out.find("  ALARM EPISODES").expect("the episodes");
    assert!(out[start..].starts_with(shown), "README block is not the real output:\n{}", &out[start..]);
}
