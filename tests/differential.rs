//! Differential test of the fast path: the literal prefilter (which skips
//! records that cannot match without parsing them) must give exactly the
//! report of the general evaluator (every record parsed and evaluated), on
//! every test corpus, for every rule alone and for all rules at once, at
//! every thread count.
//!
//! The one documented difference: with the prefilter only candidate
//! records are parsed, so damage inside a record that could not match
//! (a bad escape, invalid UTF-8) goes unseen. The invalid records the fast
//! path reports are checked to be a subset of the reference's, reported
//! the same way, and everything else must be identical.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailwatch::pattern::FieldSelector;
use trailwatch::report::events::{self, EventsFormat};
use trailwatch::report::model;
use trailwatch::rules::{file, pack, Rule};
use trailwatch::scan::{scan, EventsBy, ScanOptions, TallyBy};
use trailwatch_synth::{self as synth, Config};

use crate::util;

/// Patterns chosen to exercise every kind of requirement the prefilter
/// derives (key and value tests, globs, numbers, NOT EXISTS, IS NULL, `!=`,
/// arrays, regex, terms, exclusions, optional terms, space-delimited,
/// empty), with literal and selector metric values and default values.
const EXTRA_RULES: &str = r#"
[[rule]]
name = "not-exists"
pattern = '{ $.x NOT EXISTS }'
[[rule]]
name = "error-not-exists"
pattern = '{ $.errorCode NOT EXISTS }'
[[rule]]
name = "not-equal"
pattern = '{ $.errorCode != "AccessDenied" }'
[[rule]]
name = "is-null"
pattern = '{ $.responseElements IS NULL }'
[[rule]]
name = "is-false"
pattern = '{ $.readOnly IS FALSE }'
[[rule]]
name = "regex-value"
pattern = '{ $.eventName = %^Delete[A-Za-z]+% }'
[[rule]]
name = "numeric"
pattern = '{ $.requestParameters.maxResults > 5 }'
metric_value = "$.requestParameters.maxResults"
[[rule]]
name = "array-any"
pattern = '{ $.resources[*].type = "AWS::S3::*" }'
[[rule]]
name = "array-index"
pattern = '{ $.resources[0].ARN = "*secret*" }'
[[rule]]
name = "nested-and"
pattern = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
[[rule]]
name = "or-of-ands"
pattern = '{ ($.eventSource = "s3.amazonaws.com" && $.errorCode = "*Denied") || ($.eventName = "ConsoleLogin" && $.errorMessage = "Failed authentication") }'
[[rule]]
name = "with-default"
pattern = '{ $.errorCode = "AccessDenied" }'
default_value = 0
[[rule]]
name = "term"
pattern = 'AccessDenied'
[[rule]]
name = "phrase"
pattern = '"Failed authentication"'
[[rule]]
name = "exclusion"
pattern = 'AccessDenied -GetObject'
[[rule]]
name = "optional-terms"
pattern = '?AccessDenied ?UnauthorizedOperation'
[[rule]]
name = "regex-pattern"
pattern = '%Access[A-Z]enied%'
[[rule]]
name = "space-delimited"
pattern = '[first, second = *Denied*, ...]'
[[rule]]
name = "everything"
pattern = ''
[[rule]]
name = "unicode-value"
pattern = '{ $.userIdentity.userName = "zoë*" }'
[[rule]]
name = "slash-exact"
pattern = '{ $.requestParameters.policyArn = "arn:aws:iam::aws:policy/AdministratorAccess" }'
[[rule]]
name = "slash-value"
pattern = '{ $.userAgent = "*aws-cli/2*" }'
"#;

fn all_rules() -> Vec<Rule> {
    let mut rules = pack::cis().select("cis-all").unwrap().rules;
    rules.push(Rule::cis_unauthorized_api_calls());
    rules.extend(file::parse(EXTRA_RULES).unwrap().rules);
    rules
}

fn report(paths: &[PathBuf], rules: &[Rule], threads: usize, prefilter: bool) -> Value {
    report_with(paths, rules, &ScanOptions { threads, samples: 3, prefilter, ..ScanOptions::default() })
}

