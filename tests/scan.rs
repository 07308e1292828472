//! `trailwatch scan` on real files: the committed sample archive, generated
//! corpora with a known answer, and the shared corpus of real CloudTrail
//! records.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailwatch_synth::{self as synth, Config, Manifest};

use crate::util::{self, scan_json};

/// Windows of the first alarm as start → (value, matches).
fn windows(doc: &Value) -> BTreeMap<String, (f64, u64)> {
    doc["alarms"][0]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (w["start"].as_str().unwrap().to_string(), (w["value"].as_f64().unwrap(), w["matches"].as_u64().unwrap()))
        })
        .collect()
}

fn check_against_manifest(doc: &Value, m: &Manifest) {
    let inputs = &doc["inputs"];
    assert_eq!(inputs["files"], m.log_files, "{inputs}");
    assert_eq!(inputs["files_failed"], 0);
    assert_eq!(inputs["records"], m.records);
    assert_eq!(inputs["skipped"]["digest"], m.digest_files);
    assert_eq!(inputs["skipped"]["insight"], m.insight_files);
    assert_eq!(inputs["skipped"]["not_trail_log"], m.other_files);
    let a = &doc["alarms"][0];
    assert_eq!(a["matches"], m.matches);
    let unplaced =
        a["unplaced"]["missing_time"].as_u64().unwrap() + a["unplaced"]["unparseable_time"].as_u64().unwrap();
    assert_eq!(unplaced, m.matches_without_time);
    let want: BTreeMap<String, (f64, u64)> = m.windows_5m.iter().map(|(k, v)| (k.clone(), (*v as f64, *v))).collect();
    assert_eq!(windows(doc), want);
    for w in a["windows"].as_array().unwrap() {
        assert_eq!(w["breaching"], true, "Sum >= 1 breaches in every window with a match");
        let end = trailwatch::record::time::parse_event_time(w["end"].as_str().unwrap()).unwrap();
        let start = trailwatch::record::time::parse_event_time(w["start"].as_str().unwrap()).unwrap();
        assert_eq!(end - start, 300_000);
        assert_eq!(start % 300_000, 0, "clock-aligned");
    }
}

#[test]
fn sample_archive_matches_its_manifest() {
    let dir = util::testdata("archive");
    let m = synth::read_manifest(&dir).unwrap();
    let (code, doc, stderr) = scan_json(&[dir.to_str().unwrap()]);
    assert_eq!(code, 1, "a breaching window exits 1: {stderr}");
    check_against_manifest(&doc, &m);
}

#[test]
fn sample_archive_is_what_the_generator_writes() {
    // The committed sample is exactly the generator's output for its seed.
    let dir = tempfile::tempdir().unwrap();
    let m = synth::generate(&Config::default(), dir.path()).unwrap();
    let committed = util::testdata("archive");
    assert_eq!(m, synth::read_manifest(&committed).unwrap());
    let ours = synth::log_files(dir.path());
    let theirs = synth::log_files(&committed);
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a.strip_prefix(dir.path()).unwrap(), b.strip_prefix(&committed).unwrap());
        assert_eq!(fs::read(a).unwrap(), fs::read(b).unwrap(), "{}", b.display());
    }
}

#[test]
fn generated_corpus_known_answer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg =
        Config { seed: 42, records: 20_000, accounts: 3, regions: 3, duration_ms: 12 * 3_600_000, ..Config::default() };
    let m = synth::generate(&cfg, dir.path()).unwrap();
    let (code, doc, _) = scan_json(&[dir.path().to_str().unwrap(), "--threads", "3"]);
    assert_eq!(code, 1);
    check_against_manifest(&doc, &m);
}

/// Strip the parts that legitimately vary between runs.
fn stable(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("timing");
    doc["settings"].as_object_mut().unwrap().remove("threads");
    doc
}

#[test]
fn output_does_not_depend_on_threads_or_argument_order() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { seed: 7, records: 4000, ..Config::default() };
    synth::generate(&cfg, dir.path()).unwrap();
    let mut files: Vec<PathBuf> = synth::log_files(dir.path());
    let (_, reference, _) = scan_json(&[dir.path().to_str().unwrap(), "--threads", "1", "--samples", "3"]);
    let reference = stable(reference);
    for threads in ["2", "5"] {
        let (_, doc, _) = scan_json(&[dir.path().to_str().unwrap(), "--threads", threads, "--samples", "3"]);
        assert_eq!(stable(doc)["alarms"], reference["alarms"], "threads {threads}");
    }
    // Every log file given on the command line, in reverse order.
    files.reverse();
    let mut args: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    args.extend(["--threads", "4", "--samples", "3"]);
    let (_, doc, _) = scan_json(&args);
    let doc = stable(doc);
    assert_eq!(doc["alarms"], reference["alarms"]);
    assert_eq!(doc["inputs"]["records"], reference["inputs"]["records"]);
}

