//! Records for the benchmarks: the shared corpus of real CloudTrail records
//! when present, else a generated archive (with a printed note).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use trailwatch::scan::{scan, ScanOptions};
use trailwatch::source::{discover, read_records, Batch, Limits, NameKind, ReadBuffers, RecordSink, Source};

struct Collect(Vec<String>);

impl RecordSink for Collect {
    fn batch(&mut self, batch: &Batch<'_>) {
        for i in 0..batch.spans.len() {
            self.0.push(String::from_utf8_lossy(batch.record(i)).into_owned());
        }
    }
    fn oversized(&mut self, _offset: u64, _len: u64) {}
    fn invalid(&mut self, _offset: u64, _why: &str) {}
}

/// Where the records come from.
pub fn corpus_dir() -> PathBuf {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if shared.join("SOURCES.md").exists() {
        shared
    } else {
        eprintln!("note: ../shared/corpus is absent; benchmarking on a generated archive instead of real records");
        let dir = std::env::temp_dir().join("trailwatch-bench-archive");
        if !dir.join("manifest.json").exists() {
            let cfg = trailwatch_synth::Config { records: 4000, ..Default::default() };
            trailwatch_synth::generate(&cfg, &dir).expect("generate archive");
        }
        dir
    }
}

/// Every record, as text.
pub fn records() -> Vec<String> {
    let found = discover(&[corpus_dir()]);
    let mut sink = Collect(Vec::new());
    let mut buf = ReadBuffers::new();
    for f in &found.files {
        let trusted = matches!(f.name, NameKind::TrailLog { .. });
        let _ = read_records(Source::File(f), trusted, Limits::default(), &mut buf, &mut sink);
    }
    sink.0
}

/// Run a full scan (used to check the helper works).
pub fn scan_corpus() -> u64 {
    let r = scan(&[corpus_dir()], &[trailwatch::rules::Rule::cis_unauthorized_api_calls()], &ScanOptions::default());
    r.totals.records
}