fn report_with(paths: &[PathBuf], rules: &[Rule], opts: &ScanOptions) -> Value {
    let opts = opts.clone();
    let result = scan(paths, rules, &opts);
    let replays = trailwatch::replay::replay(&result, rules, &opts);
    let doc = model::build(&result, &replays, &opts);
    let mut v = serde_json::to_value(doc).unwrap();
    if opts.keep_all {
        let mut out = Vec::new();
        let group_by: Vec<String> = opts.group_by.iter().map(|g| g.to_string()).collect();
        events::write(&mut out, &replays, &group_by, opts.full, EventsFormat::Ndjson).unwrap();
        v["events_out"] = Value::String(String::from_utf8(out).unwrap());
    }
    v.as_object_mut().unwrap().remove("timing");
    v["settings"].as_object_mut().unwrap().remove("threads");
    v["settings"].as_object_mut().unwrap().remove("prefilter");
    v
}

/// Drop what depends on how many records were parsed: invalid-record
/// counts and the failures they cause. What remains must be identical.
fn forget_parsing(mut v: Value) -> Value {
    let inputs = v["inputs"].as_object_mut().unwrap();
    for k in ["records_parsed", "records_invalid", "files_read", "files_failed", "failures"] {
        inputs.remove(k);
    }
    v
}

/// The fast path sees a subset of the invalid records the reference sees,
/// and reports them the same way.
fn assert_invalid_subset(corpus: &str, fast: &Value, reference: &Value) {
    let (f, r) = (&fast["inputs"], &reference["inputs"]);
    assert!(f["records_invalid"].as_u64() <= r["records_invalid"].as_u64(), "{corpus}");
    assert!(f["records_parsed"].as_u64() <= r["records_parsed"].as_u64(), "{corpus}");
    for failure in f["failures"].as_array().unwrap() {
        let path = &failure["path"];
        let same = r["failures"].as_array().unwrap().iter().find(|x| x["path"] == *path);
        let same = same.unwrap_or_else(|| panic!("{corpus}: {path} failed only with the prefilter"));
        if failure["records_invalid"] == same["records_invalid"] {
            assert_eq!(failure, same, "{corpus}");
        }
    }
}

fn assert_same(corpus: &str, paths: &[PathBuf], has_invalid: bool) {
    let rules = all_rules();
    let full = report(paths, &rules, 1, false);
    let records = &full["inputs"]["records"];
    assert!(records.as_u64().unwrap() > 0, "{corpus}: no records read");
    assert_eq!(full["inputs"]["records_parsed"], *records, "{corpus}: the reference parses every record");
    let fixup = |v: Value| {
        assert_invalid_subset(corpus, &v, &full);
        if has_invalid {
            forget_parsing(v)
        } else {
            let mut v = v;
            v["inputs"].as_object_mut().unwrap().remove("records_parsed");
            v
        }
    };
    let reference = fixup(full.clone());
    for threads in [1, 2, 3] {
        let fast = fixup(report(paths, &rules, threads, true));
        for (a, b) in fast["alarms"].as_array().unwrap().iter().zip(reference["alarms"].as_array().unwrap()) {
            assert_eq!(a, b, "{corpus}: rule {} differs at {threads} threads", a["name"]);
        }
        assert_eq!(fast, reference, "{corpus}: report differs at {threads} threads");
    }
    // Each rule alone: the prefilter derived from one rule is not the one
    // derived from the set.
    for (i, rule) in rules.iter().enumerate() {
        let one = std::slice::from_ref(rule);
        let fast = fixup(report(paths, one, 2, true));
        assert_eq!(fast["alarms"][0], reference["alarms"][i], "{corpus}: rule {} alone", rule.name);
        // Repeated events are counted among the records that publish, which
        // depends on the rules; the rest of the accounting does not.
        let without_repeats = |v: &Value| {
            let mut v = v["inputs"].clone();
            v.as_object_mut().unwrap().remove("duplicates");
            v
        };
        assert_eq!(without_repeats(&fast), without_repeats(&reference), "{corpus}: rule {} alone", rule.name);
    }
}

#[test]
fn prefilter_agrees_on_the_sample_archive() {
    assert_same("testdata/archive", &[util::testdata("archive")], false);
}

