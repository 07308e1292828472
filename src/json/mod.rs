//! A small, strict JSON reader built for log events.
//!
//! CloudWatch Logs decides whether an event is "JSON" by parsing the whole
//! message as one JSON object; anything else (arrays, trailing text, invalid
//! syntax) never matches a JSON pattern. This module reproduces that decision
//! and gives the pattern evaluator a read-only tree to walk.
//!
//! Design notes:
//! * The tree is a flat tape of nodes stored in a reusable [`Doc`], so
//!   parsing an event allocates nothing once the buffers have grown to the
//!   largest event seen.
//! * Strings and numbers are kept as byte ranges into the message; escapes are
//!   decoded only when a pattern actually looks at that string.
//! * Parsing is iterative (no recursion), with a nesting limit, so hostile
//!   input cannot overflow the stack.
//! * Duplicate keys: a lookup returns the **last** occurrence, like the tree
//!   model of the JSON libraries CloudWatch's own stack is built on.
//!
//! Non-goals: serialisation, mutation, or any value model beyond what the
//! filter-pattern language can observe.

mod lex;
mod number;
mod value;

use lex::{err, literal, scan_number, scan_string, skip_ws};
pub(crate) use number::{java_double_to_string, Decimal, JsonNumber};
pub use value::{Members, Value};

use std::fmt;

/// Default maximum nesting depth of objects and arrays.
pub(crate) const DEFAULT_MAX_DEPTH: usize = 1000;

/// The kind of a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `{...}`
    Object,
    /// `[...]`
    Array,
    /// `"..."`
    String,
    /// A number, kept as its source text.
    Number,
    /// `true`
    True,
    /// `false`
    False,
    /// `null`
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
    Key,
}

/// One entry of the tape.
#[derive(Clone, Copy, Debug)]
struct Node {
    tag: Tag,
    /// The string contains at least one backslash escape.
    escaped: bool,
    /// Byte range of the value's content in the source text (strings exclude
    /// the quotes).
    start: u32,
    end: u32,
    /// Index one past the last node of this value's subtree.
    skip: u32,
}

/// A reusable parsed JSON document (a tape of nodes).
#[derive(Default, Debug)]
pub struct Doc {
    nodes: Vec<Node>,
    stack: Vec<u32>,
}

/// Why a message is not a JSON object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset in the message where parsing stopped.
    pub(crate) offset: usize,
    /// What was wrong there.
    pub(crate) kind: JsonErrorKind,
}

/// The kinds of [`JsonError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum JsonErrorKind {
    /// The message does not start with `{` (after blanks).
    NotAnObject,
    /// The text ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot appear here.
    UnexpectedByte(u8),
    /// An invalid escape sequence inside a string.
    BadEscape,
    /// A raw control character inside a string.
    ControlCharacter,
    /// A malformed number.
    BadNumber,
    /// Text after the closing brace of the root object.
    TrailingText,
    /// Objects and arrays nested deeper than the limit.
    TooDeep,
    /// The message is larger than the reader can index (4 GiB).
    TooLarge,
}

impl fmt::Display for JsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            JsonErrorKind::NotAnObject => write!(f, "not a JSON object"),
            JsonErrorKind::UnexpectedEnd => write!(f, "unexpected end of JSON"),
            JsonErrorKind::UnexpectedByte(b) => {
                if b.is_ascii_graphic() {
                    write!(f, "unexpected character '{}'", b as char)
                } else {
                    write!(f, "unexpected byte 0x{b:02x}")
                }
            }
            JsonErrorKind::BadEscape => write!(f, "invalid escape sequence in string"),
            JsonErrorKind::ControlCharacter => write!(f, "control character in string"),
            JsonErrorKind::BadNumber => write!(f, "malformed number"),
            JsonErrorKind::TrailingText => write!(f, "text after the JSON object"),
            JsonErrorKind::TooDeep => write!(f, "JSON nested too deeply"),
            JsonErrorKind::TooLarge => write!(f, "JSON value larger than 4 GiB"),
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for JsonError {}

impl Doc {
    /// An empty document buffer.
    pub fn new() -> Doc {
        Doc::default()
    }

    /// Parse `text` as exactly one JSON object (blanks around it allowed),
    /// replacing the previous contents of this buffer.
    pub fn parse_object(&mut self, text: &str) -> Result<(), JsonError> {
        self.parse_object_with_depth(text, DEFAULT_MAX_DEPTH)
    }

