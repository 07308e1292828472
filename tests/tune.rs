//! `trailwatch tune`: every row is what `scan` says under that setting; and
//! the pictures `tune --plot` and `scan --plot` draw.

use serde_json::Value;

use crate::util;

fn json(args: &[&str]) -> (i32, Value) {
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(args);
    let (code, out, err) = util::run(cmd);
    (code, serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")))
}

#[test]
fn each_row_is_what_scan_says_under_that_setting() {
    let (code, doc) = json(&[
        "tune",
        "testdata/archive",
        "--format",
        "json",
        "--threshold",
        "1,3..4",
        "--period",
        "5m,1h",
        "--evaluation-periods",
        "1,3",
        "--datapoints-to-alarm",
        "1,2",
        "--treat-missing-data",
        "missing,breaching",
    ]);
    assert_eq!(code, 0);
    assert_eq!(doc["rules"][0]["name"], "unauthorized-api-calls");
    let rows = doc["rows"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["rule"] == "unauthorized-api-calls"));
    // 3 thresholds x 2 periods x (N=1: M=1; N=3: M=1,2) x 2 treatments.
    assert_eq!(rows.len(), 3 * 2 * 3 * 2);
    for row in rows {
        let period = format!("{}", row["period_s"].as_i64().unwrap());
        let threshold = row["threshold"].to_string();
        let n = row["evaluation_periods"].to_string();
        let m = row["datapoints_to_alarm"].to_string();
        let missing = row["treat_missing_data"].as_str().unwrap().to_string();
        let (_, scan) = json(&[
            "scan",
            "testdata/archive",
            "--format",
            "json",
            "--period",
            &period,
            "--threshold",
            &threshold,
            "--evaluation-periods",
            &n,
            "--datapoints-to-alarm",
            &m,
            "--treat-missing-data",
            &missing,
        ]);
        let alarm = &scan["alarms"][0];
        let what = format!("{period}s >= {threshold}, {m} of {n}, {missing}");
        assert_eq!(row["alarm_episodes"], alarm["alarm_episodes"], "{what}");
        assert_eq!(row["minutes_in_alarm"], alarm["minutes_in_alarm"], "{what}");
        let first =
            alarm["transitions"].as_array().unwrap().iter().find(|t| t["to"] == "ALARM").map(|t| t["at"].clone());
        assert_eq!(Some(&row["first_alarm"]).filter(|v| !v.is_null()), first.as_ref(), "{what}");
    }
    // Sorted by episodes per day, fewest first.
    let per_day: Vec<f64> = rows.iter().map(|r| r["episodes_per_day"].as_f64().unwrap()).collect();
    assert!(per_day.windows(2).all(|w| w[0] <= w[1]), "{per_day:?}");
}

#[test]
fn a_cap_on_pages_keeps_the_quiet_settings_and_marks_the_best_covered() {
    let (code, doc) =
        json(&["tune", "testdata/archive", "--format", "json", "--threshold", "1..8", "--max-episodes-per-day", "70"]);
    assert_eq!(code, 0);
    let rows = doc["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    // The sample archive spans hours: sliding 5-minute sums page often.
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r["episodes_per_day"].as_f64().unwrap() <= 70.0));
    let best: Vec<&Value> = rows.iter().filter(|r| r["best"] == true).collect();
    assert_eq!(best.len(), 1);
    let top = rows.iter().map(|r| r["matches_covered"].as_f64().unwrap()).fold(0.0, f64::max);
    assert_eq!(best[0]["matches_covered"].as_f64().unwrap(), top);
    assert_eq!((best[0]["threshold"].as_f64(), best[0]["alarm_episodes"].as_u64()), (Some(1.0), Some(2)));
}

#[test]
fn bad_grids_are_usage_errors() {
    for args in
        [["--threshold", "1..x"], ["--period", "90s"], ["--evaluation-periods", "0"], ["--treat-missing-data", "maybe"]]
    {
        let mut cmd = util::trailwatch();
        cmd.current_dir(util::root()).args(["tune", "testdata/archive"]).args(args);
        let (code, out, err) = util::run(cmd);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.starts_with("trailwatch: --"), "{args:?}: {err}");
    }
}

#[test]
fn the_readme_shows_what_tune_prints_on_the_sample_archive() {
    let command = "trailwatch tune testdata/archive --threshold 1,3 --period 5m,1h --max-episodes-per-day 100";
    assert!(util::readme_shows("### `tune PATH...`", command));
    let block = util::readme_block("### `tune PATH...`");
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(command.split(' ').skip(1));
    let (code, out, _) = util::run(cmd);
    assert_eq!((code, out), (0, block));
}