#[test]
fn prefilter_agrees_on_a_generated_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { seed: 5150, records: 8000, accounts: 2, regions: 2, ..Config::default() };
    synth::generate(&cfg, dir.path()).unwrap();
    assert_same("generated", &[dir.path().to_path_buf()], false);
}

/// Per-minute statistics, samples, paths and (with `--dedup`) held-back
/// publications written to a temporary file a few at a time (and merged
/// back from many runs) give the report of all of them held whole, with
/// and without `--dedup`, at every thread count.
#[test]
fn data_written_out_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { seed: 77, records: 6000, accounts: 2, regions: 2, ..Config::default() };
    synth::generate(&cfg, dir.path()).unwrap();
    let paths = [dir.path().to_path_buf()];
    let rules = all_rules();
    let drill = ScanOptions {
        keep_all: true,
        contributors: 5,
        tally: TallyBy::Rules,
        events: Some(EventsBy::Episodes),
        max_events: 4,
        full: true,
        group_by: vec![FieldSelector::parse("$.userIdentity.sessionContext.sessionIssuer.arn").unwrap()],
        ..ScanOptions::default()
    };
    for (dedup, base) in
        [(false, ScanOptions::default()), (true, ScanOptions::default()), (false, drill.clone()), (true, drill)]
    {
        let whole = ScanOptions {
            threads: 1,
            dedup,
            minutes_held: usize::MAX,
            paths_held: usize::MAX,
            samples_held: usize::MAX,
            publications_held: usize::MAX,
            ..base
        };
        let reference = report_with(&paths, &rules, &whole);
        let windows: usize =
            reference["alarms"].as_array().unwrap().iter().map(|a| a["windows"].as_array().unwrap().len()).sum();
        assert!(windows > 100, "the corpus spans many windows ({windows})");
        for (threads, held) in [(1, 1), (2, 3), (3, 40)] {
            let opts = ScanOptions {
                threads,
                minutes_held: held,
                paths_held: held * 100,
                samples_held: held,
                publications_held: held,
                ..whole.clone()
            };
            let got = report_with(&paths, &rules, &opts);
            assert_eq!(got, reference, "{held} held, {threads} threads, dedup {dedup}, all kept {}", whole.keep_all);
        }
    }
}

#[test]
#[cfg_attr(not(shared_corpus), ignore = "skipped: ../shared/corpus is absent")]
fn prefilter_agrees_on_real_records() {
    assert_same("shared corpus", &[util::shared_corpus()], true);
}

