//! Tokens of JSON (`{...}`) and space-delimited (`[...]`) patterns.
//!
//! Unstructured term patterns have their own tiny scanner in `parse.rs`,
//! because `-` and `?` split words there and every other symbol is an error.

use super::ast::{CmpOp, Step, WildcardStyle};
use super::error::{ErrorKind, PatternError, Span};

/// A token with its span.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    /// What it is.
    pub(crate) tok: Tok,
    /// Where it is.
    pub(crate) span: Span,
}

/// Token kinds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[` (only outside selectors)
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `&&`
    And,
    /// `||`
    Or,
    /// A comparison operator.
    Op(CmpOp),
    /// A selector such as `$.a[0]`.
    Selector(Vec<Step>),
    /// A double-quoted string (escapes `\"` and `\\` decoded).
    Str(String),
    /// A `%regex%` (content only).
    Regex(String),
    /// An unquoted word: a number, a bare value, a keyword or a field name.
    Word(String),
}

impl Tok {
    /// A short description for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::Comma => "','".into(),
            Tok::And => "'&&'".into(),
            Tok::Or => "'||'".into(),
            Tok::Op(op) => format!("'{}'", op.as_str()),
            Tok::Selector(_) => "a selector".into(),
            Tok::Str(_) => "a quoted string".into(),
            Tok::Regex(_) => "a regex".into(),
            Tok::Word(w) => format!("'{w}'"),
        }
    }
}

/// Characters of unquoted words (values, keywords, field names, numbers).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*' | '-' | '+') || (!c.is_ascii() && c.is_alphanumeric())
}

/// Characters of selector names after `.`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-')
}

