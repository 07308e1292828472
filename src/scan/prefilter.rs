//! The scan's prefilter: which rules could possibly match each record,
//! decided from the raw bytes of a whole batch of records without parsing
//! them.
//!
//! Every rule's pattern yields a `Requirement` (see
//! `pattern::required`). For each key some rule tests, one `memmem` pass
//! over the batch finds its token (`"eventName"`, `"errorCode"`, ...) and
//! checks the raw value after it. (One Aho-Corasick pass over all tokens
//! was measured slower: every token starts with `"`, the most common byte
//! in JSON, while `memmem` anchors on the token's rarest bytes.) Text atoms
//! are found with `memmem` too. Where the record scan has already looked
//! for these needles ([`Prefilter::probes`]: a quote, then the needle's
//! rarest byte, tested on the blocks the scan classifies anyway), their
//! hits are only compared with the whole needle, and no pass is made.
//!
//! A record that contains a `\u` escape (or `\/`, for tests holding a `/`)
//! is a candidate for every JSON atom, since escapes could hide the value. Rules without a requirement, or with
//! a default value (every record publishes), are candidates everywhere.
//!
//! The prefilter only removes records that cannot match; the full evaluator
//! decides on the rest. A differential test runs every corpus both ways.

use std::collections::HashMap;

use memchr::memmem::Finder;

use rustc_hash::FxHashMap as FastMap;

use crate::pattern::required::{Atom, Requirement, ValueTest, SELECTIVE};
use crate::pattern::TextMatch;
use crate::record::{Hit, Probes, RecordSpan};
use crate::rules::Rule;

/// Rule sets as bit masks, `words` u64 per record.
#[derive(Clone, Debug, Default)]
struct Mask(Vec<u64>);

