//! `trailwatch sql`: the queries run on the real engines (DuckDB, PySpark in
//! local mode, and for Athena a Trino parse and its DuckDB transpilation
//! over a table with Athena's CloudTrail schema) return exactly
//! `scan --series-out`'s series for every rule that translates, and refuse
//! the others with the construct named.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailwatch::record::time::parse_event_time;
use trailwatch_synth::{self as synth, Config};

use crate::util;

/// Rules beyond the CIS pack that reach every translated construct: NOT
/// EXISTS, IS NULL (on an object, on a JSON column), `!=` (on a string
/// column and in a JSON column), `*` alone, IS FALSE, globs, keys that need
/// quoting, an array index, a match-all pattern, a decimal metric value.
const EXTRA: &str = r#"
[[rule]]
name = "invokedby-missing"
pattern = '{ $.userIdentity.invokedBy NOT EXISTS }'
[[rule]]
name = "response-null"
pattern = '{ $.responseElements IS NULL }'
[[rule]]
name = "response-key-null"
pattern = '{ $.responseElements.ConsoleLogin IS NULL || $.requestParameters.bucketName NOT EXISTS }'
[[rule]]
name = "not-denied"
pattern = '{ $.errorCode != "AccessDenied" }'
[[rule]]
name = "bucket-any"
pattern = '{ $.requestParameters.bucketName = "*" }'
[[rule]]
name = "readonly-false"
pattern = '{ $.readOnly IS FALSE }'
[[rule]]
name = "mfa-not-yes"
pattern = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
[[rule]]
name = "issuer-glob"
pattern = '{ $.userIdentity.sessionContext.sessionIssuer.arn = "arn:*:role/*" }'
[[rule]]
name = "name-glob"
pattern = '{ $.eventName = "Get*Polic*" || $.eventName = "Describe*s" || $.eventName = "*_*" }'
[[rule]]
name = "quoted-key"
pattern = "{ $.['userIdentity'].type = \"Root\" }"
[[rule]]
name = "everything"
pattern = ''
[[rule]]
name = "resource-type"
pattern = '{ $.resources[0].type = "AWS::S3::*" }'
[[rule]]
name = "weighted"
pattern = '{ $.errorCode = "*Denied*" }'
metric_value = "2.5"
"#;

/// What each dialect refuses of the CIS pack (`--rules cis-all`) and of
/// the rules above, with why (`trailwatch sql`'s standard error, in order).
fn refused(dialect: &str) -> Vec<String> {
    let cloudwatch =
        "console-auth-failures:cis-4.0: refused by CloudWatch: expected '&&', '||' or ')', found 'authentication'";
    let serde = |rule: &str| {
        format!("{rule}: $.userIdentity.invokedBy NOT EXISTS: the SerDe reads a missing field and a null one alike")
    };
    let mut out = vec![cloudwatch.to_string()];
    if dialect == "athena" {
        out.extend(["root-usage:cis-1.4", "root-usage:cis-4.0", "root-usage:securityhub"].map(serde));
        out.push(serde("invokedby-missing"));
        out.push(
            "response-null: $.responseElements is a whole JSON column: the SerDe reads it missing and null alike"
                .into(),
        );
        out.push("response-key-null: $.responseElements.ConsoleLogin IS NULL: true also of an array holding a null, which Trino's JSON casts turn into SQL NULL".into());
        out.push(
            "readonly-false: $.readOnly is not a column of the CloudTrail table (or a path in one of its JSON columns)"
                .into(),
        );
        out.push("resource-type: $.resources[0].type is not a column of the CloudTrail table (or a path in one of its JSON columns)".into());
    }
    out
}

/// The minute lines of a series file: (rule, minute start in epoch
/// seconds) → (count, sum, min, max, matches).
type Series = BTreeMap<(String, i64), (u64, f64, f64, f64, u64)>;

fn series_file(path: &Path) -> Series {
    let mut out = Series::new();
    for line in fs::read_to_string(path).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["kind"] != "minute" {
            continue;
        }
        let minute = parse_event_time(v["minute"].as_str().unwrap()).unwrap() / 1000;
        let f = |k: &str| v[k].as_f64().unwrap();
        let stats = (v["count"].as_u64().unwrap(), f("sum"), f("min"), f("max"), v["matches"].as_u64().unwrap());
        out.insert((v["rule"].as_str().unwrap().to_string(), minute), stats);
    }
    out
}

