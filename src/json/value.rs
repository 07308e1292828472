//! Read-only views of a parsed [`Doc`]: values, the members of an object
//! and the items of an array, and string unescaping.

use std::borrow::Cow;
use std::fmt;

use super::{Doc, JsonNumber, Kind, Node, Tag};

/// A read-only view of one value inside a parsed [`Doc`].
#[derive(Clone, Copy)]
pub struct Value<'a> {
    pub(super) doc: &'a Doc,
    pub(super) text: &'a str,
    pub(super) idx: u32,
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}({})", self.kind(), self.raw())
    }
}

impl<'a> Value<'a> {
    #[inline]
    fn node(&self) -> &'a Node {
        &self.doc.nodes[self.idx as usize]
    }

    /// The kind of this value.
    #[inline]
    pub(crate) fn kind(&self) -> Kind {
        match self.node().tag {
            Tag::Object => Kind::Object,
            Tag::Array => Kind::Array,
            Tag::String | Tag::Key => Kind::String,
            Tag::Number => Kind::Number,
            Tag::True => Kind::True,
            Tag::False => Kind::False,
            Tag::Null => Kind::Null,
        }
    }

    /// The source text of this value (strings without their quotes).
    #[inline]
    pub fn raw(&self) -> &'a str {
        let n = self.node();
        &self.text[n.start as usize..n.end as usize]
    }

    /// The decoded text of a string value; `None` for other kinds.
    pub fn as_str(&self) -> Option<Cow<'a, str>> {
        let n = self.node();
        if !matches!(n.tag, Tag::String | Tag::Key) {
            return None;
        }
        let raw = self.raw();
        if n.escaped {
            Some(Cow::Owned(unescape(raw)))
        } else {
            Some(Cow::Borrowed(raw))
        }
    }

    /// The number, for number values.
    pub fn as_number(&self) -> Option<JsonNumber<'a>> {
        (self.node().tag == Tag::Number).then(|| JsonNumber::new(self.raw()))
    }

    /// The member `key` of an object (the last one, if the key repeats).
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        let [found] = self.get_each([key]);
        found
    }

    /// The members `keys` of an object, found in one walk over its members
    /// (for each key the last one, as [`Value::get`]).
    pub(crate) fn get_each<const N: usize>(&self, keys: [&str; N]) -> [Option<Value<'a>>; N] {
        let mut found = [None; N];
        if self.node().tag != Tag::Object {
            return found;
        }
        let end = self.node().skip;
        let mut j = self.idx + 1;
        while j < end {
            let k = &self.doc.nodes[j as usize];
            let v = j + 1;
            for (slot, key) in found.iter_mut().zip(keys) {
                if key_eq(self.text, k, key) {
                    *slot = Some(Value { doc: self.doc, text: self.text, idx: v });
                }
            }
            j = self.doc.nodes[v as usize].skip;
        }
        found
    }

    /// Element `i` of an array.
    pub(crate) fn index(&self, i: usize) -> Option<Value<'a>> {
        if self.node().tag != Tag::Array {
            return None;
        }
        self.children().nth(i)
    }

    /// The element values of an array, or the member values of an object, in
    /// document order; empty for scalars.
    pub(crate) fn children(&self) -> Children<'a> {
        let n = self.node();
        let (next, end, is_obj) = match n.tag {
            Tag::Object => (self.idx + 1, n.skip, true),
            Tag::Array => (self.idx + 1, n.skip, false),
            _ => (0, 0, false),
        };
        Children { doc: self.doc, text: self.text, next, end, is_obj }
    }

    /// The `(key, value)` members of an object, in document order.
    pub fn members(&self) -> Members<'a> {
        let n = self.node();
        let (next, end) = if n.tag == Tag::Object { (self.idx + 1, n.skip) } else { (0, 0) };
        Members { doc: self.doc, text: self.text, next, end }
    }
}

#[inline(always)]
pub(super) fn key_eq(text: &str, k: &Node, key: &str) -> bool {
    if k.escaped {
        return unescape(&text[k.start as usize..k.end as usize]) == key;
    }
    // Without escapes the key's bytes are its text: compare lengths before
    // touching them, and the bytes without a library call.
    (k.end - k.start) as usize == key.len()
        && short_eq(&text.as_bytes()[k.start as usize..k.end as usize], key.as_bytes())
}

/// Equality of two slices of the same length, in at most two overlapping
/// word loads each up to 16 bytes (the length of most keys).
#[inline(always)]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len();
    let word8 = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let word4 = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match n {
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        _ => a == b,
    }
}

/// Iterator over the child values of an array or object.
pub(crate) struct Children<'a> {
    doc: &'a Doc,
    text: &'a str,
    next: u32,
    end: u32,
    is_obj: bool,
}

impl<'a> Iterator for Children<'a> {
    type Item = Value<'a>;
    fn next(&mut self) -> Option<Value<'a>> {
        if self.next >= self.end {
            return None;
        }
        let v = if self.is_obj { self.next + 1 } else { self.next };
        self.next = self.doc.nodes[v as usize].skip;
        Some(Value { doc: self.doc, text: self.text, idx: v })
    }
}

/// Iterator over the members of an object.
pub struct Members<'a> {
    doc: &'a Doc,
    text: &'a str,
    next: u32,
    end: u32,
}

impl<'a> Iterator for Members<'a> {
    type Item = (Cow<'a, str>, Value<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let k = Value { doc: self.doc, text: self.text, idx: self.next };
        let v = self.next + 1;
        self.next = self.doc.nodes[v as usize].skip;
        Some((k.as_str().unwrap_or_default(), Value { doc: self.doc, text: self.text, idx: v }))
    }
}

/// Decode the escapes of a validated JSON string body.
pub(crate) fn unescape(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    let mut lit = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&raw[lit..i]);
        let c = b.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        match c {
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = hex4(b, i);
                i += 4;
                let cp = if (0xD800..0xDC00).contains(&hi) && b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') {
                    let lo = hex4(b, i + 2);
                    if (0xDC00..0xE000).contains(&lo) {
                        i += 6;
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        hi
                    }
                } else {
                    hi
                };
                // Unpaired surrogates cannot be represented in a Rust string;
                // they become U+FFFD, as lenient JSON decoders do.
                out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
            }
            other => out.push(other as char),
        }
        lit = i;
    }
    out.push_str(&raw[lit.min(raw.len())..]);
    out
}

fn hex4(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0xFFFD)
}