impl Mask {
    fn new(words: usize) -> Mask {
        Mask(vec![0; words])
    }
    fn set(&mut self, rule: usize) {
        self.0[rule / 64] |= 1 << (rule % 64);
    }
    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// Tests on one key's values.
#[derive(Default)]
struct KeyTests {
    /// Exact values → rules.
    exact: FastMap<Box<[u8]>, Mask>,
    /// Other tests.
    other: Vec<(ValueTest, usize)>,
    /// Rules whose test could match a number's text.
    numeric: Mask,
}

/// The compiled prefilter of a rule set.
pub struct Prefilter {
    rules: usize,
    words: usize,
    always: Mask,
    /// One finder per key token, with the tests on that key's values.
    keys: Vec<(Finder<'static>, KeyTests)>,
    texts: Vec<(Finder<'static>, Mask)>,
    /// Probes for the record scan, and which probe each key token and then
    /// each text has, if any (see `Prefilter::probes`).
    probes: Probes,
    probe_of: Vec<Option<usize>>,
    /// Rules with JSON atoms: candidates wherever `\u` occurs.
    json_rules: Mask,
    /// Rules with a `/` in a JSON atom: candidates wherever `\/` occurs.
    slash_rules: Mask,
}

impl Prefilter {
    /// Compile the prefilter for `rules`.
    pub fn new(rules: &[Rule]) -> Prefilter {
        let words = rules.len().div_ceil(64).max(1);
        let mut always = Mask::new(words);
        let mut key_index: HashMap<String, usize> = HashMap::new();
        let mut keys: Vec<KeyTests> = Vec::new();
        let mut texts: HashMap<(String, bool), Mask> = HashMap::new();
        let mut json_rules = Mask::new(words);
        let mut slash_rules = Mask::new(words);
        let choices: Vec<Vec<Requirement>> = rules
            .iter()
            .map(|rule| {
                if rule.transform.default_value().is_some() {
                    vec![Requirement::Always]
                } else {
                    rule.pattern.requirement_alternatives()
                }
            })
            .collect();
        // Rules with one requirement first; a rule that may choose (an AND)
        // then takes a selective side (tests on keys outside the common
        // ones: see `SELECTIVE`) whose keys are searched already, if it has
        // one, rather than adding a pass of its own: a pass over every byte
        // costs more than the few extra records it would spare the parser.
        let order = (0..rules.len())
            .filter(|&i| choices[i].len() == 1)
            .chain((0..rules.len()).filter(|&i| choices[i].len() > 1));
        for i in order {
            let searched = |r: &Requirement| match r {
                Requirement::AnyOf(atoms) => {
                    atoms.iter().all(|a| matches!(a, Atom::KeyValue { key, .. } if key_index.contains_key(key)))
                }
                Requirement::Always => false,
            };
            let shared = choices[i].iter().find(|r| r.selectivity() >= SELECTIVE && searched(r));
            let req = shared.unwrap_or(&choices[i][0]).clone();
            let Requirement::AnyOf(atoms) = req else {
                always.set(i);
                continue;
            };
            for atom in atoms {
                match atom {
                    Atom::KeyValue { key, test } => {
                        json_rules.set(i);
                        if key.contains('/') || text_of(&test.text).contains('/') {
                            slash_rules.set(i);
                        }
                        let k = *key_index.entry(key).or_insert_with(|| {
                            keys.push(KeyTests { numeric: Mask::new(words), ..KeyTests::default() });
                            keys.len() - 1
                        });
                        let kt = &mut keys[k];
                        if test.numeric {
                            kt.numeric.set(i);
                        }
                        match &test.text {
                            TextMatch::Exact(v) => {
                                kt.exact.entry(v.as_bytes().into()).or_insert_with(|| Mask::new(words)).set(i)
                            }
                            _ => kt.other.push((test, i)),
                        }
                    }
                    Atom::JsonText(t) => {
                        json_rules.set(i);
                        if t.contains('/') {
                            slash_rules.set(i);
                        }
                        texts.entry((t, true)).or_insert_with(|| Mask::new(words)).set(i);
                    }
                    Atom::Raw(t) => texts.entry((t, false)).or_insert_with(|| Mask::new(words)).set(i),
                }
            }
        }
        let mut names: Vec<(String, usize)> = key_index.into_iter().collect();
        names.sort_by_key(|(_, i)| *i);
        // A key tested against one exact value only is better found by its
        // value: `"Root"` is rarer than `"type"`, which recurs in most
        // records.
        let mut by_key: Vec<(Finder<'static>, KeyTests)> = Vec::new();
        for ((k, _), tests) in names.into_iter().zip(keys) {
            if tests.other.is_empty() && tests.numeric.is_empty() && tests.exact.len() == 1 {
                let (v, mask) = tests.exact.into_iter().next().expect("one value");
                let v = String::from_utf8(v.into_vec()).expect("from a str");
                let entry = texts.entry((format!("\"{v}\""), true)).or_insert_with(|| Mask::new(words));
                for (d, s) in entry.0.iter_mut().zip(&mask.0) {
                    *d |= s;
                }
            } else {
                by_key.push((Finder::new(format!("\"{k}\"").as_bytes()).into_owned(), tests));
            }
        }
        let keys = by_key;
        let mut texts: Vec<((String, bool), Mask)> = texts.into_iter().collect();
        texts.sort_by(|a, b| a.0.cmp(&b.0));
        let texts: Vec<(Finder<'static>, Mask)> =
            texts.into_iter().map(|((t, _), m)| (Finder::new(t.as_bytes()).into_owned(), m)).collect();
        let mut probes = Probes::none();
        let probe_of =
            keys.iter().map(|(f, _)| f).chain(texts.iter().map(|(f, _)| f)).map(|f| probes.add(f.needle())).collect();
        Prefilter { rules: rules.len(), words, always, keys, texts, probes, probe_of, json_rules, slash_rules }
    }

    /// Needles for the record scan to look for while it finds the records:
    /// the key tokens and quoted texts searched (as many as fit). Where the
    /// scan's hits are handed to [`Prefilter::mark`], those needles are
    /// not searched again.
    pub fn probes(&self) -> Probes {
        self.probes
    }

    /// Whether every rule is a candidate everywhere (the prefilter cannot
    /// skip anything).
    pub(crate) fn is_trivial(&self) -> bool {
        (0..self.rules).all(|i| self.always.0[i / 64] >> (i % 64) & 1 == 1)
    }

    /// Words per record in the masks written by [`Prefilter::mark`].
    pub(crate) fn words(&self) -> usize {
        self.words
    }

    /// Write, for each span, the mask of rules that could match it into
    /// `out` (`spans.len() * words()` words). `hits`: where the scan that
    /// found the spans saw [`Prefilter::probes`] hit, if it looked.
    pub fn mark(&self, buf: &[u8], spans: &[RecordSpan], hits: Option<&[Hit]>, out: &mut Vec<u64>) {
        let w = self.words;
        // One fill, not a copy call per record.
        out.clear();
        out.resize(spans.len() * w, 0);
        if !self.always.is_empty() {
            for m in out.chunks_exact_mut(w) {
                m.copy_from_slice(&self.always.0);
            }
        }
        let or_into = |r: usize, m: &Mask, out: &mut Vec<u64>| {
            for (d, s) in out[r * w..(r + 1) * w].iter_mut().zip(&m.0) {
                *d |= s;
            }
        };
        // Key tokens and their values.
        for (k, (finder, kt)) in self.keys.iter().enumerate() {
            let mut cursor = Cursor::new(spans);
            let len = finder.needle().len();
            let mut found = Occurrences::new(finder, self.probe_of[k], hits, buf);
            let mut from = 0;
            while let Some(start) = found.next_from(from) {
                from = start + 1;
                let Some(r) = cursor.record_of(start) else { continue };
                match value_after(buf, start + len, spans[r].end) {
                    Value::String(raw) => {
                        // Exact values compare as bytes (text that is not
                        // UTF-8 equals none of them); other tests need text.
                        if let Some(mask) = kt.exact.get(raw) {
                            or_into(r, mask, out);
                        }
                        if !kt.other.is_empty() {
                            if let Ok(s) = std::str::from_utf8(raw) {
                                for (test, rule) in &kt.other {
                                    if test.text.is_match(s) {
                                        out[r * w + rule / 64] |= 1 << (rule % 64);
                                    }
                                }
                            }
                        }
                    }
                    // Escaped strings, or values that could be numbers.
                    Value::Escaped => {
                        for mask in kt.exact.values() {
                            or_into(r, mask, out);
                        }
                        for (_, rule) in &kt.other {
                            out[r * w + rule / 64] |= 1 << (rule % 64);
                        }
                    }
                    Value::Number => or_into(r, &kt.numeric, out),
                    Value::NotAKey | Value::Other => {}
                }
            }
        }
        // Text atoms.
        for (t, (finder, mask)) in self.texts.iter().enumerate() {
            let found = Occurrences::new(finder, self.probe_of[self.keys.len() + t], hits, buf);
            each_record_containing(found, spans, |r| or_into(r, mask, out));
        }
        // Escape hazards, looked for only in records with a backslash
        // (found for free while the records were split).
        if !self.json_rules.is_empty() || !self.slash_rules.is_empty() {
            for (r, span) in spans.iter().enumerate() {
                if !span.backslash {
                    continue;
                }
                // Backslashes are few even where there are some: visit
                // each (a search call per record would cost more).
                let rec = &buf[span.start..span.end];
                let (mut u, mut slash) = (false, false);
                for i in memchr::memchr_iter(b'\\', rec) {
                    match rec.get(i + 1) {
                        Some(b'u') => u = true,
                        Some(b'/') => slash = true,
                        _ => {}
                    }
                }
                if u {
                    or_into(r, &self.json_rules, out);
                }
                if slash {
                    or_into(r, &self.slash_rules, out);
                }
            }
        }
    }
}

fn text_of(m: &TextMatch) -> String {
    match m {
        TextMatch::Exact(t) | TextMatch::Prefix(t) | TextMatch::Suffix(t) | TextMatch::Contains(t) => t.clone(),
        TextMatch::Glob { parts, .. } => parts.concat(),
        TextMatch::Any => String::new(),
    }
}

/// Maps increasing positions to the record containing them.
struct Cursor<'a> {
    spans: &'a [RecordSpan],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(spans: &'a [RecordSpan]) -> Cursor<'a> {
        Cursor { spans, i: 0 }
    }

    /// The record containing `pos`, for non-decreasing `pos`.
    fn record_of(&mut self, pos: usize) -> Option<usize> {
        while self.i < self.spans.len() && self.spans[self.i].end <= pos {
            self.i += 1;
        }
        let s = self.spans.get(self.i)?;
        (s.start <= pos).then_some(self.i)
    }
}

/// Where one needle occurs in a buffer, in order: taken from the record
/// scan's hits for the needle's probe when the scan looked (each hit
/// compared with the whole needle), else searched for.
struct Occurrences<'a> {
    finder: &'a Finder<'a>,
    buf: &'a [u8],
    /// The hits of this needle's probe, still to look at, and the probe.
    hits: Option<(&'a [Hit], usize)>,
}

impl<'a> Occurrences<'a> {
    fn new(finder: &'a Finder<'a>, probe: Option<usize>, hits: Option<&'a [Hit]>, buf: &'a [u8]) -> Occurrences<'a> {
        Occurrences { finder, buf, hits: hits.zip(probe) }
    }

