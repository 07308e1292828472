//! Pattern text → [`Ast`], with every rejection AWS applies.
//!
//! The first non-blank character picks the sub-language (empty → match all,
//! `{` → JSON, `[` → space-delimited, `%` → regex, anything else → terms).
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use super::ast::*;
use super::error::{ErrorKind, PatternError, Span};
use super::lex::{scan_quoted, tokenize, Tok, Token};

/// Longest pattern CloudWatch accepts, in characters.
pub(crate) const MAX_PATTERN_CHARS: usize = 1024;
/// Most regexes in one pattern.
pub(crate) const MAX_REGEXES: usize = 2;
/// Most selectors with a wildcard in one pattern.
pub(crate) const MAX_WILDCARD_SELECTORS: usize = 3;
/// Deepest parenthesis nesting the parser accepts (AWS's limit is unknown;
/// this bound only protects the stack).
pub(crate) const MAX_NESTING: usize = 128;

/// Parse a filter pattern.
pub fn parse(src: &str) -> Result<Ast, PatternError> {
    let len = src.chars().count();
    if len > MAX_PATTERN_CHARS {
        let at = src.char_indices().nth(MAX_PATTERN_CHARS).map_or(src.len(), |(i, _)| i);
        return Err(PatternError::new(ErrorKind::TooLong { len }, Span::new(at, src.len()), src));
    }
    let start = src.len() - src.trim_start().len();
    let end = src.trim_end().len();
    if start >= end {
        return Ok(Ast::MatchAll);
    }
    let first = src[start..].chars().next().unwrap_or(' ');
    let last = src[..end].chars().next_back().unwrap_or(' ');
    let ast = match first {
        '{' => {
            if last != '}' {
                return Err(PatternError::new(ErrorKind::JsonNotClosed, Span::new(end - last.len_utf8(), end), src));
            }
            Ast::Json(Parser::new(src, start, end)?.json()?)
        }
        '[' => Ast::Delimited(Parser::new(src, start, end)?.delimited()?),
        '%' => {
            if last != '%' || end - start < 2 {
                return Err(PatternError::new(ErrorKind::RegexNotClosed, Span::new(start, end), src));
            }
            let body = &src[start + 1..end - 1];
            // Validate now; compilation happens in `compile`.
            super::regex::translate(body, start + 1, src)?;
            Ast::Regex(RegexLit { source: body.to_string(), span: Span::new(start, end) })
        }
        _ => Ast::Terms(terms(src, start, end)?),
    };
    check_quotas(&ast, src)?;
    Ok(ast)
}

/// Parse a standalone selector such as `$.a.b` (used for metric values and
/// dimensions).
pub(crate) fn parse_selector(src: &str) -> Result<Selector, PatternError> {
    let start = src.len() - src.trim_start().len();
    let end = src.trim_end().len();
    let toks = tokenize(src, start, end)?;
    match toks.as_slice() {
        [Token { tok: Tok::Selector(steps), span }] => Ok(Selector { steps: steps.clone(), span: *span }),
        _ => Err(PatternError::new(
            ErrorKind::BadSelector { detail: "expected one selector such as $.field" },
            Span::new(start, end),
            src,
        )),
    }
}

// ---------------------------------------------------------------------------
// Unstructured terms

fn is_term_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || (!c.is_ascii() && c.is_alphanumeric())
}

