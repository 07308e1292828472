//! Numbers as the filter-pattern language sees them.
//!
//! Observed CloudWatch behaviour (TestMetricFilter recordings, see the README's
//! fidelity notes) that this module reproduces:
//! * a numeric literal in a pattern is an exact decimal (`1e-999` is not 0);
//! * a JSON integer is exact (`9007199254740992` ≠ `9007199254740993`);
//! * any other JSON number is a double, taken at its shortest decimal form
//!   (so JSON `1e-999` is 0 and JSON `1e308` equals the literal `1e308`);
//!   a number outside the double range (`1e309`) never satisfies a numeric
//!   comparison;
//! * when a number is compared with *text* (a quoted value, a glob, a regex),
//!   its canonical text is used: integers as written, other numbers the way
//!   Java's `Double.toString` prints them (`1.0`, `1000.0`, `1.0E7`).

use std::borrow::Cow;
use std::cmp::Ordering;

/// A JSON number, kept as its (validated) source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonNumber<'a> {
    text: &'a str,
}

impl<'a> JsonNumber<'a> {
    /// Wrap number text. The text should follow JSON (or filter-pattern
    /// literal) number syntax; anything else behaves as a non-finite number.
    pub(crate) fn new(text: &'a str) -> JsonNumber<'a> {
        JsonNumber { text }
    }

    /// True when the text has no fraction and no exponent.
    pub(crate) fn is_integer_syntax(&self) -> bool {
        !self.text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
    }

    /// The value as a 64-bit integer, when the text is an integer that fits.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        if self.is_integer_syntax() {
            self.text.strip_prefix('+').unwrap_or(self.text).parse().ok()
        } else {
            None
        }
    }

    /// The value as a double (`inf` when out of range, NaN when unparsable).
    pub(crate) fn as_f64(&self) -> f64 {
        self.text.strip_prefix('+').unwrap_or(self.text).parse().unwrap_or(f64::NAN)
    }

    /// The finite double value, or `None` when out of range.
    pub(crate) fn finite(&self) -> Option<f64> {
        let v = self.as_f64();
        v.is_finite().then_some(v)
    }

    /// The exact decimal value CloudWatch compares: integers exactly, other
    /// numbers through a double. `None` when out of double range.
    pub(crate) fn decimal(&self) -> Option<Decimal> {
        if self.is_integer_syntax() {
            Decimal::parse(self.text)
        } else {
            Decimal::from_f64(self.finite()?)
        }
    }

    /// Compare with a pattern literal, `None` when this number is out of
    /// double range (it then satisfies no numeric comparison).
    #[inline]
    pub(crate) fn compare_literal(&self, lit: &Decimal, lit_int: Option<i64>) -> Option<Ordering> {
        if let (Some(a), Some(b)) = (self.as_i64(), lit_int) {
            return Some(a.cmp(&b));
        }
        Some(self.decimal()?.cmp(lit))
    }

    /// The canonical text used when a number meets a text comparison.
    pub(crate) fn canonical_text(&self) -> Cow<'a, str> {
        if let Some(i) = self.as_i64() {
            if i.to_string() == self.text {
                Cow::Borrowed(self.text)
            } else {
                Cow::Owned(i.to_string())
            }
        } else if self.is_integer_syntax() && !self.text.is_empty() {
            // An integer beyond 64 bits keeps its digits (arbitrary precision).
            Cow::Borrowed(self.text)
        } else {
            Cow::Owned(java_double_to_string(self.as_f64()))
        }
    }
}

/// An exact decimal number: `0.d1 d2 ... dn × 10^exp`, normalised so that
/// equal values have equal representations (zero has no digits and no sign).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exp: i64,
}

