//! Nothing silent: every record read, every loss said, every exit status
//! true. One test per way the reader used to lose records or report
//! success without a word; each fixture is made here, and each test states
//! the exact counts, the message and the exit status.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::util::{self, scan_json as scan, write};

/// One record; `errorCode` AccessDenied on every other one.
fn record(i: usize) -> String {
    let error = if i.is_multiple_of(2) { r#","errorCode":"AccessDenied""# } else { "" };
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2023-07-10T12:{:02}:{:02}Z","eventName":"GetObject","eventID":"00000000-0000-4000-8000-{i:012}"{error}}}"#,
        (i / 60) % 60,
        i % 60
    )
}

fn records(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(record).collect()
}

fn document(recs: &[String]) -> Vec<u8> {
    format!("{{\"Records\":[{}]}}", recs.join(",")).into_bytes()
}

fn lines(recs: &[String]) -> Vec<u8> {
    recs.iter().flat_map(|r| format!("{r}\n").into_bytes()).collect()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A name that says "CloudTrail log file".
fn trail_name(i: usize) -> String {
    format!("111122223333_CloudTrail_us-east-1_20230710T12{:02}Z_silent{i:08}.json.gz", i % 60)
}

fn scan_path(p: &Path) -> (i32, Value, String) {
    scan(&[p.to_str().unwrap()])
}

fn matches(doc: &Value) -> u64 {
    doc["alarms"][0]["windows"].as_array().unwrap().iter().map(|w| w["matches"].as_u64().unwrap()).sum()
}

fn failures(doc: &Value) -> Vec<String> {
    doc["inputs"]["failures"].as_array().unwrap().iter().map(|f| f["error"].as_str().unwrap().to_string()).collect()
}

/// Two documents of ten records each whose decoded sizes are equal.
fn equal_halves() -> (Vec<u8>, Vec<u8>) {
    let (a, b) = (document(&records(0..10)), document(&records(10..20)));
    assert_eq!(a.len(), b.len());
    (a, b)
}

#[test]
fn concatenated_gzip_members_of_equal_size_are_all_read() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = equal_halves();
    let p = write(dir.path(), "ab.json.gz", &[gz(&a), gz(&b)].concat());
    let (code, doc, _) = scan_path(&p);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (1, Some(20), 10));
    assert!(failures(&doc).is_empty());
    // The same as JSON Lines.
    let (a, b) = (lines(&records(0..10)), lines(&records(10..20)));
    let p = write(dir.path(), "l/ab.jsonl.gz", &[gz(&a), gz(&b)].concat());
    let (code, doc, _) = scan_path(&p);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (1, Some(20), 10));
}

#[test]
fn a_forged_size_field_hides_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a = document(&records(0..10));
    let b = document(&records(10..25));
    // The last member's ISIZE edited to the first member's decoded size.
    let mut forged = [gz(&a), gz(&b)].concat();
    let n = forged.len();
    forged[n - 4..].copy_from_slice(&(a.len() as u32).to_le_bytes());
    let p = write(dir.path(), "forged/x.json.gz", &forged);
    let (code, doc, _) = scan_path(&p);
    assert_eq!(code, 3);
    assert_eq!((doc["inputs"]["records"].as_u64(), matches(&doc)), (Some(25), 13));
    assert!(
        failures(&doc)[0].starts_with("corrupt gzip data: size mismatch in the gzip trailer"),
        "{:?}",
        failures(&doc)
    );
    // Junk ending in the first member's size appended.
    let mut junk = gz(&a);
    junk.extend_from_slice(b"hidden events");
    junk.extend_from_slice(&(a.len() as u32).to_le_bytes());
    let p = write(dir.path(), "junk/x.json.gz", &junk);
    let (code, doc, _) = scan_path(&p);
    assert_eq!((code, doc["inputs"]["records"].as_u64()), (3, Some(10)));
    assert!(failures(&doc)[0].contains("data after the end of the gzip stream"), "{:?}", failures(&doc));
}