fn terms(src: &str, start: usize, end: usize) -> Result<Vec<Term>, PatternError> {
    let err = |kind, s: usize, e: usize| PatternError::new(kind, Span::new(s, e), src);
    let mut out = Vec::new();
    let mut i = start;
    let char_at = |i: usize| src[i..end].chars().next();
    while let Some(c) = char_at(i) {
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let term_start = i;
        let kind = match c {
            '-' => TermKind::Excluded,
            '?' => TermKind::Optional,
            _ => TermKind::Required,
        };
        if kind != TermKind::Required {
            i += 1;
        }
        match char_at(i) {
            Some('"') => {
                let (text, next) = scan_quoted(src, i, end).ok_or_else(|| err(ErrorKind::UnclosedQuote, i, i + 1))?;
                if text.is_empty() {
                    return Err(err(ErrorKind::EmptyPhrase, i, next));
                }
                i = next;
                match char_at(i) {
                    None | Some('-' | '?') => {}
                    Some(c) if c.is_whitespace() => {}
                    Some(c) => return Err(err(ErrorKind::TextAfterPhrase, i, i + c.len_utf8())),
                }
                out.push(Term { kind, text, quoted: true, span: Span::new(term_start, i) });
            }
            Some('%') => return Err(err(ErrorKind::RegexNotAlone, i, i + 1)),
            Some(c) if is_term_char(c) => {
                let ws = i;
                while let Some(c) = char_at(i) {
                    if is_term_char(c) {
                        i += c.len_utf8();
                    } else if c.is_whitespace() || c == '-' || c == '?' {
                        break;
                    } else if c == '%' {
                        return Err(err(ErrorKind::RegexNotAlone, i, i + 1));
                    } else {
                        return Err(err(ErrorKind::InvalidTermCharacter { ch: c }, i, i + c.len_utf8()));
                    }
                }
                out.push(Term { kind, text: src[ws..i].to_string(), quoted: false, span: Span::new(term_start, i) });
            }
            None => return Err(err(ErrorKind::DanglingModifier, term_start, i)),
            Some(c) if c.is_whitespace() || c == '-' || c == '?' => {
                return Err(err(ErrorKind::DanglingModifier, term_start, i))
            }
            Some(c) => return Err(err(ErrorKind::InvalidTermCharacter { ch: c }, i, i + c.len_utf8())),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// JSON and space-delimited patterns

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, start: usize, end: usize) -> Result<Parser<'a>, PatternError> {
        Ok(Parser { src, toks: tokenize(src, start, end)?, pos: 0, end, depth: 0 })
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn error(&self, kind: ErrorKind, span: Span) -> PatternError {
        PatternError::new(kind, span, self.src)
    }

    fn end_span(&self) -> Span {
        Span::new(self.end, self.end)
    }

    fn unexpected(&self, expected: &'static str) -> PatternError {
        match self.peek() {
            Some(t) => {
                if let Tok::Word(w) = &t.tok {
                    if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") {
                        return self.error(ErrorKind::WordOperator { word: w.clone() }, t.span);
                    }
                }
                self.error(ErrorKind::Expected { expected, found: t.tok.describe() }, t.span)
            }
            None => {
                self.error(ErrorKind::Expected { expected, found: "the end of the pattern".into() }, self.end_span())
            }
        }
    }

    fn expect(&mut self, want: Tok, expected: &'static str) -> Result<Token, PatternError> {
        match self.peek() {
            Some(t) if t.tok == want => Ok(self.next().expect("peeked")),
            _ => Err(self.unexpected(expected)),
        }
    }

    fn finish(&self) -> Result<(), PatternError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(self.error(ErrorKind::TrailingText, Span::new(t.span.start, self.end))),
        }
    }

    // --- JSON -------------------------------------------------------------

    fn json(mut self) -> Result<JsonExpr, PatternError> {
        let open = self.expect(Tok::LBrace, "'{'")?;
        if matches!(self.peek(), Some(Token { tok: Tok::RBrace, .. })) {
            let close = self.next().expect("peeked");
            return Err(self.error(ErrorKind::EmptyJson, open.span.to(close.span)));
        }
        let e = self.or_expr()?;
        self.expect(Tok::RBrace, "'&&', '||' or '}'")?;
        self.finish()?;
        Ok(e)
    }

    fn or_expr(&mut self) -> Result<JsonExpr, PatternError> {
        let mut xs = vec![self.and_expr()?];
        while matches!(self.peek(), Some(Token { tok: Tok::Or, .. })) {
            self.next();
            xs.push(self.and_expr()?);
        }
        Ok(if xs.len() == 1 { xs.pop().expect("one") } else { JsonExpr::Or(xs) })
    }

    fn and_expr(&mut self) -> Result<JsonExpr, PatternError> {
        let mut xs = vec![self.primary()?];
        while matches!(self.peek(), Some(Token { tok: Tok::And, .. })) {
            self.next();
            xs.push(self.primary()?);
        }
        Ok(if xs.len() == 1 { xs.pop().expect("one") } else { JsonExpr::And(xs) })
    }

    fn primary(&mut self) -> Result<JsonExpr, PatternError> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::LParen) => {
                let open = self.next().expect("peeked");
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(self.error(ErrorKind::NestingTooDeep, open.span));
                }
                let inner = self.or_expr()?;
                let close = self.expect(Tok::RParen, "'&&', '||' or ')'")?;
                self.depth -= 1;
                Ok(JsonExpr::Group(Box::new(inner), open.span.to(close.span)))
            }
            Some(Tok::Selector(_)) => Ok(JsonExpr::Cond(self.cond()?)),
            _ => Err(self.unexpected("a selector such as $.eventName, or '('")),
        }
    }

    fn cond(&mut self) -> Result<Cond, PatternError> {
        let Some(Token { tok: Tok::Selector(steps), span: sel_span }) = self.next() else {
            unreachable!("cond() is called on a selector token")
        };
        let selector = Selector { steps, span: sel_span };
        if selector.steps.iter().filter(|s| matches!(s, Step::Wildcard(_))).count() > 1 {
            return Err(self.error(ErrorKind::TooManyWildcardsInSelector, sel_span));
        }
        let test = match self.next() {
            Some(Token { tok: Tok::Op(op), .. }) => {
                let value = self.value(op)?;
                Test::Compare { op, value }
            }
            Some(Token { tok: Tok::Word(w), span }) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Token { tok: Tok::Word(k), .. }) if k.eq_ignore_ascii_case("TRUE") => Test::IsTrue,
                Some(Token { tok: Tok::Word(k), .. }) if k.eq_ignore_ascii_case("FALSE") => Test::IsFalse,
                Some(Token { tok: Tok::Word(k), .. }) if k.eq_ignore_ascii_case("NULL") => Test::IsNull,
                Some(Token { tok: Tok::Word(k), span: s2 }) if k.eq_ignore_ascii_case("NOT") => {
                    return Err(self.error(ErrorKind::IsNotNull, span.to(s2)))
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("TRUE, FALSE or NULL after IS"));
                }
            },
            Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Token { tok: Tok::Word(k), .. }) if k.eq_ignore_ascii_case("EXISTS") => Test::NotExists,
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("EXISTS after NOT"));
                }
            },
            Some(Token { tok: Tok::Word(w), span }) if w.eq_ignore_ascii_case("EXISTS") => {
                return Err(self.error(ErrorKind::BareExists, span))
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("an operator (= != < > <= >=), IS or NOT EXISTS"));
            }
        };
        let end = self.toks[self.pos - 1].span;
        Ok(Cond { selector, test, span: sel_span.to(end) })
    }

    /// A value after `op`.
    fn value(&mut self, op: CmpOp) -> Result<ValueLit, PatternError> {
        let Some(t) = self.next() else {
            return Err(self.error(
                ErrorKind::Expected { expected: "a value", found: "the end of the pattern".into() },
                self.end_span(),
            ));
        };
        let v = match t.tok {
            Tok::Str(text) => ValueLit::Str { text, quoted: true, span: t.span },
            Tok::Regex(body) => {
                super::regex::translate(&body, t.span.start + 1, self.src)?;
                ValueLit::Regex(RegexLit { source: body, span: t.span })
            }
            Tok::Word(w) => word_value(w, t.span, self.src)?,
            other => {
                return Err(self.error(ErrorKind::Expected { expected: "a value", found: other.describe() }, t.span))
            }
        };
        if op.is_ordering() && !matches!(v, ValueLit::Number { .. }) {
            return Err(self.error(ErrorKind::OrderingNeedsNumber, v.span()));
        }
        Ok(v)
    }

    // --- space-delimited --------------------------------------------------

    fn delimited(mut self) -> Result<Delimited, PatternError> {
        self.expect(Tok::LBracket, "'['")?;
        let mut entries = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut ellipsis = false;
        if matches!(self.peek(), Some(Token { tok: Tok::RBracket, .. })) {
            self.next();
            self.finish()?;
            return Ok(Delimited { entries });
        }
        loop {
            let entry_start = self.peek().map_or(self.end, |t| t.span.start);
            let entry = match self.peek().map(|t| &t.tok) {
                Some(Tok::Comma | Tok::RBracket) => {
                    Entry::Field { name: None, expr: None, span: Span::new(entry_start, entry_start) }
                }
                Some(Tok::Word(w)) if w == "..." => {
                    let t = self.next().expect("peeked");
                    if ellipsis {
                        return Err(self.error(ErrorKind::DuplicateEllipsis, t.span));
                    }
                    ellipsis = true;
                    Entry::Ellipsis(t.span)
                }
                Some(Tok::Word(_)) => {
                    let is_cond = matches!(self.toks.get(self.pos + 1), Some(Token { tok: Tok::Op(_), .. }));
                    if is_cond {
                        let expr = self.field_or()?;
                        let name = first_var(&expr).to_string();
                        if let Some(other) = other_var(&expr, &name) {
                            return Err(self.error(
                                ErrorKind::MultipleVariables { first: name, second: other.0.to_string() },
                                other.1,
                            ));
                        }
                        let end = self.toks[self.pos - 1].span.end;
                        Entry::Field { name: Some(name), expr: Some(expr), span: Span::new(entry_start, end) }
                    } else {
                        let t = self.next().expect("peeked");
                        let Tok::Word(name) = t.tok else { unreachable!() };
                        check_field_name(&name, t.span, self.src)?;
                        Entry::Field { name: Some(name), expr: None, span: t.span }
                    }
                }
                _ => return Err(self.unexpected("a field name, '...', ',' or ']'")),
            };
            if let Entry::Field { name: Some(n), span, .. } = &entry {
                if names.contains(n) {
                    return Err(self.error(ErrorKind::DuplicateField { name: n.clone() }, *span));
                }
                names.push(n.clone());
            }
            entries.push(entry);
            match self.next() {
                Some(Token { tok: Tok::Comma, .. }) => continue,
                Some(Token { tok: Tok::RBracket, .. }) => break,
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("',' or ']'"));
                }
            }
        }
        self.finish()?;
        Ok(Delimited { entries })
    }

    fn field_or(&mut self) -> Result<FieldExpr, PatternError> {
        let mut xs = vec![self.field_and()?];
        while matches!(self.peek(), Some(Token { tok: Tok::Or, .. })) {
            self.next();
            xs.push(self.field_and()?);
        }
        Ok(if xs.len() == 1 { xs.pop().expect("one") } else { FieldExpr::Or(xs) })
    }

    fn field_and(&mut self) -> Result<FieldExpr, PatternError> {
        let mut xs = vec![self.field_cond()?];
        while matches!(self.peek(), Some(Token { tok: Tok::And, .. })) {
            self.next();
            xs.push(self.field_cond()?);
        }
        Ok(if xs.len() == 1 { xs.pop().expect("one") } else { FieldExpr::And(xs) })
    }

    fn field_cond(&mut self) -> Result<FieldExpr, PatternError> {
        let (name, nspan) = match self.next() {
            Some(Token { tok: Tok::Word(w), span }) => (w, span),
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("a field name"));
            }
        };
        check_field_name(&name, nspan, self.src)?;
        let op = match self.next() {
            Some(Token { tok: Tok::Op(op), .. }) => op,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("an operator (= != < > <= >=)"));
            }
        };
        let value = self.value(op)?;
        let span = nspan.to(value.span());
        Ok(FieldExpr::Cond { name, op, value, span })
    }
}