/// Split `src[start..end]` into tokens.
pub(crate) fn tokenize(src: &str, start: usize, end: usize) -> Result<Vec<Token>, PatternError> {
    let mut lx = Lexer { src, pos: start, end, out: Vec::new() };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    end: usize,
    out: Vec<Token>,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..self.end].chars().next()
    }

    fn peek_at(&self, i: usize) -> Option<char> {
        self.src[i.min(self.end)..self.end].chars().next()
    }

    fn error(&self, kind: ErrorKind, start: usize, end: usize) -> PatternError {
        PatternError::new(kind, Span::new(start, end), self.src)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token { tok, span: Span::new(start, self.pos) });
    }

    fn run(&mut self) -> Result<(), PatternError> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            match c {
                '{' | '}' | '(' | ')' | '[' | ']' | ',' => {
                    self.pos += 1;
                    let tok = match c {
                        '{' => Tok::LBrace,
                        '}' => Tok::RBrace,
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        '[' => Tok::LBracket,
                        ']' => Tok::RBracket,
                        _ => Tok::Comma,
                    };
                    self.push(tok, start);
                }
                '&' | '|' => {
                    if self.peek_at(start + 1) == Some(c) {
                        self.pos += 2;
                        self.push(if c == '&' { Tok::And } else { Tok::Or }, start);
                    } else {
                        return Err(self.error(
                            ErrorKind::Expected { expected: "'&&' or '||'", found: format!("'{c}'") },
                            start,
                            start + 1,
                        ));
                    }
                }
                '=' => {
                    if self.peek_at(start + 1) == Some('=') {
                        return Err(self.error(ErrorKind::DoubleEquals, start, start + 2));
                    }
                    self.pos += 1;
                    self.push(Tok::Op(CmpOp::Eq), start);
                }
                '!' => {
                    if self.peek_at(start + 1) == Some('=') {
                        self.pos += 2;
                        self.push(Tok::Op(CmpOp::Ne), start);
                    } else {
                        return Err(self.error(
                            ErrorKind::Expected { expected: "'!='", found: "'!'".into() },
                            start,
                            start + 1,
                        ));
                    }
                }
                '<' | '>' => {
                    let with_eq = self.peek_at(start + 1) == Some('=');
                    self.pos += if with_eq { 2 } else { 1 };
                    let op = match (c, with_eq) {
                        ('<', false) => CmpOp::Lt,
                        ('<', true) => CmpOp::Le,
                        ('>', false) => CmpOp::Gt,
                        _ => CmpOp::Ge,
                    };
                    self.push(Tok::Op(op), start);
                }
                '"' => {
                    let text = self.quoted()?;
                    self.push(Tok::Str(text), start);
                }
                '\'' => return Err(self.error(ErrorKind::SingleQuotes, start, start + 1)),
                '%' => {
                    let close = self.src[start + 1..self.end].find('%').map(|k| start + 1 + k);
                    match close {
                        Some(k) => {
                            self.pos = k + 1;
                            self.push(Tok::Regex(self.src[start + 1..k].to_string()), start);
                        }
                        None => return Err(self.error(ErrorKind::RegexNotClosed, start, self.end)),
                    }
                }
                '$' => {
                    let steps = self.selector()?;
                    self.push(Tok::Selector(steps), start);
                }
                c if is_word_char(c) => {
                    while let Some(c) = self.peek() {
                        if !is_word_char(c) {
                            break;
                        }
                        self.pos += c.len_utf8();
                    }
                    let w = self.src[start..self.pos].to_string();
                    self.push(Tok::Word(w), start);
                }
                other => {
                    return Err(self.error(
                        ErrorKind::InvalidTermCharacter { ch: other },
                        start,
                        start + other.len_utf8(),
                    ))
                }
            }
        }
        Ok(())
    }

    /// A double-quoted string starting at `self.pos`.
    fn quoted(&mut self) -> Result<String, PatternError> {
        let start = self.pos;
        let (text, next) = scan_quoted(self.src, start, self.end)
            .ok_or_else(|| self.error(ErrorKind::UnclosedQuote, start, start + 1))?;
        self.pos = next;
        Ok(text)
    }

    /// A selector starting at `$`.
    fn selector(&mut self) -> Result<Vec<Step>, PatternError> {
        let start = self.pos;
        self.pos += 1; // '$'
        let mut steps = Vec::new();
        loop {
            let at = self.pos;
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            steps.push(Step::Wildcard(WildcardStyle::Dot));
                        }
                        Some('[') => {
                            if self.peek_at(self.pos + 1) != Some('\'') {
                                return Err(self.error(
                                    ErrorKind::BadSelector {
                                        detail: "use .['key'] with single quotes for keys with dots",
                                    },
                                    at,
                                    self.pos + 2,
                                ));
                            }
                            let key_start = self.pos + 2;
                            let close = self.src[key_start..self.end].find("']").map(|k| key_start + k);
                            let Some(close) = close else {
                                return Err(self.error(
                                    ErrorKind::BadSelector { detail: "unclosed .['...']" },
                                    at,
                                    self.end,
                                ));
                            };
                            let key = &self.src[key_start..close];
                            if key.is_empty() {
                                return Err(self.error(ErrorKind::BadSelector { detail: "empty key" }, at, close + 2));
                            }
                            self.pos = close + 2;
                            steps.push(Step::QuotedKey(key.to_string()));
                        }
                        Some(c) if is_name_char(c) => {
                            let ns = self.pos;
                            while matches!(self.peek(), Some(c) if is_name_char(c)) {
                                self.pos += 1;
                            }
                            steps.push(Step::Key(self.src[ns..self.pos].to_string()));
                        }
                        _ => {
                            return Err(self.error(
                                ErrorKind::BadSelector { detail: "expected a field name, '*' or ['key'] after '.'" },
                                at,
                                self.pos + self.peek().map_or(0, char::len_utf8),
                            ))
                        }
                    }
                }
                Some('[') => {
                    if steps.is_empty() {
                        return Err(self.error(
                            ErrorKind::BadSelector { detail: "a selector starts with '$.' (the root is an object)" },
                            start,
                            self.pos + 1,
                        ));
                    }
                    self.pos += 1;
                    if self.peek() == Some('*') && self.peek_at(self.pos + 1) == Some(']') {
                        self.pos += 2;
                        steps.push(Step::Wildcard(WildcardStyle::Bracket));
                        continue;
                    }
                    let ds = self.pos;
                    while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                        self.pos += 1;
                    }
                    let digits = &self.src[ds..self.pos];
                    if digits.is_empty() || self.peek() != Some(']') {
                        return Err(self.error(
                            ErrorKind::BadSelector { detail: "an index is a non-negative integer or '*': [0], [*]" },
                            at,
                            self.pos + self.peek().map_or(0, char::len_utf8),
                        ));
                    }
                    let Ok(n) = digits.parse::<u32>() else {
                        return Err(self.error(ErrorKind::BadSelector { detail: "index too large" }, at, self.pos + 1));
                    };
                    self.pos += 1;
                    steps.push(Step::Index(n));
                }
                _ => break,
            }
        }
        if steps.is_empty() {
            return Err(self.error(
                ErrorKind::BadSelector { detail: "a selector needs at least one step, e.g. $.eventName" },
                start,
                self.pos + self.peek().map_or(0, char::len_utf8),
            ));
        }
        Ok(steps)
    }
}

