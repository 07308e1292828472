//! Alarms from infrastructure code: CloudFormation (JSON and YAML) and
//! Terraform plans replay exactly as the built-in rule they declare.

use serde_json::Value;

use crate::util;

fn scan(args: &[&str]) -> (i32, Value, String) {
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(["scan", "testdata/archive", "--format", "json"]).args(args);
    let (code, out, err) = util::run(cmd);
    let doc = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, doc, err)
}

/// What a replay is, apart from names and how the rule was written.
fn replay(alarm: &Value) -> Value {
    let mut a = alarm.clone();
    let o = a.as_object_mut().unwrap();
    for k in ["name", "title"] {
        o.remove(k);
    }
    a
}

#[test]
fn each_declaration_replays_as_the_built_in_cis_rule() {
    for (flag, file, name, extra) in [
        ("--cloudformation", "testdata/iac/cis-alarms.yaml", "cis-unauthorized-api-calls-alarm", None),
        ("--cloudformation", "testdata/iac/cis-alarms.json", "cis-unauthorized-api-calls-alarm", None),
        ("--terraform-plan", "testdata/iac/terraform-plan.json", "UnauthorizedAPICalls", Some("notBreaching")),
    ] {
        let (code, doc, err) = scan(&[flag, file]);
        assert_eq!(code, 1, "{file}: {err}");
        assert_eq!(err, "", "{file}: nothing refused, nothing to note");
        let alarms = doc["alarms"].as_array().unwrap();
        assert_eq!(alarms.len(), 1, "{file}");
        assert_eq!(alarms[0]["name"], name, "{file}");
        let mut builtin = vec!["--rule", "unauthorized-api-calls:cis-1.2"];
        if let Some(t) = extra {
            builtin.extend(["--treat-missing-data", t]);
        }
        let (_, want, _) = scan(&builtin);
        assert_eq!(replay(&alarms[0]), replay(&want["alarms"][0]), "{file}");
        assert!(alarms[0]["breaching_windows"].as_u64().unwrap() > 0);
    }
}

#[test]
fn tune_and_diff_take_the_declared_alarms_too() {
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args([
        "diff",
        "testdata/archive",
        "--cloudformation",
        "testdata/iac/cis-alarms.yaml",
        "--rule",
        "cis-unauthorized-api-calls-alarm",
        "--rule",
        "unauthorized-api-calls",
        "--format",
        "json",
    ]);
    let (code, out, err) = util::run(cmd);
    assert_eq!(code, 0, "{err}");
    let d: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((d["a"]["only_records"].as_u64(), d["b"]["only_records"].as_u64()), (Some(0), Some(0)));
    assert_eq!(d["a"]["episodes"], d["b"]["episodes"]);
    let tune = |args: &[&str]| {
        let mut cmd = util::trailwatch();
        cmd.current_dir(util::root())
            .args(["tune", "testdata/archive", "--format", "json", "--threshold", "1..4"])
            .args(args);
        let (code, out, err) = util::run(cmd);
        assert_eq!(code, 0, "{err}");
        let mut doc: Value = serde_json::from_str(&out).unwrap();
        for r in doc["rows"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("rule");
        }
        doc["rows"].clone()
    };
    assert_eq!(
        tune(&["--terraform-plan", "testdata/iac/terraform-plan.json"]),
        tune(&["--treat-missing-data", "notBreaching"])
    );
}

#[test]
fn what_the_template_alone_cannot_decide_is_refused_by_resource() {
    let (code, _, err) = scan(&["--cloudformation", "testdata/iac/refused.yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("trailwatch: nothing to replay"), "{err}");
    for want in [
        "alarm math: uses metric math",
        "AWS::Logs::MetricFilter AccountFilter: FilterPattern: Ref AWS::AccountId is known only when the stack is deployed",
        "AWS::CloudWatch::Alarm ConditionalAlarm: Threshold: Fn::If cannot be resolved from the template alone",
        "AWS::CloudWatch::Alarm NoDefaultAlarm: Threshold: parameter Threshold has no Default",
    ] {
        assert!(err.contains(want), "{want:?} not in {err}");
    }
    // Beside a template that can be replayed, the refusals are reported
    // and the rest runs.
    let (code, doc, err) =
        scan(&["--cloudformation", "testdata/iac/refused.yaml", "--cloudformation", "testdata/iac/cis-alarms.yaml"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(doc["alarms"].as_array().unwrap().len(), 1);
    assert_eq!(err.matches("trailwatch: refused: ").count(), 4, "{err}");
}

#[test]
fn unreadable_declarations_are_usage_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, text, want) in [
        ("--cloudformation", "Resources: [unclosed", "neither JSON nor YAML"),
        ("--cloudformation", "{\"AWSTemplateFormatVersion\": \"2010-09-09\"}", "no Resources"),
        ("--terraform-plan", "{\"format_version\": \"1.2\"}", "not `terraform show -json` output"),
        ("--terraform-plan", "Resources: {}", "invalid JSON"),
    ] {
        let path = dir.path().join("x");
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = scan(&[flag, path.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(path.to_str().unwrap()) && err.contains(want), "{text}: {err}");
    }
}
