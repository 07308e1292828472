//! What a log event must contain for a pattern to have any chance of
//! matching — the basis of the scan's prefilter.
//!
//! The answer is a [`Requirement`]: either nothing can be said (`Always`),
//! or the event must contain at least one of a set of [`Atom`]s:
//!
//! * `KeyValue { key, test }`: some JSON key `"key"` whose raw string value
//!   passes `test` (derived from `$.….key = "value"` with a string value,
//!   globs included);
//! * `Raw(text)`: the bytes `text` occur somewhere in the event (terms, and
//!   JSON string values reached through an index or a wildcard).
//!
//! Requirements are *necessary*, never sufficient: the full evaluator still
//! decides. Escapes are the one way JSON text can hide a value: a key-value
//! or raw JSON atom is only trusted when the event has no `\u` escape (and
//! no `\/` when the text has a `/`); the prefilter checks that.

use super::ast::*;
use super::compile::TextMatch;

/// A test on a key's raw string value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ValueTest {
    /// The matcher (exact, prefix, suffix, contains, glob).
    pub(crate) text: TextMatch,
    /// The value could also match a number through its canonical text
    /// (`"1"` matches 1), so a non-string value must count as a candidate.
    pub(crate) numeric: bool,
}

/// One thing an event may contain.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Atom {
    /// A key with a string value passing a test.
    KeyValue {
        /// The key, as it appears in the JSON text.
        key: String,
        /// The value test.
        test: ValueTest,
    },
    /// Bytes anywhere in a JSON event (escape hazards apply).
    JsonText(String),
    /// Bytes anywhere in the raw message (terms: no escape hazard).
    Raw(String),
}

/// What an event must contain.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Requirement {
    /// Any event may match.
    Always,
    /// The event must contain at least one of these.
    AnyOf(Vec<Atom>),
}

/// Keys whose values repeat across most events, so a test on them selects
/// little.
const COMMON_KEYS: &[&str] = &[
    "eventSource",
    "awsRegion",
    "eventType",
    "eventCategory",
    "eventVersion",
    "readOnly",
    "managementEvent",
    "recipientAccountId",
    "accountId",
    "sourceIPAddress",
    "userAgent",
];

/// Characters that can appear in a number's canonical text.
fn could_be_number_text(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | 'E' | 'I' | 'n' | 'f' | 'i' | 't' | 'y' | 'N' | 'a'))
}

/// The selectivity from which a requirement is worth a search of its own:
/// a test on a key whose values do not repeat across most events (not
/// `eventSource`, `awsRegion`, ...) scores at least this; tests on those
/// common keys and bare texts score below it.
pub(crate) const SELECTIVE: u32 = 20;

/// How selective an atom is (higher: fewer events pass).
fn score(a: &Atom) -> u32 {
    match a {
        Atom::KeyValue { key, test } => {
            let base = if COMMON_KEYS.contains(&key.as_str()) { 3 } else { SELECTIVE };
            let len = match &test.text {
                TextMatch::Exact(t) | TextMatch::Prefix(t) | TextMatch::Suffix(t) | TextMatch::Contains(t) => t.len(),
                TextMatch::Glob { parts, .. } => parts.iter().map(String::len).max().unwrap_or(0),
                TextMatch::Any => 0,
            };
            base + len.min(10) as u32
        }
        Atom::JsonText(t) | Atom::Raw(t) => t.len().min(12) as u32,
    }
}

impl Requirement {
    /// How selective the requirement is (higher: fewer events pass; see
    /// [`SELECTIVE`]): that of its least selective atom.
    pub(crate) fn selectivity(&self) -> u32 {
        match self {
            Requirement::Always => 0,
            Requirement::AnyOf(atoms) => atoms.iter().map(score).min().unwrap_or(0),
        }
    }

    /// Every alternative must be covered for an OR to require anything.
    fn or(parts: Vec<Requirement>) -> Requirement {
        let mut atoms = Vec::new();
        for p in parts {
            match p {
                Requirement::Always => return Requirement::Always,
                Requirement::AnyOf(a) => atoms.extend(a),
            }
        }
        Requirement::AnyOf(atoms)
    }

