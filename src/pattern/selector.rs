//! A selector on its own (`$.userIdentity.sessionContext.sessionIssuer.arn`),
//! as `--group-by` names a field to count matching records by.

use std::fmt;

use super::compile::{path, PathStep};
use super::eval::walk;
use super::parse::parse_selector;
use super::{ErrorKind, PatternError};
use crate::json::Value;

/// A JSON selector without wildcards, looked up in parsed records.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldSelector {
    text: String,
    steps: Vec<PathStep>,
}

impl FieldSelector {
    /// Parse `$.a.b[0]` or `$.['key.with.dots']`; a wildcard is refused (it
    /// names many values, and a record is counted once per field).
    pub fn parse(text: &str) -> Result<FieldSelector, PatternError> {
        let sel = parse_selector(text)?;
        if sel.wildcard().is_some() {
            let detail = "a wildcard names many values; name one field";
            return Err(PatternError::new(ErrorKind::BadSelector { detail }, sel.span, text));
        }
        let p = path(&sel);
        Ok(FieldSelector { text: text.trim().to_string(), steps: p.before })
    }

    /// The value it selects in `root`, if present.
    pub(crate) fn get<'a>(&self, root: Value<'a>) -> Option<Value<'a>> {
        walk(root, &self.steps)
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Doc;

    #[test]
    fn a_selector_finds_one_field_and_refuses_wildcards() {
        let text =
            r#"{"userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/r"}}},"a.b":[1,2]}"#;
        let mut d = Doc::new();
        d.parse_object(text).unwrap();
        let root = d.root(text).unwrap();
        let s = FieldSelector::parse("$.userIdentity.sessionContext.sessionIssuer.arn").unwrap();
        assert_eq!(s.get(root).and_then(|v| v.as_str()).as_deref(), Some("arn:aws:iam::1:role/r"));
        assert_eq!(s.to_string(), "$.userIdentity.sessionContext.sessionIssuer.arn");
        let s = FieldSelector::parse("$.['a.b'][1]").unwrap();
        assert_eq!(s.get(root).map(|v| v.raw()), Some("2"));
        assert!(FieldSelector::parse("$.nope").unwrap().get(root).is_none());
        let e = FieldSelector::parse("$.a[*]").unwrap_err();
        assert!(e.to_string().contains("wildcard"), "{e}");
        assert!(FieldSelector::parse("errorCode").is_err());
    }
}
