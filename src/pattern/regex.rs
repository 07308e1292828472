//! CloudWatch's restricted regex dialect, checked and translated for the
//! `regex` crate (a linear-time engine, like CloudWatch's).
//!
//! The dialect (AWS docs plus TestMetricFilter observations):
//! * characters: ASCII letters and digits, the symbols `: _ # = @ / ; , -`
//!   and blank, and the operators `^ $ ? [ ] { } | \ * + .`;
//!   no `(` `)` (no groups), no other symbols, no non-ASCII characters;
//! * escapes: `\d \D \s \S \w \W \xhh` and a backslash before any allowed
//!   symbol or operator; anything else fails to compile;
//! * `.` matches any character but `\n`; `\s` is `[\t\n\f\r ]`; `\d`, `\w`
//!   are ASCII; matching is an unanchored, case-sensitive search.
//! * quantifiers `? * + {m} {m,} {m,n} {,n}`, each optionally lazy (`+?`);
//!   a quantifier on a quantifier (`a++`) fails to compile.

use super::error::{ErrorKind, PatternError, Span};

/// Check a regex body (between the `%`s, starting at byte `offset` of the
/// pattern) and compile it.
pub(crate) fn compile(body: &str, offset: usize, pattern: &str) -> Result<regex::Regex, PatternError> {
    let translated = translate(body, offset, pattern)?;
    regex::RegexBuilder::new(&translated).size_limit(1 << 20).build().map_err(|e| {
        PatternError::new(
            ErrorKind::RegexInvalid { detail: first_line(&e.to_string()) },
            Span::new(offset - 1, offset + body.len() + 1),
            pattern,
        )
    })
}

fn first_line(s: &str) -> String {
    s.lines().rev().find(|l| l.starts_with("error:")).unwrap_or(s).trim_start_matches("error: ").to_string()
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            ':' | '_'
                | '#'
                | '='
                | '@'
                | '/'
                | ';'
                | ','
                | '-'
                | ' '
                | '^'
                | '$'
                | '?'
                | '['
                | ']'
                | '{'
                | '}'
                | '|'
                | '\\'
                | '*'
                | '+'
                | '.'
        )
}

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = "\\t\\n\\x0C\\r ";

/// Translate the dialect into `regex` crate syntax, rejecting what
/// CloudWatch rejects.
pub(crate) fn translate(body: &str, offset: usize, pattern: &str) -> Result<String, PatternError> {
    let err = |kind: ErrorKind, s: usize, e: usize| PatternError::new(kind, Span::new(offset + s, offset + e), pattern);
    if body.is_empty() {
        return Err(err(ErrorKind::RegexEmpty, 0, 0));
    }
    if let Some((i, c)) = body.char_indices().find(|&(_, c)| !allowed(c)) {
        return Err(err(ErrorKind::RegexCharacter { ch: c }, i, i + c.len_utf8()));
    }
    let invalid = |detail: &str, s: usize, e: usize| err(ErrorKind::RegexInvalid { detail: detail.to_string() }, s, e);
    let b = body.as_bytes();
    let mut out = String::with_capacity(body.len() + 16);
    let mut i = 0;
    // Whether the previous item can take a quantifier, and whether it already
    // is a quantifier (and whether that one was made lazy already).
    let mut can_repeat = false;
    let mut after_quant = false;
    let mut lazy_done = false;
    while i < b.len() {
        let c = b[i] as char;
        match c {
            '\\' => {
                let (piece, len) = escape(b, i, false).map_err(|d| invalid(d, i, (i + 2).min(b.len())))?;
                out.push_str(&piece);
                i += len;
                can_repeat = true;
                after_quant = false;
            }
            '[' => {
                let (piece, len) = class(b, i).map_err(|(d, at)| invalid(d, i, at))?;
                out.push_str(&piece);
                i += len;
                can_repeat = true;
                after_quant = false;
            }
            '*' | '+' | '?' | '{' => {
                let (quant, len) = if c == '{' {
                    match repetition(b, i) {
                        Some(Ok(r)) => r,
                        Some(Err(len)) => return Err(invalid("repetition count out of range (0 to 1000)", i, i + len)),
                        None => {
                            // Not a repetition: a literal brace.
                            out.push_str("\\{");
                            i += 1;
                            can_repeat = true;
                            after_quant = false;
                            continue;
                        }
                    }
                } else {
                    (c.to_string(), 1)
                };
                if after_quant {
                    if c == '?' && !lazy_done {
                        out.push('?');
                        i += 1;
                        lazy_done = true;
                        continue;
                    }
                    return Err(invalid("a quantifier cannot follow a quantifier", i, i + len));
                }
                if !can_repeat {
                    return Err(invalid("a quantifier needs something to repeat", i, i + len));
                }
                out.push_str(&quant);
                i += len;
                after_quant = true;
                lazy_done = false;
            }
            '}' => {
                out.push_str("\\}");
                i += 1;
                can_repeat = true;
                after_quant = false;
            }
            ']' => {
                out.push_str("\\]");
                i += 1;
                can_repeat = true;
                after_quant = false;
            }
            '^' | '$' | '|' => {
                out.push(c);
                i += 1;
                can_repeat = false;
                after_quant = false;
            }
            '.' => {
                out.push('.');
                i += 1;
                can_repeat = true;
                after_quant = false;
            }
            _ => {
                push_literal(&mut out, c);
                i += 1;
                can_repeat = true;
                after_quant = false;
            }
        }
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || c == '_' || c == ' ' {
        out.push(c);
    } else {
        // Escaping punctuation is always valid in the regex crate.
        out.push('\\');
        out.push(c);
    }
}

/// An escape at `b[i] == '\\'`. Returns the translation and its length.
fn escape(b: &[u8], i: usize, in_class: bool) -> Result<(String, usize), &'static str> {
    let Some(&n) = b.get(i + 1) else {
        return Err("trailing backslash");
    };
    let n = n as char;
    let class = |set: &str, negated: bool| -> String {
        match (in_class, negated) {
            (true, false) => set.to_string(),
            (true, true) => format!("[^{set}]"),
            (false, false) => format!("[{set}]"),
            (false, true) => format!("[^{set}]"),
        }
    };
    let piece = match n {
        'd' => class(DIGIT, false),
        'D' => class(DIGIT, true),
        'w' => class(WORD, false),
        'W' => class(WORD, true),
        's' => class(SPACE, false),
        'S' => class(SPACE, true),
        'x' => {
            let hex = b.get(i + 2..i + 4).ok_or("\\x needs two hex digits")?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err("\\x needs two hex digits");
            }
            return Ok((format!("\\x{}", std::str::from_utf8(hex).unwrap_or("00")), 4));
        }
        c if c.is_ascii_alphanumeric() => return Err("unknown escape"),
        c => format!("\\{c}"),
    };
    Ok((piece, 2))
}

