//! The scan's inner loops on real CloudTrail records packed into one decoded
//! log file: record splitting, the literal prefilter (headline rule and the
//! 15 CIS rules at once); and the per-minute series merge, window roll-up
//! and alarm replay that follow a scan.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use trailwatch::alarm::eval::Replay;
use trailwatch::alarm::{AlarmSpec, Statistic};
use trailwatch::metric::{windows, Series};
use trailwatch::record::{Hit, Probes, RecordSpan, Splitter, Step};
use trailwatch::rules::{pack, Rule};
use trailwatch::scan::prefilter::Prefilter;

mod common;

/// The records as one `{"Records":[...]}` document of at least 4 MiB
/// (repeating the corpus), like a large decoded CloudTrail file.
fn document() -> Vec<u8> {
    let records = common::records();
    assert!(!records.is_empty());
    let mut doc = b"{\"Records\":[".to_vec();
    let mut first = true;
    while doc.len() < 4 << 20 {
        for r in &records {
            if !first {
                doc.push(b',');
            }
            first = false;
            doc.extend_from_slice(r.as_bytes());
        }
    }
    doc.extend_from_slice(b"]}");
    doc
}

fn split(doc: &[u8], spans: &mut Vec<RecordSpan>) {
    split_probed(doc, spans, Probes::none(), &mut Vec::new());
}

/// Split `doc`, looking for `probes` on the way (as the scan does for a
/// prefilter's needles), into `hits`, whose buffer is reused from one call
/// to the next as the scan's is.
fn split_probed(doc: &[u8], spans: &mut Vec<RecordSpan>, probes: Probes, hits: &mut Vec<Hit>) -> usize {
    spans.clear();
    let mut sp = Splitter::new();
    sp.probe(probes, std::mem::take(hits));
    loop {
        match sp.next(doc, true).expect("valid document") {
            Step::Record(r) => spans.push(r),
            Step::Discarded { .. } => {}
            Step::NeedMore => break,
        }
    }
    *hits = sp.take_hits();
    hits.len()
}

fn bench(c: &mut Criterion) {
    let doc = document();
    let mut spans = Vec::new();
    split(&doc, &mut spans);

    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(doc.len() as u64));
    g.bench_function("split", |b| {
        let mut out = Vec::with_capacity(spans.len());
        b.iter(|| {
            split(black_box(&doc), &mut out);
            black_box(out.len())
        })
    });
    g.bench_function("whole-object", |b| {
        b.iter(|| {
            let mut st = trailwatch::record::blocks::ScanState::in_object();
            black_box(trailwatch::record::blocks::find_object_end(
                trailwatch::record::blocks::Engine::detect(),
                black_box(&doc),
                1,
                &mut st,
            ))
        })
    });
    let headline = [Rule::cis_unauthorized_api_calls()];
    let cis = pack::cis().select("cis").unwrap().rules;
    for (name, rules) in [("split/probed-headline", &headline[..]), ("split/probed-cis-15", &cis[..])] {
        let probes = Prefilter::new(rules).probes();
        let mut out = Vec::with_capacity(spans.len());
        let mut hits = Vec::new();
        g.bench_function(name, |b| b.iter(|| black_box(split_probed(black_box(&doc), &mut out, probes, &mut hits))));
    }
    for (name, rules) in [("prefilter/headline", &headline[..]), ("prefilter/cis-15", &cis[..])] {
        let pf = Prefilter::new(rules);
        let mut masks = Vec::new();
        g.bench_function(name, |b| {
            b.iter(|| {
                pf.mark(black_box(&doc), &spans, None, &mut masks);
                black_box(masks.iter().filter(|m| **m != 0).count())
            })
        });
    }
    g.finish();

    // A month of per-minute datapoints, from two workers, merged and rolled
    // up into 5-minute windows.
    let minutes = 30 * 24 * 60;
    let half = |offset: i64| {
        let mut s = Series::new(false);
        for m in 0..minutes {
            if (m + offset) % 3 != 0 {
                s.add(Vec::new(), 28_000_000 + m, 1.0, true);
            }
        }
        s
    };
    let (a, b2) = (half(0), half(1));
    let mut g = c.benchmark_group("metric");
    g.throughput(Throughput::Elements(minutes as u64));
    g.bench_function("series/merge", |b| {
        b.iter_batched(
            || (a.clone(), b2.clone()),
            |(mut x, y)| {
                x.merge(y);
                black_box(x.is_empty())
            },
            BatchSize::LargeInput,
        )
    });
    let mut merged = a.clone();
    merged.merge(b2.clone());
    let per_minute: Vec<_> = merged.sorted(&Vec::new()).into_iter().map(|(m, s)| (m, s.clone())).collect();
    g.bench_function("windows/5m", |b| {
        b.iter(|| {
            let w = windows(black_box(&per_minute).iter().cloned(), 300_000, Statistic::Sum);
            black_box(w.count())
        })
    });
    // The CIS alarm replayed over that month, as the report does: it
    // evaluates every minute a period gains or loses data.
    // An hourly period holds 60 minutes where the CIS alarm's holds 5.
    let cis = AlarmSpec::default();
    let hourly = AlarmSpec { period_s: 3600, ..AlarmSpec::default() };
    for (name, alarm) in [("replay/cis-alarm", &cis), ("replay/hourly-alarm", &hourly)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let replay = Replay::new(black_box(&per_minute).iter().cloned(), alarm, None, None);
                black_box(replay.count())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
