//! Arbitrary text as a filter pattern: parsing never panics, and a pattern
//! that parses prints back to text that parses to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailwatch::pattern::{explain, parse, FilterPattern};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match FilterPattern::parse(text) {
        Ok(p) => {
            let printed = p.ast().to_string();
            let again = parse::parse(&printed).expect("printed pattern parses");
            assert_eq!(again.without_spans(), p.ast().without_spans(), "{text:?} -> {printed:?}");
            let _ = explain::tree(&p);
            let _ = explain::lints(&p);
        }
        Err(e) => {
            // Rendering the error (caret under the span) must not panic.
            let _ = e.to_string();
        }
    }
});
