//! The parsed form of a filter pattern: plain data with spans.
//!
//! `Display` prints an AST back as pattern text in a canonical spacing; the
//! printed text parses to the same tree (a property test checks this).
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use std::fmt;

use super::error::Span;

/// A parsed filter pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Ast {
    /// The empty (or all-blank) pattern: matches every event.
    MatchAll,
    /// Unstructured terms, searched as case-sensitive substrings.
    Terms(Vec<Term>),
    /// A standalone regex `%...%`, searched in the whole message.
    Regex(RegexLit),
    /// A JSON pattern `{ ... }`.
    Json(JsonExpr),
    /// A space-delimited pattern `[ ... ]`.
    Delimited(Delimited),
}

/// How a term takes part in the match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TermKind {
    /// Must occur.
    Required,
    /// `-term`: must not occur.
    Excluded,
    /// `?term`: one of these must occur, but only when the pattern has no
    /// required or excluded term (otherwise `?` terms are ignored).
    Optional,
}

/// One unstructured term.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// Its role.
    pub(crate) kind: TermKind,
    /// The text searched for (quotes removed, escapes decoded).
    pub(crate) text: String,
    /// Whether it was written in double quotes.
    pub(crate) quoted: bool,
    /// Where it is in the pattern.
    pub(crate) span: Span,
}

/// A regex literal, without its `%` delimiters.
#[derive(Clone, Debug, PartialEq)]
pub struct RegexLit {
    /// The regex in CloudWatch's dialect.
    pub(crate) source: String,
    /// Where it is in the pattern (including the `%`s).
    pub(crate) span: Span,
}

/// A boolean expression of JSON conditions.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonExpr {
    /// `a || b || ...` (at least two).
    Or(Vec<JsonExpr>),
    /// `a && b && ...` (at least two).
    And(Vec<JsonExpr>),
    /// `( ... )`, kept so that printing and lints can see the parentheses.
    Group(Box<JsonExpr>, Span),
    /// One condition.
    Cond(Cond),
}

/// `selector test`, e.g. `$.errorCode = "AccessDenied*"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cond {
    /// What is tested.
    pub(crate) selector: Selector,
    /// How.
    pub(crate) test: Test,
    /// The whole condition.
    pub(crate) span: Span,
}

/// A JSON path selector such as `$.a.b[0]`, `$.a[*]`, `$.['k.with.dots']`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Selector {
    /// The steps from the root object.
    pub(crate) steps: Vec<Step>,
    /// Where it is.
    pub(crate) span: Span,
}

impl Selector {
    /// Position of the wildcard step, if any.
    pub(crate) fn wildcard(&self) -> Option<usize> {
        self.steps.iter().position(|s| matches!(s, Step::Wildcard(_)))
    }
}

/// How a wildcard step was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WildcardStyle {
    /// `.*`
    Dot,
    /// `[*]`
    Bracket,
}

/// One selector step.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// `.name`
    Key(String),
    /// `.['name']`
    QuotedKey(String),
    /// `[n]`
    Index(u32),
    /// `.*` or `[*]`: every element of an array or member of an object.
    Wildcard(WildcardStyle),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Ge => ">=",
        }
    }

    /// True for `<`, `>`, `<=`, `>=`.
    pub(crate) fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

/// What a JSON condition checks.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Test {
    /// `op value`
    Compare {
        /// The operator.
        op: CmpOp,
        /// The value compared with.
        value: ValueLit,
    },
    /// `IS TRUE`
    IsTrue,
    /// `IS FALSE`
    IsFalse,
    /// `IS NULL`
    IsNull,
    /// `NOT EXISTS`
    NotExists,
}

/// A value on the right of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ValueLit {
    /// An unquoted number such as `1`, `-2.5`, `1e3`: compared numerically
    /// with numbers and by its text with strings.
    Number {
        /// The number as written.
        text: String,
        /// Where.
        span: Span,
    },
    /// A string: quoted, or an unquoted word. `*` inside is a wildcard.
    Str {
        /// The text (quotes removed, escapes decoded).
        text: String,
        /// Whether it was written in double quotes.
        quoted: bool,
        /// Where.
        span: Span,
    },
    /// `%regex%`
    Regex(RegexLit),
}

impl ValueLit {
    /// Where the value is.
    pub(crate) fn span(&self) -> Span {
        match self {
            ValueLit::Number { span, .. } | ValueLit::Str { span, .. } => *span,
            ValueLit::Regex(r) => r.span,
        }
    }
}

/// A space-delimited pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Delimited {
    /// The entries between the brackets.
    pub(crate) entries: Vec<Entry>,
}

