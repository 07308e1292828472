//! Reading only some fields of a record: arbitrary text, and paths chosen
//! by the first bytes from keys the text is likely to hold. The reader that
//! keeps only those paths accepts and rejects exactly what the whole reader
//! does (the same error at the same offset), and every lookup along a kept
//! path finds the same value, with everything below it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailwatch::json::{Doc, Fields, Kind, Value};

const KEYS: [&str; 8] = ["a", "b", "ab", "", "errorCode", "userIdentity", "type", "k"];

fn dump(v: Value<'_>) -> String {
    match v.kind() {
        Kind::Object => {
            let members: Vec<String> = v.members().map(|(k, x)| format!("{k:?}:{}", dump(x))).collect();
            format!("{{{}}}", members.join(","))
        }
        Kind::Array => format!("[{}]", v.children().map(dump).collect::<Vec<_>>().join(",")),
        kind => format!("{kind:?}({})", v.raw()),
    }
}

fn found(root: Value<'_>, keys: &[&str]) -> String {
    keys.iter().try_fold(root, |v, k| v.get(k)).map_or_else(|| "-".into(), dump)
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else { return };
    let Some((&more, rest)) = rest.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    // Up to three paths of up to three keys, from the two choice bytes.
    let bits = usize::from(choice) << 8 | usize::from(more);
    let mut paths: Vec<Vec<&str>> = Vec::new();
    for p in 0..(bits >> 14) {
        let len = (bits >> (p * 2)) % 4;
        paths.push((0..len).map(|k| KEYS[(bits >> (p + k * 3)) % KEYS.len()]).collect());
    }
    let mut fields = Fields::none();
    for p in &paths {
        fields.add(p.iter().copied());
    }
    let (mut all, mut some) = (Doc::new(), Doc::new());
    let (a, b) = (all.parse_object(text), some.parse_fields(text, &fields));
    assert_eq!(a, b, "{text:?} with {paths:?}");
    if a.is_err() {
        return;
    }
    let (ra, rb) = (all.root(text).expect("parsed"), some.root(text).expect("parsed"));
    for p in &paths {
        assert_eq!(found(ra, p), found(rb, p), "{p:?} in {text:?}");
        // Below a kept path, every member is kept.
        if let Some(v) = p.iter().try_fold(ra, |v, k| v.get(k)) {
            for (k, _) in v.members() {
                let mut deeper = p.clone();
                deeper.push(k.as_ref());
                assert_eq!(found(ra, &deeper), found(rb, &deeper), "{deeper:?} in {text:?}");
            }
        }
    }
});
