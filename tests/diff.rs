//! `trailwatch diff`: the records one rule matched and the other did not,
//! counted exactly, and the ALARM episodes only one would have had; and
//! the same counting behind `scan --contributors`.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::util;

const V12: &str = "unauthorized-api-calls:cis-1.2";
const V14: &str = "unauthorized-api-calls:cis-1.4";
const CIS: &str = r#"($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")"#;

fn diff(args: &[&str]) -> (i32, String, String) {
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).arg("diff").args(args);
    util::run(cmd)
}

fn diff_json(args: &[&str]) -> Value {
    let (code, out, err) = diff(&[args, &["--format", "json"]].concat());
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn matches(path: &str, pattern: &str) -> u64 {
    let (_, doc, _) = util::scan_json(&[path, "--pattern", pattern]);
    doc["alarms"][0]["matches"].as_u64().unwrap()
}

fn top(side: &Value, field: &str) -> Vec<(String, u64)> {
    let f = side["only_by_field"].as_array().unwrap().iter().find(|f| f["field"] == field).unwrap();
    f["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].as_str().unwrap_or("").to_string(), v["records"].as_u64().unwrap()))
        .collect()
}

#[test]
fn cis_1_4_over_matches_cis_1_2_on_the_sample_archive_and_each_count_is_exact() {
    let archive = util::testdata("archive");
    let archive = archive.to_str().unwrap();
    let d = diff_json(&[archive, "--rule", V12, "--rule", V14, "--top", "5"]);
    let (a, b) = (&d["a"], &d["b"]);
    assert_eq!((a["name"].as_str(), b["name"].as_str()), (Some(V12), Some(V14)));
    assert_eq!((a["matches"].as_u64(), b["matches"].as_u64(), d["both"].as_u64()), (Some(45), Some(2400), Some(45)));
    assert_eq!((a["only_records"].as_u64(), b["only_records"].as_u64()), (Some(0), Some(2355)));
    // The v1.4 text matches every record of the archive, so what only it
    // matched with eventName X is every X minus the X the v1.2 text matched.
    let (_, all, _) = util::scan_json(&[archive, "--pattern", "{ $.eventVersion = * }"]);
    assert_eq!(all["alarms"][0]["matches"].as_u64(), Some(2400));
    let names = top(b, "eventName");
    assert_eq!(names.len(), 5);
    for (name, count) in &names {
        let every = matches(archive, &format!(r#"{{ $.eventName = "{name}" }}"#));
        let cis = matches(archive, &format!(r#"{{ ($.eventName = "{name}") && ({CIS}) }}"#));
        assert_eq!(*count, every - cis, "{name}");
    }
    for (field, selector) in [("principal", "$.userIdentity.arn"), ("awsRegion", "$.awsRegion")] {
        for (value, count) in top(b, field) {
            let every = matches(archive, &format!(r#"{{ {selector} = "{value}" }}"#));
            let cis = matches(archive, &format!(r#"{{ ({selector} = "{value}") && ({CIS}) }}"#));
            assert_eq!(count, every - cis, "{field} {value}");
        }
    }
    // Counts are sorted, and a field's counts add up to the records.
    let regions: u64 = top(b, "awsRegion").iter().map(|(_, n)| n).sum();
    assert_eq!(regions, 2355);
    let counts: Vec<u64> = names.iter().map(|(_, n)| *n).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    // Examples: the earliest records only v1.4 matched, none with an error
    // code the v1.2 text matches.
    let ex = b["only_examples"].as_array().unwrap();
    assert_eq!(ex.len(), 3);
    assert!(ex.windows(2).all(|w| w[0]["time"].as_str() <= w[1]["time"].as_str()));
    for e in ex {
        let code = e["errorCode"].as_str().unwrap_or("");
        assert!(!code.starts_with("AccessDenied") && !code.ends_with("UnauthorizedOperation"), "{e}");
    }
    // Episodes: each side's are what scan reports for that rule.
    for (side, rule) in [(a, V12), (b, V14)] {
        let (_, scan, _) = util::scan_json(&[archive, "--rule", rule]);
        assert_eq!(side["alarm_episodes"], scan["alarms"][0]["alarm_episodes"], "{rule}");
    }
}

#[test]
#[cfg_attr(not(shared_corpus), ignore = "skipped: ../shared/corpus is absent")]
fn on_the_invictus_records_cis_1_4_matches_all_2900_and_cis_1_2_sixty() {
    let corpus = util::shared_corpus().join("invictus-aws-dataset");
    let d = diff_json(&[corpus.to_str().unwrap(), "--rule", V12, "--rule", V14]);
    assert_eq!(d["a"]["matches"].as_u64(), Some(60));
    assert_eq!(d["b"]["matches"].as_u64(), Some(2900));
    assert_eq!((d["both"].as_u64(), d["b"]["only_records"].as_u64()), (Some(60), Some(2840)));
    assert_eq!(top(&d["b"], "accountId"), [("123837392027".to_string(), 2840)]);
}

#[test]
fn disjoint_patterns_share_nothing_and_an_alarm_the_other_never_raises_is_all_unshared() {
    let archive = util::testdata("archive");
    let archive = archive.to_str().unwrap();
    let denied = r#"{ $.errorCode = "AccessDenied*" }"#;
    let never = r#"{ $.errorCode = "NoSuchErrorAnywhere" }"#;
    let d = diff_json(&[archive, "--pattern", denied, "--pattern", never]);
    let (a, b) = (&d["a"], &d["b"]);
    assert_eq!((a["name"].as_str(), b["name"].as_str()), (Some("pattern 1"), Some("pattern 2")));
    assert_eq!(a["matches"].as_u64(), Some(matches(archive, denied)));
    assert_eq!((d["both"].as_u64(), b["matches"].as_u64()), (Some(0), Some(0)));
    assert_eq!(a["only_records"], a["matches"]);
    assert_eq!(b["alarm_episodes"], 0);
    let (_, scan, _) = util::scan_json(&[archive, "--pattern", denied]);
    let entered: Vec<&Value> = scan["alarms"][0]["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["to"] == "ALARM")
        .map(|t| &t["at"])
        .collect();
    let unshared: Vec<&Value> = a["unshared_episodes"].as_array().unwrap().iter().map(|e| &e["start"]).collect();
    assert!(!entered.is_empty());
    assert_eq!(unshared, entered);
}

#[test]
fn a_rule_and_a_pattern_can_be_compared_and_alarm_options_apply_to_both() {
    let archive = util::testdata("archive");
    let archive = archive.to_str().unwrap();
    let d = diff_json(&[
        archive,
        "--rule",
        "unauthorized-api-calls",
        "--pattern",
        &format!("{{ {CIS} }}"),
        "--threshold",
        "5",
    ]);
    assert_eq!((d["a"]["only_records"].as_u64(), d["b"]["only_records"].as_u64()), (Some(0), Some(0)));
    assert_eq!(d["a"]["episodes"], d["b"]["episodes"]);
    let (_, scan, _) = util::scan_json(&[archive, "--threshold", "5"]);
    assert_eq!(d["a"]["alarm_episodes"], scan["alarms"][0]["alarm_episodes"]);
}

#[test]
fn anything_but_two_rules_is_a_usage_error() {
    for args in [
        vec!["--rule", V12],
        vec!["--rule", V12, "--rule", V12],
        vec!["--rule", V12, "--rule", V14, "--pattern", "{ $.x = 1 }"],
        vec!["--rule", "no-such-rule", "--rule", V14],
        vec!["--pattern", "{ $.x = ", "--rule", V14],
    ] {
        let (code, out, err) = diff(&[&["testdata/archive"], &args[..]].concat());
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.starts_with("trailwatch: "), "{args:?}: {err}");
    }
}

fn write_gz(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(body.as_bytes()).unwrap();
    std::fs::write(path, e.finish().unwrap()).unwrap();
}

#[test]
fn hostile_field_values_are_escaped_in_text_and_guarded_in_csv() {
    let dir = tempfile::tempdir().unwrap();
    let big = "A".repeat(100_000);
    let rec = |name: &str, who: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"2023-07-10T11:50:00Z","eventSource":"s3.amazonaws.com","eventName":{name},"errorCode":"AccessDenied","userIdentity":{{"arn":{who}}},"sourceIPAddress":"1.2.3.4","userAgent":"=cmd|' /C calc'!A0"}}"#
        )
    };
    let records = [
        rec(r#""GetObject\u001b]0;pwned\u0007""#, r#""=cmd|' /C calc'!A0""#),
        rec(r#""<script>alert(1)</script>""#, r#""arn:aws:iam::1:user/\u001b[2Jmallory\u202e""#),
        rec(&format!("\"{big}\""), r#""+1+2""#),
    ];
    write_gz(
        &dir.path().join(
            "AWSLogs/1/CloudTrail/us-east-1/2023/07/10/1_CloudTrail_us-east-1_20230710T1155Z_aaaaaaaaaaaaaaaa.json.gz",
        ),
        &format!("{{\"Records\":[{}]}}", records.join(",")),
    );
    let path = dir.path().to_str().unwrap();
    let sides = ["--pattern", r#"{ $.errorCode = "AccessDenied" }"#, "--pattern", r#"{ $.errorCode = "Nothing" }"#];
    let (code, text, err) = diff(&[&[path][..], &sides].concat());
    assert_eq!(code, 0, "{err}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'), "{text}");
    assert!(text.contains("GetObject\\x1b]0;pwned\\x07"), "{text}");
    assert!(text.contains("\\x1b[2Jmallory\\u{202e}"), "{text}");
    // Long values are counted and shown by their first characters, and the
    // cut is marked.
    assert!(text.contains(&format!("{}…", &big[..255])), "{text}");
    let (code, csv, _) = diff(&[&[path][..], &sides, &["--format", "csv"]].concat());
    assert_eq!(code, 0);
    for line in csv.lines().skip(1) {
        let value = line.split(',').nth(3).unwrap();
        assert!(!value.starts_with(['=', '+', '-', '@', '\t', '\r']), "{line}");
    }
    assert!(csv.contains(",principal,'=cmd|' /C calc'!A0,1,"), "{csv}");
    assert!(csv.contains(",principal,'+1+2,1,"), "{csv}");
    let doc: Value = serde_json::from_str(&diff(&[&[path][..], &sides, &["--format", "json"]].concat()).1).unwrap();
    let names: Vec<String> = top(&doc["a"], "eventName").into_iter().map(|(n, _)| n).collect();
    assert!(
        names.contains(&"<script>alert(1)</script>".to_string()),
        "JSON keeps the value, escaped by JSON: {names:?}"
    );
}

#[test]
fn the_comparison_does_not_depend_on_the_thread_count() {
    let args = ["testdata/archive", "--rule", V12, "--rule", V14, "--top", "1000", "--examples", "20"];
    let one = diff_json(&[&args[..], &["--threads", "1"]].concat());
    for n in ["2", "3", "8"] {
        assert_eq!(diff_json(&[&args[..], &["--threads", n]].concat()), one, "--threads {n}");
    }
}

#[test]
fn the_readme_shows_what_diff_prints_on_the_sample_archive() {
    let heading = "### `diff PATH...`";
    let command = format!("trailwatch diff testdata/archive --rule {V12} --rule {V14} --top 2 --examples 1");
    assert!(util::readme_shows(heading, &command));
    let (code, out, _) = diff(&command.split(' ').skip(2).collect::<Vec<_>>());
    assert_eq!((code, out), (0, util::readme_block(heading)));
}

#[test]
fn scan_contributors_count_each_rules_matching_records_exactly() {
    let archive = util::testdata("archive");
    let archive = archive.to_str().unwrap();
    let (code, doc, err) = util::scan_json(&[archive, "--contributors", "50", "--rules", "cis"]);
    assert_eq!(code, 1, "{err}");
    let headline = doc["alarms"].as_array().unwrap().iter().find(|a| a["name"] == "unauthorized-api-calls:securityhub");
    let a = headline.expect("the CIS unauthorized-API-calls rule");
    let c = &a["contributors"];
    assert_eq!(c["records"], a["matches"]);
    let field = |name: &str| c["by_field"].as_array().unwrap().iter().find(|f| f["field"] == name).unwrap().clone();
    for (name, selector) in [("eventName", "$.eventName"), ("errorCode", "$.errorCode"), ("awsRegion", "$.awsRegion")] {
        let f = field(name);
        let values = f["top"].as_array().unwrap();
        assert_eq!(values.len() as u64, f["distinct"].as_u64().unwrap(), "{name}: all shown under --contributors 50");
        let total: u64 = values.iter().map(|v| v["records"].as_u64().unwrap()).sum();
        assert_eq!(total, 45, "{name}");
        for v in values {
            let value = v["value"].as_str().unwrap();
            let want = matches(archive, &format!(r#"{{ ({selector} = "{value}") && ({CIS}) }}"#));
            assert_eq!(v["records"].as_u64(), Some(want), "{name} {value}");
        }
    }
    // Rules that matched nothing have empty counts; JSON without the
    // option has no contributors at all.
    assert!(doc["alarms"].as_array().unwrap().iter().any(|a| a["matches"] == 0 && a["contributors"]["records"] == 0));
    let (_, plain, _) = util::scan_json(&[archive]);
    assert!(plain["alarms"][0].get("contributors").is_none());
    // The same whatever the thread count.
    for n in ["1", "3"] {
        let (_, again, _) = util::scan_json(&[archive, "--contributors", "50", "--rules", "cis", "--threads", n]);
        let pick =
            |d: &Value| d["alarms"].as_array().unwrap().iter().map(|a| a["contributors"].clone()).collect::<Vec<_>>();
        assert_eq!(pick(&again), pick(&doc), "--threads {n}");
    }
}