/// A character class starting at `b[i] == '['`. Returns the translation and
/// its length, or an error with the byte where it went wrong.
fn class(b: &[u8], start: usize) -> Result<(String, usize), (&'static str, usize)> {
    let mut i = start + 1;
    let mut out = String::from("[");
    if b.get(i) == Some(&b'^') {
        out.push('^');
        i += 1;
    }
    let mut items = 0;
    // The last single character emitted, for range checks.
    let mut last: Option<char> = None;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(("unclosed character class", b.len()));
        };
        let c = c as char;
        if c == ']' && items > 0 {
            out.push(']');
            return Ok((out, i + 1 - start));
        }
        if c == ']' {
            // "[]" and "[^]" are not valid classes.
            return Err(("empty character class", i + 1));
        }
        // A range "a-z"?
        if c == '-' && items > 0 && b.get(i + 1).is_some_and(|&n| n != b']') {
            let lo = last.ok_or(("invalid range in character class", i + 1))?;
            let (hi, len) = class_char(b, i + 1).map_err(|d| (d, i + 2))?;
            let hi = hi.ok_or(("invalid range in character class", i + 2))?;
            if hi < lo {
                return Err(("invalid range in character class", i + 1 + len));
            }
            out.push('-');
            push_class_char(&mut out, hi);
            i += 1 + len;
            last = None;
            items += 1;
            continue;
        }
        if c == '\\' {
            let (ch, len) = class_char(b, i).map_err(|d| (d, i + 2))?;
            match ch {
                Some(ch) => {
                    push_class_char(&mut out, ch);
                    last = Some(ch);
                }
                None => {
                    let (piece, _) = escape(b, i, true).map_err(|d| (d, i + 2))?;
                    out.push_str(&piece);
                    last = None;
                }
            }
            i += len;
        } else {
            push_class_char(&mut out, c);
            last = Some(c);
            i += 1;
        }
        items += 1;
    }
}

/// A single character inside a class at `b[i]`: `Some(char)` for a literal
/// (possibly escaped), `None` for a class escape such as `\d`.
fn class_char(b: &[u8], i: usize) -> Result<(Option<char>, usize), &'static str> {
    match b.get(i) {
        None => Err("unclosed character class"),
        Some(b'\\') => match b.get(i + 1).map(|&c| c as char) {
            None => Err("trailing backslash"),
            Some('d' | 'D' | 'w' | 'W' | 's' | 'S') => Ok((None, 2)),
            Some('x') => {
                let hex = b.get(i + 2..i + 4).ok_or("\\x needs two hex digits")?;
                let s = std::str::from_utf8(hex).map_err(|_| "\\x needs two hex digits")?;
                let v = u8::from_str_radix(s, 16).map_err(|_| "\\x needs two hex digits")?;
                Ok((Some(v as char), 4))
            }
            Some(c) if c.is_ascii_alphanumeric() => Err("unknown escape"),
            Some(c) => Ok((Some(c), 2)),
        },
        Some(&c) => Ok((Some(c as char), 1)),
    }
}

