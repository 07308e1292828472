//! Pattern evaluation on real CloudTrail records: events per second for the
//! headline CIS pattern (JSON parse + evaluation, and evaluation alone), the
//! CIS no-MFA and root patterns, and a term pattern; and the JSON parse
//! alone in bytes per second.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

use trailwatch::json::Doc;
use trailwatch::pattern::{Event, FilterPattern};

mod common;

const HEADLINE: &str = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;

fn bench(c: &mut Criterion) {
    let records = common::records();
    assert!(!records.is_empty());
    let mut doc = Doc::new();
    // The validating parse alone, in bytes per second: what a pattern
    // without a required literal (`{ $.x NOT EXISTS }`) pays for every
    // record.
    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Bytes(records.iter().map(|r| r.len() as u64).sum()));
    g.bench_function("parse", |b| {
        b.iter(|| {
            let mut n = 0;
            for r in &records {
                n += usize::from(doc.parse_object(r).is_ok());
            }
            black_box(n)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("pattern");
    g.throughput(Throughput::Elements(records.len() as u64));
    let headline = FilterPattern::parse(HEADLINE).unwrap();
    g.bench_function("headline/parse+eval", |b| {
        b.iter(|| {
            let mut n = 0;
            for r in &records {
                let json = match doc.parse_object(r) {
                    Ok(()) => doc.root(r),
                    Err(_) => None,
                };
                n += usize::from(headline.matches(&Event { text: r, json }));
            }
            black_box(n)
        })
    });

    // Evaluation alone, on records parsed once.
    let parsed: Vec<Doc> = records
        .iter()
        .map(|r| {
            let mut d = Doc::new();
            let _ = d.parse_object(r);
            d
        })
        .collect();
    for (name, pat) in [
        ("headline/eval", HEADLINE),
        (
            "root-usage/eval",
            r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
        ),
        ("no-mfa/eval", r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#),
        ("term/eval", "AccessDenied"),
        // Every root member visited, nothing found.
        ("not-exists/eval", "{ $.x NOT EXISTS }"),
    ] {
        let p = FilterPattern::parse(pat).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0;
                for (r, d) in records.iter().zip(&parsed) {
                    n += usize::from(p.matches(&Event { text: r, json: d.root(r) }));
                }
                black_box(n)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