    /// [`Doc::parse_object`] with an explicit nesting limit.
    pub(crate) fn parse_object_with_depth(&mut self, text: &str, max_depth: usize) -> Result<(), JsonError> {
        self.nodes.clear();
        self.stack.clear();
        let b = text.as_bytes();
        if b.len() > u32::MAX as usize - 1 {
            return err(0, JsonErrorKind::TooLarge);
        }
        let mut i = skip_ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return err(i, JsonErrorKind::NotAnObject);
        }
        // Whether the innermost open value is an object: kept here rather
        // than read from the tape after every value.
        let mut in_obj = true;
        'value: loop {
            // Expecting a value at `i`.
            let Some(&c) = b.get(i) else {
                return err(i, JsonErrorKind::UnexpectedEnd);
            };
            match c {
                b'{' | b'[' => {
                    if self.stack.len() >= max_depth {
                        return err(i, JsonErrorKind::TooDeep);
                    }
                    let is_obj = c == b'{';
                    let idx = self.push(if is_obj { Tag::Object } else { Tag::Array }, i, i, false);
                    self.stack.push(idx);
                    in_obj = is_obj;
                    i = skip_ws(b, i + 1);
                    let close = if is_obj { b'}' } else { b']' };
                    if b.get(i) == Some(&close) {
                        in_obj = self.close(i);
                        i += 1;
                    } else if is_obj {
                        i = self.key(b, i)?;
                        continue 'value;
                    } else {
                        continue 'value;
                    }
                }
                b'"' => {
                    let (end, escaped) = scan_string(b, i + 1)?;
                    self.push(Tag::String, i + 1, end, escaped);
                    i = end + 1;
                }
                b't' | b'f' | b'n' => {
                    let (end, tag) = match c {
                        b't' => (literal(b, i, b"true")?, Tag::True),
                        b'f' => (literal(b, i, b"false")?, Tag::False),
                        _ => (literal(b, i, b"null")?, Tag::Null),
                    };
                    self.push(tag, i, end, false);
                    i = end;
                }
                b'-' | b'0'..=b'9' => {
                    let end = scan_number(b, i)?;
                    self.push(Tag::Number, i, end, false);
                    i = end;
                }
                other => return err(i, JsonErrorKind::UnexpectedByte(other)),
            }
            // After a complete value: separators and closers.
            loop {
                i = skip_ws(b, i);
                if self.stack.is_empty() {
                    break 'value;
                }
                match b.get(i) {
                    None => return err(i, JsonErrorKind::UnexpectedEnd),
                    Some(b',') => {
                        i = skip_ws(b, i + 1);
                        if in_obj {
                            i = self.key(b, i)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if in_obj => {
                        in_obj = self.close(i);
                        i += 1;
                    }
                    Some(b']') if !in_obj => {
                        in_obj = self.close(i);
                        i += 1;
                    }
                    Some(&other) => return err(i, JsonErrorKind::UnexpectedByte(other)),
                }
            }
        }
        if i != b.len() {
            return err(i, JsonErrorKind::TrailingText);
        }
        Ok(())
    }

    /// Parse `"key" :` at `i`, returning the index of the value after it.
    /// Inlined for the same reason as [`scan_string`]: a call that returns
    /// its `Result` through memory costs more than the key.
    #[inline(always)]
    fn key(&mut self, b: &[u8], i: usize) -> Result<usize, JsonError> {
        match b.get(i) {
            Some(b'"') => {}
            Some(&c) => return err(i, JsonErrorKind::UnexpectedByte(c)),
            None => return err(i, JsonErrorKind::UnexpectedEnd),
        }
        let (end, escaped) = scan_string(b, i + 1)?;
        self.push(Tag::Key, i + 1, end, escaped);
        let j = skip_ws(b, end + 1);
        match b.get(j) {
            Some(b':') => Ok(skip_ws(b, j + 1)),
            Some(&c) => err(j, JsonErrorKind::UnexpectedByte(c)),
            None => err(j, JsonErrorKind::UnexpectedEnd),
        }
    }

    #[inline]
    fn push(&mut self, tag: Tag, start: usize, end: usize, escaped: bool) -> u32 {
        let idx = self.nodes.len() as u32;
        self.nodes.push(Node { tag, escaped, start: start as u32, end: end as u32, skip: idx + 1 });
        idx
    }

    /// Close the innermost open value at `at`: whether the value now
    /// innermost is an object (or nothing is open).
    #[inline]
    fn close(&mut self, at: usize) -> bool {
        let idx = self.stack.pop().expect("close without open") as usize;
        let len = self.nodes.len() as u32;
        let n = &mut self.nodes[idx];
        n.skip = len;
        n.end = at as u32 + 1;
        self.stack.last().is_none_or(|&top| self.nodes[top as usize].tag == Tag::Object)
    }