fn push_class_char(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || c == '_' || c == ' ' {
        out.push(c);
    } else if c.is_ascii_graphic() {
        out.push('\\');
        out.push(c);
    } else {
        out.push_str(&format!("\\x{:02X}", c as u32));
    }
}

/// `{m}`, `{m,}`, `{m,n}` or `{,n}` at `b[i] == '{'`: `None` when the brace
/// does not start a repetition (it is then a literal), `Err(len)` when the
/// counts are out of range or inverted.
fn repetition(b: &[u8], i: usize) -> Option<Result<(String, usize), usize>> {
    let close = b[i..].iter().position(|&c| c == b'}')? + i;
    let inner = std::str::from_utf8(&b[i + 1..close]).ok()?;
    let num = |s: &str| -> Option<Option<u32>> {
        if s.is_empty() {
            Some(None)
        } else if s.bytes().all(|c| c.is_ascii_digit()) && s.len() <= 4 {
            s.parse().ok().map(Some)
        } else {
            None
        }
    };
    let (lo, hi) = match inner.split_once(',') {
        None => {
            let n = num(inner)??;
            (n, Some(n))
        }
        Some((a, c)) => {
            let lo = num(a)?;
            let hi = num(c)?;
            if lo.is_none() && hi.is_none() {
                return None;
            }
            (lo.unwrap_or(0), hi)
        }
    };
    let len = close + 1 - i;
    // RE2 refuses counts above 1000 and inverted ranges.
    if lo > 1000 || hi.is_some_and(|h| h > 1000 || h < lo) {
        return Some(Err(len));
    }
    let text = match hi {
        Some(h) if inner.contains(',') => format!("{{{lo},{h}}}"),
        Some(_) => format!("{{{lo}}}"),
        None => format!("{{{lo},}}"),
    };
    Some(Ok((text, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(body: &str) -> Result<regex::Regex, ErrorKind> {
        let pattern = format!("%{body}%");
        compile(body, 1, &pattern).map_err(|e| e.kind)
    }

    fn err(body: &str) -> ErrorKind {
        re(body).expect_err(body)
    }

    fn is(body: &str, text: &str) -> bool {
        re(body).unwrap().is_match(text)
    }

    #[test]
    fn documented_operators() {
        assert!(is("ERROR|WARN", "a WARN"));
        assert!(is("^[hc]at$", "cat"));
        assert!(!is("^[hc]at$", "a cat"));
        assert!(is("^a{3,5}$", "aaaa"));
        assert!(!is("^a{3,5}$", "aa"));
        assert!(is("^a{,2}$", "aa"));
        assert!(!is("^a{,2}$", "aaa"));
        assert!(is("^a{2,}$", "aaaaa"));
        assert!(is("colou?r", "color"));
        assert!(is("\\d+", "x123"));
        assert!(!is("\\d", "٣")); // ASCII digits only
        assert!(is("a\\sb", "a\nb"));
        assert!(!is("a.b", "a\nb"));
        assert!(is("\\x3A", "key:value"));
        assert!(is("a\\-b", "a-b"));
        assert!(is("a+?", "aaa"));
        assert!(is("[^0-9]", "a"));
        assert!(is("[\\d_]+$", "x_1"));
        assert!(is("[a-c-]", "-"));
        assert!(is("AUTHORIZED", "UNAUTHORIZED"));
        assert!(is("^starting|^shutting down", "shutting down now"));
        assert!(is("a{b", "a{b"));
        assert!(is("\\w+", "café"));
    }

    #[test]
    fn rejected_forms() {
        assert_eq!(err("(ab)+"), ErrorKind::RegexCharacter { ch: '(' });
        assert_eq!(err("\\(ab\\)"), ErrorKind::RegexCharacter { ch: '(' });
        assert_eq!(err("caf\u{e9}"), ErrorKind::RegexCharacter { ch: '\u{e9}' });
        assert_eq!(err("!"), ErrorKind::RegexCharacter { ch: '!' });
        assert_eq!(err("[a&&b]"), ErrorKind::RegexCharacter { ch: '&' });
        assert_eq!(err(""), ErrorKind::RegexEmpty);
        for bad in ["\\p", "[z-a]", "a++", "*a", "a**", "a{2,1}", "a{1001}", "[]", "[abc", "\\q", "a|*"] {
            assert!(matches!(err(bad), ErrorKind::RegexInvalid { .. }), "{bad:?} should fail: {:?}", err(bad));
        }
    }
}
