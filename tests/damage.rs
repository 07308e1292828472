//! Broken and hostile input: one fixture per kind of damage, generated
//! here, each with the exact counts and message it must produce, and the
//! good records around it all counted.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::Value;
use trailwatch_synth::{self as synth, Config};

use crate::util::{self, scan_json as scan, write};

const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10";

/// A CloudTrail object name (the name says "trail log").
fn trail_name(i: usize, ext: &str) -> String {
    format!("{DAY}/111122223333_CloudTrail_us-east-1_20230710T12{:02}Z_damage{i:010}.{ext}", i % 60)
}

/// A flat record; every third one matches the headline rule.
fn record(i: usize) -> String {
    let error = if i.is_multiple_of(3) { r#","errorCode":"AccessDenied""# } else { "" };
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2023-07-10T12:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"00000000-0000-4000-8000-{i:012}","sourceIPAddress":"10.0.{}.{}"{error}}}"#,
        (i / 60) % 60,
        i % 60,
        i % 250,
        i % 7
    )
}

fn records(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(record).collect()
}

fn matches_in(range: std::ops::Range<usize>) -> u64 {
    range.filter(|i| i % 3 == 0).count() as u64
}

/// `{"Records":[` + one record per line + `]}`.
fn document(recs: &[String]) -> String {
    format!("{{\"Records\":[\n{}\n]}}", recs.join(",\n"))
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A gzip stream of `first` then `rest` with a byte-aligned boundary
/// between them (sync flush); returns it and the boundary.
fn gz_flushed(first: &[u8], rest: &[u8]) -> (Vec<u8>, usize) {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(first).unwrap();
    e.flush().unwrap();
    let cut = e.get_ref().len();
    e.write_all(rest).unwrap();
    (e.finish().unwrap(), cut)
}

fn scan_dir(dir: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![dir.to_str().unwrap()];
    args.extend(extra);
    scan(&args)
}

/// The only failure of a run.
fn only_failure(doc: &Value) -> &Value {
    let f = doc["inputs"]["failures"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    &f[0]
}

/// One good file of 30 records beside every damaged one.
fn with_good_neighbour(dir: &Path) {
    write(dir, &trail_name(59, "json.gz"), &gz(document(&records(1000..1030)).as_bytes()));
}

const GOOD_RECORDS: u64 = 30;
const GOOD_MATCHES: u64 = 10;

#[test]
fn truncated_gzip() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    let recs = records(0..40);
    let head = format!("{{\"Records\":[\n{},\n", recs[..20].join(",\n"));
    let tail = format!("{}\n]}}", recs[20..].join(",\n"));
    let (whole, cut) = gz_flushed(head.as_bytes(), tail.as_bytes());
    write(dir.path(), &trail_name(1, "json.gz"), &whole[..cut]);
    let (code, doc, stderr) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3, "an unreadable input exits 3: {stderr}");
    let f = only_failure(&doc);
    let recovered_to = head.len() - 2;
    assert_eq!(
        f["error"],
        format!("truncated gzip: the compressed stream ends early, after {cut} compressed bytes (20 records recovered before it, up to decoded byte {recovered_to})")
    );
    assert_eq!(f["records_recovered"], 20);
    assert_eq!(doc["inputs"]["records"], 20 + GOOD_RECORDS);
    assert_eq!(doc["inputs"]["files_read"], 1);
    assert_eq!(doc["inputs"]["files_failed"], 1);
    assert_eq!(doc["alarms"][0]["matches"], matches_in(0..20) + GOOD_MATCHES);
    assert!(stderr.contains("truncated gzip"), "failures are also reported on stderr: {stderr}");
}

#[test]
fn corrupt_deflate_stream() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    let recs = records(0..40);
    let head = format!("{{\"Records\":[\n{},\n", recs[..25].join(",\n"));
    let tail = format!("{}\n]}}", recs[25..].join(",\n"));
    let (mut whole, cut) = gz_flushed(head.as_bytes(), tail.as_bytes());
    whole[cut] = 0xff; // a final block of the reserved type
    write(dir.path(), &trail_name(2, "json.gz"), &whole);
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    let f = only_failure(&doc);
    assert_eq!(
        f["error"],
        format!(
            "corrupt gzip data: corrupt deflate data at compressed byte {} (25 records recovered before it, up to decoded byte {})",
            cut + 1,
            head.len() - 2
        )
    );
    assert_eq!(doc["inputs"]["records"], 25 + GOOD_RECORDS);
    assert_eq!(doc["alarms"][0]["matches"], matches_in(0..25) + GOOD_MATCHES);
}

