//! Never a silent loss. Known records are written in a form and packing
//! the fuzzer picks (CloudTrail document or JSON Lines; plain, gzip in
//! several members, tar, tar.gz or zip; BOM; cut into files), then damaged
//! where the fuzzer says (bytes overwritten, inserted or cut off), and
//! scanned. Whatever the damage, every record that is not counted as read
//! is said: an invalid record, a failure, or a file listed as skipped. The
//! one loss no reader can see, plain JSON Lines cut at the end of a line,
//! is not made.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use trailwatch::rules::{Rule, CIS_UNAUTHORIZED_API_CALLS};
use trailwatch::scan::{scan, ScanOptions};

/// Reads the fuzzer's choices from its bytes (zeros once they run out).
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    /// A position in `0..len` (0 when `len` is 0).
    fn at(&mut self, len: usize) -> usize {
        let v = usize::from(self.byte()) << 8 | usize::from(self.byte());
        if len == 0 {
            0
        } else {
            v % len
        }
    }
}

fn record(i: usize, rotate: usize) -> String {
    let mut fields = vec![
        "\"eventVersion\":\"1.08\"".to_string(),
        format!("\"eventTime\":\"2023-07-10T12:{:02}:{:02}Z\"", (i / 60) % 60, i % 60),
        format!("\"eventID\":\"00000000-0000-4000-8000-{i:012}\""),
        format!("\"errorCode\":\"{}\"", if i % 2 == 0 { "AccessDenied" } else { "Throttling" }),
    ];
    fields.rotate_left(rotate % 4);
    format!("{{{}}}", fields.join(","))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, name, data).unwrap();
    b.into_inner().unwrap()
}

fn zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.start_file(name, opts).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap().into_inner()
}

fuzz_target!(|input: &[u8]| {
    let mut c = Choices(input);
    let n = usize::from(c.byte() % 40) + 1;
    let flags = c.byte();
    let rotate = usize::from(c.byte());
    let recs: Vec<String> = (0..n).map(|i| record(i, rotate + i * usize::from(flags >> 7))).collect();
    let lines = flags & 1 == 1;
    let mut content: Vec<u8> = if lines {
        recs.iter().flat_map(|r| format!("{r}\n").into_bytes()).collect()
    } else if flags & 2 == 2 {
        format!("{{\"foo\":[1,{{\"Records\":2}}],\"Records\":[{}]}}", recs.join(",")).into_bytes()
    } else {
        format!("{{\"Records\":[{}]}}", recs.join(",")).into_bytes()
    };
    if flags & 4 == 4 {
        content.splice(0..0, *b"\xEF\xBB\xBF");
    }
    // JSON Lines cut into files.
    let mut cuts = vec![0, content.len()];
    if lines {
        for _ in 0..c.byte() % 4 {
            cuts.push(c.at(content.len()));
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let packing = c.byte() % 5;
    let dir = tempfile::tempdir().unwrap();
    for (i, w) in cuts.windows(2).enumerate() {
        let piece = &content[w[0]..w[1]];
        let name = format!("part{i}.json");
        let mut bytes = match packing {
            0 => piece.to_vec(),
            1 => {
                let split = c.at(piece.len());
                [gzip(&piece[..split]), gzip(&piece[split..])].concat()
            }
            2 => tar(&name, piece),
            3 => gzip(&tar(&name, piece)),
            _ => zip(&name, piece),
        };
        // Damage: overwrite, insert or cut, where the fuzzer says. Plain
        // JSON Lines are never cut: cut at a line's end, a file is a shorter
        // file, and no reader can see what is missing.
        let cuttable = !(lines && packing == 0);
        for _ in 0..c.byte() % 3 {
            let at = c.at(bytes.len());
            match c.byte() % 3 {
                0 if !bytes.is_empty() => bytes[at] = c.byte(),
                1 => bytes.insert(at, c.byte()),
                _ if cuttable => bytes.truncate(at.max(1)),
                _ => {}
            }
        }
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let rule = Rule::new("headline", CIS_UNAUTHORIZED_API_CALLS).unwrap();
    let opts = ScanOptions { threads: 1, ..ScanOptions::default() };
    let report = scan(&[dir.path().to_path_buf()], std::slice::from_ref(&rule), &opts);
    let t = &report.totals;
    let valid = t.records - t.records_invalid;
    let listed = report.files.iter().filter(|f| f.not_trail_log).count() + report.skipped_members.len();
    let said = t.records_invalid > 0 || report.has_failures() || listed > 0;
    assert!(valid >= n as u64 || said, "{} of {n} records read and nothing said: {:?}", valid, report.files);
});
