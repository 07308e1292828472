//! Evaluating a compiled pattern against one log event.
//!
//! The comparison rules follow the table in the README's fidelity notes:
//! missing, null, boolean, object and array values never satisfy `=` or
//! `!=`; `!=` means "a present string or number that is not equal"; a
//! wildcard selector matches when any selected value does, except `!=`
//! (the path before the wildcard exists and no selected value is equal) and
//! `NOT EXISTS` (nothing is selected).

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::CmpOp;
use super::compile::*;
use crate::json::{JsonNumber, Kind, Value};

/// One log event as a pattern sees it: the message text and, when the
/// message is a JSON object, its parsed form.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// The raw message.
    pub text: &'a str,
    /// The parsed message, or `None` when it is not one JSON object.
    pub json: Option<Value<'a>>,
}

/// Values extracted by a space-delimited pattern, in field order: `("$name",
/// value)` for named fields and `("$N", value)` for unnamed ones.
pub type Extracted<'a> = Vec<(String, Cow<'a, str>)>;

impl Matcher {
    pub(crate) fn matches(&self, ev: &Event<'_>) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Terms(t) => terms(t, ev.text),
            Matcher::Regex(r) => r.is_match(ev.text),
            Matcher::Json(e) => ev.json.is_some_and(|root| expr(e, root)),
            Matcher::Delimited(d) => delimited(d, ev.text).is_some(),
        }
    }

    /// Match and, for space-delimited patterns, extract field values.
    pub(crate) fn extract<'a>(&self, ev: &Event<'a>) -> Option<Extracted<'a>> {
        match self {
            Matcher::Delimited(d) => delimited(d, ev.text),
            _ => self.matches(ev).then(Vec::new),
        }
    }
}

fn terms(t: &Terms, text: &str) -> bool {
    let b = text.as_bytes();
    t.required.iter().all(|f| f.find(b).is_some())
        && !t.excluded.iter().any(|f| f.find(b).is_some())
        && (t.optional.is_empty() || t.optional.iter().any(|f| f.find(b).is_some()))
}

// ---------------------------------------------------------------------------
// JSON

fn expr(e: &Expr, root: Value<'_>) -> bool {
    match e {
        Expr::Or(xs) => xs.iter().any(|x| expr(x, root)),
        Expr::And(xs) => xs.iter().all(|x| expr(x, root)),
        Expr::Cond(c) => cond(c, root),
    }
}

/// Follow `steps` from `v`.
#[inline]
pub(crate) fn walk<'a>(mut v: Value<'a>, steps: &[PathStep]) -> Option<Value<'a>> {
    for s in steps {
        v = match s {
            PathStep::Key(k) => v.get(k)?,
            PathStep::Index(i) => v.index(*i)?,
        };
    }
    Some(v)
}

fn cond(c: &Cond, root: Value<'_>) -> bool {
    let prefix = walk(root, &c.path.before);
    if !c.path.wildcard {
        return match prefix {
            None => matches!(c.test, CTest::NotExists),
            Some(v) => leaf_test(&c.test, v, true),
        };
    }
    let Some(prefix) = prefix else {
        return matches!(c.test, CTest::NotExists);
    };
    let mut leaves = prefix.children().filter_map(|child| walk(child, &c.path.after));
    match &c.test {
        CTest::NotExists => leaves.next().is_none(),
        CTest::Ne(op) => !leaves.any(|v| equals(op, v) == Some(true)),
        test => leaves.any(|v| leaf_test(test, v, false)),
    }
}

/// A test on one present value. `direct`: the value was selected without a
/// wildcard (only then does `IS NULL` look inside an array).
#[inline]
fn leaf_test(test: &CTest, v: Value<'_>, direct: bool) -> bool {
    match test {
        CTest::Eq(op) => equals(op, v) == Some(true),
        CTest::Ne(op) => equals(op, v) == Some(false),
        CTest::Ord(op, lit) => v.as_number().and_then(|n| lit.compare(&n)).is_some_and(|o| ordering_holds(*op, o)),
        CTest::IsTrue => v.kind() == Kind::True,
        CTest::IsFalse => v.kind() == Kind::False,
        CTest::IsNull => match v.kind() {
            Kind::Null => true,
            // Observed quirk: `$.a IS NULL` is true for {"a":[null,2]}.
            Kind::Array if direct => v.children().any(|c| c.kind() == Kind::Null),
            _ => false,
        },
        CTest::NotExists => false,
    }
}

fn ordering_holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

