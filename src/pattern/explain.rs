//! How a pattern was understood (a tree with precedence made visible), and
//! lints for the traps that make real metric filters wrong.

use std::fmt::Write as _;

use super::ast::*;
use super::{FilterPattern, Span};

/// How serious a lint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// Probably not what the author meant.
    Warning,
    /// Worth knowing; may well be intended.
    Note,
}

/// One finding about a pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Lint {
    /// How serious.
    pub(crate) level: Level,
    /// A short stable identifier, e.g. `mixed-and-or`.
    pub(crate) code: &'static str,
    /// What and why.
    pub(crate) message: String,
    /// Where, when it concerns one part of the pattern.
    pub(crate) span: Option<Span>,
}

/// The parsed tree, one node per line, with `AND`/`OR` shown explicitly.
pub fn tree(p: &FilterPattern) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", p.kind().describe());
    match p.ast() {
        Ast::MatchAll => {
            let _ = writeln!(out, "└─ every event matches");
        }
        Ast::Terms(ts) => terms_tree(&mut out, ts),
        Ast::Regex(r) => {
            let _ = writeln!(out, "└─ regex {r} searched anywhere in the message (case-sensitive)");
        }
        Ast::Json(e) => {
            let _ = writeln!(out, "│  (the whole message must be one JSON object)");
            json_tree(&mut out, e, "", true);
        }
        Ast::Delimited(d) => delimited_tree(&mut out, d),
    }
    out
}

fn terms_tree(out: &mut String, ts: &[Term]) {
    let has_plain = ts.iter().any(|t| t.kind != TermKind::Optional);
    let n = ts.len();
    for (i, t) in ts.iter().enumerate() {
        let branch = if i + 1 == n { "└─" } else { "├─" };
        let what = match t.kind {
            TermKind::Required => "must contain".to_string(),
            TermKind::Excluded => "must not contain".to_string(),
            TermKind::Optional if has_plain => "IGNORED (a plain or '-' term is present)".to_string(),
            TermKind::Optional => "may contain (at least one '?' term must occur)".to_string(),
        };
        let _ = writeln!(out, "{branch} {what}: {:?}", t.text);
    }
}

fn json_tree(out: &mut String, e: &JsonExpr, prefix: &str, last: bool) {
    let branch = if last { "└─ " } else { "├─ " };
    let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    match e {
        JsonExpr::Or(xs) | JsonExpr::And(xs) => {
            let label = if matches!(e, JsonExpr::Or(_)) { "OR (any of)" } else { "AND (all of)" };
            let _ = writeln!(out, "{prefix}{branch}{label}");
            for (i, x) in xs.iter().enumerate() {
                json_tree(out, x, &child_prefix, i + 1 == xs.len());
            }
        }
        JsonExpr::Group(x, _) => json_tree(out, x, prefix, last),
        JsonExpr::Cond(c) => {
            let _ = writeln!(out, "{prefix}{branch}{c}");
            let _ = writeln!(out, "{child_prefix}  ↳ {}", describe_cond(c));
        }
    }
}

fn describe_text(text: &str) -> String {
    if !text.contains('*') {
        return format!("exactly {text:?}");
    }
    let parts: Vec<&str> = text.split('*').filter(|p| !p.is_empty()).collect();
    match (parts.as_slice(), text.starts_with('*'), text.ends_with('*')) {
        ([], _, _) => "any string or number".into(),
        ([p], false, true) => format!("starting with {p:?}"),
        ([p], true, false) => format!("ending with {p:?}"),
        ([p], true, true) => format!("containing {p:?}"),
        _ => format!("matching the glob {text:?} ('*' = any run of characters)"),
    }
}

/// What a value accepts, e.g. `the number 1 (or the string "1")`.
fn describe_value(v: &ValueLit) -> String {
    match v {
        ValueLit::Number { text, .. } => format!("the number {text} (or the string {text:?})"),
        ValueLit::Str { text, .. } => describe_text(text),
        ValueLit::Regex(r) => format!("matching {r}"),
    }
}

