//! [`Ast`] → a matcher that evaluates without looking at pattern text again.
//!
//! Selectors become pre-split paths; `*` values become exact / prefix /
//! suffix / contains / glob matchers; regexes are compiled once; numbers are
//! parsed once.

use std::cmp::Ordering;

use memchr::memmem::Finder;

use super::ast::*;
use super::error::PatternError;
use crate::json::{Decimal, JsonNumber};

/// A compiled pattern.
pub(crate) enum Matcher {
    All,
    Terms(Terms),
    Regex(regex::Regex),
    Json(Expr),
    Delimited(Delim),
}

pub(crate) struct Terms {
    pub(crate) required: Vec<Finder<'static>>,
    pub(crate) excluded: Vec<Finder<'static>>,
    /// Empty unless the pattern has only `?` terms.
    pub(crate) optional: Vec<Finder<'static>>,
}

pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cond(Cond),
}

pub(crate) struct Cond {
    pub(crate) path: Path,
    pub(crate) test: CTest,
}

/// A selector split around its (optional) wildcard.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path {
    pub(crate) before: Vec<PathStep>,
    pub(crate) wildcard: bool,
    pub(crate) after: Vec<PathStep>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PathStep {
    Key(String),
    Index(usize),
}

pub(crate) enum CTest {
    Eq(Operand),
    Ne(Operand),
    Ord(CmpOp, NumLit),
    IsTrue,
    IsFalse,
    IsNull,
    NotExists,
}

pub(crate) enum Operand {
    Num(NumLit),
    Text(TextMatch),
    Regex(regex::Regex),
}

/// A numeric literal, parsed once into an exact decimal.
#[derive(Clone, Debug)]
pub(crate) struct NumLit {
    pub(crate) text: String,
    pub(crate) int: Option<i64>,
    pub(crate) exact: Decimal,
}

impl NumLit {
    pub(crate) fn new(text: &str) -> NumLit {
        let exact = Decimal::parse(text).expect("the parser only accepts valid numbers");
        NumLit { text: text.to_string(), int: JsonNumber::new(text).as_i64(), exact }
    }

    /// Compare a number with this literal (`None`: out of double range).
    #[inline]
    pub(crate) fn compare(&self, n: &JsonNumber<'_>) -> Option<Ordering> {
        n.compare_literal(&self.exact, self.int)
    }
}

/// A string value with `*` wildcards, lowered to the cheapest test.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TextMatch {
    /// No wildcard.
    Exact(String),
    /// `*`: anything.
    Any,
    /// `text*`
    Prefix(String),
    /// `*text`
    Suffix(String),
    /// `*text*`
    Contains(String),
    /// Pieces between `*`s.
    Glob {
        /// The literal pieces.
        parts: Vec<String>,
        /// No leading `*`.
        anchored_start: bool,
        /// No trailing `*`.
        anchored_end: bool,
    },
}

impl TextMatch {
    /// Lower a value with `*` wildcards to the cheapest test.
    pub(crate) fn new(text: &str) -> TextMatch {
        if !text.contains('*') {
            return TextMatch::Exact(text.to_string());
        }
        let anchored_start = !text.starts_with('*');
        let anchored_end = !text.ends_with('*');
        let parts: Vec<String> = text.split('*').filter(|p| !p.is_empty()).map(str::to_string).collect();
        match (parts.len(), anchored_start, anchored_end) {
            (0, _, _) => TextMatch::Any,
            (1, true, false) => TextMatch::Prefix(parts[0].clone()),
            (1, false, true) => TextMatch::Suffix(parts[0].clone()),
            (1, false, false) => TextMatch::Contains(parts[0].clone()),
            _ => TextMatch::Glob { parts, anchored_start, anchored_end },
        }
    }

    /// Does `s` match?
    #[inline]
    pub(crate) fn is_match(&self, s: &str) -> bool {
        match self {
            TextMatch::Exact(t) => s == t,
            TextMatch::Any => true,
            TextMatch::Prefix(p) => s.starts_with(p.as_str()),
            TextMatch::Suffix(p) => s.ends_with(p.as_str()),
            TextMatch::Contains(p) => s.contains(p.as_str()),
            TextMatch::Glob { parts, anchored_start, anchored_end } => glob(s, parts, *anchored_start, *anchored_end),
        }
    }
}

