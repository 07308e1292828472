//! Arbitrary text as a log event: the JSON reader accepts it exactly when
//! serde_json reads it as one object (except where the two differ on
//! purpose: numbers beyond f64 and lone surrogates, which are valid JSON
//! syntax that serde_json refuses), never panics, and every member of an
//! accepted object can be looked up and read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailwatch::json::Doc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut doc = Doc::new();
    let ours = doc.parse_object(text).is_ok();
    // A `\u` escape of a UTF-16 surrogate: serde_json refuses a lone one,
    // saying so in words that vary ("lone leading surrogate", "unexpected
    // end of hex escape" when another escape follows).
    let surrogate = text.as_bytes().windows(4).any(|w| {
        w[0] == b'\\'
            && w[1] == b'u'
            && w[2].eq_ignore_ascii_case(&b'd')
            && matches!(w[3], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
    });
    // serde_json with its `raw_value` feature (which trailwatch uses) takes
    // an object whose key is this token for a raw value, not an object.
    let magic = text.contains("$serde_json::private::");
    let theirs = match serde_json::from_str::<serde_json::Value>(text) {
        _ if magic => None,
        Err(_) if surrogate => None,
        Ok(v) => Some(v.is_object()),
        Err(e) if e.to_string().contains("out of range") || e.to_string().contains("surrogate") => None,
        // serde_json stops at 128 levels, this reader at 1000.
        Err(e) if e.to_string().contains("recursion limit") => None,
        Err(_) => Some(false),
    };
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "{text:?}");
    }
    if ours {
        let root = doc.root(text).expect("a root after a successful parse");
        let members: Vec<_> = root.members().collect();
        for (key, _) in &members {
            let again = root.get(key).expect("every member can be looked up");
            // The last member of that name wins: the same place in the text.
            let last = members.iter().rev().find(|(k, _)| k == key).expect("listed").1;
            assert_eq!(again.raw().as_ptr(), last.raw().as_ptr(), "{key:?} in {text:?}");
            let _ = (again.as_str(), again.as_number());
        }
    }
});
