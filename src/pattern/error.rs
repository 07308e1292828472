//! Pattern errors: what AWS would refuse, where, and why.

use std::fmt;

/// A byte range into the pattern text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub(crate) start: usize,
    /// One past the last byte.
    pub(crate) end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The span covering both.
    pub(crate) fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Why a pattern was rejected. Each variant names the pattern that triggers
/// it; those patterns are also unit tests in `parse.rs`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Longer than 1024 characters.
    TooLong {
        /// Length in characters.
        len: usize,
    },
    /// `{ $.a = 1 } x`: a pattern starting with `{` must end with `}`.
    JsonNotClosed,
    /// `%abc`: a pattern starting with `%` must end with `%`.
    RegexNotClosed,
    /// `ERROR!`, `a/b`, `ERR*`: a character that unquoted terms cannot hold.
    InvalidTermCharacter {
        /// The character.
        ch: char,
    },
    /// `""`: an empty quoted term.
    EmptyPhrase,
    /// `"ERROR`, `{ $.a = "x }`: a quote that is never closed.
    UnclosedQuote,
    /// `"ERROR"WARN`: a quoted term glued to more text.
    TextAfterPhrase,
    /// `ERROR %WARN%`, `?%WARN%`: a regex must be the whole pattern (or a
    /// JSON / space-delimited value).
    RegexNotAlone,
    /// `-` or `?` with nothing after it.
    DanglingModifier,
    /// `%(ab)+%`, `%café%`, `%!%`: a character the CloudWatch regex dialect
    /// does not allow.
    RegexCharacter {
        /// The character.
        ch: char,
    },
    /// `%%`: an empty regex.
    RegexEmpty,
    /// `%\p%`, `%[z-a]%`, `%a++%`: "Failed to compile regular expression."
    RegexInvalid {
        /// What is wrong.
        detail: String,
    },
    /// `{ $.a = %1% || $.a = %2% || $.a = %3% }`: more than 2 regexes.
    TooManyRegexes,
    /// `{ }`: a JSON pattern with no condition.
    EmptyJson,
    /// Something else was expected here.
    Expected {
        /// What the parser wanted.
        expected: &'static str,
        /// What it found (a short description).
        found: String,
    },
    /// `{ $[1] = 2 }`, `{ $ = 2 }`, `{ $.[\"a\"] = 1 }`, `{ $.a[-1] = 2 }`.
    BadSelector {
        /// What is wrong with it.
        detail: &'static str,
    },
    /// `{ $.a[*].* = 2 }`: more than one wildcard in one selector.
    TooManyWildcardsInSelector,
    /// More than 3 selectors with a wildcard in one pattern.
    TooManyWildcardSelectors,
    /// `{ $.a == 1 }`.
    DoubleEquals,
    /// `{ $.a = 1 AND $.b = 2 }`: words are not operators.
    WordOperator {
        /// The word used.
        word: String,
    },
    /// `{ $.a IS NOT NULL }`.
    IsNotNull,
    /// `{ $.a EXISTS }`.
    BareExists,
    /// `{ $.a = null }`.
    NullValue,
    /// `{ $.a > "0" }`, `{ $.a > abc }`, `[a>"1", b]`: ordering needs a number.
    OrderingNeedsNumber,
    /// `{ $.a = 1e2147483648 }`.
    NumberOutOfRange,
    /// `{ $.a = -foo }`: not a number and not a plain word.
    BadValue,
    /// `{ $.a = 'Root' }`: single quotes are not string delimiters.
    SingleQuotes,
    /// Parentheses nested more deeply than the parser allows.
    NestingTooDeep,
    /// `{ $.a = 1 } || { $.b = 2 }`: text after the closing `}` / `]`.
    TrailingText,
    /// `[a, a]`.
    DuplicateField {
        /// The repeated name.
        name: String,
    },
    /// `[a, ..., b, ...]`.
    DuplicateEllipsis,
    /// `[a=ERROR || b=one, b]`: one entry tests one field.
    MultipleVariables {
        /// The entry's first variable.
        first: String,
        /// The other variable.
        second: String,
    },
    /// `[1a]`: field names start with a letter or `_`.
    BadFieldName {
        /// The name as written.
        name: String,
    },
    /// A metric value or dimension that is not a number or a field reference.
    BadMetricValue {
        /// What is wrong.
        detail: String,
    },
}