fn glob(s: &str, parts: &[String], anchored_start: bool, anchored_end: bool) -> bool {
    let mut rest = s;
    let mut parts = parts;
    if anchored_start {
        let Some(p) = parts.first() else { return true };
        let Some(r) = rest.strip_prefix(p.as_str()) else {
            return false;
        };
        rest = r;
        parts = &parts[1..];
    }
    let last = if anchored_end { parts.split_last() } else { None };
    let middle = match last {
        Some((_, m)) => m,
        None => parts,
    };
    for p in middle {
        match rest.find(p.as_str()) {
            Some(k) => rest = &rest[k + p.len()..],
            None => return false,
        }
    }
    match last {
        Some((l, _)) => rest.len() >= l.len() && rest.ends_with(l.as_str()),
        None => true,
    }
}

pub(crate) struct Delim {
    pub(crate) entries: Vec<DEntry>,
    /// Index of the `...` entry.
    pub(crate) ellipsis: Option<usize>,
}

pub(crate) struct DEntry {
    pub(crate) name: Option<String>,
    pub(crate) expr: Option<FExpr>,
}

pub(crate) enum FExpr {
    Or(Vec<FExpr>),
    And(Vec<FExpr>),
    Cond(CmpOp, Operand),
}

/// Compile a parsed pattern. `src` is the pattern text (for error spans of
/// regexes that fail the `regex` crate's own limits).
pub(crate) fn compile(ast: &Ast, src: &str) -> Result<Matcher, PatternError> {
    Ok(match ast {
        Ast::MatchAll => Matcher::All,
        Ast::Terms(ts) => {
            let finder = |t: &Term| Finder::new(t.text.as_bytes()).into_owned();
            let of = |k: TermKind| ts.iter().filter(move |t| t.kind == k);
            let required: Vec<_> = of(TermKind::Required).map(finder).collect();
            let excluded: Vec<_> = of(TermKind::Excluded).map(finder).collect();
            let optional = if required.is_empty() && excluded.is_empty() {
                of(TermKind::Optional).map(finder).collect()
            } else {
                Vec::new()
            };
            Matcher::Terms(Terms { required, excluded, optional })
        }
        Ast::Regex(r) => Matcher::Regex(regex(r, src)?),
        Ast::Json(e) => Matcher::Json(expr(e, src)?),
        Ast::Delimited(d) => {
            let mut entries = Vec::new();
            let mut ellipsis = None;
            for (i, e) in d.entries.iter().enumerate() {
                match e {
                    Entry::Ellipsis(_) => {
                        ellipsis = Some(i);
                        entries.push(DEntry { name: None, expr: None });
                    }
                    Entry::Field { name, expr, .. } => entries.push(DEntry {
                        name: name.clone(),
                        expr: expr.as_ref().map(|x| field_expr(x, src)).transpose()?,
                    }),
                }
            }
            if entries.is_empty() {
                // `[]` matches every event and extracts every field, like `[...]`.
                entries.push(DEntry { name: None, expr: None });
                ellipsis = Some(0);
            }
            Matcher::Delimited(Delim { entries, ellipsis })
        }
    })
}

fn regex(r: &RegexLit, src: &str) -> Result<regex::Regex, PatternError> {
    super::regex::compile(&r.source, r.span.start + 1, src)
}

fn operand(v: &ValueLit, src: &str) -> Result<Operand, PatternError> {
    Ok(match v {
        ValueLit::Number { text, .. } => Operand::Num(NumLit::new(text)),
        ValueLit::Str { text, .. } => Operand::Text(TextMatch::new(text)),
        ValueLit::Regex(r) => Operand::Regex(regex(r, src)?),
    })
}

/// Split a selector into the compiled path.
pub(crate) fn path(sel: &Selector) -> Path {
    let mut p = Path { before: Vec::new(), wildcard: false, after: Vec::new() };
    for s in &sel.steps {
        let step = match s {
            Step::Key(k) | Step::QuotedKey(k) => PathStep::Key(k.clone()),
            Step::Index(i) => PathStep::Index(*i as usize),
            Step::Wildcard(_) => {
                p.wildcard = true;
                continue;
            }
        };
        if p.wildcard {
            p.after.push(step);
        } else {
            p.before.push(step);
        }
    }
    p
}