/// One entry of a space-delimited pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Entry {
    /// `...`: zero or more fields.
    Ellipsis(Span),
    /// A field, optionally named, optionally tested.
    Field {
        /// The name (from `name` or from the conditions' variable).
        name: Option<String>,
        /// Conditions on the field.
        expr: Option<FieldExpr>,
        /// Where.
        span: Span,
    },
}

/// Conditions on one field of a space-delimited pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldExpr {
    /// `a || b`
    Or(Vec<FieldExpr>),
    /// `a && b`
    And(Vec<FieldExpr>),
    /// `name op value`
    Cond {
        /// The field's variable name.
        name: String,
        /// The operator.
        op: CmpOp,
        /// The value.
        value: ValueLit,
        /// Where.
        span: Span,
    },
}

// ---------------------------------------------------------------------------
// Printing

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Ast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ast::MatchAll => Ok(()),
            Ast::Terms(terms) => {
                for (i, t) in terms.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{t}")?;
                }
                Ok(())
            }
            Ast::Regex(r) => write!(f, "{r}"),
            Ast::Json(e) => write!(f, "{{ {e} }}"),
            Ast::Delimited(d) => write!(f, "{d}"),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TermKind::Required => {}
            TermKind::Excluded => f.write_str("-")?,
            TermKind::Optional => f.write_str("?")?,
        }
        if self.quoted {
            write_quoted(f, &self.text)
        } else {
            f.write_str(&self.text)
        }
    }
}

impl fmt::Display for RegexLit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}%", self.source)
    }
}

impl fmt::Display for JsonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonExpr::Or(xs) | JsonExpr::And(xs) => {
                let sep = if matches!(self, JsonExpr::Or(_)) { " || " } else { " && " };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    write!(f, "{x}")?;
                }
                Ok(())
            }
            JsonExpr::Group(x, _) => write!(f, "({x})"),
            JsonExpr::Cond(c) => write!(f, "{c}"),
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.selector)?;
        match &self.test {
            Test::Compare { op, value } => write!(f, "{} {}", op.as_str(), value),
            Test::IsTrue => f.write_str("IS TRUE"),
            Test::IsFalse => f.write_str("IS FALSE"),
            Test::IsNull => f.write_str("IS NULL"),
            Test::NotExists => f.write_str("NOT EXISTS"),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for s in &self.steps {
            match s {
                Step::Key(k) => write!(f, ".{k}")?,
                Step::QuotedKey(k) => write!(f, ".['{k}']")?,
                Step::Index(i) => write!(f, "[{i}]")?,
                Step::Wildcard(WildcardStyle::Dot) => f.write_str(".*")?,
                Step::Wildcard(WildcardStyle::Bracket) => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for ValueLit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueLit::Number { text, .. } => f.write_str(text),
            ValueLit::Str { text, quoted: true, .. } => write_quoted(f, text),
            ValueLit::Str { text, quoted: false, .. } => f.write_str(text),
            ValueLit::Regex(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Display for Delimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match e {
                Entry::Ellipsis(_) => f.write_str("...")?,
                Entry::Field { expr: Some(x), .. } => write!(f, "{x}")?,
                Entry::Field { name: Some(n), expr: None, .. } => f.write_str(n)?,
                Entry::Field { name: None, expr: None, .. } => {}
            }
        }
        f.write_str("]")
    }
}

impl fmt::Display for FieldExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldExpr::Or(xs) | FieldExpr::And(xs) => {
                let sep = if matches!(self, FieldExpr::Or(_)) { " || " } else { " && " };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    write!(f, "{x}")?;
                }
                Ok(())
            }
            FieldExpr::Cond { name, op, value, .. } => write!(f, "{name}{}{value}", op.as_str()),
        }
    }
}

// ---------------------------------------------------------------------------
// Span-free comparison (for round-trip tests)

impl Ast {
    /// A copy with every span zeroed, so that trees parsed from differently
    /// spaced texts compare equal.
    pub fn without_spans(&self) -> Ast {
        let mut a = self.clone();
        a.clear_spans();
        a
    }

    fn clear_spans(&mut self) {
        match self {
            Ast::MatchAll => {}
            Ast::Terms(ts) => ts.iter_mut().for_each(|t| t.span = Span::default()),
            Ast::Regex(r) => r.span = Span::default(),
            Ast::Json(e) => e.clear_spans(),
            Ast::Delimited(d) => d.entries.iter_mut().for_each(Entry::clear_spans),
        }
    }
}