fn describe_cond(c: &Cond) -> String {
    let wild = c.selector.wildcard().is_some();
    let subject = if wild { "any selected value" } else { "the value" };
    let scalar = "a string or number (numbers by their text)";
    match &c.test {
        Test::Compare { op: CmpOp::Eq, value: v @ ValueLit::Number { .. } } => format!("{subject} is {}", describe_value(v)),
        Test::Compare { op: CmpOp::Eq, value } => format!("{subject} is {scalar} {}", describe_value(value)),
        Test::Compare { op: CmpOp::Ne, value } if wild => {
            format!("the path before the wildcard exists and no selected value is {}", describe_value(value))
        }
        Test::Compare { op: CmpOp::Ne, value } => format!(
            "the value is present, a string or number, and not {} (false when the field is missing, null, boolean, an object or an array)",
            describe_value(value)
        ),
        Test::Compare { op, value } => format!("{subject} is a number {} {}", op.as_str(), value),
        Test::IsTrue => format!("{subject} is the boolean true"),
        Test::IsFalse => format!("{subject} is the boolean false"),
        Test::IsNull if wild => "a selected value is null".into(),
        Test::IsNull => "the value is null (or an array holding null)".into(),
        Test::NotExists if wild => "nothing is selected".into(),
        Test::NotExists => "the field is absent (null counts as present)".into(),
    }
}

fn delimited_tree(out: &mut String, d: &Delimited) {
    let _ = writeln!(out, "│  (fields are separated by blanks; \"...\" and [...] are single fields)");
    if d.entries.is_empty() {
        let _ = writeln!(out, "└─ any number of fields, each extracted as $1, $2, ...");
        return;
    }
    let ellipsis = d.entries.iter().any(|e| matches!(e, Entry::Ellipsis(_)));
    let n = d.entries.len();
    for (i, e) in d.entries.iter().enumerate() {
        let branch = if i + 1 == n { "└─" } else { "├─" };
        let rest = if !ellipsis && i + 1 == n { " (takes the rest of the line)" } else { "" };
        match e {
            Entry::Ellipsis(_) => {
                let _ = writeln!(out, "{branch} ...: any number of fields");
            }
            Entry::Field { name, expr, .. } => {
                let var = name.as_ref().map_or(format!("${}", i + 1), |n| format!("${n}"));
                match expr {
                    None => {
                        let _ = writeln!(out, "{branch} {var}: any value{rest}");
                    }
                    Some(x) => {
                        let _ = writeln!(out, "{branch} {var}: {}{rest}", field_text(x, true));
                    }
                }
            }
        }
    }
}

fn field_text(e: &FieldExpr, top: bool) -> String {
    match e {
        FieldExpr::Or(xs) | FieldExpr::And(xs) => {
            let sep = if matches!(e, FieldExpr::Or(_)) { " OR " } else { " AND " };
            let inner: Vec<_> = xs.iter().map(|x| field_text(x, false)).collect();
            if top {
                inner.join(sep)
            } else {
                format!("({})", inner.join(sep))
            }
        }
        FieldExpr::Cond { name, op, value, .. } => format!("{name} {} {value}", op.as_str()),
    }
}

// ---------------------------------------------------------------------------
// Lints

/// CloudTrail fields whose values have a fixed letter case.
const CASED_FIELDS: &[(&str, Case)] = &[
    ("eventName", Case::Pascal),
    ("errorCode", Case::Pascal),
    ("eventType", Case::Pascal),
    ("eventCategory", Case::Pascal),
    ("eventSource", Case::Lower),
    ("awsRegion", Case::Lower),
];

#[derive(Clone, Copy)]
enum Case {
    Pascal,
    Lower,
}