fn csv_file(path: &Path) -> Series {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|c| *c == name).unwrap_or_else(|| panic!("no column {name}"));
    let (rule, minute, count, sum, min, max, matches) =
        (col("rule"), col("minute"), col("count"), col("sum"), col("min"), col("max"), col("matches"));
    let mut out = Series::new();
    for line in lines {
        let c: Vec<&str> = line.split(',').collect();
        if c[minute].is_empty() {
            // The row that says the query covers the rule.
            assert_eq!(c[count], "0", "{line}");
            continue;
        }
        let stats = (
            c[count].parse().unwrap(),
            c[sum].parse().unwrap(),
            c[min].parse().unwrap(),
            c[max].parse().unwrap(),
            c[matches].parse().unwrap(),
        );
        let before = out.insert((c[rule].to_string(), c[minute].parse().unwrap()), stats);
        assert!(before.is_none(), "{line}: a minute twice");
    }
    out
}

fn extra_rules(dir: &Path) -> PathBuf {
    util::write(dir, "extra.toml", EXTRA.as_bytes())
}

fn rule_args(extra: &Path) -> Vec<String> {
    vec!["--rules".into(), "cis-all".into(), "--rules".into(), extra.display().to_string()]
}

/// Scan `root` into a series file; write the dialect's query. Returns the
/// series, the query file and the rules it holds.
fn prepare(dialect: &str, root: &Path, work: &Path, tag: &str) -> (Series, PathBuf, BTreeSet<String>) {
    let extra = extra_rules(work);
    let series = work.join(format!("{tag}.series"));
    let mut c = util::trailwatch();
    c.args(["scan", "-q", "--series-out"]).arg(&series).args(rule_args(&extra)).arg(root);
    let (code, _, err) = util::run(c);
    assert!([0, 1].contains(&code), "{err}");
    let mut c = util::trailwatch();
    c.args(["sql", "--dialect", dialect]).args(rule_args(&extra));
    if dialect == "duckdb" {
        c.arg("--source").arg(format!("{}/**/*.json.gz", root.display()));
    }
    let (code, query, err) = util::run(c);
    assert_eq!(code, 0, "{err}");
    let said: Vec<String> =
        err.lines().map(|l| l.strip_prefix("trailwatch: refused: ").expect("only refusals").to_string()).collect();
    assert_eq!(said, refused(dialect), "{dialect}");
    let out_of: BTreeSet<String> = said.iter().map(|r| r.split(": ").next().unwrap().to_string()).collect();
    let mut rules = BTreeSet::new();
    for line in fs::read_to_string(&series).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["kind"] == "rule" && !out_of.contains(v["rule"].as_str().unwrap()) {
            rules.insert(v["rule"].as_str().unwrap().to_string());
        }
    }
    let q = util::write(work, &format!("{tag}.{dialect}.sql"), query.as_bytes());
    (series_file(&series), q, rules)
}

/// Run the engine over each corpus and compare with the scan's series.
fn check(dialect: &str, corpora: &[(&str, PathBuf)]) {
    let work = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    for (tag, root) in corpora {
        let (series, query, rules) = prepare(dialect, root, work.path(), tag);
        let out = work.path().join(format!("{tag}.{dialect}.csv"));
        jobs.extend([query.display().to_string(), out.display().to_string(), root.display().to_string()]);
        expected.push((tag, series, rules, out));
    }
    let engine = util::root().join("tests/sql/engine.py");
    let status = std::process::Command::new("python3").arg(engine).arg(dialect).args(&jobs).status().unwrap();
    assert!(status.success(), "{dialect}: the engine failed");
    for (tag, series, rules, out) in expected {
        let got = csv_file(&out);
        let want: Series = series.into_iter().filter(|((r, _), _)| rules.contains(r)).collect();
        assert!(!want.is_empty(), "{tag}: the scan found nothing to compare");
        let rows_rules: BTreeSet<&String> = got.keys().map(|(r, _)| r).collect();
        assert!(rows_rules.iter().all(|r| rules.contains(*r)), "{tag}: rows of a refused rule");
        for (key, w) in &want {
            assert_eq!(got.get(key), Some(w), "{dialect} on {tag}: rule {} minute {}", key.0, key.1);
        }
        assert_eq!(got.len(), want.len(), "{dialect} on {tag}: extra rows");
        eprintln!("{dialect} on {tag}: {} rules, {} minutes equal", rules.len(), got.len());
    }
}

fn generated(dir: &Path) -> PathBuf {
    let root = dir.join("generated");
    let cfg = Config { seed: 2718, records: 8000, accounts: 3, regions: 2, ..Config::default() };
    synth::generate(&cfg, &root).unwrap();
    root
}

#[test]
#[cfg_attr(
    not(sql_engines),
    ignore = "skipped: python3 with duckdb and sqlglot is absent (pip install duckdb sqlglot)"
)]
fn duckdb_and_athena_queries_return_the_scans_series() {
    let dir = tempfile::tempdir().unwrap();
    let corpora = [("sample", util::testdata("archive")), ("generated", generated(dir.path()))];
    check("duckdb", &corpora);
    check("athena", &corpora);
}

