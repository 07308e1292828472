//! Decompression backends on CloudTrail objects: flate2 (miniz_oxide, or
//! zlib-rs with `--features zlib-rs`) streaming, and libdeflate whole-buffer
//! using the gzip size trailer. Throughput is decoded bytes per second.

use std::io::Read;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use trailwatch::source::NameKind;

mod common;

fn files() -> Vec<Vec<u8>> {
    let dir =
        std::env::var("TRAILWATCH_BENCH_CORPUS").map(std::path::PathBuf::from).unwrap_or_else(|_| common::corpus_dir());
    let mut out = Vec::new();
    // The trail's log files only: the corpus also holds its notes.
    let logs =
        trailwatch::source::discover(&[dir]).files.into_iter().filter(|f| matches!(f.name, NameKind::TrailLog { .. }));
    for f in logs.take(400) {
        out.push(std::fs::read(&f.path).unwrap());
    }
    out
}

fn bench(c: &mut Criterion) {
    let files = files();
    let decoded: u64 = files
        .iter()
        .map(|f| {
            let mut v = Vec::new();
            flate2::read::MultiGzDecoder::new(&f[..]).read_to_end(&mut v).unwrap();
            v.len() as u64
        })
        .sum();
    let mut g = c.benchmark_group("decompress");
    g.throughput(Throughput::Bytes(decoded));
    let mut buf = Vec::new();
    g.bench_function(if cfg!(feature = "zlib-rs") { "flate2-zlib-rs" } else { "flate2-miniz_oxide" }, |b| {
        b.iter(|| {
            for f in &files {
                buf.clear();
                flate2::read::MultiGzDecoder::new(&f[..]).read_to_end(&mut buf).unwrap();
            }
            black_box(buf.len())
        })
    });
    let mut d = libdeflater::Decompressor::new();
    g.bench_function("libdeflate", |b| {
        b.iter(|| {
            for f in &files {
                let n = f.len();
                let isize = u32::from_le_bytes([f[n - 4], f[n - 3], f[n - 2], f[n - 1]]) as usize;
                buf.resize(isize, 0);
                let got = d.gzip_decompress(f, &mut buf).unwrap();
                black_box(got);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