/// Expected windows per source, read from `../shared/corpus/SOURCES.md`
/// ("5-min Sum (non-zero): 11:50 → 32, 12:00 → 22, ..." or "5-min Sum:
/// 2018-11-28T23:00 → 5", possibly wrapped over several lines). Times given
/// as HH:MM take the date of the section's first eventTime.
fn expected_from_sources(text: &str) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for section in text.split("\n## ").skip(1) {
        let Some(source) = section.split_whitespace().nth(1) else { continue };
        let Some(at) = section.find("5-min Sum") else { continue };
        let date = section.lines().filter(|l| l.contains("eventTime")).find_map(first_date);
        let after = &section[at..];
        let body = &after[after.find(':').map_or(0, |k| k + 1)..];
        // The list runs to the end of its bullet.
        let end = body.find("\n* ").or_else(|| body.find("\n\n")).unwrap_or(body.len());
        let mut wins = BTreeMap::new();
        for item in body[..end].split(',') {
            let Some((when, n)) = item.split_once('→') else { continue };
            let when = when.split_whitespace().last().unwrap_or_default();
            let n: f64 = n.split_whitespace().next().unwrap().trim_end_matches('.').parse().unwrap();
            let start = if when.len() == 5 {
                format!("{}T{when}:00Z", date.as_ref().expect("a date in the section"))
            } else {
                format!("{when}:00Z")
            };
            wins.insert(start, n);
        }
        if !wins.is_empty() {
            out.insert(source.to_string(), wins);
        }
    }
    out
}

/// The first `YYYY-MM-DD` in a line.
fn first_date(line: &str) -> Option<String> {
    let b = line.as_bytes();
    (0..b.len().saturating_sub(9)).find_map(|i| {
        let d = &b[i..i + 10];
        let shape = d.iter().enumerate().all(|(k, c)| if k == 4 || k == 7 { *c == b'-' } else { c.is_ascii_digit() });
        shape.then(|| line[i..i + 10].to_string())
    })
}

#[test]
#[cfg_attr(not(shared_corpus), ignore = "skipped: ../shared/corpus is absent")]
fn real_records_give_the_windows_listed_in_sources_md() {
    let corpus = util::shared_corpus();
    let sources = fs::read_to_string(corpus.join("SOURCES.md")).unwrap();
    let expected = expected_from_sources(&sources);
    assert!(expected.len() >= 3, "parsed {expected:?}");
    for (source, want) in &expected {
        let dir: PathBuf = corpus.join(source);
        assert!(dir.is_dir(), "{}", dir.display());
        let (code, doc, stderr) = scan_json(&[dir.to_str().unwrap()]);
        assert_eq!(code, 1, "{source}: {stderr}");
        let got: BTreeMap<String, f64> = windows(&doc).into_iter().map(|(k, (v, _))| (k, v)).collect();
        assert_eq!(&got, want, "{source}");
    }
}

#[test]
#[cfg_attr(not(shared_corpus), ignore = "skipped: ../shared/corpus is absent")]
fn whole_shared_corpus_accounts_for_every_record() {
    let corpus = util::shared_corpus();
    let (_, doc, _) = scan_json(&[corpus.to_str().unwrap(), "--samples", "0"]);
    // SOURCES.md totals: 3,796 records, 153 matches, 240 objects; the
    // panther fixtures have 7 matching records without a strict eventTime.
    assert_eq!(doc["inputs"]["records"], 3796);
    assert_eq!(doc["inputs"]["files"], 240);
    assert_eq!(doc["inputs"]["files_failed"], 0);
    let a = &doc["alarms"][0];
    assert_eq!(a["matches"], 153);
    assert_eq!(
        a["unplaced"]["missing_time"].as_u64().unwrap() + a["unplaced"]["unparseable_time"].as_u64().unwrap(),
        7
    );
}

