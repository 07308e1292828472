//! The accounting invariant, as a property: any records, written in any
//! form and packing the reader supports, are all counted, and every record
//! that is not read is said. Written records = records read + records lost,
//! where every lost record leaves an invalid piece or a failure behind.

use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use trailwatch::rules::{Rule, CIS_UNAUTHORIZED_API_CALLS};
use trailwatch::scan::{scan, ScanOptions, ScanReport};

/// The keys of a record, in an order the test chooses.
const KEYS: [&str; 5] = ["eventVersion", "eventTime", "eventName", "eventID", "errorCode"];

fn record(i: usize, order: &[usize]) -> String {
    let value = |k: &str| match k {
        "eventVersion" => "\"1.08\"".to_string(),
        "eventTime" => format!("\"2023-07-10T12:{:02}:{:02}Z\"", (i / 60) % 60, i % 60),
        "eventName" => "\"GetObject\"".to_string(),
        "eventID" => format!("\"00000000-0000-4000-8000-{i:012}\""),
        _ if i.is_multiple_of(3) => "\"AccessDenied\"".to_string(),
        _ => "null".to_string(),
    };
    let fields: Vec<String> = order.iter().map(|&k| format!("\"{}\":{}", KEYS[k], value(KEYS[k]))).collect();
    format!("{{{}}}", fields.join(","))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `data` as gzip members, split at `cuts` (fractions of its length).
fn members(data: &[u8], cuts: &[f64]) -> Vec<u8> {
    let mut at: Vec<usize> = cuts.iter().map(|f| (f * data.len() as f64) as usize).collect();
    at.push(0);
    at.push(data.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).flat_map(|w| gzip(&data[w[0]..w[1]])).collect()
}

#[derive(Clone, Debug)]
enum Packing {
    Plain,
    /// gzip members split at these fractions; `forged`: the last member's
    /// size field set to the first member's.
    Gzip {
        cuts: Vec<f64>,
        forged: bool,
    },
    Tar,
    TarGz,
    Zip,
}

#[derive(Clone, Debug)]
struct Case {
    n: usize,
    order: Vec<usize>,
    /// A CloudTrail document (with `Records` after another key when
    /// `records_later`), or JSON Lines.
    lines: bool,
    records_later: bool,
    bom: bool,
    packing: Packing,
    /// JSON Lines only: cut into files at these fractions.
    file_cuts: Vec<f64>,
}

fn case() -> impl Strategy<Value = Case> {
    let packing = prop_oneof![
        Just(Packing::Plain),
        (prop::collection::vec(0.0..1.0f64, 0..4), any::<bool>())
            .prop_map(|(cuts, forged)| Packing::Gzip { cuts, forged }),
        Just(Packing::Tar),
        Just(Packing::TarGz),
        Just(Packing::Zip),
    ];
    (
        1usize..60,
        Just((0..KEYS.len()).collect::<Vec<_>>()).prop_shuffle(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        packing,
        prop::collection::vec(0.0..1.0f64, 0..4),
    )
        .prop_map(|(n, order, lines, records_later, bom, packing, file_cuts)| Case {
            n,
            order,
            lines,
            records_later,
            bom,
            packing,
            file_cuts: if lines { file_cuts } else { Vec::new() },
        })
}

/// Write the case's files into `dir`; returns how many lines were cut.
fn write_case(c: &Case, dir: &Path) -> usize {
    let recs: Vec<String> = (0..c.n).map(|i| record(i, &c.order)).collect();
    let content: Vec<u8> = if c.lines {
        recs.iter().flat_map(|r| format!("{r}\n").into_bytes()).collect()
    } else if c.records_later {
        format!("{{\"foo\":{{\"Records\":1}},\"Records\":[{}]}}", recs.join(",")).into_bytes()
    } else {
        format!("{{\"Records\":[{}]}}", recs.join(",")).into_bytes()
    };
    let content = if c.bom { [b"\xEF\xBB\xBF".as_slice(), &content].concat() } else { content };
    // JSON Lines cut into several files at arbitrary bytes.
    let mut at: Vec<usize> = c.file_cuts.iter().map(|f| (f * content.len() as f64) as usize).collect();
    at.push(0);
    at.push(content.len());
    at.sort_unstable();
    at.dedup();
    let pieces: Vec<&[u8]> = at.windows(2).map(|w| &content[w[0]..w[1]]).collect();
    let cut_lines = at[1..at.len() - 1].iter().filter(|&&p| content[p - 1] != b'\n').count();
    for (i, piece) in pieces.iter().enumerate() {
        let name = format!("part{i:02}");
        let bytes = match &c.packing {
            Packing::Plain => piece.to_vec(),
            Packing::Gzip { cuts, forged } => {
                let mut g = members(piece, cuts);
                if *forged {
                    let first = gzip_first_size(&g);
                    let n = g.len();
                    g[n - 4..].copy_from_slice(&first.to_le_bytes());
                }
                g
            }
            Packing::Tar | Packing::TarGz => {
                let mut b = tar::Builder::new(Vec::new());
                let mut h = tar::Header::new_gnu();
                h.set_size(piece.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, format!("{name}.json"), *piece).unwrap();
                let t = b.into_inner().unwrap();
                if matches!(c.packing, Packing::TarGz) {
                    gzip(&t)
                } else {
                    t
                }
            }
            Packing::Zip => {
                let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                let opts =
                    zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
                w.start_file(format!("{name}.json"), opts).unwrap();
                w.write_all(piece).unwrap();
                w.finish().unwrap().into_inner()
            }
        };
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    cut_lines
}

/// The size field of the first member of a gzip stream made by [`members`].
fn gzip_first_size(g: &[u8]) -> u32 {
    let mut d = flate2::bufread::GzDecoder::new(g);
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut d, &mut out).unwrap();
    out.len() as u32
}

fn headline() -> Vec<Rule> {
    vec![Rule::new("headline", CIS_UNAUTHORIZED_API_CALLS).unwrap()]
}

fn check(c: &Case, report: &ScanReport, cut_lines: usize) -> Result<(), TestCaseError> {
    let t = &report.totals;
    let valid = t.records - t.records_invalid;
    let written = c.n as u64;
    let skipped: u64 = report.skipped.values().sum();
    // A piece of a cut line alone in a file fits no form: it is skipped, and
    // listed with its path and reason. Nothing else is skipped.
    let listed = report.files.iter().filter(|f| f.not_trail_log && f.foreign.is_some()).count() as u64
        + report.skipped_members.len() as u64;
    prop_assert_eq!(skipped, listed, "{:?}", report.skipped);
    if cut_lines == 0 {
        prop_assert_eq!(skipped, 0);
    }
    prop_assert!(valid <= written);
    let lost = written - valid;
    // Every lost record is said: an invalid piece, a failure, or a listed
    // file.
    let said = t.records_invalid > 0 || report.has_failures() || listed > 0;
    prop_assert!(lost == 0 || said, "{lost} lost silently");
    // Only a cut line can lose a record; gzip members and packing never do.
    prop_assert!(lost as usize <= cut_lines, "{lost} lost, {cut_lines} lines cut");
    let forged = matches!(&c.packing, Packing::Gzip { forged: true, cuts } if !cuts.is_empty());
    if cut_lines == 0 && !forged {
        prop_assert!(!report.has_failures(), "{:?}", report.files);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_record_is_counted_and_every_loss_said(c in case()) {
        let dir = tempfile::tempdir().unwrap();
        let cut_lines = write_case(&c, dir.path());
        let rules = headline();
        let opts = ScanOptions { threads: 2, ..ScanOptions::default() };
        let report = scan(&[dir.path().to_path_buf()], &rules, &opts);
        check(&c, &report, cut_lines)?;
    }
}
