//! `scan --series-out` and `trailwatch replay`: logs split into shards
//! anywhere, each scanned apart, and the series replayed merged, give the
//! report of one scan over all of them.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailwatch_synth::{self as synth, Config, Rng};

use crate::util;

/// Rules that exercise every part of a series: the CIS variants (many
/// rules, `!=` alternatives), a default value on every record, a
/// percentile over a field's values, an average, dimensions, a longer
/// alarm with missing data treated as breaching.
const RULES: &str = r#"
[[rule]]
name = "with-default"
pattern = '{ $.errorCode = "AccessDenied" }'
default_value = 0
[rule.alarm]
statistic = "Average"
threshold = 0.01
comparison = ">"
[[rule]]
name = "p90-max-results"
pattern = '{ $.requestParameters.maxResults > 0 }'
metric_value = "$.requestParameters.maxResults"
[rule.alarm]
statistic = "p90"
threshold = 50
period = "10m"
[[rule]]
name = "denied-by-region"
pattern = '{ $.errorCode = "*Denied*" }'
dimensions = { Region = "$.awsRegion" }
alarm_dimensions = { Region = "us-east-1" }
[[rule]]
name = "three-of-five"
pattern = '{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }'
[rule.alarm]
evaluation_periods = 5
datapoints_to_alarm = 3
treat_missing_data = "breaching"
"#;

/// A generated corpus with a damaged file and a file that is not a log.
fn corpus(dir: &Path, seed: u64) -> Vec<PathBuf> {
    let cfg = Config { seed, records: 5000, accounts: 2, regions: 2, ..Config::default() };
    synth::generate(&cfg, dir).unwrap();
    let mut files = synth::all_files(dir);
    files.sort();
    let victim = files.iter().find(|p| p.to_string_lossy().ends_with(".json.gz")).unwrap().clone();
    let bytes = fs::read(&victim).unwrap();
    fs::write(&victim, &bytes[..bytes.len() * 2 / 3]).unwrap();
    files
}

fn report_of(stdout: &str, stderr: &str) -> Value {
    let mut v: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}\n{stderr}"));
    // What differs by construction: run time and threads, and the note
    // that says the report was merged from shards.
    v.as_object_mut().unwrap().remove("timing");
    v["settings"].as_object_mut().unwrap().remove("threads");
    v["inputs"].as_object_mut().unwrap().remove("notes");
    let failures = v["inputs"]["failures"].as_array_mut().unwrap();
    failures.sort_by_key(|f| f["path"].to_string());
    v
}

fn rules_file(dir: &Path) -> PathBuf {
    util::write(dir, "rules.toml", RULES.as_bytes())
}

fn scan_args(rules: &Path) -> Vec<String> {
    let r = rules.display().to_string();
    ["--rules", "cis-all", "--rules", &r, "--samples", "0", "-q"].map(String::from).to_vec()
}

/// Scan `files` into `out` (a series file).
fn scan_shard(files: &[PathBuf], rules: &Path, out: &Path) {
    let mut c = util::trailwatch();
    c.arg("scan").args(scan_args(rules)).arg("--series-out").arg(out).args(files);
    let (code, _, err) = util::run(c);
    assert!([0, 1, 3, 4].contains(&code), "shard scan: exit {code}: {err}");
    assert!(out.exists());
}

/// `trailwatch scan -q --series-out out EXTRA input`: its exit status.
fn series_of(input: &Path, out: &Path, extra: &[&str]) -> i32 {
    let mut c = util::trailwatch();
    c.args(["scan", "-q", "--series-out"]).arg(out).args(extra).arg(input);
    util::run(c).0
}

fn replay(series: &[PathBuf], extra: &[&str]) -> (i32, String, String) {
    let mut c = util::trailwatch();
    c.arg("replay").arg("--format").arg("json").args(extra).args(series);
    util::run(c)
}