#[test]
fn checksum_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    let mut g = gz(document(&records(0..12)).as_bytes());
    let n = g.len();
    g[n - 8] ^= 0x55;
    write(dir.path(), &trail_name(3, "json.gz"), &g);
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    let f = only_failure(&doc);
    let error = f["error"].as_str().unwrap();
    assert_eq!(
        error,
        format!("corrupt gzip data: CRC-32 mismatch (the decoded data is not what was compressed) at compressed byte {n} (12 records recovered before it, up to decoded byte {})", document(&records(0..12)).len() - 3)
    );
    assert_eq!(doc["inputs"]["records"], 12 + GOOD_RECORDS);
}

#[test]
fn invalid_json_at_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    let recs = records(0..3);
    let text = format!("{{\"Records\":[\n{},\n{} x,\n{}\n]}}", recs[0], recs[1], recs[2]);
    write(dir.path(), &trail_name(4, "json"), text.as_bytes());
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    let f = only_failure(&doc);
    let x = text.find(" x").unwrap() + 1;
    let end_of_second = x - 1;
    assert_eq!(
        f["error"],
        format!("invalid JSON: unexpected 'x' at byte offset {x} (2 records recovered before it, up to decoded byte {end_of_second})")
    );
    assert_eq!(f["records_recovered"], 2);
    assert_eq!(doc["inputs"]["records"], 2 + GOOD_RECORDS);
}

#[test]
fn record_that_is_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    // Record 0 matches, so it is parsed even with the prefilter.
    let recs = records(0..4);
    let bad = recs[0].replace("GetObject", "Get\u{1}Object").into_bytes();
    let bad: Vec<u8> = bad.into_iter().map(|b| if b == 1 { 0xff } else { b }).collect();
    let mut text = b"{\"Records\":[\n".to_vec();
    text.extend_from_slice(&bad);
    text.extend_from_slice(format!(",\n{}\n]}}", recs[1..].join(",\n")).as_bytes());
    write(dir.path(), &trail_name(5, "json.gz"), &gz(&text));
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    let f = only_failure(&doc);
    let at = text.iter().position(|b| *b == 0xff).unwrap();
    assert_eq!(f["error"], format!("invalid record at byte offset {at}: not UTF-8"));
    assert_eq!(f["records_invalid"], 1);
    assert_eq!(f["records_recovered"], 3);
    assert_eq!(doc["inputs"]["records"], 4 + GOOD_RECORDS);
    assert_eq!(doc["inputs"]["records_invalid"], 1);
    assert_eq!(doc["alarms"][0]["matches"], matches_in(1..4) + GOOD_MATCHES);
}

#[test]
fn no_records_array() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    write(dir.path(), &trail_name(6, "json.gz"), &gz(b"{\"foo\": [1, 2]}"));
    // The same content under a name that does not claim to be a trail log
    // is simply something else.
    write(dir.path(), "notes/settings.json", b"{\"foo\": [1, 2]}");
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    assert_eq!(only_failure(&doc)["error"], "no Records array at byte offset 14");
    assert_eq!(doc["inputs"]["skipped"]["not_trail_log"], 1);
    assert_eq!(doc["inputs"]["records"], GOOD_RECORDS);
}

#[test]
fn empty_inputs() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    write(dir.path(), &trail_name(7, "json.gz"), b"");
    write(dir.path(), &trail_name(8, "json.gz"), &gz(b""));
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    assert_eq!(doc["inputs"]["skipped"]["empty"], 1, "an empty file is skipped");
    assert_eq!(
        only_failure(&doc)["error"],
        "truncated: the JSON document ends early at byte offset 0",
        "a trail log that decompresses to nothing is damage"
    );
}

#[test]
fn unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    let p = write(dir.path(), &trail_name(9, "json.gz"), &gz(document(&records(0..3)).as_bytes()));
    fs::set_permissions(&p, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&p).is_ok() {
        eprintln!("note: running with privileges that read any file; the permission case is not checked");
        return;
    }
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    assert_eq!(only_failure(&doc)["error"], "Permission denied (os error 13)");
    assert_eq!(doc["inputs"]["records"], GOOD_RECORDS);
}