impl JsonExpr {
    fn clear_spans(&mut self) {
        match self {
            JsonExpr::Or(xs) | JsonExpr::And(xs) => xs.iter_mut().for_each(JsonExpr::clear_spans),
            JsonExpr::Group(x, s) => {
                *s = Span::default();
                x.clear_spans();
            }
            JsonExpr::Cond(c) => {
                c.span = Span::default();
                c.selector.span = Span::default();
                if let Test::Compare { value, .. } = &mut c.test {
                    value.clear_span();
                }
            }
        }
    }
}

impl ValueLit {
    fn clear_span(&mut self) {
        match self {
            ValueLit::Number { span, .. } | ValueLit::Str { span, .. } => *span = Span::default(),
            ValueLit::Regex(r) => r.span = Span::default(),
        }
    }
}

impl Entry {
    fn clear_spans(&mut self) {
        match self {
            Entry::Ellipsis(s) => *s = Span::default(),
            Entry::Field { expr, span, .. } => {
                *span = Span::default();
                if let Some(x) = expr {
                    x.clear_spans();
                }
            }
        }
    }
}

impl FieldExpr {
    fn clear_spans(&mut self) {
        match self {
            FieldExpr::Or(xs) | FieldExpr::And(xs) => xs.iter_mut().for_each(FieldExpr::clear_spans),
            FieldExpr::Cond { value, span, .. } => {
                *span = Span::default();
                value.clear_span();
            }
        }
    }
}

#[cfg(test)]
mod roundtrip {
    //! Property: printing a parsed tree and parsing the text again gives the
    //! same tree.

    use super::*;
    use crate::pattern::parse::{is_number, parse};
    use crate::pattern::ErrorKind;
    use proptest::prelude::*;

    fn sp() -> Span {
        Span::default()
    }

    fn quoted_text() -> impl Strategy<Value = String> {
        "[ -~é]{1,10}"
    }

    fn term() -> impl Strategy<Value = Term> {
        let kind = prop_oneof![Just(TermKind::Required), Just(TermKind::Excluded), Just(TermKind::Optional)];
        let text = prop_oneof!["[A-Za-z0-9_.é]{1,8}".prop_map(|t| (t, false)), quoted_text().prop_map(|t| (t, true)),];
        (kind, text).prop_map(|(kind, (text, quoted))| Term { kind, text, quoted, span: sp() })
    }

    fn selector() -> impl Strategy<Value = Selector> {
        let first = prop_oneof![
            "[A-Za-z0-9_-]{1,6}".prop_map(Step::Key),
            "[A-Za-z0-9 .:/@_-]{1,6}".prop_map(Step::QuotedKey),
            Just(Step::Wildcard(WildcardStyle::Dot)),
        ];
        let rest = prop_oneof![
            "[A-Za-z0-9_-]{1,6}".prop_map(Step::Key),
            "[A-Za-z0-9 .:/@_-]{1,6}".prop_map(Step::QuotedKey),
            (0u32..100).prop_map(Step::Index),
            Just(Step::Wildcard(WildcardStyle::Bracket)),
            Just(Step::Wildcard(WildcardStyle::Dot)),
        ];
        (first, prop::collection::vec(rest, 0..3)).prop_map(|(f, mut r)| {
            r.insert(0, f);
            // At most one wildcard per selector.
            let mut seen = false;
            r.retain(|s| {
                let w = matches!(s, Step::Wildcard(_));
                let keep = !(w && seen);
                seen |= w;
                keep
            });
            Selector { steps: r, span: sp() }
        })
    }

    fn number() -> impl Strategy<Value = String> {
        "-?[0-9]{1,5}(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?"
    }

    fn regex() -> impl Strategy<Value = RegexLit> {
        prop::sample::select(vec!["ERR", "^a.b$", "\\d+", "[a-z]{2,4}", "x|y", "a\\-b", "colou?r"])
            .prop_map(|s| RegexLit { source: s.to_string(), span: sp() })
    }

    fn value() -> impl Strategy<Value = ValueLit> {
        prop_oneof![
            number().prop_map(|text| ValueLit::Number { text, span: sp() }),
            quoted_text().prop_map(|text| ValueLit::Str { text, quoted: true, span: sp() }),
            "[A-Za-z_*.][A-Za-z0-9_.*-]{0,8}"
                .prop_filter("a bare word", |w| !is_number(w) && !w.eq_ignore_ascii_case("null"))
                .prop_map(|text| ValueLit::Str { text, quoted: false, span: sp() }),
            regex().prop_map(ValueLit::Regex),
        ]
    }