/// Lint a pattern.
pub fn lints(p: &FilterPattern) -> Vec<Lint> {
    let mut out = Vec::new();
    let src = p.source();
    if src.trim() != src && !src.trim().is_empty() {
        out.push(Lint {
            level: Level::Note,
            code: "surrounding-blanks",
            message: "the pattern has leading or trailing blanks; trailwatch ignores them, Terraform trims them, but a raw API call may be refused".into(),
            span: None,
        });
    }
    match p.ast() {
        Ast::MatchAll => out.push(Lint {
            level: Level::Note,
            code: "match-all",
            message: "the empty pattern matches every event".into(),
            span: None,
        }),
        Ast::Terms(ts) => term_lints(ts, &mut out),
        Ast::Regex(_) => {}
        Ast::Json(e) => json_lints(e, &mut out),
        Ast::Delimited(d) => {
            for e in &d.entries {
                if let Entry::Field { expr: Some(x), .. } = e {
                    field_lints(x, &mut out);
                }
            }
        }
    }
    out
}

fn term_lints(ts: &[Term], out: &mut Vec<Lint>) {
    let has_plain = ts.iter().any(|t| t.kind != TermKind::Optional);
    for t in ts {
        if t.kind == TermKind::Optional && has_plain {
            out.push(Lint {
                level: Level::Warning,
                code: "optional-ignored",
                message: format!(
                    "?{} is ignored: when a pattern has a plain or '-' term, CloudWatch ignores every '?' term",
                    t.text
                ),
                span: Some(t.span),
            });
        }
        if t.quoted && t.text.trim().is_empty() {
            out.push(Lint {
                level: Level::Note,
                code: "blank-phrase",
                message: "a quoted blank matches only messages that contain a blank, not every message".into(),
                span: Some(t.span),
            });
        }
        if t.quoted && t.text.contains('*') {
            out.push(Lint {
                level: Level::Note,
                code: "literal-star",
                message: "'*' inside a quoted term is a literal asterisk, not a wildcard".into(),
                span: Some(t.span),
            });
        }
    }
    if ts.iter().any(|t| t.text.chars().any(char::is_alphabetic)) {
        out.push(Lint {
            level: Level::Note,
            code: "case-sensitive",
            message: "terms are case-sensitive substrings: ERROR does not match error, but does match ERRORS".into(),
            span: None,
        });
    }
}

fn json_lints(e: &JsonExpr, out: &mut Vec<Lint>) {
    match e {
        JsonExpr::Or(xs) => {
            for x in xs {
                if let JsonExpr::And(_) = x {
                    out.push(Lint {
                        level: Level::Warning,
                        code: "mixed-and-or",
                        message: format!(
                            "'&&' binds tighter than '||', so ({x}) is one alternative of the '||'; if those conditions were meant to apply to the whole pattern, put parentheses around the '||' part (the CIS v4.0.1+ unauthorized-API-calls pattern has this trap)"
                        ),
                        span: None,
                    });
                }
                if let Some(c) = negative_alternative(x) {
                    out.push(Lint {
                        level: Level::Warning,
                        code: "negation-in-or",
                        message: format!(
                            "{c} is one alternative of '||': every event where that field is any other string or number matches the whole pattern, so it matches almost everything (the CIS v1.4-v3.0 unauthorized-API-calls trap); exclusions usually belong under '&&'"
                        ),
                        span: Some(c.span),
                    });
                }
                json_lints(x, out);
            }
        }
        JsonExpr::And(xs) => xs.iter().for_each(|x| json_lints(x, out)),
        JsonExpr::Group(x, _) => json_lints(x, out),
        JsonExpr::Cond(c) => cond_lints(c, out),
    }
}

/// A `!=` condition standing alone as an alternative of an OR.
fn negative_alternative(e: &JsonExpr) -> Option<&Cond> {
    match e {
        JsonExpr::Group(x, _) => negative_alternative(x),
        JsonExpr::Cond(c @ Cond { test: Test::Compare { op: CmpOp::Ne, .. }, .. }) => Some(c),
        _ => None,
    }
}