/// `Some(true)` equal, `Some(false)` comparable but different, `None` when
/// the value cannot take part in `=`/`!=` at all (null, boolean, object,
/// array, or a number out of range against a numeric literal).
#[inline]
fn equals(op: &Operand, v: Value<'_>) -> Option<bool> {
    match v.kind() {
        Kind::String => {
            let s = v.as_str()?;
            Some(match op {
                Operand::Num(lit) => *s == lit.text,
                Operand::Text(m) => m.is_match(&s),
                Operand::Regex(r) => r.is_match(&s),
            })
        }
        Kind::Number => {
            let n = v.as_number()?;
            match op {
                Operand::Num(lit) => lit.compare(&n).map(|o| o == Ordering::Equal),
                Operand::Text(m) => Some(m.is_match(&n.canonical_text())),
                Operand::Regex(r) => Some(r.is_match(&n.canonical_text())),
            }
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Space-delimited

/// One field of a space-delimited message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    /// The value (quotes or brackets removed).
    pub(crate) value: &'a str,
    /// Byte offset where the field starts in the message (at its quote or
    /// bracket, if any).
    pub(crate) start: usize,
}

/// Split a message into fields: runs of blanks separate fields; a field that
/// starts with `"` runs to the next `"`, one that starts with `[` to the next
/// `]` (the delimiters are dropped and the field ends there); an unclosed
/// `"` or `[` is an ordinary character.
pub(crate) fn fields(text: &str) -> Vec<Field<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let blank = |c: u8| c == b' ' || c == b'\t';
    while i < b.len() {
        if blank(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close {
            if let Some(k) = memchr::memchr(close, &b[i + 1..]) {
                out.push(Field { value: &text[i + 1..i + 1 + k], start });
                i += k + 2;
                continue;
            }
        }
        while i < b.len() && !blank(b[i]) {
            i += 1;
        }
        out.push(Field { value: &text[start..i], start });
    }
    out
}

fn delimited<'a>(d: &Delim, text: &'a str) -> Option<Extracted<'a>> {
    let fs = fields(text);
    let n = d.entries.len();
    let mut out: Extracted<'a> = Vec::new();
    let bind = |entry: &DEntry, pos: usize, value: &'a str, out: &mut Extracted<'a>| -> bool {
        if let Some(x) = &entry.expr {
            if !field_expr(x, value) {
                return false;
            }
        }
        let key = match &entry.name {
            Some(name) => format!("${name}"),
            None => format!("${pos}"),
        };
        out.push((key, Cow::Borrowed(value)));
        true
    };
    match d.ellipsis {
        None => {
            if fs.len() < n {
                return None;
            }
            for (i, entry) in d.entries.iter().enumerate() {
                let value = if i + 1 < n || fs.len() == n {
                    fs[i].value
                } else {
                    // The last entry takes the rest of the message as written.
                    &text[fs[i].start..]
                };
                if !bind(entry, i + 1, value, &mut out) {
                    return None;
                }
            }
        }
        Some(e) => {
            let after = n - e - 1;
            if fs.len() < e + after {
                return None;
            }
            for (i, entry) in d.entries[..e].iter().enumerate() {
                if !bind(entry, i + 1, fs[i].value, &mut out) {
                    return None;
                }
            }
            let tail = fs.len() - after;
            for (k, f) in fs[e..tail].iter().enumerate() {
                out.push((format!("${}", e + k + 1), Cow::Borrowed(f.value)));
            }
            for (j, entry) in d.entries[e + 1..].iter().enumerate() {
                let pos = tail + j;
                if !bind(entry, pos + 1, fs[pos].value, &mut out) {
                    return None;
                }
            }
        }
    }
    Some(out)
}

fn field_expr(e: &FExpr, value: &str) -> bool {
    match e {
        FExpr::Or(xs) => xs.iter().any(|x| field_expr(x, value)),
        FExpr::And(xs) => xs.iter().all(|x| field_expr(x, value)),
        FExpr::Cond(op, operand) => field_cond(*op, operand, value),
    }
}

fn field_cond(op: CmpOp, operand: &Operand, value: &str) -> bool {
    if op.is_ordering() {
        let Operand::Num(lit) = operand else {
            return false;
        };
        return field_number(value).and_then(|n| lit.compare(&n)).is_some_and(|o| ordering_holds(op, o));
    }
    let eq = match operand {
        // An unquoted number compares numerically when the field is a number.
        Operand::Num(lit) => match field_number(value) {
            Some(n) => lit.compare(&n) == Some(Ordering::Equal),
            None => value == lit.text,
        },
        Operand::Text(m) => m.is_match(value),
        Operand::Regex(r) => r.is_match(value),
    };
    if op == CmpOp::Eq {
        eq
    } else {
        !eq
    }
}

fn field_number(value: &str) -> Option<JsonNumber<'_>> {
    super::parse::is_number(value).then(|| JsonNumber::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_splitting() {
        fn v(s: &str) -> Vec<&str> {
            fields(s).into_iter().map(|f| f.value).collect()
        }
        assert_eq!(v("a  b   c "), ["a", "b", "c"]);
        assert_eq!(v("a\tb\tc"), ["a", "b", "c"]);
        assert_eq!(v("a \"two words\" c"), ["a", "two words", "c"]);
        assert_eq!(v("a [two words] c"), ["a", "two words", "c"]);
        assert_eq!(v("a \"b\"c d"), ["a", "b", "c", "d"]);
        assert_eq!(v("a \"unclosed"), ["a", "\"unclosed"]);
        assert_eq!(v("a [unclosed"), ["a", "[unclosed"]);
        assert_eq!(v("x \"\""), ["x", ""]);
        assert_eq!(v("x []"), ["x", ""]);
        assert_eq!(v("x \"y z"), ["x", "\"y", "z"]);
        assert_eq!(v("   "), Vec::<&str>::new());
    }
}
