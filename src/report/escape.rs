//! Neutralising attacker-controlled text for each output medium.
//!
//! CloudTrail fields (user agents, error messages, request parameters) are
//! written by whoever made the API call. Before they reach a terminal, a
//! spreadsheet or a browser they are escaped here.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Escape control characters (C0, DEL, C1), and Unicode bidirectional
/// controls and the Unicode line and paragraph separators, so that a log field cannot move the cursor, change colours,
/// rewrite the terminal title or reorder the text an analyst reads.
/// Printable text, including non-ASCII letters, is left alone.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_terminal_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_terminal_escape(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x100 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_terminal_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}'
            // Line and paragraph separators: a new line on some terminals.
            | '\u{2028}' | '\u{2029}'
        )
}

/// One CSV cell: quoted when needed (RFC 4180), and guarded against formula
/// injection: a cell that a spreadsheet would evaluate (starting with `=`,
/// `+`, `-`, `@`, tab or carriage return) gets a leading `'`.
pub(crate) fn csv_cell(s: &str) -> Cow<'_, str> {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    // A plain number is not a formula even when it starts with '-' or '+'.
    let number = crate::pattern::parse::is_number(s);
    let guarded: Cow<'_, str> = if formula && !number { Cow::Owned(format!("'{s}")) } else { Cow::Borrowed(s) };
    if guarded.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", guarded.replace('"', "\"\"")))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes() {
        assert_eq!(terminal("plain café"), "plain café");
        assert_eq!(terminal("a\u{1b}[2Jb"), "a\\x1b[2Jb");
        assert_eq!(terminal("x\ny\tz"), "x\\ny\\tz");
        assert_eq!(terminal("\u{9b}31m"), "\\x9b31m");
        assert_eq!(terminal("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(terminal("\u{7f}"), "\\x7f");
    }

    #[test]
    fn csv_guards() {
        assert_eq!(csv_cell("AccessDenied"), "AccessDenied");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-1.5"), "-1.5");
        assert_eq!(csv_cell("-cmd"), "'-cmd");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
    }
}