#[test]
#[cfg_attr(
    any(not(sql_engines), not(shared_corpus)),
    ignore = "skipped: needs python3 with duckdb and sqlglot, and ../shared/corpus"
)]
fn duckdb_and_athena_queries_on_the_shared_corpus() {
    let corpora = [("shared", util::shared_corpus())];
    check("duckdb", &corpora);
    check("athena", &corpora);
}

#[test]
#[cfg_attr(not(pyspark), ignore = "skipped: python3 with pyspark, or java, is absent (pip install pyspark)")]
fn spark_queries_return_the_scans_series() {
    let dir = tempfile::tempdir().unwrap();
    let mut corpora = vec![("sample", util::testdata("archive")), ("generated", generated(dir.path()))];
    if cfg!(shared_corpus) {
        corpora.push(("shared", util::shared_corpus()));
    } else {
        eprintln!("spark on the shared corpus: skipped, ../shared/corpus is absent");
    }
    check("spark", &corpora);
}

/// The query's result is an input of `trailwatch replay`: given the rules,
/// it replays to the scan's windows and state changes.
#[test]
#[cfg_attr(
    not(sql_engines),
    ignore = "skipped: python3 with duckdb and sqlglot is absent (pip install duckdb sqlglot)"
)]
fn a_query_result_replays_like_the_scan() {
    let work = tempfile::tempdir().unwrap();
    let root = util::testdata("archive");
    let mut c = util::trailwatch();
    c.args(["sql", "--dialect", "duckdb", "--rules", "cis", "--source"])
        .arg(format!("{}/**/*.json.gz", root.display()));
    let (code, query, err) = util::run(c);
    assert_eq!(code, 0, "{err}");
    let q = util::write(work.path(), "q.sql", query.as_bytes());
    let out = work.path().join("result.csv");
    let engine = util::root().join("tests/sql/engine.py");
    let status = std::process::Command::new("python3")
        .arg(engine)
        .args(["duckdb", q.to_str().unwrap(), out.to_str().unwrap(), root.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut c = util::trailwatch();
    c.args(["replay", "--format", "json", "--rules", "cis"]).arg(&out);
    let (rcode, text, err) = util::run(c);
    let (code, doc, _) = util::scan_json(&[root.to_str().unwrap(), "--rules", "cis", "--samples", "0"]);
    assert_eq!(rcode, code, "{err}");
    let got: Value = serde_json::from_str(&text).unwrap();
    for (a, b) in got["alarms"].as_array().unwrap().iter().zip(doc["alarms"].as_array().unwrap()) {
        for key in ["windows", "transitions", "alarm_episodes", "minutes_in_alarm", "final_state", "datapoints"] {
            assert_eq!(a[key], b[key], "{}: {key}", b["name"]);
        }
    }
}

#[test]
fn constructs_that_cannot_be_exact_are_refused_by_name() {
    let cases = [
        ("{ $.bytes > 10 }", "duckdb", "$.bytes > 10: CloudWatch compares numbers as exact decimals"),
        ("{ $.code = 404 }", "spark", "$.code = 404: CloudWatch compares numbers as exact decimals"),
        ("{ $.eventName = %Get.*% }", "duckdb", "%regex%"),
        ("{ $.resources[*].type = \"x\" }", "spark", "a wildcard selector"),
        ("AccessDenied", "duckdb", "unstructured terms"),
        ("{ $.errorCode = \"4*\" }", "duckdb", "could match a number's text"),
        ("{ $.requestParameters.x = \"1.5\" }", "athena", "could match a number's text"),
        ("{ $.eventName IS NULL }", "athena", "the SerDe reads a missing field and a null one alike"),
        ("{ $.tlsDetails.tlsVersion = \"x\" }", "athena", "not a column of the CloudTrail table"),
    ];
    for (pattern, dialect, why) in cases {
        let mut c = util::trailwatch();
        c.args(["sql", "--dialect", dialect, "--pattern", pattern]);
        let (code, out, err) = util::run(c);
        assert_eq!(code, 2, "{pattern}: {out}");
        assert!(err.contains(why), "{pattern} on {dialect}: {err}");
        assert!(err.contains("no rule translates exactly"), "{err}");
    }
    let mut c = util::trailwatch();
    c.args(["sql", "--dialect", "duckdb", "--pattern", "{ $.x = 1 }", "--metric-value", "$.bytes"]);
    let (code, _, err) = util::run(c);
    assert_eq!(code, 2);
    assert!(err.contains("metric value $.bytes"), "{err}");
}