    /// The root object of the last successful parse, viewed over `text`
    /// (which must be the same text that was parsed).
    pub fn root<'a>(&'a self, text: &'a str) -> Option<Value<'a>> {
        if self.nodes.is_empty() {
            None
        } else {
            Some(Value { doc: self, text, idx: 0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lex::next_special;
    use super::*;
    use proptest::prelude::*;

    /// Whether serde_json takes `text` as one JSON object, or `None` where
    /// the two readers differ on purpose: serde_json rejects numbers beyond
    /// `f64` and lone UTF-16 surrogates in `\u` escapes, which are valid
    /// JSON syntax and which this reader keeps as text.
    fn serde_object(text: &str) -> Option<bool> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => Some(v.is_object()),
            Err(e) if e.to_string().contains("out of range") || e.to_string().contains("surrogate") => None,
            Err(_) => Some(false),
        }
    }

    /// JSON values up to a small depth, as text.
    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?",
            "\"([a-z é]|\\\\[\"\\\\/bfnrt]|\\\\u00[0-7][0-9a-f]){0,8}\"",
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("[a-z]{0,3}", inner), 0..4).prop_map(|v| {
                    let members: Vec<String> = v.into_iter().map(|(k, x)| format!("\"{k}\" : {x}")).collect();
                    format!("{{ {} }}", members.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Valid documents, and each with one byte replaced, inserted or
        /// removed: accepted exactly when serde_json accepts an object.
        #[test]
        fn accepts_what_serde_json_accepts(
            doc in json_text(),
            at in any::<prop::sample::Index>(),
            edit in 0..4u8,
            byte in prop::sample::select(&b"{}[]\":,\\ 0-.eEtfnu\x01x"[..]),
        ) {
            let doc = format!("{{\"k\":{doc}}}");
            let mut bytes = doc.into_bytes();
            let i = at.index(bytes.len());
            match edit {
                0 => {}
                1 => bytes[i] = byte,
                2 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
            let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
            if let Some(want) = serde_object(&text) {
                let mut d = Doc::new();
                prop_assert_eq!(d.parse_object(&text).is_ok(), want, "{:?}", text);
            }
        }
    }

    fn parse(s: &str) -> Result<Doc, JsonError> {
        let mut d = Doc::new();
        d.parse_object(s).map(|_| d)
    }

    #[test]
    fn accepts_objects_only() {
        assert!(parse("{}").is_ok());
        assert!(parse("  {\"a\":1}\n").is_ok());
        assert_eq!(parse("[1,2]").unwrap_err().kind, JsonErrorKind::NotAnObject);
        assert_eq!(parse("\"a\"").unwrap_err().kind, JsonErrorKind::NotAnObject);
        assert_eq!(parse("{\"a\":2} trailing").unwrap_err().kind, JsonErrorKind::TrailingText);
        assert_eq!(parse("{\"a\":2}{}").unwrap_err().kind, JsonErrorKind::TrailingText);
    }

    #[test]
    fn rejects_malformed_json() {
        for bad in [
            "{",
            "{\"a\"",
            "{\"a\":}",
            "{\"a\":1,}",
            "{a:1}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":-}",
            "{\"a\":tru}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":[1,]}",
            "{\"a\":[1 2]}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":NaN}",
            "{\"a\":+1}",
            "{\"a\":.5}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn walks_members_and_children() {
        let text = r#"{"a":{"x":1,"y":[true,null,"s"]},"b":"q","a":2}"#;
        let d = parse(text).unwrap();
        let root = d.root(text).unwrap();
        // Last duplicate key wins.
        assert_eq!(root.get("a").unwrap().raw(), "2");
        let keys: Vec<_> = root.members().map(|(k, _)| k.into_owned()).collect();
        assert_eq!(keys, ["a", "b", "a"]);
        let first_a = root.members().next().unwrap().1;
        let y = first_a.get("y").unwrap();
        assert_eq!(y.kind(), Kind::Array);
        let kinds: Vec<_> = y.children().map(|v| v.kind()).collect();
        assert_eq!(kinds, [Kind::True, Kind::Null, Kind::String]);
        assert_eq!(y.index(2).unwrap().as_str().unwrap(), "s");
        assert!(y.index(3).is_none());
        let vals: Vec<_> = first_a.children().map(|v| v.kind()).collect();
        assert_eq!(vals, [Kind::Number, Kind::Array]);
        assert!(root.get("b").unwrap().children().next().is_none());
    }

    #[test]
    fn several_members_in_one_walk_agree_with_get() {
        let text = r#"{"a":1,"b":{"a":2},"c":3,"a":4,"d\u0065":5}"#;
        let doc = parse(text).unwrap();
        let root = doc.root(text).unwrap();
        let keys = ["a", "b", "de", "zz"];
        let each = root.get_each(keys);
        for (k, v) in keys.iter().zip(each) {
            assert_eq!(v.map(|v| v.raw()), root.get(k).map(|v| v.raw()), "{k}");
        }
        assert_eq!(each[0].unwrap().raw(), "4", "the last of a repeated key");
        let arr = r#"{"x":[1]}"#;
        let doc = parse(arr).unwrap();
        assert!(doc.root(arr).unwrap().get("x").unwrap().get_each(["x"])[0].is_none());
    }

    #[test]
    fn decodes_escapes_lazily() {
        let text = r#"{"k\u0065y":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}"#;
        let d = parse(text).unwrap();
        let root = d.root(text).unwrap();
        let v = root.get("key").expect("escaped key matches");
        assert_eq!(v.as_str().unwrap(), "a\"b\\c/d\né😀");
        assert_eq!(v.raw(), r#"a\"b\\c\/d\n\u00e9\ud83d\ude00"#);
    }

    #[test]
    fn a_lone_surrogate_is_valid_syntax_and_reads_as_a_replacement_character() {
        // serde_json refuses these (in words that vary with what follows),
        // so the fuzz target and the property test leave them out.
        for (text, want) in [
            (r#"{"a":"\uDBFF\r"}"#, "\u{FFFD}\r"),
            (r#"{"a":"\udc00x"}"#, "\u{FFFD}x"),
            (r#"{"a":"\ud800\u0041"}"#, "\u{FFFD}A"),
        ] {
            let d = parse(text).unwrap();
            assert_eq!(d.root(text).unwrap().get("a").unwrap().as_str().unwrap(), want, "{text}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(50), "]".repeat(50));
        assert!(parse(&deep).is_ok());
        let mut d = Doc::new();
        assert_eq!(d.parse_object_with_depth(&deep, 10).unwrap_err().kind, JsonErrorKind::TooDeep);
        let hostile = format!("{{\"a\":{}", "[".repeat(1_000_000));
        assert_eq!(parse(&hostile).unwrap_err().kind, JsonErrorKind::TooDeep);
    }

    #[test]
    fn key_lookup_compares_every_byte_at_every_length() {
        for n in 0..40 {
            let key: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            for at in 0..n {
                // The same key but for one byte, as a sibling before it.
                let mut near = key.clone().into_bytes();
                near[at] = b'Z';
                let near = String::from_utf8(near).unwrap();
                let text = format!(r#"{{"{near}":1,"{key}":2,"{key}x":3}}"#);
                let doc = parse(&text).unwrap();
                let root = doc.root(&text).unwrap();
                assert_eq!(root.get(&key).unwrap().raw(), "2", "key {key:?}, differing at {at}");
                assert_eq!(root.get(&near).unwrap().raw(), "1");
            }
        }
        let text = r#"{"":1,"a":2}"#;
        let doc = parse(text).unwrap();
        assert_eq!(doc.root(text).unwrap().get("").unwrap().raw(), "1");
    }

    #[test]
    fn literals_are_checked_whole() {
        assert!(parse(r#"{"a":true,"b":false,"c":null}"#).is_ok());
        for (text, at, kind) in [
            (r#"{"a":trUe}"#, 5, JsonErrorKind::UnexpectedByte(b't')),
            (r#"{"a":fals}"#, 5, JsonErrorKind::UnexpectedByte(b'f')),
            (r#"{"a":nul"#, 8, JsonErrorKind::UnexpectedEnd),
            (r#"{"a":nulL}"#, 5, JsonErrorKind::UnexpectedByte(b'n')),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!((e.offset, e.kind), (at, kind), "{text}");
        }
    }

    #[test]
    fn special_byte_search_agrees_with_a_byte_loop() {
        let mut seed = 7u64;
        for _ in 0..2000 {
            let len = (seed % 70) as usize;
            let mut v = Vec::new();
            for _ in 0..len {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                v.push(
                    *[b'a', b'"', b'\\', 0x1f, 0x7f, 0xc3, 0xa9, b' ', 0x20, 0x00]
                        .get((seed >> 60) as usize % 10)
                        .unwrap(),
                );
            }
            let want = v.iter().position(|c| matches!(c, b'"' | b'\\' | 0..=0x1f)).unwrap_or(v.len());
            assert_eq!(next_special(&v, 0), want, "{v:?}");
            seed ^= seed << 7;
        }
    }

    #[test]
    fn buffer_is_reused() {
        let mut d = Doc::new();
        d.parse_object(r#"{"a":[1,2,3,4,5,6,7,8]}"#).unwrap();
        let cap = d.nodes.capacity();
        d.parse_object(r#"{"b":1}"#).unwrap();
        assert_eq!(d.nodes.capacity(), cap);
        assert_eq!(d.root(r#"{"b":1}"#).unwrap().get("b").unwrap().raw(), "1");
    }
}
