//! The CloudWatch Logs filter-pattern language, as AWS evaluates it.
//!
//! A pattern goes through four separate pieces:
//!
//! 1. `lex`: JSON and space-delimited pattern text → tokens with spans;
//! 2. [`parse`]: text → [`Ast`] (plain data with spans), rejecting every form
//!    AWS rejects with a [`PatternError`] that points at the offending text;
//! 3. `compile`: [`Ast`] → a matcher with selectors pre-split, globs lowered
//!    to prefix/suffix/contains tests and regexes compiled;
//! 4. `eval`: matcher × [`Event`] → match, never looking at the pattern text
//!    again.
//!
//! [`FilterPattern`] ties them together. [`explain`] prints how a pattern was
//! understood and lints it.
//!
//! ```
//! use trailwatch::pattern::{FilterPattern, EventBuf};
//!
//! let p = FilterPattern::parse(r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#).unwrap();
//! let mut buf = EventBuf::new();
//! assert!(p.matches(&buf.event(r#"{"errorCode":"Client.UnauthorizedOperation"}"#)));
//! assert!(!p.matches(&buf.event(r#"{"errorCode":"VpceAccessDenied"}"#)));
//! ```

pub(crate) mod ast;
mod compile;
mod error;
mod eval;
pub mod explain;
pub(crate) mod lex;
pub mod parse;
mod regex;
pub(crate) mod required;
mod selector;

use std::fmt;

pub use ast::Ast;
pub use error::{ErrorKind, PatternError, Span};
pub use eval::{Event, Extracted};
pub use selector::FieldSelector;

pub(crate) use compile::TextMatch;
pub(crate) use compile::{path, Path, PathStep};
pub(crate) use eval::walk;

use crate::json::Doc;

/// What sub-language a pattern is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternKind {
    /// Empty pattern: every event matches.
    MatchAll,
    /// Unstructured terms.
    Terms,
    /// A standalone `%regex%`.
    Regex,
    /// `{ JSON conditions }`.
    Json,
    /// `[space, delimited, fields]`.
    Delimited,
}

impl PatternKind {
    /// A human name.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            PatternKind::MatchAll => "empty pattern (matches every event)",
            PatternKind::Terms => "unstructured term pattern",
            PatternKind::Regex => "regex pattern",
            PatternKind::Json => "JSON pattern",
            PatternKind::Delimited => "space-delimited pattern",
        }
    }
}

/// A parsed and compiled filter pattern.
pub struct FilterPattern {
    source: String,
    ast: Ast,
    matcher: compile::Matcher,
}

impl fmt::Debug for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilterPattern({:?})", self.source)
    }
}

impl FilterPattern {
    /// Parse and compile `source`, rejecting what CloudWatch rejects.
    pub fn parse(source: &str) -> Result<FilterPattern, PatternError> {
        let ast = parse::parse(source)?;
        let matcher = compile::compile(&ast, source)?;
        Ok(FilterPattern { source: source.to_string(), ast, matcher })
    }

    /// The pattern as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parsed tree.
    pub fn ast(&self) -> &Ast {
        &self.ast
    }

    /// Which sub-language the pattern uses.
    pub fn kind(&self) -> PatternKind {
        match self.ast {
            Ast::MatchAll => PatternKind::MatchAll,
            Ast::Terms(_) => PatternKind::Terms,
            Ast::Regex(_) => PatternKind::Regex,
            Ast::Json(_) => PatternKind::Json,
            Ast::Delimited(_) => PatternKind::Delimited,
        }
    }

    /// Does the event match?
    #[inline]
    pub fn matches(&self, ev: &Event<'_>) -> bool {
        self.matcher.matches(ev)
    }

    /// The requirements to choose from, most selective first (see
    /// [`required::alternatives`]).
    pub(crate) fn requirement_alternatives(&self) -> Vec<required::Requirement> {
        required::alternatives(&self.ast)
    }

    /// Match and return the extracted values (`$name`/`$N` for space-delimited
    /// patterns, empty for the others), as TestMetricFilter reports them.
    pub fn extract<'a>(&self, ev: &Event<'a>) -> Option<Extracted<'a>> {
        self.matcher.extract(ev)
    }
}

/// A reusable buffer that turns message text into an [`Event`], parsing it
/// as JSON when it is a JSON object.
#[derive(Default)]
pub struct EventBuf {
    doc: Doc,
}

impl EventBuf {
    /// A new, empty buffer.
    pub fn new() -> EventBuf {
        EventBuf::default()
    }

    /// View `text` as an event (parsing it as JSON; a message that is not one
    /// JSON object simply has no JSON form).
    pub fn event<'a>(&'a mut self, text: &'a str) -> Event<'a> {
        let json = match self.doc.parse_object(text) {
            Ok(()) => self.doc.root(text),
            Err(_) => None,
        };
        Event { text, json }
    }
}