#[test]
fn exit_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { records: 200, match_rate: 0.0, near_miss_rate: 0.05, oddities: false, ..Config::default() };
    synth::generate(&cfg, dir.path()).unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, doc, _) = scan_json(&[path]);
    assert_eq!(code, 0, "near misses never match");
    assert_eq!(doc["alarms"][0]["matches"], 0);
    let mut cmd = util::trailwatch();
    cmd.args(["scan", path, "--pattern", "{ $.a == 1 }"]);
    let (code, stdout, stderr) = util::run(cmd);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(stderr.contains('^'), "{stderr}");
    let mut cmd = util::trailwatch();
    cmd.args(["scan", path, "--period", "30"]);
    assert_eq!(util::run(cmd).0, 2);
    // A damaged file among good ones: exit 3, good data still reported.
    let victim = synth::log_files(dir.path()).into_iter().next().unwrap();
    let bytes = fs::read(&victim).unwrap();
    fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let (code, doc, stderr) = scan_json(&[path]);
    assert_eq!(code, 3);
    assert_eq!(doc["inputs"]["files_failed"], 1);
    assert!(stderr.contains("truncated"), "{stderr}");
    let mut cmd = util::trailwatch();
    cmd.args(["scan", path, "--strict", "--format", "json"]);
    let (code, stdout, _) = util::run(cmd);
    assert_eq!((code, stdout.as_str()), (3, ""), "--strict fails before any output");
}

#[test]
fn csv_and_ndjson() {
    let dir = util::testdata("archive");
    let mut cmd = util::trailwatch();
    cmd.args(["scan", dir.to_str().unwrap(), "--format", "csv"]);
    let (_, csv, _) = util::run(cmd);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("alarm,start,end,value,matches,datapoints,breaching"));
    let m = synth::read_manifest(&dir).unwrap();
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), m.windows_5m.len());
    // Each row is the JSON report's window, times in RFC 3339.
    let mut cmd = util::trailwatch();
    cmd.args(["scan", dir.to_str().unwrap(), "--format", "json"]);
    let (_, json, _) = util::run(cmd);
    let doc: Value = serde_json::from_str(&json).unwrap();
    let want: Vec<String> = doc["alarms"][0]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let field = |k: &str| match &w[k] {
                Value::Number(n) => n.as_f64().unwrap().to_string(),
                v => v.to_string().trim_matches('"').to_string(),
            };
            let fields = ["start", "end", "value", "matches", "datapoints", "breaching"].map(field);
            format!("unauthorized-api-calls,{}", fields.join(","))
        })
        .collect();
    assert_eq!(rows, want);
    assert!(rows[0].starts_with("unauthorized-api-calls,2023-07-10T"), "{}", rows[0]);
    let mut cmd = util::trailwatch();
    cmd.args(["scan", dir.to_str().unwrap(), "--format", "ndjson"]);
    let (_, nd, _) = util::run(cmd);
    let kinds: Vec<String> =
        nd.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "window").count(), m.windows_5m.len());
    assert!(kinds.iter().any(|k| k == "transition"));
    assert_eq!(kinds.last().map(String::as_str), Some("summary"));
}

#[test]
fn time_bounds_and_lag() {
    let dir = util::testdata("archive");
    let m = synth::read_manifest(&dir).unwrap();
    let path = dir.to_str().unwrap();
    // --from/--to keep the windows inside the bounds.
    let (_, doc, _) = scan_json(&[path, "--from", "2023-07-10T01:00:00Z", "--to", "2023-07-10T02:00:00Z"]);
    let want: BTreeMap<String, (f64, u64)> = m
        .windows_5m
        .iter()
        .filter(|(k, _)| k.as_str() >= "2023-07-10T01:00:00Z" && k.as_str() < "2023-07-10T02:00:00Z")
        .map(|(k, v)| (k.clone(), (*v as f64, *v)))
        .collect();
    assert_eq!(windows(&doc), want);
    assert!(doc["alarms"][0]["outside_range"].as_u64().unwrap() > 0);
    // --lag 5m moves every window by one period.
    let (_, doc, _) = scan_json(&[path, "--lag", "5m"]);
    let shifted: Vec<String> = windows(&doc).keys().cloned().collect();
    let moved: Vec<String> = m
        .windows_5m
        .keys()
        .map(|k| {
            let t = trailwatch::record::time::parse_event_time(k).unwrap() + 300_000;
            trailwatch::record::time::format_rfc3339(t)
        })
        .collect();
    assert_eq!(shifted, moved);
}

