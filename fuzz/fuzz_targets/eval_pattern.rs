//! Arbitrary bytes as a log event, against fixed compiled patterns of every
//! kind: evaluation and metric extraction never panic, and a message that
//! is not valid JSON never matches a JSON pattern.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trailwatch::metric::MetricTransform;
use trailwatch::pattern::{EventBuf, FilterPattern, PatternKind};

const PATTERNS: &[(&str, &str)] = &[
    (r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#, "1"),
    (r#"{ $.a[*].b != 2 || $.c.* IS NULL || $.d NOT EXISTS }"#, "1"),
    (r#"{ $.n > 1e-3 && $.n <= 9007199254740993 || $.s = %^a\d{2,}$% }"#, "$.n"),
    (r#"{ $.['k.x'][0] = "*x*y*" || $.t IS TRUE }"#, "1"),
    ("[ip, user=bob* || user=%al%, ..., bytes>=100]", "$bytes"),
    ("[, b, ]", "$3"),
    ("ERROR -timeout ?WARN", "1"),
    ("%^[A-Z]{3,}|\\s$%", "1"),
];

fn compiled() -> &'static Vec<(FilterPattern, MetricTransform)> {
    static P: OnceLock<Vec<(FilterPattern, MetricTransform)>> = OnceLock::new();
    P.get_or_init(|| {
        PATTERNS
            .iter()
            .map(|(p, v)| {
                let p = FilterPattern::parse(p).expect("valid pattern");
                let t = MetricTransform::new(v, Some(0.0), &[], &p).expect("valid transform");
                (p, t)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut buf = EventBuf::new();
    let ev = buf.event(&text);
    for (p, t) in compiled() {
        let m = p.matches(&ev);
        assert_eq!(m, p.extract(&ev).is_some());
        if p.kind() == PatternKind::Json && ev.json.is_none() {
            assert!(!m);
        }
        let _ = t.datapoint(p, &ev);
    }
});