/// Classify an unquoted word used as a value.
fn word_value(w: String, span: Span, src: &str) -> Result<ValueLit, PatternError> {
    if is_number(&w) {
        check_exponent(&w, span, src)?;
        return Ok(ValueLit::Number { text: w, span });
    }
    if w.eq_ignore_ascii_case("null") {
        return Err(PatternError::new(ErrorKind::NullValue, span, src));
    }
    if w.starts_with(['+', '-']) {
        return Err(PatternError::new(ErrorKind::BadValue, span, src));
    }
    if w.contains('+') {
        let at = span.start + w.find('+').unwrap_or(0);
        return Err(PatternError::new(ErrorKind::InvalidTermCharacter { ch: '+' }, Span::new(at, at + 1), src));
    }
    Ok(ValueLit::Str { text: w, quoted: false, span })
}

/// `("+"|"-")? digits ("." digits)? (("e"|"E") ("+"|"-")? digits)?`
pub(crate) fn is_number(w: &str) -> bool {
    let b = w.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let d = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == d {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return false;
        }
    }
    i == b.len()
}

fn check_exponent(w: &str, span: Span, src: &str) -> Result<(), PatternError> {
    if let Some(k) = w.find(['e', 'E']) {
        let exp = &w[k + 1..];
        if exp.trim_start_matches(['+', '-']).trim_start_matches('0').len() > 10 || exp.parse::<i32>().is_err() {
            return Err(PatternError::new(ErrorKind::NumberOutOfRange, span, src));
        }
    }
    Ok(())
}