/// Keys of CloudTrail records (the top level, `userIdentity`, its
/// `sessionContext`, `resources` and `tlsDetails`), as CloudTrail spells
/// them.
const CLOUDTRAIL_KEYS: &[&str] = &[
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "eventType",
    "apiVersion",
    "managementEvent",
    "readOnly",
    "resources",
    "recipientAccountId",
    "serviceEventDetails",
    "sharedEventID",
    "vpcEndpointId",
    "vpcEndpointAccountId",
    "eventCategory",
    "addendum",
    "sessionCredentialFromConsole",
    "edgeDeviceDetails",
    "tlsDetails",
    "insightDetails",
    "type",
    "principalId",
    "arn",
    "accountId",
    "accessKeyId",
    "userName",
    "sessionContext",
    "invokedBy",
    "sourceIdentity",
    "identityProvider",
    "credentialId",
    "onBehalfOf",
    "inScopeOf",
    "attributes",
    "sessionIssuer",
    "webIdFederationData",
    "ec2RoleDelivery",
    "assumedRoot",
    "creationDate",
    "mfaAuthenticated",
    "ARN",
    "tlsVersion",
    "cipherSuite",
    "clientProvidedHostHeader",
];

/// A selector step whose letter case CloudTrail never writes
/// (`$.errorcode` for `$.errorCode`): selectors are case-sensitive, so it
/// never matches a CloudTrail record.
fn selector_case_lints(sel: &crate::pattern::ast::Selector, out: &mut Vec<Lint>) {
    for step in &sel.steps {
        let (Step::Key(k) | Step::QuotedKey(k)) = step else { continue };
        if CLOUDTRAIL_KEYS.contains(&k.as_str()) {
            continue;
        }
        if let Some(right) = CLOUDTRAIL_KEYS.iter().find(|c| c.eq_ignore_ascii_case(k)) {
            out.push(Lint {
                level: Level::Warning,
                code: "selector-case",
                message: format!(
                    "CloudTrail writes the field {right:?}, not {k:?}, and selectors are case-sensitive, so this condition never sees it"
                ),
                span: Some(sel.span),
            });
        }
    }
}

fn cond_lints(c: &Cond, out: &mut Vec<Lint>) {
    selector_case_lints(&c.selector, out);
    let Test::Compare { op, value } = &c.test else {
        return;
    };
    match value {
        ValueLit::Str { text, quoted, span } => {
            if !quoted && (text == "true" || text == "false") {
                out.push(Lint {
                    level: Level::Warning,
                    code: "boolean-as-string",
                    message: format!(
                        "'{op} {text}' compares with the string \"{text}\", not the boolean; use IS {}",
                        text.to_uppercase(),
                        op = op.as_str()
                    ),
                    span: Some(*span),
                });
            }
            if *quoted && crate::pattern::parse::is_number(text) {
                out.push(Lint {
                    level: Level::Note,
                    code: "quoted-number",
                    message: format!(
                        "\"{text}\" is compared as text: it matches the string \"{text}\" and a number printed exactly so, not other spellings of the same number; unquote it to compare numerically"
                    ),
                    span: Some(*span),
                });
            }
            if text.contains('"') || text.starts_with('\'') || text.ends_with('\'') {
                out.push(Lint {
                    level: Level::Warning,
                    code: "stray-quotes",
                    message: format!("the value {text:?} contains quote characters itself; check the quoting"),
                    span: Some(*span),
                });
            }
            let inner = text.trim_matches('*');
            if inner.contains('*') {
                out.push(Lint {
                    level: Level::Note,
                    code: "inner-star",
                    message: "a '*' inside a value is treated as a wildcard; AWS's 2020 documentation said a middle '*' is literal (unverified either way)".into(),
                    span: Some(*span),
                });
            }
            if let Some(Step::Key(last)) = c.selector.steps.last() {
                if let Some((_, case)) = CASED_FIELDS.iter().find(|(f, _)| f == last) {
                    let letters: Vec<char> = inner.chars().filter(|c| c.is_alphabetic()).collect();
                    let bad = match case {
                        Case::Pascal => !letters.is_empty() && letters.iter().all(|c| c.is_lowercase()),
                        Case::Lower => letters.iter().any(|c| c.is_uppercase()),
                    };
                    if bad {
                        let how = match case {
                            Case::Pascal => "in PascalCase (e.g. AccessDenied, ConsoleLogin)",
                            Case::Lower => "in lower case (e.g. s3.amazonaws.com, us-east-1)",
                        };
                        out.push(Lint {
                            level: Level::Warning,
                            code: "case-mismatch",
                            message: format!(
                                "CloudTrail writes {last} values {how} and matching is case-sensitive, so {text:?} is unlikely to match"
                            ),
                            span: Some(*span),
                        });
                    }
                }
            }
        }
        ValueLit::Number { .. } | ValueLit::Regex(_) => {}
    }
}