#[test]
fn concatenated_gzip_inside_tar_and_zip_members() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = equal_halves();
    let member = [gz(&a), gz(&b)].concat();
    let mut t = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(member.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    t.append_data(&mut h, trail_name(1), &member[..]).unwrap();
    let tar = t.into_inner().unwrap();
    let p = write(dir.path(), "a.tar", &tar);
    let (code, doc, _) = scan_path(&p);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (1, Some(20), 10));
    let zip = zip_of(&[(&trail_name(1), &member, false)]);
    let p = write(dir.path(), "a.zip", &zip);
    let (code, doc, _) = scan_path(&p);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (1, Some(20), 10));
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let doc_bytes = [b"\xEF\xBB\xBF".as_slice(), &document(&records(0..10))].concat();
    write(dir.path(), "plain.json", &doc_bytes);
    write(dir.path(), "packed.json.gz", &gz(&doc_bytes));
    let (code, doc, _) = scan_path(dir.path());
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (1, Some(20), 10));
    assert_eq!(doc["inputs"]["skipped"]["not_trail_log"], 0);
}

#[test]
fn records_need_not_be_the_first_key() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(0..10).join(",");
    write(dir.path(), &trail_name(2), &gz(format!("{{\"foo\":1,\"Records\":[{recs}]}}").as_bytes()));
    let (code, doc, _) = scan_path(dir.path());
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (1, Some(10), 5));
    assert_eq!(doc["inputs"]["forms"]["cloudtrail"], 1);
}

#[test]
fn json_lines_with_a_damaged_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let body = [b"{\"eventVersion\":\"1.0 broken\n".as_slice(), &lines(&records(0..20))].concat();
    let p = write(dir.path(), "events.jsonl", &body);
    let (code, doc, _) = scan_path(&p);
    assert_eq!(code, 3, "the damaged line is a loss, and said");
    assert_eq!((doc["inputs"]["records"].as_u64(), doc["inputs"]["records_invalid"].as_u64()), (Some(21), Some(1)));
    assert_eq!(matches(&doc), 10);
    assert_eq!(failures(&doc), ["invalid record at byte offset 0: the line is not a JSON object"]);
}

#[test]
fn json_lines_cut_into_chunks_at_any_byte() {
    let dir = tempfile::tempdir().unwrap();
    let all = lines(&records(0..3000));
    let chunk = 40_000;
    let parts: Vec<&[u8]> = all.chunks(chunk).collect();
    for (i, part) in parts.iter().enumerate() {
        write(dir.path(), &format!("x{i:02}"), part);
    }
    let (code, doc, _) = scan_path(dir.path());
    assert_eq!(code, 3);
    // A cut inside a line splits it into two pieces, each an invalid
    // record; every other line is read.
    let mut start = 0;
    let whole: Vec<bool> = (0..3000)
        .map(|i| {
            let end = start + record(i).len();
            let kept = start / chunk == (end - 1) / chunk;
            start = end + 1;
            kept
        })
        .collect();
    let cut = whole.iter().filter(|w| !**w).count() as u64;
    assert!(cut > 5);
    let kept_matches = (0..3000usize).filter(|&i| i.is_multiple_of(2) && whole[i]).count() as u64;
    assert_eq!(doc["inputs"]["records_invalid"].as_u64(), Some(2 * cut));
    assert_eq!(doc["inputs"]["records"].as_u64(), Some(3000 + cut));
    assert_eq!(matches(&doc), kept_matches);
    assert_eq!(doc["inputs"]["skipped"]["not_trail_log"], 0);
}

#[test]
fn a_trail_log_name_with_foreign_content_is_a_failure_and_other_files_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &trail_name(3), &gz(b"<html>not a log</html>"));
    write(
        dir.path(),
        "config/111122223333_Config_us-east-1_ConfigSnapshot.json",
        b"{\"fileVersion\":\"1.0\",\"configurationItems\":[]}",
    );
    write(dir.path(), "good.json", &document(&records(0..4)));
    let (code, doc, _) = scan_path(dir.path());
    assert_eq!(code, 3);
    assert_eq!(failures(&doc).len(), 1);
    let skipped = doc["inputs"]["skipped_files"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0]["path"].as_str().unwrap().ends_with("ConfigSnapshot.json"));
    assert_eq!(skipped[0]["reason"], "an AWS Config snapshot or history file (no CloudTrail events)");
    // The text report names it too.
    let mut cmd = util::trailwatch();
    cmd.args(["scan", dir.path().to_str().unwrap()]);
    let (_, text, _) = util::run(cmd);
    assert!(text.contains("ConfigSnapshot.json: an AWS Config snapshot"), "{text}");
}