fn write_gz(path: &Path, body: &str) {
    use std::io::Write;
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(body.as_bytes()).unwrap();
    fs::write(path, e.finish().unwrap()).unwrap();
}

#[test]
fn hostile_fields_are_escaped_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let rec = r#"{"eventTime":"2023-07-10T11:50:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject\u001b]0;pwned\u0007","errorCode":"AccessDenied","userIdentity":{"arn":"arn:aws:iam::1:user/\u001b[2Jmallory\u202e"},"sourceIPAddress":"1.2.3.4"}"#;
    write_gz(
        &dir.path().join(
            "AWSLogs/1/CloudTrail/us-east-1/2023/07/10/1_CloudTrail_us-east-1_20230710T1155Z_aaaaaaaaaaaaaaaa.json.gz",
        ),
        &format!("{{\"Records\":[{rec}]}}"),
    );
    let mut cmd = util::trailwatch();
    cmd.args(["scan", dir.path().to_str().unwrap(), "--color", "always"]);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 1);
    assert!(out.contains("\\x1b[2Jmallory\\u{202e}"), "{out}");
    assert!(out.contains("GetObject\\x1b]0;pwned\\x07"), "{out}");
    // Colour codes are ours only: every ESC starts an SGR sequence.
    for (i, _) in out.match_indices('\u{1b}') {
        assert!(
            out[i..].starts_with("\u{1b}[")
                && out[i + 2..].chars().take_while(|c| *c != 'm').all(|c| c.is_ascii_digit() || c == ';')
        );
    }
    let mut cmd = util::trailwatch();
    cmd.args(["scan", dir.path().to_str().unwrap()]);
    let (_, plain, _) = util::run(cmd);
    assert!(!plain.contains('\u{1b}'), "no colour when not on a terminal / NO_COLOR");
}

mod property {
    //! Property: the report does not depend on the thread count or on the
    //! order in which the inputs are named.

    use std::path::PathBuf;
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use serde_json::Value;
    use trailwatch::report::model;
    use trailwatch::rules::{pack, Rule};
    use trailwatch::scan::{scan, ScanOptions};
    use trailwatch_synth::{self as synth, Config};

    struct Fixture {
        _dir: tempfile::TempDir,
        files: Vec<PathBuf>,
        reference: Value,
    }

    fn rules() -> Vec<Rule> {
        let mut r = vec![Rule::cis_unauthorized_api_calls()];
        r.extend(pack::cis().select("root-usage").unwrap().rules);
        r
    }

    fn report(paths: &[PathBuf], threads: usize) -> Value {
        let rules = rules();
        let opts = ScanOptions { threads, samples: 2, ..ScanOptions::default() };
        let result = scan(paths, &rules, &opts);
        let replays = trailwatch::replay::replay(&result, &rules, &opts);
        let doc = model::build(&result, &replays, &opts);
        let mut v = serde_json::to_value(doc).unwrap();
        v.as_object_mut().unwrap().remove("timing");
        v["settings"].as_object_mut().unwrap().remove("threads");
        v
    }

    fn fixture() -> &'static Fixture {
        static F: OnceLock<Fixture> = OnceLock::new();
        F.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let cfg = Config { seed: 99, records: 3000, ..Config::default() };
            synth::generate(&cfg, dir.path()).unwrap();
            let files = synth::log_files(dir.path());
            let reference = report(&[dir.path().to_path_buf()], 1);
            Fixture { _dir: dir, files, reference }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        #[test]
        fn report_is_independent_of_threads_and_order(
            threads in 1usize..6,
            order in Just(fixture().files.clone()).prop_shuffle(),
        ) {
            let f = fixture();
            let got = report(&order, threads);
            prop_assert_eq!(&got["alarms"], &f.reference["alarms"]);
            prop_assert_eq!(&got["inputs"]["records"], &f.reference["inputs"]["records"]);
            prop_assert_eq!(&got["inputs"]["files"], &f.reference["inputs"]["files"]);
        }
    }
}

/// The README's example is the real output of its first command (the
/// timing line aside, which varies from run to run).
#[test]
fn the_readme_shows_what_scan_prints() {
    let block = util::readme_block("Real output of the first command:");
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(["scan", "testdata/archive"]);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 1);
    let lines =
        |t: &str| -> Vec<String> { t.lines().filter(|l| !l.starts_with("time ")).map(str::to_string).collect() };
    assert_eq!(lines(&block), lines(&out));
}