#[test]
fn the_distribution_is_the_scans_window_values_by_nearest_rank() {
    let (_, doc) = json(&["tune", "testdata/archive", "--format", "json", "--period", "5m"]);
    let d = &doc["rules"][0]["distributions"][0];
    let (_, scan) = json(&["scan", "testdata/archive", "--format", "json"]);
    let mut values: Vec<f64> =
        scan["alarms"][0]["windows"].as_array().unwrap().iter().map(|w| w["value"].as_f64().unwrap()).collect();
    values.sort_by(f64::total_cmp);
    let rank = |q: f64| values[((q * values.len() as f64).ceil() as usize).max(1) - 1];
    assert_eq!(d["period_s"], 300);
    assert_eq!(d["periods"].as_u64(), Some(values.len() as u64));
    for (field, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99_9", 0.999)] {
        assert_eq!(d[field].as_f64(), Some(rank(q)), "{field}");
    }
    assert_eq!(d["max"].as_f64(), values.last().copied());
}

#[test]
fn csv_has_the_json_rows_in_the_same_order_with_the_same_names() {
    let grid = ["--threshold", "1..3", "--period", "5m,15m,1h", "--evaluation-periods", "1,2"];
    let (_, doc) = json(&[&["tune", "testdata/archive", "--format", "json"][..], &grid].concat());
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(["tune", "testdata/archive", "--format", "csv"]).args(grid);
    let (code, out, err) = util::run(cmd);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3 * 3 * 2);
    let mut n = 0;
    for (line, row) in lines.zip(rows) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        assert_eq!(row.as_object().unwrap().len(), header.len());
        for (name, cell) in header.iter().zip(&cells) {
            let want = match &row[*name] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                Value::Number(x) => x.as_f64().unwrap().to_string(),
                other => other.to_string(),
            };
            let got = cell.parse::<f64>().map(|x| x.to_string()).unwrap_or_else(|_| cell.to_string());
            assert_eq!(got, want, "{name} in {line}");
        }
        n += 1;
    }
    assert_eq!(n, rows.len());
}

#[test]
fn the_plot_has_one_line_per_period_through_each_thresholds_episodes_per_day() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("tune.svg");
    let grid = ["--threshold", "1,2,4", "--period", "5m,1h"];
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(["tune", "testdata/archive", "--format", "json", "--plot"]).arg(&svg).args(grid);
    let (code, out, err) = util::run(cmd);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    let xml = roxmltree::Document::parse(&text).expect("the plot is well-formed XML");
    assert_eq!(xml.root_element().tag_name().name(), "svg");
    let texts: Vec<String> = xml
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    for label in ["unauthorized-api-calls", "threshold", "ALARM episodes per day", "5 min", "1 h"] {
        assert!(texts.iter().any(|t| t == label), "{label:?} not in {texts:?}");
    }
    // A data line is a polyline through as many points as thresholds, in
    // the colour of its legend entry; its heights follow the rows.
    let lines: Vec<Vec<(f64, f64)>> = xml
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("2"))
        .map(|n| {
            n.attribute("points")
                .unwrap()
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect();
    let data: Vec<&Vec<(f64, f64)>> = lines.iter().filter(|l| l.len() == 3).collect();
    assert_eq!(data.len(), 2, "{lines:?}");
    let rows = doc["rows"].as_array().unwrap();
    for (line, period) in data.iter().zip([300, 3600]) {
        let mut per_day: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r["period_s"] == period)
            .map(|r| (r["threshold"].as_f64().unwrap(), r["episodes_per_day"].as_f64().unwrap()))
            .collect();
        per_day.sort_by(|a, b| a.0.total_cmp(&b.0));
        // SVG y grows downwards: more episodes, smaller y.
        for (i, j) in [(0, 1), (1, 2), (0, 2)] {
            let (a, b) = (per_day[i].1, per_day[j].1);
            let (ya, yb) = (line[i].1, line[j].1);
            assert_eq!(a.total_cmp(&b), yb.total_cmp(&ya), "period {period}: {per_day:?} vs {line:?}");
        }
        assert!(line.windows(2).all(|w| w[0].0 < w[1].0), "thresholds left to right: {line:?}");
    }
}