impl Decimal {
    /// Parse number text (`[+-]digits[.digits][e[+-]digits]`) exactly.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mant, exp) = match rest.find(['e', 'E']) {
            Some(k) => (&rest[..k], rest[k + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let mut point = int.len() as i64 + exp;
        let lead = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..lead);
        point -= lead as i64;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Some(Decimal { negative: false, digits, exp: 0 });
        }
        Some(Decimal { negative, digits, exp: point })
    }

    /// The shortest decimal that reads back as `d` (what Java's
    /// `BigDecimal.valueOf(double)` gives).
    pub(crate) fn from_f64(d: f64) -> Option<Decimal> {
        if !d.is_finite() {
            return None;
        }
        Decimal::parse(&format!("{d:e}"))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        let sign = |d: &Decimal| {
            if d.digits.is_empty() {
                0
            } else if d.negative {
                -1
            } else {
                1
            }
        };
        let (a, b) = (sign(self), sign(other));
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let magnitude = self.exp.cmp(&other.exp).then_with(|| self.digits.cmp(&other.digits));
        if a < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Format a double the way Java's `Double.toString` does (shortest
/// round-trip digits; plain notation for 1e-3 <= |d| < 1e7, otherwise
/// `d.dddE±n`).
pub(crate) fn java_double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` prints the shortest round-trip digits, e.g. "1.234e-5".
    let sci = format!("{:e}", d.abs());
    let (mant, exp) = sci.split_once('e').expect("LowerExp has an exponent");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if d < 0.0 {
        out.push('-');
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_formatting() {
        let cases = [
            (1.0, "1.0"),
            (1000.0, "1000.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (123456789.0, "1.23456789E8"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e308, "1.0E308"),
            (f64::INFINITY, "Infinity"),
            (0.1, "0.1"),
            (12.345, "12.345"),
        ];
        for (d, want) in cases {
            assert_eq!(java_double_to_string(d), want, "{d}");
        }
    }

    #[test]
    fn canonical_text() {
        let c = |t| JsonNumber::new(t).canonical_text().into_owned();
        assert_eq!(c("1"), "1");
        assert_eq!(c("-0"), "0");
        assert_eq!(c("1.0"), "1.0");
        assert_eq!(c("1e0"), "1.0");
        assert_eq!(c("1e3"), "1000.0");
        assert_eq!(c("1e309"), "Infinity");
        assert_eq!(c("1e-999"), "0.0");
        assert_eq!(c("9007199254740993"), "9007199254740993");
        assert_eq!(c("123456789012345678901234567890"), "123456789012345678901234567890");
    }

    fn cmp(json: &str, lit: &str) -> Option<Ordering> {
        let l = Decimal::parse(lit).unwrap();
        JsonNumber::new(json).compare_literal(&l, JsonNumber::new(lit).as_i64())
    }

    #[test]
    fn comparison_follows_the_observed_rules() {
        assert_eq!(cmp("9007199254740993", "9007199254740992"), Some(Ordering::Greater));
        assert_eq!(cmp("9007199254740993", "9007199254740993"), Some(Ordering::Equal));
        assert_eq!(cmp("1.0", "1"), Some(Ordering::Equal));
        assert_eq!(cmp("1e0", "1.0"), Some(Ordering::Equal));
        assert_eq!(cmp("1", "+1"), Some(Ordering::Equal));
        assert_eq!(cmp("0", "-0.0"), Some(Ordering::Equal));
        assert_eq!(cmp("-0.0", "0"), Some(Ordering::Equal));
        // JSON 1e-999 is the double 0; the literal 1e-999 is not zero.
        assert_eq!(cmp("1e-999", "0"), Some(Ordering::Equal));
        assert_eq!(cmp("1e-999", "1e-999"), Some(Ordering::Less));
        assert_eq!(cmp("1", "1e-999"), Some(Ordering::Greater));
        assert_eq!(cmp("1e308", "1e308"), Some(Ordering::Equal));
        assert_eq!(cmp("1e308", "1e307"), Some(Ordering::Greater));
        assert_eq!(cmp("1e309", "1e309"), None);
        assert_eq!(cmp("-5", "-4.5"), Some(Ordering::Less));
        assert_eq!(cmp("123456789012345678901234567890", "123456789012345678901234567891"), Some(Ordering::Less));
        assert_eq!(cmp("0.1", "0.1"), Some(Ordering::Equal));
    }

    #[test]
    fn decimals_normalise() {
        let d = |s| Decimal::parse(s).unwrap();
        assert_eq!(d("1.000"), d("1"));
        assert_eq!(d("100"), d("1e2"));
        assert_eq!(d("0.00"), d("-0"));
        assert!(d("-2") < d("-1"));
        assert!(d("0.5") < d("5e-0"));
        assert!(Decimal::parse("1e99999999999999999999").is_none());
    }
}