#[test]
fn shards_replayed_merged_give_the_report_of_one_scan() {
    for seed in [3u64, 1009, 4242] {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let files = corpus(&logs, seed);
        let rules = rules_file(dir.path());
        let mut whole = util::trailwatch();
        whole.arg("scan").arg("--format").arg("json").args(scan_args(&rules)).arg(&logs);
        let (code, out, err) = util::run(whole);
        assert_eq!(code, 3, "the damaged file is reported: {err}");
        let expected = report_of(&out, &err);
        assert!(expected["alarms"].as_array().unwrap().iter().any(|a| a["breaching_windows"].as_u64() > Some(0)));
        assert!(expected["inputs"]["failures"].as_array().unwrap().len() == 1);
        let examples = |a: &Value| a["unplaced"]["examples"].as_array().map_or(0, Vec::len);
        assert!(
            expected["alarms"].as_array().unwrap().iter().any(|a| examples(a) > 0),
            "events without a time are listed"
        );

        let mut rng = Rng::new(seed);
        for round in 0..3 {
            // Any partition: files shuffled and cut at random points.
            let mut shuffled = files.clone();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let shards = 1 + rng.below(5) as usize;
            let mut cuts: Vec<usize> = (0..shards - 1).map(|_| rng.below(shuffled.len() as u64) as usize).collect();
            cuts.sort();
            let mut series = Vec::new();
            let mut start = 0;
            for (k, end) in cuts.into_iter().chain([shuffled.len()]).enumerate() {
                let part = &shuffled[start..end.max(start)];
                start = end.max(start);
                if part.is_empty() {
                    continue;
                }
                let out = dir.path().join(format!("shard-{round}-{k}.series"));
                scan_shard(part, &rules, &out);
                series.push(out);
            }
            // Merged in any order.
            series.reverse();
            let (code, out, err) = replay(&series, &[]);
            assert_eq!(code, 3, "seed {seed} round {round}: {err}");
            let got = report_of(&out, &err);
            for (a, b) in got["alarms"].as_array().unwrap().iter().zip(expected["alarms"].as_array().unwrap()) {
                assert_eq!(a, b, "seed {seed}, {shards} shards: rule {}", b["name"]);
            }
            for (key, want) in expected["inputs"].as_object().unwrap() {
                assert_eq!(got["inputs"][key], *want, "seed {seed}, {shards} shards: inputs.{key}");
            }
            for (key, want) in expected.as_object().unwrap() {
                assert_eq!(got[key], *want, "seed {seed}, {shards} shards: {key}");
            }
            assert_eq!(got, expected, "seed {seed}, {shards} shards");
        }
    }
}