    /// An AND needs all its parts; the most selective one is enough.
    fn and(parts: Vec<Requirement>) -> Requirement {
        parts.into_iter().max_by_key(Requirement::selectivity).unwrap_or(Requirement::Always)
    }
}

/// The requirement of a parsed pattern.
pub(crate) fn requirement(ast: &Ast) -> Requirement {
    match ast {
        Ast::MatchAll | Ast::Regex(_) | Ast::Delimited(_) => Requirement::Always,
        Ast::Terms(ts) => terms(ts),
        Ast::Json(e) => json(e),
    }
}

/// The requirements a pattern allows choosing from, most selective first:
/// for a JSON pattern whose top level is an AND, each conjunct's (through
/// nested ANDs and parentheses; any one of them is necessary); otherwise
/// just [`requirement`]'s. A rule set can then prefer a conjunct whose
/// search another rule already needs, and save a pass over the bytes.
pub(crate) fn alternatives(ast: &Ast) -> Vec<Requirement> {
    fn conjuncts<'a>(e: &'a JsonExpr, out: &mut Vec<&'a JsonExpr>) {
        match e {
            JsonExpr::And(xs) => xs.iter().for_each(|x| conjuncts(x, out)),
            JsonExpr::Group(x, _) => conjuncts(x, out),
            other => out.push(other),
        }
    }
    let Ast::Json(e) = ast else {
        return vec![requirement(ast)];
    };
    let mut parts = Vec::new();
    conjuncts(e, &mut parts);
    let mut choices: Vec<Requirement> = parts.into_iter().map(json).filter(|r| *r != Requirement::Always).collect();
    if choices.is_empty() {
        return vec![Requirement::Always];
    }
    // Among equally selective conjuncts `and` keeps the last: so here.
    choices.reverse();
    choices.sort_by_key(|r| std::cmp::Reverse(r.selectivity()));
    choices
}

fn terms(ts: &[Term]) -> Requirement {
    let required: Vec<&Term> = ts.iter().filter(|t| t.kind == TermKind::Required).collect();
    if let Some(t) = required.iter().max_by_key(|t| t.text.len()) {
        return Requirement::AnyOf(vec![Atom::Raw(t.text.clone())]);
    }
    let has_excluded = ts.iter().any(|t| t.kind == TermKind::Excluded);
    let optional: Vec<Atom> =
        ts.iter().filter(|t| t.kind == TermKind::Optional).map(|t| Atom::Raw(t.text.clone())).collect();
    if has_excluded || optional.is_empty() {
        Requirement::Always
    } else {
        Requirement::AnyOf(optional)
    }
}

fn json(e: &JsonExpr) -> Requirement {
    match e {
        JsonExpr::Or(xs) => Requirement::or(xs.iter().map(json).collect()),
        JsonExpr::And(xs) => Requirement::and(xs.iter().map(json).collect()),
        JsonExpr::Group(x, _) => json(x),
        JsonExpr::Cond(c) => cond(c),
    }
}