#[test]
fn decompression_bombs() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    // 8 MiB of a valid document's padding compresses to almost nothing.
    let mut text = b"{\"Records\":[".to_vec();
    text.resize(8 << 20, b' ');
    text.extend_from_slice(b"]}");
    write(dir.path(), &trail_name(10, "json.gz"), &gz(&text));
    let (code, doc, _) = scan_dir(dir.path(), &["--max-decompressed", "1000000"]);
    assert_eq!(code, 3);
    let e = only_failure(&doc)["error"].as_str().unwrap().to_string();
    assert!(e.starts_with("decompression stopped after "), "{e}");
    assert!(
        e.ends_with("more than the per-file decompressed limit (possible decompression bomb; see --max-decompressed)"),
        "{e}"
    );
    assert_eq!(doc["inputs"]["records"], GOOD_RECORDS);
    // Within the limits the same file is fine.
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!((code, doc["inputs"]["files_failed"].as_u64()), (1, Some(0)));
}

#[test]
fn oversized_records_are_counted_not_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    let mut recs = records(0..5);
    recs[3] = recs[3].replace("GetObject", &"G".repeat(5000)); // record 3 matches
    write(dir.path(), &trail_name(11, "json.gz"), &gz(document(&recs).as_bytes()));
    let (code, doc, _) = scan_dir(dir.path(), &["--max-event-bytes", "4096"]);
    assert_eq!(code, 1, "oversized records are CloudTrail's rule, not damage");
    assert_eq!(doc["inputs"]["records_oversized"], 1);
    assert_eq!(doc["inputs"]["records"], 5 + GOOD_RECORDS);
    assert_eq!(doc["alarms"][0]["matches"], 1 + GOOD_MATCHES, "record 0 matches; record 3 never reached CloudWatch");
}

#[test]
fn nesting_too_deep() {
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    let mut recs = records(0..2);
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    recs[0] = recs[0].replace(r#""sourceIPAddress""#, &format!(r#""requestParameters":{deep},"sourceIPAddress""#));
    let text = document(&recs);
    write(dir.path(), &trail_name(12, "json.gz"), &gz(text.as_bytes()));
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    // The record object is level 1, so the 1000th bracket is level 1001.
    let at = text.find("[[[").unwrap() + 999;
    assert_eq!(only_failure(&doc)["error"], format!("invalid record at byte offset {at}: JSON nested too deeply"));
    assert_eq!(doc["inputs"]["records_invalid"], 1);
    assert_eq!(doc["inputs"]["records"], 2 + GOOD_RECORDS);
}

#[test]
fn json_lines_with_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(0..6);
    let text = format!("{}\n{}\nnot json at all\n\n{}\n", recs[0], recs[1], recs[2..].join("\n"));
    write(dir.path(), "export/events.jsonl", text.as_bytes());
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3);
    let bad = text.find("not json").unwrap();
    assert_eq!(
        only_failure(&doc)["error"],
        format!("invalid record at byte offset {bad}: the line is not a JSON object")
    );
    assert_eq!(doc["inputs"]["forms"]["json_lines"], 1);
    assert_eq!(doc["inputs"]["records"], 7);
    assert_eq!(doc["inputs"]["records_invalid"], 1);
    assert_eq!(doc["alarms"][0]["matches"], matches_in(0..6));
}

#[test]
fn symlink_loops_special_files_and_odd_names() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    with_good_neighbour(dir.path());
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink(&sub, sub.join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), sub.join("dangling")).unwrap();
    let fifo = sub.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
    // A file name that is not UTF-8, holding a good trail log.
    let odd = sub.join(std::ffi::OsStr::from_bytes(b"odd-\xff-name.json.gz"));
    fs::write(&odd, gz(document(&records(0..3)).as_bytes())).unwrap();
    let (code, doc, _) = scan_dir(dir.path(), &[]);
    assert_eq!(code, 3, "a broken link is a problem to report");
    let problems = doc["inputs"]["path_problems"].as_array().unwrap();
    let reasons: Vec<&str> = problems.iter().map(|p| p["error"].as_str().unwrap()).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(reasons.iter().any(|r| r.starts_with("broken or looping symbolic link")), "{reasons:?}");
    assert!(reasons.contains(&"symbolic link loop (directory contains itself)"), "{reasons:?}");
    if made {
        assert_eq!(doc["inputs"]["skipped"]["special"], 1);
    }
    assert_eq!(doc["inputs"]["records"], 3 + GOOD_RECORDS);
    assert_eq!(doc["inputs"]["files_read"], 2);
}