#[test]
fn tune_and_diff_name_the_inputs_they_could_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let bad = util::write(
        dir.path(),
        "AWSLogs/1/CloudTrail/us-east-1/2023/07/10/1_CloudTrail_us-east-1_20230710T1155Z_aaaaaaaaaaaaaaaa.json.gz",
        b"\x1f\x8b\x08\x00not really gzip",
    );
    for args in [
        vec!["tune"],
        vec!["diff", "--rule", "unauthorized-api-calls:cis-1.2", "--rule", "unauthorized-api-calls:cis-1.4"],
    ] {
        let mut cmd = util::trailwatch();
        cmd.args(&args).arg(dir.path());
        let (code, _, err) = util::run(cmd);
        assert_eq!(code, 3, "{args:?}: {err}");
        assert!(err.contains(&bad.display().to_string()), "{args:?}: {err}");
    }
}

#[test]
fn the_scan_plot_shades_one_region_per_alarm_episode_under_a_threshold_line() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("timeline.svg");
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(["scan", "testdata/archive", "--rules", "cis", "--format", "json", "--plot"]);
    cmd.arg(&svg);
    let (code, out, err) = util::run(cmd);
    assert_eq!(code, 1, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    let xml = roxmltree::Document::parse(&text).expect("the plot is well-formed XML");
    let alarms = doc["alarms"].as_array().unwrap();
    let episodes: u64 = alarms.iter().map(|a| a["alarm_episodes"].as_u64().unwrap()).sum();
    assert!(episodes >= 2);
    let shaded = xml.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#D55E00")).count();
    assert_eq!(shaded as u64, episodes);
    // One horizontal threshold line per alarm.
    let thresholds: Vec<_> = xml
        .descendants()
        .filter(|n| {
            n.has_tag_name("polyline")
                && n.attribute("stroke") == Some("#000000")
                && n.attribute("stroke-width") == Some("2")
        })
        .map(|n| {
            n.attribute("points")
                .unwrap()
                .split_whitespace()
                .map(|p| p.split(',').nth(1).unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(thresholds.len(), alarms.len());
    assert!(thresholds.iter().all(|ys| ys.len() == 2 && ys[0] == ys[1]), "{thresholds:?}");
    let captions: Vec<String> = xml
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect();
    for a in alarms {
        let name = a["name"].as_str().unwrap();
        assert!(captions.iter().any(|c| c.starts_with(&format!("{name}: Sum per 5 min"))), "{name} in {captions:?}");
    }
}

#[test]
fn hours_without_log_files_are_reported_and_shaded_grey() {
    // The sample archive with every log file delivered between 02:00 and
    // 03:00 taken away.
    let dir = tempfile::tempdir().unwrap();
    let mut removed = 0;
    for f in trailwatch_synth::log_files(&util::testdata("archive")) {
        let rel = f.strip_prefix(util::testdata("archive")).unwrap();
        let name = rel.file_name().unwrap().to_str().unwrap();
        if name.contains("_CloudTrail_") && name.contains("20230710T02") {
            removed += 1;
            continue;
        }
        util::write(dir.path(), rel.to_str().unwrap(), &std::fs::read(&f).unwrap());
    }
    assert!(removed > 0);
    let svg = dir.path().join("timeline.svg");
    let mut cmd = util::trailwatch();
    cmd.arg("scan").arg(dir.path()).args(["--format", "json", "--plot"]).arg(&svg);
    let (_, out, err) = util::run(cmd);
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(
        doc["inputs"]["delivery_gaps"],
        serde_json::json!([{"start": "2023-07-10T02:00:00Z", "end": "2023-07-10T03:00:00Z"}])
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    let xml = roxmltree::Document::parse(&text).unwrap();
    let grey = xml.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#808080")).count();
    assert_eq!(grey, 1, "one grey hour");
    let mut cmd = util::trailwatch();
    cmd.arg("scan").arg(dir.path());
    let (_, text, _) = util::run(cmd);
    assert!(text.contains("gaps     1 hour without any log file between the first and the last delivered, from 2023-07-10 02:00 – 03:00"), "{text}");
}

#[test]
fn a_plot_named_png_is_a_png_of_the_same_picture() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["t.svg", "t.png"] {
        let mut cmd = util::trailwatch();
        cmd.current_dir(util::root())
            .args(["scan", "testdata/archive", "--rules", "cis", "--plot"])
            .arg(dir.path().join(name));
        let (code, _, err) = util::run(cmd);
        assert_eq!(code, 1, "{err}");
    }
    let svg = std::fs::read_to_string(dir.path().join("t.svg")).unwrap();
    let xml = roxmltree::Document::parse(&svg).unwrap();
    let size = |a: &str| xml.root_element().attribute(a).unwrap().parse::<u32>().unwrap();
    let png = std::fs::read(dir.path().join("t.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    assert_eq!((be(&png[16..20]), be(&png[20..24])), (size("width"), size("height")));
}