#[test]
fn describe_outputs_given_as_logs_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "filters.json", b"{\"metricFilters\":[]}");
    let (code, doc, stderr) = scan_path(&p);
    assert_eq!(code, 4);
    let reason = doc["inputs"]["skipped_files"][0]["reason"].as_str().unwrap();
    assert_eq!(reason, "`aws logs describe-metric-filters` output, not a log: pass it with --aws-config");
    assert!(stderr.contains("no log record was read"), "{stderr}");
}

#[test]
fn no_input_is_never_success() {
    let dir = tempfile::tempdir().unwrap();
    let (code, doc, stderr) = scan_path(dir.path());
    assert_eq!(code, 4);
    assert_eq!(doc["inputs"]["records"], 0);
    assert_eq!(
        stderr,
        "trailwatch: no log record was read (0 files opened, 0 skipped, 0 path problems): the result says nothing about these logs; check the paths\n"
    );
    let (code, _, _) = scan(&[dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(code, 3, "a path that does not exist is a path problem");
}

#[test]
fn standard_input_and_named_streams_are_read() {
    let data = gz(&document(&records(0..10)));
    for arg in ["-", "/dev/stdin"] {
        let mut cmd = util::trailwatch();
        cmd.args(["scan", "--format", "json", arg]).stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(&data).unwrap();
        let out = child.wait_with_output().unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (out.status.code(), doc["inputs"]["records"].as_u64(), matches(&doc)),
            (Some(1), Some(10), 5),
            "{arg}"
        );
    }
}

#[test]
fn the_exit_status_survives_a_closed_pipe() {
    let archive = util::testdata("archive");
    let mut cmd = util::trailwatch();
    cmd.args(["scan", "--rules", "cis-all"]).arg(&archive);
    let (full, _, _) = util::run(cmd);
    assert_eq!(full, 1);
    let mut cmd = util::trailwatch();
    cmd.args(["scan", "--rules", "cis-all"]).arg(&archive).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // Read one line, then close the pipe, as `head -1` does.
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    drop(out);
    assert_eq!(child.wait().unwrap().code(), Some(full));
}

#[test]
fn metric_data_finer_than_the_period_is_combined_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "m.csv", b"2023-07-10T12:00:00Z,22\n2023-07-10T12:05:00Z,4\n");
    let mut cmd = util::trailwatch();
    cmd.args(["alarm", "--metric-data", p.to_str().unwrap(), "--period", "10m", "--format", "json"]);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["evaluations"][0]["value"], 26.0);
    assert_eq!(
        doc["transitions"][0]["reason"],
        "Threshold Crossed: 1 datapoint [26.0 (10/07/23 12:00:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> ALARM transition)."
    );
    let mut cmd = util::trailwatch();
    cmd.args(["alarm", "--metric-data", p.to_str().unwrap(), "--period", "10m", "--statistic", "Average"]);
    let (code, _, err) = util::run(cmd);
    assert_eq!(code, 2);
    assert!(err.contains("fall in one 600 s period, and Average values cannot be combined exactly"), "{err}");
}

#[test]
fn every_state_reason_lists_datapoints() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "m.csv",
        b"2023-07-10T11:50:00Z,32\n2023-07-10T12:00:00Z,22\n2023-07-10T12:05:00Z,4\n2023-07-10T12:10:00Z,2\n",
    );
    let mut cmd = util::trailwatch();
    cmd.args([
        "alarm",
        "--metric-data",
        p.to_str().unwrap(),
        "--evaluation-periods",
        "3",
        "--datapoints-to-alarm",
        "2",
    ]);
    cmd.args(["--treat-missing-data", "notBreaching", "--format", "json"]);
    let (_, out, _) = util::run(cmd);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let reasons: Vec<&str> =
        doc["transitions"].as_array().unwrap().iter().map(|t| t["reason"].as_str().unwrap()).collect();
    assert!(!reasons.is_empty());
    for r in &reasons {
        assert!(!r.contains("[]"), "{r}");
    }
    let mut cmd = util::trailwatch();
    cmd.args(["scan", "--format", "json", "--evaluation-periods", "3", "--datapoints-to-alarm", "2"]);
    cmd.args(["--treat-missing-data", "notBreaching"]).arg(util::testdata("archive"));
    let (_, out, _) = util::run(cmd);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let transitions = doc["alarms"][0]["transitions"].as_array().unwrap();
    assert!(!transitions.is_empty());
    for t in transitions {
        let r = t["reason"].as_str().unwrap();
        assert!(!r.contains("[]"), "{r}");
    }
}