fn tar_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn damaged_archive_keeps_the_members_before_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let members: Vec<(String, Vec<u8>)> =
        (0..4).map(|i| (trail_name(i, "json.gz"), gz(document(&records(i * 10..i * 10 + 10)).as_bytes()))).collect();
    let refs: Vec<(&str, Vec<u8>)> = members.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let tar = tar_of(&refs);
    // Cut inside the third member's data (found by content: long names add
    // GNU header blocks).
    let third = tar.windows(members[2].1.len()).position(|w| w == members[2].1.as_slice()).unwrap() + 100;
    let cut = gz(&tar[..third]);
    let archive = write(dir.path(), "bucket.tar.gz", &cut[..cut.len() - 8]); // no trailer either
    let (code, doc, _) = scan(&[archive.to_str().unwrap()]);
    assert_eq!(code, 3);
    let f = only_failure(&doc);
    assert_eq!(f["path"], archive.to_str().unwrap());
    assert!(f["error"].as_str().unwrap().starts_with("damaged tar archive after 2 members: "), "{f}");
    assert_eq!(doc["inputs"]["archives"], 1);
    assert_eq!(doc["inputs"]["files_read"], 2);
    assert_eq!(doc["inputs"]["records"], 20);
    assert_eq!(doc["alarms"][0]["matches"], matches_in(0..20));
}

#[test]
fn archive_inside_an_archive_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let inner = tar_of(&[(&trail_name(0, "json.gz"), gz(document(&records(0..3)).as_bytes()))]);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("inner.tar", opts).unwrap();
    w.write_all(&inner).unwrap();
    w.start_file(trail_name(1, "json.gz"), opts).unwrap();
    w.write_all(&gz(document(&records(3..6)).as_bytes())).unwrap();
    let zip = w.finish().unwrap().into_inner();
    let archive = write(dir.path(), "download.zip", &zip);
    let (code, doc, _) = scan(&[archive.to_str().unwrap()]);
    assert_eq!(code, 3);
    let f = only_failure(&doc);
    assert_eq!(f["path"], format!("{}!/inner.tar", archive.display()));
    assert_eq!(f["error"], "an archive inside an archive is not read: extract the outer archive first");
    assert_eq!(doc["inputs"]["records"], 3);
}

/// Windows of the first alarm, as start → value.
fn windows(doc: &Value) -> Vec<(String, f64)> {
    doc["alarms"][0]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["start"].as_str().unwrap().to_string(), w["value"].as_f64().unwrap()))
        .collect()
}

#[test]
fn a_damaged_file_among_good_ones_adds_exactly_its_recoverable_records() {
    let good = tempfile::tempdir().unwrap();
    let cfg = Config { seed: 77, records: 3000, accounts: 1, regions: 2, ..Config::default() };
    synth::generate(&cfg, good.path()).unwrap();
    let (_, alone, _) = scan_dir(good.path(), &[]);

    // The damaged file: 60 records, only the first 30 recoverable.
    let recs = records(0..60);
    let head = format!("{{\"Records\":[\n{},\n", recs[..30].join(",\n"));
    let tail = format!("{}\n]}}", recs[30..].join(",\n"));
    let (mut whole, cut) = gz_flushed(head.as_bytes(), tail.as_bytes());
    whole[cut] = 0xff;
    let damaged = write(good.path(), &trail_name(33, "json.gz"), &whole);

    // What those 30 records give on their own.
    let only = tempfile::tempdir().unwrap();
    write(only.path(), &trail_name(33, "json.gz"), &gz(document(&recs[..30]).as_bytes()));
    let (_, recovered, _) = scan_dir(only.path(), &[]);

    let (code, all, _) = scan_dir(good.path(), &[]);
    assert_eq!(code, 3);
    assert_eq!(only_failure(&all)["path"], damaged.to_str().unwrap());
    let mut want: std::collections::BTreeMap<String, f64> = windows(&alone).into_iter().collect();
    for (start, v) in windows(&recovered) {
        *want.entry(start).or_default() += v;
    }
    assert_eq!(windows(&all), want.into_iter().collect::<Vec<_>>());
    assert_eq!(all["inputs"]["records"].as_u64().unwrap(), alone["inputs"]["records"].as_u64().unwrap() + 30);
}