fn field_lints(e: &FieldExpr, out: &mut Vec<Lint>) {
    if let FieldExpr::Or(xs) = e {
        if xs.iter().any(|x| matches!(x, FieldExpr::And(_))) {
            out.push(Lint {
                level: Level::Warning,
                code: "mixed-and-or",
                message: "'&&' binds tighter than '||' inside this field's conditions".into(),
                span: None,
            });
        }
    }
}

/// Render lints for a terminal, with carets where a span is known.
pub fn render_lints(p: &FilterPattern, lints: &[Lint]) -> String {
    let mut out = String::new();
    for l in lints {
        let level = match l.level {
            Level::Warning => "warning",
            Level::Note => "note",
        };
        let _ = writeln!(out, "{level}[{}]: {}", l.code, l.message);
        if let Some(span) = l.span {
            let e = super::PatternError::new(super::ErrorKind::BadValue, span, p.source());
            let _ = writeln!(out, "{}", e.caret());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(p: &str) -> Vec<&'static str> {
        lints(&FilterPattern::parse(p).unwrap()).into_iter().map(|l| l.code).collect()
    }

    #[test]
    fn cis_traps_are_flagged() {
        let v4 = r#"{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }"#;
        assert!(codes(v4).contains(&"mixed-and-or"));
        let v14 = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }"#;
        assert_eq!(codes(v14).iter().filter(|c| **c == "negation-in-or").count(), 2);
        let fixed = r#"{(($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && (($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket"))}"#;
        assert!(codes(fixed).is_empty(), "{:?}", codes(fixed));
        let headline = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;
        assert!(codes(headline).is_empty());
    }

    #[test]
    fn quoting_and_case_traps() {
        assert!(codes("{ $.a = true }").contains(&"boolean-as-string"));
        assert!(codes("{ $.a = \"1\" }").contains(&"quoted-number"));
        assert!(codes("{ $.errorCode = \"accessdenied*\" }").contains(&"case-mismatch"));
        assert!(codes("{ $.eventSource = S3.amazonaws.com }").contains(&"case-mismatch"));
        assert!(!codes("{ $.eventSource = s3.amazonaws.com }").contains(&"case-mismatch"));
        assert!(codes("{ $.a = \"Ev*ent\" }").contains(&"inner-star"));
        assert!(codes("ERROR ?WARN").contains(&"optional-ignored"));
        assert!(codes("\" \"").contains(&"blank-phrase"));
        assert!(codes("").contains(&"match-all"));
    }

    #[test]
    fn tree_shows_precedence() {
        let p = FilterPattern::parse("{ $.a = 1 || $.b = 2 && $.c NOT EXISTS }").unwrap();
        let t = tree(&p);
        let or = t.find("OR").unwrap();
        let and = t.find("AND").unwrap();
        assert!(or < and, "{t}");
        assert!(t.contains("$.c NOT EXISTS"), "{t}");
        assert!(t.contains("the field is absent"), "{t}");
    }
}