    /// The first occurrence at or after `from`.
    fn next_from(&mut self, from: usize) -> Option<usize> {
        let needle = self.finder.needle();
        match &mut self.hits {
            Some((hits, probe)) => loop {
                let (h, rest) = hits.split_first()?;
                *hits = rest;
                if h.probe != *probe || h.pos < from {
                    continue;
                }
                // Most hits are other strings that share the probed byte
                // (`"eventCategory"` for `"errorCode"`, in every record):
                // their last byte rarely agrees, and looking at it costs
                // less than a call to compare the whole needle.
                let end = h.pos + needle.len();
                if self.buf.get(end - 1) == needle.last() && self.buf[h.pos..end] == *needle {
                    return Some(h.pos);
                }
            },
            None => self.finder.find(self.buf.get(from..)?).map(|k| from + k),
        }
    }
}

/// Call `f` once for each record holding an occurrence.
fn each_record_containing(mut found: Occurrences<'_>, spans: &[RecordSpan], mut f: impl FnMut(usize)) {
    let len = found.finder.needle().len();
    let mut cursor = Cursor::new(spans);
    let mut pos = 0;
    while let Some(at) = found.next_from(pos) {
        match cursor.record_of(at) {
            Some(r) => {
                if at + len <= spans[r].end {
                    f(r);
                }
                pos = spans[r].end;
            }
            None => pos = at + 1,
        }
    }
}

/// What follows a key token.
enum Value<'a> {
    /// The token is not followed by `:` (it is a string value, not a key).
    NotAKey,
    /// A string without escapes: its raw bytes.
    String(&'a [u8]),
    /// A string with escapes (or cut off): assume anything.
    Escaped,
    /// A number.
    Number,
    /// `true`, `false`, `null`, an object or an array.
    Other,
}

fn value_after(buf: &[u8], mut i: usize, end: usize) -> Value<'_> {
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    while i < end && ws(buf[i]) {
        i += 1;
    }
    if i >= end || buf[i] != b':' {
        return Value::NotAKey;
    }
    i += 1;
    while i < end && ws(buf[i]) {
        i += 1;
    }
    // Only the record's own bytes: a value cut off by its end could be
    // anything.
    match buf[..end].get(i) {
        Some(b'"') => {
            let body = &buf[i + 1..end];
            match memchr::memchr2(b'"', b'\\', body) {
                Some(k) if body[k] == b'"' => Value::String(&body[..k]),
                _ => Value::Escaped,
            }
        }
        Some(b'-' | b'0'..=b'9') => Value::Number,
        Some(_) => Value::Other,
        None => Value::Escaped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `buf`, and where `probes` hit in them.
    fn spans_of(buf: &[u8], probes: Probes) -> (Vec<RecordSpan>, Vec<Hit>) {
        let mut sp = crate::record::Splitter::new();
        sp.probe(probes, Vec::new());
        let mut out = Vec::new();
        while let crate::record::Step::Record(r) = sp.next(buf, true).unwrap() {
            out.push(r);
        }
        (out, sp.take_hits())
    }

    /// The rules marked for each record; the same whether the needles are
    /// searched or taken from the record scan's hits.
    fn candidates(patterns: &[&str], records: &[&str]) -> Vec<Vec<usize>> {
        let rules: Vec<Rule> =
            patterns.iter().enumerate().map(|(i, p)| Rule::new(&format!("r{i}"), p).unwrap()).collect();
        let pf = Prefilter::new(&rules);
        let doc = format!("{{\"Records\":[{}]}}", records.join(","));
        let (spans, hits) = spans_of(doc.as_bytes(), pf.probes());
        let mut out = Vec::new();
        pf.mark(doc.as_bytes(), &spans, None, &mut out);
        let mut probed = Vec::new();
        pf.mark(doc.as_bytes(), &spans, Some(&hits), &mut probed);
        assert_eq!(out, probed, "searched and probed marks differ");
        (0..spans.len())
            .map(|r| (0..rules.len()).filter(|&i| out[r * pf.words() + i / 64] >> (i % 64) & 1 == 1).collect())
            .collect()
    }

    #[test]
    fn an_and_takes_a_side_that_is_searched_anyway() {
        let failed_login = r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#;
        let names = r#"{ ($.eventName = CreateTrail) || ($.eventName = DeleteTrail) }"#;
        let rules = |ps: &[&str]| -> Vec<Rule> {
            ps.iter().enumerate().map(|(i, p)| Rule::new(&format!("r{i}"), p).unwrap()).collect()
        };
        let needles = |pf: &Prefilter| -> Vec<String> {
            let keys = pf.keys.iter().map(|(f, _)| f.needle());
            keys.chain(pf.texts.iter().map(|(f, _)| f.needle()))
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect()
        };
        // Alone, the AND searches its most selective side...
        assert_eq!(needles(&Prefilter::new(&rules(&[failed_login]))), [r#""Failed authentication""#]);
        // ...but beside a rule that searches "eventName" anyway, it takes
        // that side: one needle to look for instead of two, in either order.
        assert_eq!(needles(&Prefilter::new(&rules(&[failed_login, names]))), [r#""eventName""#]);
        assert_eq!(needles(&Prefilter::new(&rules(&[names, failed_login]))), [r#""eventName""#]);
        // A common key is not selective enough to be taken that way.
        let s3 = r#"{ ($.eventSource = s3.amazonaws.com) && ($.errorMessage = "Failed authentication") }"#;
        let sources = r#"{ ($.eventSource = a) || ($.eventSource = b) }"#;
        assert_eq!(
            needles(&Prefilter::new(&rules(&[sources, s3]))),
            [r#""eventSource""#, r#""Failed authentication""#]
        );
        // What it marks is still every record that could match.
        let c = candidates(
            &[failed_login, names],
            &[
                r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}"#,
                r#"{"eventName":"ConsoleLogin"}"#,
                r#"{"eventName":"CreateTrail","errorMessage":"Failed authentication"}"#,
                r#"{"eventName":"GetObject"}"#,
            ],
        );
        assert_eq!(c, [vec![0], vec![0], vec![1], vec![]]);
    }

    #[test]
    fn marks_only_possible_records() {
        let headline = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;
        let c = candidates(
            &[headline, "{ $.x NOT EXISTS }", "AccessDenied", r#"{ $.eventName = "ConsoleLogin" }"#],
            &[
                r#"{"errorCode":"AccessDenied","eventName":"GetObject"}"#,
                r#"{"errorCode":"VpceAccessDenied","eventName":"ConsoleLogin"}"#,
                r#"{"eventName":"ConsoleLogin","note":"errorCode"}"#,
                r#"{"errorCode" : "Client.UnauthorizedOperation"}"#,
                r#"{"errorCode":"A\u0063cessDenied"}"#,
                r#"{"eventName":"\u0043onsoleLogin"}"#,
            ],
        );
        assert_eq!(c[0], [0, 1, 2]);
        assert_eq!(c[1], [1, 2, 3]);
        assert_eq!(c[2], [1, 3]);
        assert_eq!(c[3], [0, 1]);
        assert_eq!(c[4], [0, 1, 3], "escapes make every JSON atom possible");
        assert_eq!(c[5], [0, 1, 3]);
    }

    #[test]
    fn escapes_are_looked_for_only_where_they_could_hide_a_value() {
        let c = candidates(
            &[r#"{ $.path = "a/b" }"#, r#"{ $.name = "x" }"#],
            &[
                r#"{"path":"a\/b"}"#,
                r#"{"path":"a\\b","name":"y"}"#,
                r#"{"name":"\u0078"}"#,
                r#"{"path":"c","name":"z"}"#,
            ],
        );
        assert_eq!(c[0], [0], "`\\/` could hide a `/`");
        assert!(c[1].is_empty(), "an escaped backslash hides nothing: {:?}", c[1]);
        assert_eq!(c[2], [0, 1], "`\\u` could hide anything");
        assert!(c[3].is_empty());
    }

    #[test]
    fn a_value_cut_off_by_the_record_end_could_be_anything() {
        let rules = [Rule::new("r", r#"{ $.errorCode = "AccessDenied" || $.errorCode = "x" }"#).unwrap()];
        let pf = Prefilter::new(&rules);
        let buf = br#"{"errorCode":"AccessDenied"}"#;
        // Spans that end right after the colon (any splitter's bug must
        // not make the prefilter read past a record, or panic).
        let spans = [RecordSpan::of(buf, 0, 13), RecordSpan::of(buf, 13, buf.len())];
        let mut out = Vec::new();
        pf.mark(buf, &spans, None, &mut out);
        assert_eq!(out, [1, 0]);
        let hits = [Hit { pos: 1, probe: 0 }];
        pf.mark(buf, &spans, Some(&hits), &mut out);
        assert_eq!(out, [1, 0], "from a hit too");
    }

    #[test]
    fn hits_are_checked_against_the_whole_needle() {
        let rules = [Rule::cis_unauthorized_api_calls()];
        let pf = Prefilter::new(&rules);
        // A hit on `"eventCategory"` (it shares `"errorCode"`'s probed
        // byte), one whose last byte agrees but not the rest, a true one,
        // and one whose needle would run past the buffer.
        let buf = br#"{"eventCategory":"x","errorCodx":"AccessDenied"}{"errorCode":"AccessDenied"}{"errorCo"#;
        let at = |s: &str| buf.windows(s.len()).position(|w| w == s.as_bytes()).unwrap();
        let spans =
            [RecordSpan::of(buf, 0, at("{\"errorCode\"")), RecordSpan::of(buf, at("{\"errorCode\""), buf.len() - 9)];
        let hits: Vec<Hit> = [at("\"eventCategory"), at("\"errorCodx"), at("\"errorCode\""), buf.len() - 8]
            .into_iter()
            .map(|pos| Hit { pos, probe: 0 })
            .collect();
        let mut out = Vec::new();
        pf.mark(buf, &spans, Some(&hits), &mut out);
        assert_eq!(out, [0, 1]);
        pf.mark(buf, &spans, None, &mut out);
        assert_eq!(out, [0, 1], "as searched");
    }

    #[test]
    fn numbers_and_many_rules() {
        let c =
            candidates(&[r#"{ $.code = "404" }"#, r#"{ $.code = "x" }"#], &[r#"{"code":404}"#, r#"{"code":"404"}"#]);
        assert_eq!(c, [vec![0], vec![0]]);
        let patterns: Vec<String> = (0..70).map(|i| format!("{{ $.eventName = \"Call{i}\" }}")).collect();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let c = candidates(&refs, &[r#"{"eventName":"Call65"}"#, r#"{"eventName":"Call3"}"#]);
        assert_eq!(c, [vec![65], vec![3]]);
    }
}