#[test]
fn repeated_events_are_counted_and_dedup_keeps_the_first_copy() {
    let dir = tempfile::tempdir().unwrap();
    let a = document(&records(0..30));
    write(dir.path(), &trail_name(1, "json.gz"), &gz(a.as_bytes())); // first in path order
    write(dir.path(), &format!("z-copy/{}", trail_name(1, "json.gz")), &gz(a.as_bytes())); // last
    write(dir.path(), &trail_name(2, "json.gz"), &gz(document(&records(20..40)).as_bytes()));
    write(dir.path(), "export.jsonl", format!("{}\n", record(0)).as_bytes());
    // Repeats among matching records: all 10 of the copy, 21/24/27 of the
    // overlap, record 0 of the export.
    let (code, doc, _) = scan_dir(dir.path(), &["--samples", "100"]);
    assert_eq!(code, 1);
    let d = &doc["inputs"]["duplicates"];
    assert_eq!(d["copies"], 14);
    assert_eq!(d["dropped"], false);
    assert_eq!(doc["alarms"][0]["matches"], 10 + 10 + 7 + 1, "without --dedup every copy counts");
    let first = &d["examples"][0];
    assert_eq!(first["event_id"], "00000000-0000-4000-8000-000000000000");
    assert!(first["first"]["path"].as_str().unwrap().ends_with(&trail_name(1, "json.gz")), "{first}");
    assert!(!first["first"]["path"].as_str().unwrap().contains("z-copy"), "{first}");
    assert!(first["again"]["path"].as_str().unwrap().ends_with("export.jsonl"), "{first}");

    let mut results = Vec::new();
    for threads in ["1", "2"] {
        let (code, doc, _) = scan_dir(dir.path(), &["--dedup", "--samples", "100", "--threads", threads]);
        assert_eq!(code, 1);
        assert_eq!(doc["inputs"]["duplicates"]["copies"], 14);
        assert_eq!(doc["inputs"]["duplicates"]["dropped"], true);
        assert_eq!(doc["alarms"][0]["matches"], matches_in(0..40), "each event once");
        let paths: Vec<String> = doc["alarms"][0]["windows"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|w| w["events"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(paths.len() as u64, matches_in(0..40));
        assert!(paths.iter().all(|p| !p.contains("z-copy") && !p.ends_with("export.jsonl")), "{paths:?}");
        results.push(doc["alarms"].clone());
    }
    assert_eq!(results[0], results[1], "the same result at every thread count");
}

#[test]
fn repeated_events_are_found_among_more_records_than_memory_holds() {
    // 24,000 publishing records: more than a worker keeps before it writes
    // its event IDs out as a sorted run, so the count comes from merging
    // runs read back from the temporary file.
    let dir = tempfile::tempdir().unwrap();
    for f in 0..40 {
        let doc = document(&records(f * 600..(f + 1) * 600));
        write(dir.path(), &trail_name(f, "json.gz"), &gz(doc.as_bytes()));
        if f % 8 == 3 {
            write(dir.path(), &format!("z-copy/{}", trail_name(f, "json.gz")), &gz(doc.as_bytes()));
        }
    }
    let mut results = Vec::new();
    let nowhere = dir.path().join("no-such-dir");
    for (threads, tmpdir) in [("1", None), ("2", None), ("2", Some(&nowhere))] {
        let mut cmd = util::trailwatch();
        cmd.arg("scan").arg("--format").arg("json").arg(dir.path());
        cmd.args(["--pattern", "{ $.absent NOT EXISTS }", "--threads", threads]);
        if let Some(t) = tmpdir {
            cmd.env("TMPDIR", t);
        }
        let (code, stdout, _) = util::run(cmd);
        let doc: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(code, 1);
        let d = &doc["inputs"]["duplicates"];
        assert_eq!(d["copies"], 5 * 600, "files 3, 11, 19, 27 and 35 were copied");
        match tmpdir {
            None => assert!(d.get("problem").is_none(), "{d}"),
            // Nowhere to write the runs: kept in memory, said so, same result.
            Some(t) => assert!(
                d["problem"].as_str().unwrap().starts_with(&format!(
                    "cannot write event IDs to a temporary file in {} (kept in memory instead): ",
                    t.display()
                )),
                "{d}"
            ),
        }
        let first = &d["examples"][0];
        assert_eq!(first["event_id"], format!("00000000-0000-4000-8000-{:012}", 3 * 600));
        assert!(first["first"]["path"].as_str().unwrap().ends_with(&trail_name(3, "json.gz")), "{first}");
        assert!(first["again"]["path"].as_str().unwrap().contains("z-copy"), "{first}");
        assert_eq!(doc["alarms"][0]["matches"], 45 * 600);
        results.push(doc);
    }
    for r in &results[1..] {
        assert_eq!(results[0]["inputs"]["duplicates"]["examples"], r["inputs"]["duplicates"]["examples"]);
        assert_eq!(results[0]["alarms"], r["alarms"]);
    }
}