fn cond(c: &Cond) -> Requirement {
    let Test::Compare { op: CmpOp::Eq, value: ValueLit::Str { text, .. } } = &c.test else {
        return Requirement::Always;
    };
    let m = TextMatch::new(text);
    if m == TextMatch::Any {
        return Requirement::Always;
    }
    // Text a JSON string may hide behind escapes other than \u and \/ is not
    // trusted at all.
    if text.chars().any(|ch| ch == '"' || ch == '\\' || ch.is_control()) {
        return Requirement::Always;
    }
    let numeric = could_be_number_text(&text.replace('*', ""));
    match c.selector.steps.last() {
        Some(Step::Key(k) | Step::QuotedKey(k)) if !k.contains(['"', '\\']) && !k.chars().any(char::is_control) => {
            Requirement::AnyOf(vec![Atom::KeyValue { key: k.clone(), test: ValueTest { text: m, numeric } }])
        }
        _ => {
            // Reached through an index or a wildcard: the value's text must
            // still occur somewhere (unless it could be a number's text).
            let longest = text.split('*').fold("", |best, p| if p.len() > best.len() { p } else { best });
            if numeric || longest.is_empty() {
                Requirement::Always
            } else {
                Requirement::AnyOf(vec![Atom::JsonText(longest.to_string())])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::parse::parse;

    fn req(p: &str) -> Requirement {
        requirement(&parse(p).unwrap())
    }

    fn keys(r: &Requirement) -> Vec<String> {
        match r {
            Requirement::Always => vec![],
            Requirement::AnyOf(a) => a
                .iter()
                .map(|x| match x {
                    Atom::KeyValue { key, test } => format!("{key}:{:?}", test.text),
                    Atom::JsonText(t) => format!("json:{t}"),
                    Atom::Raw(t) => format!("raw:{t}"),
                })
                .collect(),
        }
    }

    #[test]
    fn headline() {
        let r = req(r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#);
        assert_eq!(keys(&r), [r#"errorCode:Suffix("UnauthorizedOperation")"#, r#"errorCode:Prefix("AccessDenied")"#]);
    }

    #[test]
    fn and_picks_the_selective_side() {
        let r =
            req("{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy))}");
        assert_eq!(keys(&r), [r#"eventName:Exact("PutBucketAcl")"#, r#"eventName:Exact("PutBucketPolicy")"#]);
        let r = req(
            r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
        );
        assert_eq!(keys(&r), [r#"type:Exact("Root")"#]);
    }

    #[test]
    fn an_and_offers_each_side_most_selective_first() {
        let alts = |p: &str| alternatives(&parse(p).unwrap()).iter().map(keys).collect::<Vec<_>>();
        let p = r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#;
        assert_eq!(
            alts(p),
            [vec![r#"errorMessage:Exact("Failed authentication")"#], vec![r#"eventName:Exact("ConsoleLogin")"#]]
        );
        assert_eq!(alts(p)[0], keys(&req(p)), "the first is the one `requirement` picks");
        // Nested ANDs and parentheses are looked through; sides that
        // require nothing are not offered.
        let p = r#"{ ($.eventSource = s3.amazonaws.com && ($.a = "xyz" && $.b NOT EXISTS)) && $.c != 1 }"#;
        assert_eq!(alts(p), [vec![r#"a:Exact("xyz")"#], vec![r#"eventSource:Exact("s3.amazonaws.com")"#]]);
        // Anything else offers its one requirement.
        for p in [r#"{ $.a = "x" || $.b = "y" }"#, "{ $.x NOT EXISTS }", "ERROR timeout", "{ $.a != 1 && $.b != 2 }"] {
            assert_eq!(alts(p), [keys(&req(p))], "{p}");
        }
    }

    #[test]
    fn nothing_to_require() {
        for p in [
            "{ $.x NOT EXISTS }",
            "{ $.a != 1 }",
            "{ $.a = 1 }",
            "{ $.a = * }",
            "{ $.a = %x% }",
            "{ $.a = 1 || $.b = x }",
            "-ERROR",
            "",
            "%x%",
            "[a, b]",
        ] {
            assert_eq!(req(p), Requirement::Always, "{p}");
        }
        assert!(req("{ $.a = \"1\" }") != Requirement::Always);
        let Requirement::AnyOf(a) = req("{ $.a = \"1\" }") else { panic!() };
        assert!(matches!(&a[0], Atom::KeyValue { test, .. } if test.numeric));
    }

    #[test]
    fn terms_and_wildcards() {
        assert_eq!(keys(&req("ERROR timeout")), ["raw:timeout"]);
        assert_eq!(keys(&req("?ERROR ?WARN")), ["raw:ERROR", "raw:WARN"]);
        assert_eq!(keys(&req("{ $.resources[*].type = \"AWS::IAM::*\" }")), ["type:Prefix(\"AWS::IAM::\")"]);
        assert_eq!(keys(&req("{ $.a[0] = \"abc*def\" }")), ["json:abc"]);
    }
}