fn check_field_name(name: &str, span: Span, src: &str) -> Result<(), PatternError> {
    let mut cs = name.chars();
    let ok = cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(PatternError::new(ErrorKind::BadFieldName { name: name.to_string() }, span, src))
    }
}

fn first_var(e: &FieldExpr) -> &str {
    match e {
        FieldExpr::Or(xs) | FieldExpr::And(xs) => first_var(&xs[0]),
        FieldExpr::Cond { name, .. } => name,
    }
}

fn other_var<'e>(e: &'e FieldExpr, name: &str) -> Option<(&'e str, Span)> {
    match e {
        FieldExpr::Or(xs) | FieldExpr::And(xs) => xs.iter().find_map(|x| other_var(x, name)),
        FieldExpr::Cond { name: n, span, .. } => (n != name).then_some((n.as_str(), *span)),
    }
}

// ---------------------------------------------------------------------------
// Quotas

fn check_quotas(ast: &Ast, src: &str) -> Result<(), PatternError> {
    let mut regexes = Vec::new();
    let mut wildcard_selectors = Vec::new();
    match ast {
        Ast::Json(e) => walk_json(e, &mut regexes, &mut wildcard_selectors),
        Ast::Delimited(d) => {
            for e in &d.entries {
                if let Entry::Field { expr: Some(x), .. } = e {
                    walk_field(x, &mut regexes);
                }
            }
        }
        _ => {}
    }
    if regexes.len() > MAX_REGEXES {
        return Err(PatternError::new(ErrorKind::TooManyRegexes, regexes[MAX_REGEXES], src));
    }
    if wildcard_selectors.len() > MAX_WILDCARD_SELECTORS {
        return Err(PatternError::new(
            ErrorKind::TooManyWildcardSelectors,
            wildcard_selectors[MAX_WILDCARD_SELECTORS],
            src,
        ));
    }
    Ok(())
}