    fn cond() -> impl Strategy<Value = JsonExpr> {
        let op = prop_oneof![
            Just(CmpOp::Eq),
            Just(CmpOp::Ne),
            Just(CmpOp::Lt),
            Just(CmpOp::Gt),
            Just(CmpOp::Le),
            Just(CmpOp::Ge)
        ];
        let test = prop_oneof![
            (op, value()).prop_map(|(op, value)| {
                // Ordering needs a number.
                let value = match (&value, op.is_ordering()) {
                    (ValueLit::Number { .. }, _) | (_, false) => value,
                    _ => ValueLit::Number { text: "1".into(), span: sp() },
                };
                Test::Compare { op, value }
            }),
            Just(Test::IsTrue),
            Just(Test::IsFalse),
            Just(Test::IsNull),
            Just(Test::NotExists),
        ];
        (selector(), test).prop_map(|(selector, test)| JsonExpr::Cond(Cond { selector, test, span: sp() }))
    }

    fn json() -> impl Strategy<Value = JsonExpr> {
        cond().prop_recursive(3, 12, 3, |inner| {
            let group = inner.clone().prop_map(|e| JsonExpr::Group(Box::new(e), sp()));
            let and_child = prop_oneof![cond(), group.clone()];
            let and = prop::collection::vec(and_child, 2..4).prop_map(JsonExpr::And);
            let or_child = prop_oneof![cond(), group.clone(), and.clone()];
            let or = prop::collection::vec(or_child, 2..4).prop_map(JsonExpr::Or);
            prop_oneof![group, and, or]
        })
    }

    fn delimited() -> impl Strategy<Value = Delimited> {
        let field_cond = (value(), prop_oneof![Just(CmpOp::Eq), Just(CmpOp::Ne), Just(CmpOp::Gt)]);
        let entry = prop_oneof![
            Just(None),
            Just(Some(None)),
            prop::collection::vec(field_cond, 1..3).prop_map(|cs| Some(Some(cs))),
        ];
        prop::collection::vec(entry, 0..5).prop_map(|raw| {
            let mut entries = Vec::new();
            let mut ellipsis = false;
            for (i, e) in raw.into_iter().enumerate() {
                let name = format!("f{i}");
                entries.push(match e {
                    None if !ellipsis => {
                        ellipsis = true;
                        Entry::Ellipsis(sp())
                    }
                    None => Entry::Field { name: None, expr: None, span: sp() },
                    Some(None) => Entry::Field { name: Some(name), expr: None, span: sp() },
                    Some(Some(conds)) => {
                        let mut xs: Vec<FieldExpr> = conds
                            .into_iter()
                            .map(|(value, op)| {
                                let value = if op.is_ordering() {
                                    ValueLit::Number { text: "2".into(), span: sp() }
                                } else {
                                    value
                                };
                                FieldExpr::Cond { name: name.clone(), op, value, span: sp() }
                            })
                            .collect();
                        let expr = if xs.len() == 1 { xs.pop().unwrap() } else { FieldExpr::Or(xs) };
                        Entry::Field { name: Some(name), expr: Some(expr), span: sp() }
                    }
                });
            }
            // `[ ]` with one unnamed field prints as `[]`, which is the empty pattern.
            if entries.len() == 1 && matches!(entries[0], Entry::Field { name: None, .. }) {
                entries.clear();
            }
            Delimited { entries }
        })
    }

    fn ast() -> impl Strategy<Value = Ast> {
        prop_oneof![
            prop::collection::vec(term(), 1..5).prop_map(Ast::Terms),
            regex().prop_map(Ast::Regex),
            json().prop_map(Ast::Json),
            delimited().prop_map(Ast::Delimited),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn print_then_parse_is_identity(tree in ast()) {
            let text = tree.to_string();
            match parse(&text) {
                Ok(back) => prop_assert_eq!(back.without_spans(), tree, "printed as {}", text),
                Err(e) => {
                    // Only AWS's quotas may refuse a generated tree.
                    let quota = matches!(e.kind, ErrorKind::TooManyRegexes | ErrorKind::TooManyWildcardSelectors | ErrorKind::TooLong { .. });
                    prop_assert!(quota, "{} failed to parse: {}", text, e);
                }
            }
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,60}") {
            let _ = parse(&s);
        }

        #[test]
        fn reparse_of_printed_text_is_stable(s in "[{}()\\[\\]$.a-c0-9=!<>&|*\"%, -]{0,40}") {
            if let Ok(tree) = parse(&s) {
                let printed = tree.to_string();
                let again = parse(&printed).expect("printed text parses");
                prop_assert_eq!(again.without_spans(), tree.without_spans());
            }
        }
    }
}