/// A zip archive written by hand (the writer crate refuses what these
/// tests need: two members of one name, members sharing data):
/// `(name, data, deflate)`.
fn zip_of(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, deflate) in members {
        let packed = if *deflate {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        } else {
            data.to_vec()
        };
        let crc = {
            let mut c = flate2::Crc::new();
            c.update(data);
            c.sum()
        };
        let method: u16 = if *deflate { 8 } else { 0 };
        let offset = out.len() as u32;
        let fixed = |sig: &[u8], out: &mut Vec<u8>| {
            out.extend_from_slice(sig);
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0u8; 4]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(packed.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
        };
        fixed(b"PK\x03\x04", &mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&packed);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        let mut rest = Vec::new();
        fixed(b"", &mut rest);
        central.extend_from_slice(&rest);
        central.extend_from_slice(&[0u8; 6]);
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[test]
fn zip_members_of_one_name_are_both_read_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (document(&records(0..10)), document(&records(10..16)));
    let p = write(dir.path(), "dup.zip", &zip_of(&[("x.json", &a, true), ("x.json", &b, true)]));
    let (code, doc, _) = scan_path(&p);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (1, Some(16), 8));
    let notes = doc["inputs"]["notes"].as_array().unwrap();
    assert!(notes[0].as_str().unwrap().contains("more than one member is named \"x.json\""), "{notes:?}");
}

#[test]
fn a_zip_without_its_central_directory_is_read_from_its_local_headers() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (document(&records(0..10)), document(&records(10..16)));
    let zip = zip_of(&[("a.json", &a, true), ("b.json", &b, false)]);
    let cd = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let p = write(dir.path(), "cut.zip", &zip[..cd]);
    let (code, doc, _) = scan_path(&p);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (3, Some(16), 8));
    assert_eq!(
        failures(&doc),
        ["damaged zip archive: no end-of-central-directory record; 2 member(s) recovered from their local headers"]
    );
}

#[test]
fn a_zip_member_with_a_bad_crc_keeps_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let a = document(&records(0..10));
    let mut zip = zip_of(&[("a.json", &a, true)]);
    // The CRC in the central directory (what the reader checks against).
    let cd = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    zip[cd + 16] ^= 0xff;
    let p = write(dir.path(), "crc.zip", &zip);
    let (code, doc, _) = scan_path(&p);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (3, Some(10), 5));
    assert!(failures(&doc)[0].starts_with("CRC-32 mismatch"), "{:?}", failures(&doc));
}

#[test]
fn zip_entries_sharing_their_data_are_refused_as_a_bomb() {
    let dir = tempfile::tempdir().unwrap();
    let a = document(&records(0..10));
    let mut zip = zip_of(&[("a.json", &a, true), ("b.json", &a, true)]);
    // Point the second central entry at the first member's header.
    let second = zip.windows(4).enumerate().filter(|(_, w)| *w == b"PK\x01\x02").nth(1).unwrap().0;
    zip[second + 42..second + 46].copy_from_slice(&0u32.to_le_bytes());
    let p = write(dir.path(), "overlap.zip", &zip);
    let (code, doc, _) = scan_path(&p);
    // The second member's own data, which the directory no longer lists,
    // is still found from its local header and read.
    assert_eq!((code, doc["inputs"]["records"].as_u64()), (3, Some(20)));
    assert_eq!(
        failures(&doc),
        [
            "damaged zip archive: 1 member(s) the central directory does not list, read from their local headers",
            "its data overlaps that of member \"a.json\": refused as a zip bomb"
        ]
    );
}

#[test]
fn a_tar_gz_with_a_damaged_trailer_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let member = gz(&document(&records(0..10)));
    let mut t = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(member.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    t.append_data(&mut h, trail_name(4), &member[..]).unwrap();
    let tgz = gz(&t.into_inner().unwrap());
    let mut bad_crc = tgz.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 1;
    write(dir.path(), "crc/a.tar.gz", &bad_crc);
    write(dir.path(), "cut/a.tar.gz", &tgz[..n - 6]);
    for (sub, want) in [("crc", "CRC-32 mismatch"), ("cut", "the compressed stream ends early")] {
        let (code, doc, _) = scan_path(&dir.path().join(sub));
        assert_eq!((code, doc["inputs"]["records"].as_u64()), (3, Some(10)), "{sub}");
        assert!(failures(&doc)[0].contains(want), "{sub}: {:?}", failures(&doc));
    }
}