fn walk_json(e: &JsonExpr, regexes: &mut Vec<Span>, wild: &mut Vec<Span>) {
    match e {
        JsonExpr::Or(xs) | JsonExpr::And(xs) => xs.iter().for_each(|x| walk_json(x, regexes, wild)),
        JsonExpr::Group(x, _) => walk_json(x, regexes, wild),
        JsonExpr::Cond(c) => {
            if c.selector.wildcard().is_some() {
                wild.push(c.selector.span);
            }
            if let Test::Compare { value: ValueLit::Regex(r), .. } = &c.test {
                regexes.push(r.span);
            }
        }
    }
}

fn walk_field(e: &FieldExpr, regexes: &mut Vec<Span>) {
    match e {
        FieldExpr::Or(xs) | FieldExpr::And(xs) => xs.iter().for_each(|x| walk_field(x, regexes)),
        FieldExpr::Cond { value: ValueLit::Regex(r), .. } => regexes.push(r.span),
        FieldExpr::Cond { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(p: &str) -> ErrorKind {
        parse(p).expect_err(p).kind
    }

    fn col(p: &str) -> usize {
        parse(p).expect_err(p).column()
    }

    #[test]
    fn dispatch() {
        assert_eq!(parse("").unwrap(), Ast::MatchAll);
        assert_eq!(parse("   ").unwrap(), Ast::MatchAll);
        assert!(matches!(parse("ERROR").unwrap(), Ast::Terms(_)));
        assert!(matches!(parse("%ERR%").unwrap(), Ast::Regex(_)));
        assert!(matches!(parse("{ $.a = 1 }").unwrap(), Ast::Json(_)));
        assert!(matches!(parse("[a, b]").unwrap(), Ast::Delimited(_)));
        assert!(matches!(parse("  { $.a = 1 }  ").unwrap(), Ast::Json(_)));
    }

    #[test]
    fn terms_split_on_modifiers() {
        let Ast::Terms(ts) = parse("a-b ?c \"d e\" -\"f\"").unwrap() else { panic!() };
        let got: Vec<_> = ts.iter().map(|t| (t.kind, t.text.as_str(), t.quoted)).collect();
        assert_eq!(
            got,
            [
                (TermKind::Required, "a", false),
                (TermKind::Excluded, "b", false),
                (TermKind::Optional, "c", false),
                (TermKind::Required, "d e", true),
                (TermKind::Excluded, "f", true),
            ]
        );
        let Ast::Terms(ts) = parse("a?b").unwrap() else { panic!() };
        assert_eq!(ts[1].kind, TermKind::Optional);
        let Ast::Terms(ts) = parse("café").unwrap() else { panic!() };
        assert_eq!(ts[0].text, "café");
    }

    #[test]
    fn term_rejections() {
        assert_eq!(kind("ERR*"), ErrorKind::InvalidTermCharacter { ch: '*' });
        assert_eq!(col("ERR*"), 4);
        assert_eq!(kind("ERROR!"), ErrorKind::InvalidTermCharacter { ch: '!' });
        assert_eq!(kind("ERROR:"), ErrorKind::InvalidTermCharacter { ch: ':' });
        assert_eq!(kind("a/b"), ErrorKind::InvalidTermCharacter { ch: '/' });
        assert_eq!(kind("a@b"), ErrorKind::InvalidTermCharacter { ch: '@' });
        assert_eq!(kind("\"\""), ErrorKind::EmptyPhrase);
        assert_eq!(kind("\"ERROR"), ErrorKind::UnclosedQuote);
        assert_eq!(kind("\"ERROR\"WARN"), ErrorKind::TextAfterPhrase);
        assert_eq!(kind("ERROR %WARN%"), ErrorKind::RegexNotAlone);
        assert_eq!(kind("?%WARN%"), ErrorKind::RegexNotAlone);
        assert_eq!(kind("a -"), ErrorKind::DanglingModifier);
        assert_eq!(kind("- a"), ErrorKind::DanglingModifier);
    }

    #[test]
    fn regex_rejections() {
        assert_eq!(kind("%abc"), ErrorKind::RegexNotClosed);
        assert_eq!(kind("%"), ErrorKind::RegexNotClosed);
        assert_eq!(kind("%%"), ErrorKind::RegexEmpty);
        assert_eq!(kind("%(ab)+%"), ErrorKind::RegexCharacter { ch: '(' });
        assert_eq!(col("%(ab)+%"), 2);
        assert_eq!(kind("%ERROR% %WARN%"), ErrorKind::RegexCharacter { ch: '%' });
        assert!(matches!(kind("%[z-a]%"), ErrorKind::RegexInvalid { .. }));
    }

    #[test]
    fn json_precedence() {
        let Ast::Json(e) = parse("{ $.a = 1 || $.b = 2 && $.c = 3 }").unwrap() else { panic!() };
        let JsonExpr::Or(xs) = e else { panic!("top is OR: {e:?}") };
        assert!(matches!(xs[0], JsonExpr::Cond(_)));
        assert!(matches!(xs[1], JsonExpr::And(_)));
        let Ast::Json(e) = parse("{($.a=1||$.b=2)&&$.c=3}").unwrap() else { panic!() };
        let JsonExpr::And(xs) = e else { panic!("top is AND") };
        assert!(matches!(xs[0], JsonExpr::Group(..)));
    }

    #[test]
    fn json_values() {
        let v = |p: &str| {
            let Ast::Json(JsonExpr::Cond(Cond { test: Test::Compare { value, .. }, .. })) = parse(p).unwrap() else {
                panic!("{p}")
            };
            value
        };
        assert!(matches!(v("{ $.a = 1e3 }"), ValueLit::Number { .. }));
        assert!(matches!(v("{ $.a = -0.5 }"), ValueLit::Number { .. }));
        assert!(matches!(v("{ $.a = +1 }"), ValueLit::Number { .. }));
        assert!(matches!(v("{ $.a = \"1\" }"), ValueLit::Str { quoted: true, .. }));
        assert!(matches!(v("{ $.a = foo* }"), ValueLit::Str { quoted: false, .. }));
        assert!(matches!(v("{ $.a = true }"), ValueLit::Str { quoted: false, .. }));
        assert!(matches!(v("{ $.a = 1.2.3 }"), ValueLit::Str { quoted: false, .. }));
        assert!(matches!(v("{ $.a = %x% }"), ValueLit::Regex(_)));
        assert!(matches!(v("{ $.a = us-east-1 }"), ValueLit::Str { .. }));
    }

    #[test]
    fn json_rejections() {
        assert_eq!(kind("{ $.a = 1 } x"), ErrorKind::JsonNotClosed);
        assert_eq!(kind("{ $.a = 1 } || { $.b = 2 }"), ErrorKind::TrailingText);
        assert_eq!(kind("{ }"), ErrorKind::EmptyJson);
        assert_eq!(kind("{ $.a == 1 }"), ErrorKind::DoubleEquals);
        assert_eq!(kind("{ $.a = 1 AND $.b = 2 }"), ErrorKind::WordOperator { word: "AND".into() });
        assert_eq!(kind("{ $.a = 1 or $.b = 2 }"), ErrorKind::WordOperator { word: "or".into() });
        assert_eq!(kind("{ $.a IS NOT NULL }"), ErrorKind::IsNotNull);
        assert_eq!(kind("{ $.a EXISTS }"), ErrorKind::BareExists);
        assert_eq!(kind("{ $.a = null }"), ErrorKind::NullValue);
        assert_eq!(kind("{ $.a > \"0\" }"), ErrorKind::OrderingNeedsNumber);
        assert_eq!(col("{ $.a > \"0\" }"), 9);
        assert_eq!(kind("{ $.a > abc }"), ErrorKind::OrderingNeedsNumber);
        assert_eq!(kind("{ $.a = a:b }"), ErrorKind::InvalidTermCharacter { ch: ':' });
        assert_eq!(kind("{ $.a = 1e2147483648 }"), ErrorKind::NumberOutOfRange);
        assert_eq!(kind("{ $.a = -foo }"), ErrorKind::BadValue);
        assert_eq!(kind("{ $.a = 'Root' }"), ErrorKind::SingleQuotes);
        assert_eq!(kind("{ $.a[*].* = 2 }"), ErrorKind::TooManyWildcardsInSelector);
        assert!(matches!(kind("{ $[1] = 2 }"), ErrorKind::BadSelector { .. }));
        assert!(matches!(kind("{ $ = 2 }"), ErrorKind::BadSelector { .. }));
        assert!(matches!(kind("{ a = 2 }"), ErrorKind::Expected { .. }));
        assert!(matches!(kind("{ $.a = }"), ErrorKind::Expected { .. }));
        assert!(matches!(kind("{ $.a = 1 $.b = 2 }"), ErrorKind::Expected { .. }));
        assert!(matches!(kind("{ ($.a = 1 }"), ErrorKind::Expected { .. }));
        assert!(matches!(kind("{ $.errorMessage = Failed authentication }"), ErrorKind::Expected { .. }));
        assert_eq!(kind("{ $.a = %1% || $.a = %2% || $.a = %3% }"), ErrorKind::TooManyRegexes);
        assert_eq!(col("{ $.a = %1% || $.a = %2% || $.a = %3% }"), 35);
        assert_eq!(
            kind("{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }"),
            ErrorKind::TooManyWildcardSelectors
        );
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(200), ")".repeat(200));
        assert_eq!(kind(&deep), ErrorKind::NestingTooDeep);
        assert_eq!(kind(&"a".repeat(1025)), ErrorKind::TooLong { len: 1025 });
        assert!(parse(&"a".repeat(1024)).is_ok());
    }

    #[test]
    fn json_keywords_are_case_insensitive() {
        for p in ["{ $.a is null }", "{ $.a Is True }", "{ $.a IS false }", "{ $.a not exists }"] {
            assert!(parse(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn delimited_entries() {
        let Ast::Delimited(d) = parse("[ip, , user=bob*, ..., status>=400 && status<500, bytes]").unwrap() else {
            panic!()
        };
        assert_eq!(d.entries.len(), 6);
        assert!(matches!(d.entries[1], Entry::Field { name: None, expr: None, .. }));
        assert!(matches!(d.entries[3], Entry::Ellipsis(_)));
        assert!(
            matches!(&d.entries[4], Entry::Field { name: Some(n), expr: Some(FieldExpr::And(_)), .. } if n == "status")
        );
        let Ast::Delimited(d) = parse("[]").unwrap() else { panic!() };
        assert!(d.entries.is_empty());
        let Ast::Delimited(d) = parse("[a,]").unwrap() else { panic!() };
        assert_eq!(d.entries.len(), 2);
    }

    #[test]
    fn delimited_rejections() {
        assert_eq!(kind("[a, a]"), ErrorKind::DuplicateField { name: "a".into() });
        assert_eq!(kind("[a, ..., b, ...]"), ErrorKind::DuplicateEllipsis);
        assert_eq!(kind("[1a]"), ErrorKind::BadFieldName { name: "1a".into() });
        assert_eq!(kind("[a == 1]"), ErrorKind::DoubleEquals);
        assert_eq!(kind("[a>\"1\", b]"), ErrorKind::OrderingNeedsNumber);
        assert_eq!(
            kind("[a=ERROR || b=one, b]"),
            ErrorKind::MultipleVariables { first: "a".into(), second: "b".into() }
        );
        assert_eq!(
            kind("[w1=ERROR || W1=WARNING, w2]"),
            ErrorKind::MultipleVariables { first: "w1".into(), second: "W1".into() }
        );
        assert!(matches!(kind("[a b]"), ErrorKind::Expected { .. }));
        assert_eq!(kind("[a] x"), ErrorKind::TrailingText);
        assert_eq!(kind("[a=%1%, b=%2%, c=%3%]"), ErrorKind::TooManyRegexes);
    }

    #[test]
    fn standalone_selector() {
        assert_eq!(parse_selector("$.a.b").unwrap().steps.len(), 2);
        assert!(parse_selector("$.a x").is_err());
        assert!(parse_selector("a").is_err());
    }
}