impl ErrorKind {
    /// The message CloudWatch Logs' API gives for the same mistake (as
    /// observed with TestMetricFilter), for users comparing with AWS.
    pub(crate) fn aws_message(&self) -> String {
        match self {
            ErrorKind::TooLong { .. } => "Member must have length less than or equal to 1024".into(),
            ErrorKind::JsonNotClosed => "If a filter pattern starts with '{' it must end with '}'".into(),
            ErrorKind::RegexNotClosed => "If a filter pattern starts with '%' it must end with '%'".into(),
            ErrorKind::InvalidTermCharacter { ch } | ErrorKind::RegexCharacter { ch } => {
                format!("Invalid character(s) in term '{ch}'")
            }
            ErrorKind::RegexInvalid { .. } => "Failed to compile regular expression.".into(),
            ErrorKind::TooManyRegexes => {
                "Your input has exceeded the maximum of 2 regular expressions per filter pattern.".into()
            }
            ErrorKind::TooManyWildcardsInSelector => "Your filter pattern has a JSON path selector that exceeds the maximum of 1 wildcard allowed per json selector.".into(),
            ErrorKind::DuplicateField { name } => format!("Duplicate field '{name}'"),
            ErrorKind::DuplicateEllipsis => "Duplicate field '...'".into(),
            ErrorKind::MultipleVariables { first, second } => {
                format!("Multiple variables used in a single filter. Var1 : {first}, Var2 : {second}")
            }
            ErrorKind::BadMetricValue { detail } => format!("Invalid metric transformation: {detail}"),
            _ => "Invalid metric filter pattern".into(),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::TooLong { len } => write!(f, "pattern is {len} characters long; CloudWatch allows at most 1024"),
            ErrorKind::JsonNotClosed => write!(f, "a pattern that starts with '{{' must end with '}}'"),
            ErrorKind::RegexNotClosed => write!(f, "a pattern that starts with '%' must end with '%'"),
            ErrorKind::InvalidTermCharacter { ch } => write!(
                f,
                "'{}' cannot appear in an unquoted term; put the term in double quotes",
                ch.escape_debug()
            ),
            ErrorKind::EmptyPhrase => write!(f, "empty quoted term"),
            ErrorKind::UnclosedQuote => write!(f, "this quote is never closed"),
            ErrorKind::TextAfterPhrase => write!(f, "a quoted term must be followed by a blank"),
            ErrorKind::RegexNotAlone => write!(
                f,
                "a regex in an unstructured pattern must be the whole pattern (use it as a JSON or space-delimited value to combine it)"
            ),
            ErrorKind::DanglingModifier => write!(f, "'-' or '?' must be followed by a term"),
            ErrorKind::RegexCharacter { ch } => write!(
                f,
                "'{}' is not allowed in a CloudWatch regex (no groups, no non-ASCII characters)",
                ch.escape_debug()
            ),
            ErrorKind::RegexEmpty => write!(f, "empty regex"),
            ErrorKind::RegexInvalid { detail } => write!(f, "invalid regex: {detail}"),
            ErrorKind::TooManyRegexes => write!(f, "a pattern may hold at most 2 regular expressions"),
            ErrorKind::EmptyJson => write!(f, "a JSON pattern needs at least one condition"),
            ErrorKind::Expected { expected, found } => write!(f, "expected {expected}, found {found}"),
            ErrorKind::BadSelector { detail } => write!(f, "invalid selector: {detail}"),
            ErrorKind::TooManyWildcardsInSelector => write!(f, "a selector may hold at most one wildcard"),
            ErrorKind::TooManyWildcardSelectors => {
                write!(f, "a pattern may hold at most 3 selectors with wildcards")
            }
            ErrorKind::DoubleEquals => write!(f, "'==' is not an operator; use '='"),
            ErrorKind::WordOperator { word } => {
                write!(f, "'{word}' is not an operator; use '&&' or '||'")
            }
            ErrorKind::IsNotNull => write!(
                f,
                "'IS NOT NULL' is not supported; use '= *' (any string or number) or 'NOT EXISTS'"
            ),
            ErrorKind::BareExists => write!(f, "'EXISTS' is not supported; only 'NOT EXISTS' is"),
            ErrorKind::NullValue => write!(f, "'= null' is not supported; use 'IS NULL'"),
            ErrorKind::OrderingNeedsNumber => {
                write!(f, "'<', '>', '<=' and '>=' need an unquoted number")
            }
            ErrorKind::NumberOutOfRange => write!(f, "number exponent out of range"),
            ErrorKind::BadValue => write!(f, "not a valid value; quote it"),
            ErrorKind::SingleQuotes => write!(f, "values are quoted with double quotes, not single quotes"),
            ErrorKind::NestingTooDeep => write!(f, "parentheses nested too deeply"),
            ErrorKind::TrailingText => write!(f, "unexpected text after the end of the pattern"),
            ErrorKind::DuplicateField { name } => write!(f, "field '{name}' is named twice"),
            ErrorKind::DuplicateEllipsis => write!(f, "'...' may appear only once"),
            ErrorKind::MultipleVariables { first, second } => write!(
                f,
                "one entry may test only its own field; '{second}' is not '{first}'"
            ),
            ErrorKind::BadFieldName { name } => write!(
                f,
                "'{name}' is not a field name (letters, digits and '_', not starting with a digit)"
            ),
            ErrorKind::BadMetricValue { detail } => write!(f, "{detail}"),
        }
    }
}