/// Records written to trip a literal search: escapes in keys and values,
/// whitespace around colons, pretty printing, nesting, duplicates, wrong
/// types, invalid JSON and invalid UTF-8.
const HAZARDS: &[&str] = &[
    r#"{"eventTime":"2023-07-10T10:00:01Z","errorCode":"\u0041ccessDenied","eventName":"GetObject"}"#,
    r#"{"eventTime":"2023-07-10T10:00:02Z","error\u0043ode":"AccessDenied","eventName":"PutObject"}"#,
    r#"{"eventTime":"2023-07-10T10:00:03Z","errorCode":"AccessDenied\/x","eventName":"ListBuckets"}"#,
    r#"{"eventTime":"2023-07-10T10:00:04Z","errorCode" : "Client.UnauthorizedOperation"}"#,
    "{\n  \"eventTime\": \"2023-07-10T10:00:05Z\",\n  \"errorCode\":\n    \"AccessDenied\"\n}",
    r#"{"eventTime":"2023-07-10T10:00:06Z","requestParameters":{"errorCode":"AccessDenied"}}"#,
    r#"{"eventTime":"2023-07-10T10:00:07Z","errorCode":"Nope","errorCode":"AccessDenied"}"#,
    r#"{"eventTime":"2023-07-10T10:00:08Z","errorCode":5}"#,
    r#"{"eventTime":"2023-07-10T10:00:09Z","errorCode":null,"responseElements":null}"#,
    r#"{"eventTime":"2023-07-10T10:00:10Z","errorCode":["AccessDenied"]}"#,
    r#"{"eventTime":"2023-07-10T10:00:11Z","eventName":"Access\"Denied\"","errorMessage":"Failed authentication"}"#,
    r#"{"eventTime":"2023-07-10T10:00:12Z","userIdentity":{"type":"R\u006fot"},"eventType":"AwsApiCall"}"#,
    r#"{"eventTime":"2023-07-10T10:00:13Z","userIdentity":{"type":"Root","invokedBy":"x"}}"#,
    r#"{"eventTime":"2023-07-10T10:00:14Z","userIdentity":{"userName":"zo\u00ebbe"},"userAgent":"aws-cli\/2.13"}"#,
    r#"{"eventTime":"2023-07-10T10:00:15Z","userIdentity":{"userName":"zoëbe"},"userAgent":"aws-cli/2.13"}"#,
    r#"{"eventTime":"2023-07-10T10:00:16Z","eventName":"ConsoleLogin","errorMessage":"Failed authentication","eventSource":"signin.amazonaws.com"}"#,
    r#"{"eventTime":"2023-07-10T10:00:17Z","eventName":"DeleteTrail","readOnly":false,"requestParameters":{"maxResults":50}}"#,
    r#"{"eventTime":"2023-07-10T10:00:18Z","requestParameters":{"maxResults":"7"},"readOnly":"false"}"#,
    r#"{"eventTime":"2023-07-10T10:00:19Z","resources":[{"type":"AWS::IAM::Role","ARN":"a"},{"type":"AWS::S3::Object","ARN":"my-secret"}]}"#,
    r#"{"eventTime":"2023-07-10T10:00:20Z","resources":[{"ARN":"arn:secret","type":"AWS::KMS::Key"}]}"#,
    r#"{"errorCode":"AccessDenied","eventName":"NoTime"}"#,
    r#"{"eventTime":"yesterday","errorCode":"AccessDenied"}"#,
    r#"{"eventTime":"2023-07-10T10:00:21Z","errorCode":"AccessDenied",}"#,
    r#"{"eventTime":"2023-07-10T10:00:22Z","x":1,"errorCode":"UnauthorizedOperation"}"#,
    r#"{"eventTime":"2023-07-10T10:00:23Z","eventName":"CreateUser","sourceIPAddress":"AccessDenied first","note":"second AccessDenied"}"#,
    r#"{"eventTime":"2023-07-10T10:00:24Z","ERRORCODE":"AccessDenied","errorcode":"AccessDenied"}"#,
    r#"{"eventTime":"2023-07-10T10:00:25Z","eventSource":"s3.amazonaws.com","errorCode":"VpceAccessDenied"}"#,
    r#"{"eventTime":"2023-07-10T10:00:26Z","errorCode":"AccessDenied\u0000"}"#,
    r#"{"eventTime":"2023-07-10T10:00:27Z","errorCode":"AccessDeniedException","eventName":"GetObject"}"#,
    r#"{"eventTime":"2023-07-10T10:00:28Z","requestParameters":{"policyArn":"arn:aws:iam::aws:policy\/AdministratorAccess"}}"#,
];

fn write_plain(path: &Path, body: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
}

#[test]
fn prefilter_agrees_on_hostile_records() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10");
    let name = |i: usize| day.join(format!("111122223333_CloudTrail_us-east-1_20230710T10{i:02}Z_hazard{i:010}.json"));
    // One record per file, and all of them in one file.
    for (i, r) in HAZARDS.iter().enumerate() {
        write_plain(&name(i), format!("{{\"Records\":[{r}]}}").as_bytes());
    }
    write_plain(&name(90), format!("{{\"Records\":[\n{}\n]}}", HAZARDS.join(",\n")).as_bytes());
    // Invalid UTF-8 inside a candidate and inside a non-candidate record.
    let mut bad =
        b"{\"Records\":[{\"eventTime\":\"2023-07-10T10:01:00Z\",\"errorCode\":\"AccessDenied\xff\"},".to_vec();
    bad.extend_from_slice(b"{\"eventTime\":\"2023-07-10T10:01:01Z\",\"eventName\":\"\xc3\x28\"}]}");
    write_plain(&name(91), &bad);
    let reference = report(&[dir.path().to_path_buf()], &all_rules(), 1, false);
    assert!(reference["inputs"]["records_invalid"].as_u64().unwrap() >= 2, "{}", reference["inputs"]);
    assert_same("hostile records", &[dir.path().to_path_buf()], true);
}
