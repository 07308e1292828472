//! Reading the compressed files: `read` into a reused buffer (what the scan
//! does) against mapping each file (`memmap2`), on one thread and on two.
//! Each variant opens every file, makes its bytes available and sums them
//! as words, as the decompressor would read them once.
//!
//! What matters is page cache that is not in the CPU's caches, so this
//! wants a corpus larger than the last-level cache: `TRAILWATCH_BENCH_CORPUS`,
//! else `bench-corpus/` (made by `python3 benches/e2e.py`), else the small
//! shared corpus, with a printed note.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

mod common;

fn corpus() -> PathBuf {
    if let Ok(dir) = std::env::var("TRAILWATCH_BENCH_CORPUS") {
        return PathBuf::from(dir);
    }
    let generated = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-corpus");
    if generated.join("manifest.json").exists() {
        return generated;
    }
    eprintln!(
        "note: bench-corpus/ is absent (python3 benches/e2e.py makes it); the files below may fit in the CPU's caches"
    );
    common::corpus_dir()
}

/// The words of `bytes` summed: every byte is loaded once.
fn consume(bytes: &[u8]) -> u64 {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder().iter().map(|&b| u64::from(b)).sum::<u64>();
    words.map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes"))).fold(tail, u64::wrapping_add)
}

fn by_read(paths: &[PathBuf], buf: &mut Vec<u8>) -> u64 {
    let mut sum = 0u64;
    for p in paths {
        buf.clear();
        File::open(p).and_then(|mut f| f.read_to_end(buf)).expect("read");
        sum = sum.wrapping_add(consume(buf));
    }
    sum
}

fn by_map(paths: &[PathBuf]) -> u64 {
    let mut sum = 0u64;
    for p in paths {
        let f = File::open(p).expect("open");
        // SAFETY: the benchmark's files are not modified while mapped.
        let map = unsafe { memmap2::Mmap::map(&f) }.expect("map");
        sum = sum.wrapping_add(consume(&map));
    }
    sum
}

/// `work` on `threads` threads, each taking every `threads`-th file.
fn split(paths: &[PathBuf], threads: usize, work: impl Fn(&[PathBuf]) -> u64 + Sync) -> u64 {
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<PathBuf> = paths.iter().skip(t).step_by(threads).cloned().collect();
                let work = &work;
                s.spawn(move || work(&mine))
            })
            .collect();
        parts.into_iter().map(|h| h.join().expect("thread")).fold(0, u64::wrapping_add)
    })
}

fn bench(c: &mut Criterion) {
    let found = trailwatch::source::discover(&[corpus()]);
    let paths: Vec<PathBuf> = found.files.iter().map(|f| f.path.clone()).collect();
    let bytes: u64 = found.files.iter().map(|f| f.size).sum();
    let mut g = c.benchmark_group("io");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    for (threads, name) in [(1, "1-thread"), (2, "2-threads")] {
        g.bench_function(format!("read/{name}"), |b| {
            b.iter(|| {
                black_box(split(&paths, threads, |mine| {
                    let mut buf = Vec::new();
                    by_read(mine, &mut buf)
                }))
            })
        });
        g.bench_function(format!("mmap/{name}"), |b| b.iter(|| black_box(split(&paths, threads, by_map))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