/// Scan a double-quoted string whose opening quote is at `start`; returns the
/// decoded text and the index after the closing quote. `\"` and `\\` are
/// escapes; any other backslash is kept literally.
pub(crate) fn scan_quoted(src: &str, start: usize, end: usize) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut it = src[start + 1..end].char_indices();
    while let Some((k, c)) = it.next() {
        match c {
            '"' => return Some((text, start + 1 + k + 1)),
            '\\' => match src[start + 1 + k + 1..end].chars().next() {
                Some(n @ ('"' | '\\')) => {
                    text.push(n);
                    it.next();
                }
                _ => text.push('\\'),
            },
            c => text.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s, 0, s.len()).unwrap().into_iter().map(|t| t.tok).collect()
    }

    fn lex_err(s: &str) -> PatternError {
        tokenize(s, 0, s.len()).unwrap_err()
    }

    #[test]
    fn json_tokens() {
        assert_eq!(
            toks(r#"{($.errorCode="*UnauthorizedOperation")||($.a.b[0]!=x)}"#),
            vec![
                Tok::LBrace,
                Tok::LParen,
                Tok::Selector(vec![Step::Key("errorCode".into())]),
                Tok::Op(CmpOp::Eq),
                Tok::Str("*UnauthorizedOperation".into()),
                Tok::RParen,
                Tok::Or,
                Tok::LParen,
                Tok::Selector(vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(0)]),
                Tok::Op(CmpOp::Ne),
                Tok::Word("x".into()),
                Tok::RParen,
                Tok::RBrace,
            ]
        );
    }

    #[test]
    fn selectors() {
        assert_eq!(
            toks("$.['a.b'][*].c-d.*"),
            vec![Tok::Selector(vec![
                Step::QuotedKey("a.b".into()),
                Step::Wildcard(WildcardStyle::Bracket),
                Step::Key("c-d".into()),
                Step::Wildcard(WildcardStyle::Dot),
            ])]
        );
        for bad in ["$", "$ = 2", "$[1]", "$['a.b']", "$.[\"a.b\"]", "$.a[-1]", "$.a[", "$.['a"] {
            assert!(matches!(lex_err(bad).kind, ErrorKind::BadSelector { .. }), "{bad}");
        }
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("= != < > <= >= && ||"),
            vec![
                Tok::Op(CmpOp::Eq),
                Tok::Op(CmpOp::Ne),
                Tok::Op(CmpOp::Lt),
                Tok::Op(CmpOp::Gt),
                Tok::Op(CmpOp::Le),
                Tok::Op(CmpOp::Ge),
                Tok::And,
                Tok::Or
            ]
        );
        assert_eq!(lex_err("$.a == 1").kind, ErrorKind::DoubleEquals);
        assert!(matches!(lex_err("a & b").kind, ErrorKind::Expected { .. }));
        assert_eq!(lex_err("$.a = 'Root'").kind, ErrorKind::SingleQuotes);
    }

    #[test]
    fn strings_and_regexes() {
        assert_eq!(toks(r#""a \"b\" \\ \x""#), vec![Tok::Str(r#"a "b" \ \x"#.into())]);
        assert_eq!(toks("%a|b%"), vec![Tok::Regex("a|b".into())]);
        assert_eq!(lex_err("\"abc").kind, ErrorKind::UnclosedQuote);
        assert_eq!(lex_err("%abc").kind, ErrorKind::RegexNotClosed);
    }

    #[test]
    fn words() {
        assert_eq!(
            toks("1e-5 -2 *Denied us-east-1 ..."),
            vec![
                Tok::Word("1e-5".into()),
                Tok::Word("-2".into()),
                Tok::Word("*Denied".into()),
                Tok::Word("us-east-1".into()),
                Tok::Word("...".into()),
            ]
        );
        assert_eq!(lex_err("a:b").kind, ErrorKind::InvalidTermCharacter { ch: ':' });
    }
}