/// A rejected pattern: the reason, where it is, and the pattern itself so
/// the error can be shown with a caret under the offending text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// Why.
    pub kind: ErrorKind,
    /// Where, as a byte range into [`PatternError::pattern`].
    pub(crate) span: Span,
    /// The whole pattern text.
    pub(crate) pattern: String,
}

impl PatternError {
    pub(crate) fn new(kind: ErrorKind, span: Span, pattern: &str) -> PatternError {
        PatternError { kind, span, pattern: pattern.to_string() }
    }

    /// 1-based column (in characters) where the problem starts.
    pub fn column(&self) -> usize {
        let start = floor_char_boundary(&self.pattern, self.span.start);
        self.pattern[..start].chars().count() + 1
    }

    /// The pattern on one line with a caret line under the offending text.
    /// Control characters are shown as `�` so that a hostile pattern cannot
    /// drive the terminal, and so the caret still lines up.
    pub(crate) fn caret(&self) -> String {
        let shown: String = self.pattern.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect();
        let start = floor_char_boundary(&self.pattern, self.span.start);
        let end = floor_char_boundary(&self.pattern, self.span.end.max(self.span.start));
        let pad = self.pattern[..start].chars().count();
        let width = self.pattern[start..end].chars().count().max(1);
        format!("  {shown}\n  {}{}", " ".repeat(pad), "^".repeat(width))
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid filter pattern at column {}: {}", self.column(), self.kind)?;
        writeln!(f, "{}", self.caret())?;
        write!(f, "  (CloudWatch: \"{}\")", self.kind.aws_message())
    }
}

impl std::error::Error for PatternError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_span() {
        let e = PatternError::new(ErrorKind::InvalidTermCharacter { ch: '!' }, Span::new(5, 6), "ERROR!");
        assert_eq!(e.column(), 6);
        assert_eq!(e.caret(), "  ERROR!\n       ^");
        let shown = e.to_string();
        assert!(shown.contains("column 6"), "{shown}");
        assert!(shown.contains("Invalid character(s) in term '!'"), "{shown}");
    }

    #[test]
    fn caret_counts_characters_not_bytes() {
        let e = PatternError::new(ErrorKind::RegexCharacter { ch: 'é' }, Span::new(4, 6), "%caf\u{e9}%");
        assert_eq!(e.column(), 5);
        assert_eq!(e.caret(), "  %café%\n      ^");
    }

    #[test]
    fn control_characters_are_neutralised() {
        let e = PatternError::new(ErrorKind::BadValue, Span::new(2, 3), "a\u{1b}[31mb");
        assert!(!e.caret().contains('\u{1b}'));
    }
}
