//! `trailwatch alarm --metric-data`, configuration import, rules files and
//! the CIS pack, through the real binary.

use serde_json::Value;
use trailwatch_synth::{self as synth, Config};

use crate::util;

fn json_of(args: &[&str]) -> (i32, Value, String) {
    let mut cmd = util::trailwatch();
    cmd.args(args);
    let (code, stdout, stderr) = util::run(cmd);
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (code, v, stderr)
}

fn states(v: &Value) -> Vec<(String, String)> {
    v["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["timestamp"].as_str().unwrap().to_string(), e["state"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn metric_data_json_and_csv_agree() {
    let json = util::testdata("metric-data/get-metric-statistics.json");
    let csv = util::testdata("metric-data/unauthorized.csv");
    let (code, a, _) = json_of(&["alarm", "--metric-data", json.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "the alarm was in ALARM");
    let (_, b, _) = json_of(&["alarm", "--metric-data", csv.to_str().unwrap(), "--format", "json"]);
    assert_eq!(a["evaluations"], b["evaluations"]);
    // One evaluation per period from the first datapoint to the last, both
    // inclusive; 11:55 has no datapoint but 11:50 is still in the range.
    let s = states(&a);
    assert_eq!(s.len(), 5);
    assert_eq!(s[0], ("2023-07-10T11:50:00Z".into(), "ALARM".into()));
    assert_eq!(s[1], ("2023-07-10T11:55:00Z".into(), "ALARM".into()));
    let t = &a["transitions"][0];
    assert_eq!((t["from"].as_str(), t["to"].as_str()), (Some("INSUFFICIENT_DATA"), Some("ALARM")));
    assert!(t["reason"].as_str().unwrap().starts_with("Threshold Crossed: 1 datapoint [32.0 (10/07/23 11:50:00)]"));
}

#[test]
fn metric_data_single_evaluation_with_history() {
    let json = util::testdata("metric-data/get-metric-statistics.json");
    let p = json.to_str().unwrap();
    // --from T --to T is the one evaluation CloudWatch makes when T is the
    // newest period; earlier datapoints count as history in the range.
    let (_, v, _) = json_of(&[
        "alarm",
        "--metric-data",
        p,
        "--from",
        "2023-07-10T12:20:00Z",
        "--to",
        "2023-07-10T12:20:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(states(&v), [("2023-07-10T12:20:00Z".to_string(), "ALARM".to_string())]);
    let (code, v, _) = json_of(&[
        "alarm",
        "--metric-data",
        p,
        "--from",
        "2023-07-10T12:25:00Z",
        "--to",
        "2023-07-10T12:25:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(states(&v), [("2023-07-10T12:25:00Z".to_string(), "INSUFFICIENT_DATA".to_string())]);
    assert_eq!(code, 0);
    // M of N with missing data treated as breaching.
    let (_, v, _) = json_of(&[
        "alarm",
        "--metric-data",
        p,
        "--threshold",
        "5",
        "--comparison",
        "GreaterThanThreshold",
        "--evaluation-periods",
        "3",
        "--datapoints-to-alarm",
        "2",
        "--treat-missing-data",
        "breaching",
        "--format",
        "json",
    ]);
    let s: Vec<String> = states(&v).into_iter().map(|(_, s)| s).collect();
    // 11:50 32 (bad) + 2 missing fills (bad) -> ALARM; 11:55 missing; 12:00 22;
    // 12:05 4 (good); 12:10 2 (good): [4, 2, 22] -> one breach of 3 -> OK.
    assert_eq!(s, ["ALARM", "ALARM", "ALARM", "ALARM", "OK"]);
}

#[test]
fn metric_data_errors() {
    let json = util::testdata("metric-data/get-metric-statistics.json");
    let mut cmd = util::trailwatch();
    cmd.args(["alarm", "--metric-data", json.to_str().unwrap(), "--statistic", "Maximum"]);
    let (code, out, err) = util::run(cmd);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("no Maximum"), "{err}");
    let mut cmd = util::trailwatch();
    cmd.args(["alarm", "--metric-data", json.to_str().unwrap(), "--comparison", "LessThanLowerThreshold"]);
    let (code, _, err) = util::run(cmd);
    assert_eq!(code, 2);
    assert!(err.contains("anomaly"), "{err}");
}

#[test]
fn aws_config_import() {
    let dir = util::testdata("archive");
    let filters = util::testdata("aws-config/describe-metric-filters.json");
    let alarms = util::testdata("aws-config/describe-alarms.json");
    let (code, doc, stderr) = json_of(&[
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--aws-config",
        filters.to_str().unwrap(),
        "--aws-config",
        alarms.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let names: Vec<&str> = doc["alarms"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["CIS-3.1-UnauthorizedAPICalls", "CIS-1.1-RootAccountUsage", "S3DeniedCalls"]);
    assert!(stderr.contains("refused: alarm DeniedCallsAnomaly"), "{stderr}");
    assert!(stderr.contains("HighCPU"), "{stderr}");
    assert_eq!(doc["refused"].as_array().unwrap().len(), 1);
    let unauth = &doc["alarms"][0];
    assert_eq!(unauth["treat_missing_data"], "notBreaching");
    // The imported unauthorized-API-calls alarm sees the manifest's windows.
    let m = synth::read_manifest(&dir).unwrap();
    assert_eq!(unauth["windows"].as_array().unwrap().len(), m.windows_5m.len());
    // notBreaching: a new alarm goes OK at its first evaluation.
    assert_eq!(unauth["transitions"][0]["to"], "OK");
    // The S3 alarm watches one dimension of a per-source metric.
    let s3 = &doc["alarms"][2];
    assert_eq!(s3["period_s"], 3600);
    let s3_matches: u64 = s3["windows"].as_array().unwrap().iter().map(|w| w["matches"].as_u64().unwrap()).sum();
    assert!(s3_matches > 0 && s3_matches < s3["matches"].as_u64().unwrap(), "only the s3 dimension is alarmed");
    // --strict refuses to run with refused alarms.
    let mut cmd = util::trailwatch();
    cmd.args([
        "scan",
        dir.to_str().unwrap(),
        "--strict",
        "--aws-config",
        alarms.to_str().unwrap(),
        "--aws-config",
        filters.to_str().unwrap(),
    ]);
    assert_eq!(util::run(cmd).0, 2);
}

#[test]
fn rules_file_and_its_examples() {
    let rules = util::testdata("rules.toml");
    let mut cmd = util::trailwatch();
    cmd.args(["rules", "--rules", rules.to_str().unwrap(), "--test"]);
    let (code, out, err) = util::run(cmd);
    assert_eq!(code, 0, "{err}");
    let checked = out.strip_suffix(" examples checked, 0 failures\n").unwrap_or_else(|| panic!("{out}"));
    assert!(checked.parse::<u32>().unwrap() > 0, "{out}");
    let dir = util::testdata("archive");
    let (_, doc, _) = json_of(&["scan", dir.to_str().unwrap(), "--rules", rules.to_str().unwrap(), "--format", "json"]);
    let alarms = doc["alarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 3);
    assert_eq!(alarms[1]["evaluation_periods"], 3);
    assert_eq!(alarms[1]["datapoints_to_alarm"], 2);
    assert_eq!(alarms[2]["evaluation_window"], "wall-clock");
    for w in alarms[2]["windows"].as_array().unwrap() {
        assert!(w["start"].as_str().unwrap().ends_with(":00:00Z"), "hourly windows");
    }
    // Selecting one rule; an unknown one is a usage error.
    let (_, doc, _) = json_of(&[
        "scan",
        dir.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--rule",
        "root-activity-hourly",
        "--format",
        "json",
    ]);
    assert_eq!(doc["alarms"].as_array().unwrap().len(), 1);
    let mut cmd = util::trailwatch();
    cmd.args(["scan", dir.to_str().unwrap(), "--rules", rules.to_str().unwrap(), "--rule", "nope"]);
    assert_eq!(util::run(cmd).0, 2);
}

#[test]
fn cis_pack_lists_tests_and_runs() {
    let mut cmd = util::trailwatch();
    cmd.args(["rules", "--test", "--format", "json"]);
    let (code, out, err) = util::run(cmd);
    assert_eq!(code, 0, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.iter().filter(|r| r["default"] == true).count(), 15);
    assert!(listed
        .iter()
        .any(|r| r["name"] == "console-auth-failures:cis-4.0" && r["refused_by_cloudwatch"].is_string()));
    // All 15 controls in one pass over a generated archive whose monitored
    // calls are known by construction.
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { seed: 11, records: 20_000, ..Config::default() };
    let m = synth::generate(&cfg, dir.path()).unwrap();
    let (_, doc, _) =
        json_of(&["scan", dir.path().to_str().unwrap(), "--rules", "cis", "--format", "json", "--samples", "0"]);
    let alarms = doc["alarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 15);
    let by = |name: &str| alarms.iter().find(|a| a["name"] == name).unwrap()["matches"].as_u64().unwrap();
    let calls = |names: &[&str]| names.iter().map(|n| m.monitored_calls.get(*n).copied().unwrap_or(0)).sum::<u64>();
    assert_eq!(by("unauthorized-api-calls:securityhub"), m.matches);
    assert_eq!(
        by("iam-policy-changes:securityhub"),
        calls(&["PutRolePolicy", "AttachUserPolicy", "CreatePolicyVersion"])
    );
    assert_eq!(by("cloudtrail-changes:securityhub"), calls(&["StopLogging", "UpdateTrail"]));
    assert_eq!(by("cmk-disable-or-delete:securityhub"), calls(&["DisableKey", "ScheduleKeyDeletion"]));
    assert_eq!(by("s3-bucket-policy-changes:securityhub"), calls(&["PutBucketPolicy", "DeleteBucketCors"]));
    assert_eq!(by("config-changes:securityhub"), calls(&["StopConfigurationRecorder"]));
    assert_eq!(by("security-group-changes:securityhub"), calls(&["AuthorizeSecurityGroupIngress"]));
    assert_eq!(by("nacl-changes:securityhub"), calls(&["CreateNetworkAclEntry"]));
    assert_eq!(by("network-gateway-changes:securityhub"), calls(&["AttachInternetGateway"]));
    assert_eq!(by("route-table-changes:securityhub"), calls(&["CreateRoute"]));
    assert_eq!(by("vpc-changes:securityhub"), calls(&["CreateVpc"]));
    assert_eq!(by("organizations-changes:cis-1.4"), calls(&["LeaveOrganization", "InviteAccountToOrganization"]));
    assert!(
        calls(&["PutRolePolicy", "AttachUserPolicy", "CreatePolicyVersion", "StopLogging"]) > 0,
        "the corpus exercises the pack"
    );
    // One named rule from the pack.
    let (_, doc, _) = json_of(&[
        "scan",
        dir.path().to_str().unwrap(),
        "--rule",
        "unauthorized-api-calls:cis-1.4",
        "--format",
        "json",
        "--samples",
        "0",
    ]);
    assert!(doc["alarms"][0]["matches"].as_u64().unwrap() > m.matches, "the v1.4 text matches far more");
}