fn expr(e: &JsonExpr, src: &str) -> Result<Expr, PatternError> {
    Ok(match e {
        JsonExpr::Or(xs) => Expr::Or(xs.iter().map(|x| expr(x, src)).collect::<Result<_, _>>()?),
        JsonExpr::And(xs) => Expr::And(xs.iter().map(|x| expr(x, src)).collect::<Result<_, _>>()?),
        JsonExpr::Group(x, _) => expr(x, src)?,
        JsonExpr::Cond(c) => {
            let test = match &c.test {
                Test::Compare { op: CmpOp::Eq, value } => CTest::Eq(operand(value, src)?),
                Test::Compare { op: CmpOp::Ne, value } => CTest::Ne(operand(value, src)?),
                Test::Compare { op, value: ValueLit::Number { text, .. } } => CTest::Ord(*op, NumLit::new(text)),
                Test::Compare { .. } => {
                    unreachable!("the parser rejects ordering with non-numbers")
                }
                Test::IsTrue => CTest::IsTrue,
                Test::IsFalse => CTest::IsFalse,
                Test::IsNull => CTest::IsNull,
                Test::NotExists => CTest::NotExists,
            };
            Expr::Cond(Cond { path: path(&c.selector), test })
        }
    })
}

fn field_expr(e: &FieldExpr, src: &str) -> Result<FExpr, PatternError> {
    Ok(match e {
        FieldExpr::Or(xs) => FExpr::Or(xs.iter().map(|x| field_expr(x, src)).collect::<Result<_, _>>()?),
        FieldExpr::And(xs) => FExpr::And(xs.iter().map(|x| field_expr(x, src)).collect::<Result<_, _>>()?),
        FieldExpr::Cond { op, value, .. } => FExpr::Cond(*op, operand(value, src)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_lowered() {
        assert_eq!(TextMatch::new("abc"), TextMatch::Exact("abc".into()));
        assert_eq!(TextMatch::new("*"), TextMatch::Any);
        assert_eq!(TextMatch::new("**"), TextMatch::Any);
        assert_eq!(TextMatch::new("AccessDenied*"), TextMatch::Prefix("AccessDenied".into()));
        assert_eq!(TextMatch::new("*UnauthorizedOperation"), TextMatch::Suffix("UnauthorizedOperation".into()));
        assert_eq!(TextMatch::new("*html*"), TextMatch::Contains("html".into()));
        assert!(matches!(TextMatch::new("Ev*ent"), TextMatch::Glob { .. }));
    }

    #[test]
    fn glob_semantics() {
        let m = |p: &str, s: &str| TextMatch::new(p).is_match(s);
        assert!(m("*UnauthorizedOperation", "UnauthorizedOperation"));
        assert!(m("*UnauthorizedOperation", "Client.UnauthorizedOperation"));
        assert!(!m("*UnauthorizedOperation", "UnauthorizedOperationX"));
        assert!(m("AccessDenied*", "AccessDenied"));
        assert!(m("AccessDenied*", "AccessDeniedException"));
        assert!(!m("AccessDenied*", "VpceAccessDenied"));
        assert!(!m("AccessDenied*", "accessdenied"));
        assert!(m("Ev*ent", "Event"));
        assert!(m("Ev*ent", "EvXXent"));
        assert!(!m("Ev*ent", "Even"));
        assert!(m("a*b*c", "abc"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "acb"));
        assert!(!m("ab*ba", "aba"), "anchors must not overlap");
        assert!(m("*a*b*", "xaxbx"));
        assert!(m("*", ""));
    }

    #[test]
    fn numbers_compare_like_cloudwatch() {
        let lit = NumLit::new("9007199254740992");
        assert_eq!(lit.compare(&JsonNumber::new("9007199254740993")), Some(Ordering::Greater));
        assert_eq!(NumLit::new("1").compare(&JsonNumber::new("1.0")), Some(Ordering::Equal));
        assert_eq!(NumLit::new("1e309").compare(&JsonNumber::new("1e309")), None);
        assert_eq!(NumLit::new("1e309").compare(&JsonNumber::new("1")), Some(Ordering::Less));
        assert_eq!(NumLit::new("1e-999").compare(&JsonNumber::new("0")), Some(Ordering::Less));
    }
}