#[test]
fn absurd_options_are_refused() {
    let archive = util::testdata("archive");
    for (args, want) in [
        (vec!["--threads", "5000"], "--threads 5000: at most 1024"),
        (vec!["--max-event-bytes", "0"], "--max-event-bytes 0: at least 64"),
        (vec!["--lag", "99999999999d"], "--lag 99999999999d: at most 366 days"),
        (vec!["--from", "99999-01-01T00:00:00Z"], "invalid --from"),
        (vec!["--rules", "cs"], "did you mean `cis`?"),
    ] {
        let mut cmd = util::trailwatch();
        cmd.arg("scan").args(&args).arg(&archive);
        let (code, _, err) = util::run(cmd);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn small_things_a_new_user_hit() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "x.json.gz", &gz(&document(&records(0..2))));
    let mut cmd = util::trailwatch();
    cmd.args(["test-pattern", "{ $.errorCode = \"AccessDenied\" }"]).arg(&p);
    let (code, _, err) = util::run(cmd);
    assert_eq!(code, 2);
    assert!(err.contains("is gzip-compressed") && err.contains("trailwatch scan --pattern"), "{err}");
    let mut cmd = util::trailwatch();
    cmd.args(["rules", "--test"]);
    let (code, out, _) = util::run(cmd);
    assert_eq!(code, 0);
    assert!(out.trim_end().ends_with("examples checked, 0 failures"), "{out}");
    assert_eq!(out.lines().count(), 1, "the verdict, not the listing");
    let mut cmd = util::trailwatch();
    cmd.args(["explain", "{ $.errorcode = \"AccessDenied\" }"]);
    let (_, out, _) = util::run(cmd);
    assert!(out.contains("CloudTrail writes the field \"errorCode\", not \"errorcode\""), "{out}");
}

#[test]
fn zip_members_that_are_not_files_are_listed_and_directories_with_data_read() {
    let dir = tempfile::tempdir().unwrap();
    let a = document(&records(0..10));
    // A member whose Unix mode says symbolic link: skipped, and named.
    let mut zip = zip_of(&[("link.json", &a, true)]);
    let cd = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    zip[cd + 5] = 3;
    zip[cd + 38..cd + 42].copy_from_slice(&(0o120777u32 << 16).to_le_bytes());
    let p = write(dir.path(), "link/a.zip", &zip);
    let (code, doc, _) = scan(&[p.to_str().unwrap()]);
    assert_eq!((code, doc["inputs"]["skipped"]["special"].as_u64()), (4, Some(1)));
    let listed = &doc["inputs"]["skipped_files"][0];
    assert_eq!(listed["path"], format!("{}!/link.json", p.display()));
    assert_eq!(listed["kind"], "special");
    // A "directory" that holds data is read: a name cannot hide records.
    let p = write(dir.path(), "dir/a.zip", &zip_of(&[("folder/", &a, true)]));
    let (code, doc, _) = scan(&[p.to_str().unwrap()]);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (1, Some(10), 5));
}

#[test]
fn a_zip_whose_end_record_lists_fewer_entries_hides_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (document(&records(0..10)), document(&records(10..16)));
    let mut zip = zip_of(&[("a.json", &a, true), ("b.json", &b, true)]);
    // Found by the accounting fuzz target: the end record's entry counts
    // set to 0 (both, so that they agree) while the directory holds two.
    let end = zip.len() - 22;
    zip[end + 8..end + 12].copy_from_slice(&[0, 0, 0, 0]);
    let p = write(dir.path(), "zero.zip", &zip);
    let (code, doc, _) = scan(&[p.to_str().unwrap()]);
    assert_eq!((code, doc["inputs"]["records"].as_u64(), matches(&doc)), (3, Some(16), 8));
    assert_eq!(
        failures(&doc),
        ["damaged zip archive: the central directory holds more than the 0 entries its end record counts; 2 member(s) recovered from their local headers"]
    );
}

#[test]
fn no_progress_is_drawn_when_standard_error_is_not_a_terminal() {
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args(["scan", "testdata/archive", "--threads", "1"]);
    let (code, _, err) = util::run(cmd);
    assert_eq!(code, 1);
    assert_eq!(err, "", "nothing on standard error but what must be said");
}