/// One scan's series, replayed alone, with the alarm changed at replay.
#[test]
fn the_alarm_can_change_at_replay_and_the_pattern_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let logs = util::testdata("archive");
    let series = dir.path().join("all.series");
    assert_eq!(series_of(&logs, &series, &["--samples", "0"]), 1);

    let (code, doc, _) =
        util::scan_json(&[logs.to_str().unwrap(), "--period", "1h", "--threshold", "3", "--samples", "0"]);
    let (rcode, out, err) = replay(std::slice::from_ref(&series), &["--period", "1h", "--threshold", "3"]);
    assert_eq!(rcode, code, "{err}");
    let got: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(got["alarms"], doc["alarms"]);
    assert_eq!(got["alarms"][0]["period_s"], 3600);

    // Another pattern under the same name: refused, naming the fingerprint.
    let (code, _, err) = replay(
        std::slice::from_ref(&series),
        &["--pattern", "{ $.errorCode = \"AccessDenied*\" }", "--name", "unauthorized-api-calls"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("fingerprint"), "{err}");
    // A percentile needs the values, which a Sum scan does not keep.
    let (code, _, err) = replay(std::slice::from_ref(&series), &["--statistic", "p90"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs every value"), "{err}");
}

#[test]
fn cut_overlapping_and_mismatched_series_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let logs = util::testdata("archive");
    let a = dir.path().join("a.series");
    series_of(&logs, &a, &[]);
    let text = fs::read_to_string(&a).unwrap();

    // Cut short: the end line is missing.
    let cut = util::write(dir.path(), "cut.series", text[..text.len() / 2].rsplit_once('\n').unwrap().0.as_bytes());
    let (code, _, err) = replay(&[cut], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("cut short") || err.contains("not JSON"), "{err}");
    // A line lost in the middle: the end line's count says so.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(3);
    let holed = util::write(dir.path(), "holed.series", (lines.join("\n") + "\n").as_bytes());
    let (code, _, err) = replay(&[holed], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("holed.series") && err.contains("lines are missing"), "{err}");

    // The same logs twice (or a folder and a file in it).
    let (code, _, err) = replay(&[a.clone(), a.clone()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("overlaps") && err.contains("counted twice"), "{err}");
    let b = dir.path().join("b.series");
    let one = logs.join("AWSLogs/598324417001/CloudTrail/eu-west-1/2023/07/10");
    series_of(&one, &b, &[]);
    let (code, _, err) = replay(&[a.clone(), b.clone()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("overlaps"), "{err}");

    // Shards scanned with another lag cannot be merged.
    let c_series = dir.path().join("c.series");
    series_of(&logs.join("AWSLogs/README.txt"), &c_series, &["--lag", "3m"]);
    let (code, _, err) = replay(&[b, c_series], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("same --lag"), "{err}");

    // Not a series at all.
    let other = util::write(dir.path(), "other.csv", b"a,b\n1,2\n");
    let (code, _, err) = replay(&[other], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no column `rule`"), "{err}");
}

const CIS: &str = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;

/// A CSV of minute rows (what a SQL query returns) is a series too: with
/// the rules given, it replays to the scan's windows and transitions.
#[test]
fn minute_rows_as_csv_replay_like_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let logs = util::testdata("archive");
    let series = dir.path().join("all.series");
    series_of(&logs, &series, &[]);
    let mut csv = String::from("rule,fingerprint,minute,count,sum,min,max,matches\n");
    for line in fs::read_to_string(&series).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["kind"] == "minute" {
            // As Athena prints timestamps and numbers.
            let minute = v["minute"].as_str().unwrap().replace('T', " ").replace('Z', ".000");
            csv += &format!(
                "{},\"{}\",{minute},{},{},{},{},{}\n",
                v["rule"].as_str().unwrap(),
                v["fingerprint"].as_str().unwrap(),
                v["count"],
                v["sum"],
                v["min"],
                v["max"],
                v["matches"]
            );
        }
    }
    let csv_path = util::write(dir.path(), "athena.csv", csv.as_bytes());
    let (code, out, err) =
        replay(std::slice::from_ref(&csv_path), &["--pattern", CIS, "--name", "unauthorized-api-calls"]);
    assert_eq!(code, 1, "{err}");
    let got: Value = serde_json::from_str(&out).unwrap();
    let (_, doc, _) = util::scan_json(&[logs.to_str().unwrap(), "--samples", "0"]);
    for key in ["windows", "transitions", "breaching_windows", "alarm_episodes", "minutes_in_alarm", "final_state"] {
        assert_eq!(got["alarms"][0][key], doc["alarms"][0][key], "{key}");
    }
    assert_eq!(got["alarms"][0]["datapoints"], doc["alarms"][0]["datapoints"]);
    let notes = got["inputs"]["notes"].to_string();
    assert!(notes.contains("SQL results"), "{notes}");
    // Without the rules, a CSV has no definition to replay.
    let (code, _, err) = replay(&[csv_path], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("carries no definition"), "{err}");
}

/// The Spark driver (contrib/spark) in local mode: files spread over
/// partitions and chunks, scanned by the binary on the executors, the
/// series replayed on the driver, give the report of one scan.
#[test]
#[cfg_attr(not(pyspark), ignore = "skipped: python3 with pyspark, or java, is absent (pip install pyspark)")]
fn the_spark_driver_gives_the_report_of_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    corpus(&logs, 77);
    let rules = rules_file(dir.path());
    for root in [util::testdata("archive"), logs] {
        let mut whole = util::trailwatch();
        whole.args(["scan", "--format", "json"]).args(scan_args(&rules)).arg(&root);
        let (code, out, err) = util::run(whole);
        let expected = report_of(&out, &err);
        let mut c = std::process::Command::new("python3");
        c.arg(util::root().join("contrib/spark/trailwatch_spark.py"))
            .args(["--master", "local[2]", "--partitions", "3", "--chunk", "7"])
            .arg("--binary")
            .arg(env!("CARGO_BIN_EXE_trailwatch"))
            .arg("--scan")
            .arg(scan_args(&rules).join(" "))
            .args(["--replay", "--format json"])
            .arg(&root);
        let (scode, sout, serr) = util::run(c);
        assert_eq!(scode, code, "{}: {serr}", root.display());
        let mut got = report_of(&sout, &serr);
        // The driver reads log files only: the scan also saw the folder's
        // other files (skipped as digests, Insights or not logs).
        for key in ["skipped", "skipped_files"] {
            got["inputs"][key] = expected["inputs"][key].clone();
        }
        assert_eq!(got["alarms"], expected["alarms"], "{}", root.display());
        assert_eq!(got, expected, "{}", root.display());
    }
}

/// The same events in two shards' logs (an account trail and an
/// organization trail side by side, say) are found by their eventIDs and
/// counted as one scan over both counts them; with `--dedup`, the report
/// says they could not be dropped.
#[test]
fn events_repeated_across_shards_are_found_by_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("archive");
    copy_tree(&util::testdata("archive"), &logs);
    let region = "AWSLogs/598324417001/CloudTrail/eu-west-1/2023/07/10";
    // The copy sorts before and after the archive (`archive-copy` after it
    // by path components, before it as text): examples are kept in path
    // order whichever shard is added first.
    let (a, b) = (dir.path().join("a.series"), dir.path().join("b.series"));
    for name in ["0-org-trail", "org-trail", "archive-copy"] {
        let copy = dir.path().join(name);
        copy_tree(&logs.join(region), &copy);
        let (code, whole, _) = util::scan_json(&["--samples", "0", logs.to_str().unwrap(), copy.to_str().unwrap()]);
        let copies = whole["inputs"]["duplicates"]["copies"].as_u64().unwrap();
        assert!(copies > 10, "the copied files publish: {copies}");
        series_of(&logs, &a, &["--samples", "0"]);
        series_of(&copy, &b, &["--samples", "0"]);
        for shards in [[b.clone(), a.clone()], [a.clone(), b.clone()]] {
            let (rcode, out, err) = replay(&shards, &[]);
            assert_eq!(rcode, code, "{err}");
            let got: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(got["inputs"]["duplicates"]["copies"], copies);
            assert_eq!(got["alarms"], whole["alarms"], "{name}");
            let notes = got["inputs"]["notes"].to_string();
            assert!(notes.contains(&format!("{copies} event(s) appear in more than one series file")), "{notes}");
        }
    }

    // With --dedup one scan drops them; shards cannot, and say so.
    let copy = dir.path().join("org-trail");
    series_of(&logs, &a, &["--samples", "0", "--dedup"]);
    series_of(&copy, &b, &["--samples", "0", "--dedup"]);
    let (_, out, err) = replay(&[a, b], &[]);
    let got: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let problem = got["inputs"]["duplicates"]["problem"].as_str().unwrap_or_default();
    assert!(problem.contains("--dedup could not drop them"), "{problem}");
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for f in fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        if f.file_type().unwrap().is_dir() {
            copy_tree(&f.path(), &to.join(f.file_name()));
        } else {
            fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
}
