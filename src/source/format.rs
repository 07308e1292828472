//! Recognising what an input holds from its first bytes, not its name.
//!
//! Compression and archives are recognised from the raw bytes ([`sniff`]);
//! the layout of the events from the first decoded bytes ([`detect`]):
//!
//! | content starts with | form |
//! |---|---|
//! | `{"Records":[` | CloudTrail log file |
//! | `{"Events":[` (or `{"NextToken"`) | `aws cloudtrail lookup-events` output |
//! | `{` + a CloudTrail key, object ends on its line | JSON Lines of records |
//! | `{` + a CloudTrail key, object spans lines | concatenated (pretty-printed) records |
//! | `[{` | JSON array of records |
//! | `2023-07-10T11:50:00.000Z {` | CloudWatch Logs export (`<timestamp> <message>` lines) |
//! | `ustar` at byte 257 | tar archive (possibly inside gzip) |
//! | `PK\x03\x04` | zip archive |
//!
//! Anything else is not an event log. A leading UTF-8 byte-order mark and
//! blanks are ignored.

use crate::record::blocks::{find_object_end, Engine, ScanState};

/// How the raw bytes are packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packing {
    /// gzip (one or more members); what is inside is decided after decoding.
    Gzip,
    /// A zip archive.
    Zip,
    /// A tar archive.
    Tar,
    /// Anything else: the bytes are the content.
    Plain,
}

/// Classify raw bytes (at least the first 262 when the input is that long).
pub fn sniff(head: &[u8]) -> Packing {
    if head.starts_with(&[0x1f, 0x8b]) {
        Packing::Gzip
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Packing::Zip
    } else if is_tar(head) {
        Packing::Tar
    } else {
        Packing::Plain
    }
}

/// Whether `head` starts with a POSIX (ustar) or GNU tar header.
pub(crate) fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// The layout of the events in decoded content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// `{"Records":[...]}`: a CloudTrail log file.
    #[serde(rename = "cloudtrail")]
    CloudTrail,
    /// `{"Events":[{..."CloudTrailEvent":"<record as a JSON string>"}]}`.
    LookupEvents,
    /// One record per line.
    JsonLines,
    /// Records one after another, spanning lines.
    JsonObjects,
    /// `[{...},{...}]`.
    JsonArray,
    /// `<ISO timestamp> <record>` per line, from a CloudWatch Logs export.
    CloudWatchExport,
    /// Not an event log.
    Unknown,
}

impl Form {
    /// The stable name used in reports.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Form::CloudTrail => "cloudtrail",
            Form::LookupEvents => "lookup_events",
            Form::JsonLines => "json_lines",
            Form::JsonObjects => "json_objects",
            Form::JsonArray => "json_array",
            Form::CloudWatchExport => "cloudwatch_export",
            Form::Unknown => "unknown",
        }
    }

    /// Every form that holds events, in report order.
    pub(crate) const EVENTS: [Form; 6] = [
        Form::CloudTrail,
        Form::LookupEvents,
        Form::JsonLines,
        Form::JsonObjects,
        Form::JsonArray,
        Form::CloudWatchExport,
    ];
}

/// Keys every CloudTrail record carries; an object none of whose top-level
/// keys (in view) is one of them is not taken for a record.
const RECORD_KEYS: [&[u8]; 5] = [b"eventVersion", b"eventTime", b"eventSource", b"eventName", b"eventID"];

/// Whether the object `obj` starts with has a CloudTrail record key among
/// its top-level keys in view. A key nested deeper does not count: a damaged
/// document whose records sit under another key is not one record.
fn is_record_object(obj: &[u8]) -> bool {
    let mut found = false;
    top_level_keys(obj, &mut |k| found |= RECORD_KEYS.contains(&k));
    found
}

/// How many decoded bytes [`detect`] wants to see before it decides (less
/// is fine at the end of the input).
pub const DETECT_BYTES: usize = 64 << 10;

/// Decide the form of decoded content from its first bytes (`head`, at
/// most [`DETECT_BYTES`] are looked at).
pub fn detect(head: &[u8]) -> Form {
    let head = &head[..head.len().min(DETECT_BYTES)];
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let start = head.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    let Some(start) = start else { return Form::Unknown };
    let body = &head[start..];
    let form = match body[0] {
        b'{' => detect_object(body),
        b'[' => match body[1..].iter().find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
            Some(b'{') | Some(b']') => Form::JsonArray,
            _ => Form::Unknown,
        },
        b'0'..=b'9' if cloudwatch_export_line(body) => Form::CloudWatchExport,
        _ => Form::Unknown,
    };
    // JSON Lines whose first line is damaged, or a chunk of them cut at
    // any byte (`split -b`): the lines after it are records.
    if form == Form::Unknown && has_record_line(body) {
        return Form::JsonLines;
    }
    form
}

/// The UTF-8 byte-order mark, which some tools write before JSON.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How many bytes of byte-order mark `content` starts with (0 or 3).
pub(crate) fn bom_len(content: &[u8]) -> usize {
    if content.starts_with(BOM) {
        BOM.len()
    } else {
        0
    }
}

fn detect_object(body: &[u8]) -> Form {
    match first_key(body) {
        Some(b"Records") => return Form::CloudTrail,
        Some(b"Events") | Some(b"NextToken") => return Form::LookupEvents,
        _ => {}
    }
    // One pass over the first object's top-level keys. `Records` need not
    // come first: JSON objects have no key order.
    let (mut records, mut events, mut record_key) = (false, false, false);
    let complete = top_level_keys(body, &mut |key| {
        records |= key == b"Records";
        events |= key == b"Events";
        record_key |= RECORD_KEYS.contains(&key);
    });
    if records {
        return Form::CloudTrail;
    }
    if events && complete {
        return Form::LookupEvents;
    }
    if !record_key {
        return Form::Unknown;
    }
    let mut state = ScanState::in_object();
    let end = find_object_end(Engine::detect(), body, 1, &mut state);
    match end {
        Some(end) if memchr::memchr(b'\n', &body[..end]).is_none() => Form::JsonLines,
        // A first object that runs over lines is pretty-printed, unless the
        // lines after it are records each on its line (the first is then a
        // damaged line).
        _ if has_record_line(body) => Form::JsonLines,
        _ => Form::JsonObjects,
    }
}

/// The first key of the object `body` starts with, if it is in view.
fn first_key(body: &[u8]) -> Option<&[u8]> {
    let i = body[1..].iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))?;
    let rest = body[1 + i..].strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    Some(&rest[..end])
}

/// Call `key` with each key of the top-level object `body` starts with, as
/// far as `body` goes (escaped keys are passed raw). Returns whether the
/// object's end was seen.
fn top_level_keys(body: &[u8], key: &mut dyn FnMut(&[u8])) -> bool {
    let mut depth = 0u32;
    let mut i = 0;
    // At depth 1, whether the next string is a key.
    let mut want_key = false;
    while i < body.len() {
        match body[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < body.len() && body[j] != b'"' {
                    j += if body[j] == b'\\' { 2 } else { 1 };
                }
                if j >= body.len() {
                    return false;
                }
                if depth == 1 && want_key {
                    key(&body[start..j]);
                    want_key = false;
                }
                i = j;
            }
            b'{' | b'[' => {
                depth += 1;
                want_key = depth == 1 && body[i] == b'{';
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return true;
                }
            }
            b',' if depth == 1 => want_key = true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Whether some line of `body` after the first is a whole JSON object
/// holding a CloudTrail record key: JSON Lines, seen past a first line that
/// is damaged or cut.
fn has_record_line(body: &[u8]) -> bool {
    let mut lines = body.split(|&b| b == b'\n');
    lines.next();
    // The last piece may be cut by the end of the view.
    let mut lines = lines.peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_none() && body.last() != Some(&b'\n') {
            break;
        }
        let line = line.trim_ascii();
        if line.first() == Some(&b'{') && line.last() == Some(&b'}') && is_record_object(line) {
            return true;
        }
    }
    false
}

/// What content that fits no event form seems to be, for the report: the
/// AWS outputs and files a bucket or a working folder also holds, or the
/// first bytes.
pub(crate) fn foreign_reason(head: &[u8]) -> String {
    let head = &head[..head.len().min(DETECT_BYTES)];
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let body = head.trim_ascii_start();
    if body.first() == Some(&b'{') {
        let mut keys = Vec::new();
        top_level_keys(body, &mut |k| keys.push(k.to_vec()));
        let has = |k: &[u8]| keys.iter().any(|x| x == k);
        if has(b"metricFilters") {
            return "`aws logs describe-metric-filters` output, not a log: pass it with --aws-config".into();
        }
        if has(b"MetricAlarms") || has(b"CompositeAlarms") {
            return "`aws cloudwatch describe-alarms` output, not a log: pass it with --aws-config".into();
        }
        if has(b"digestStartTime") || has(b"logFiles") {
            return "a CloudTrail digest file (no events)".into();
        }
        if has(b"configurationItems") || has(b"configSnapshotId") || has(b"fileVersion") {
            return "an AWS Config snapshot or history file (no CloudTrail events)".into();
        }
    }
    if body.is_empty() {
        return "no content but blanks".into();
    }
    let shown: String = String::from_utf8_lossy(&body[..body.len().min(24)]).chars().collect();
    format!("content fits no event form (starts with {shown:?})")
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z {`: the start of a CloudWatch Logs export
/// line holding a JSON event.
fn cloudwatch_export_line(body: &[u8]) -> bool {
    let line = &body[..memchr::memchr(b'\n', body).unwrap_or(body.len())];
    match split_export_line(line) {
        Some((_, message)) => message.first() == Some(&b'{'),
        None => false,
    }
}

/// Split a CloudWatch Logs export line into its timestamp text and its
/// message (the part after the first space).
pub fn split_export_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = memchr::memchr(b' ', line)?;
    let (stamp, message) = (&line[..space], &line[space + 1..]);
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if stamp.len() < shape.len() + 1 || stamp.last() != Some(&b'Z') {
        return None;
    }
    let ok = shape.iter().zip(stamp).all(|(s, b)| if *s == b'd' { b.is_ascii_digit() } else { s == b });
    ok.then_some((stamp, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_from_magic_bytes() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Packing::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest"), Packing::Zip);
        assert_eq!(sniff(b"PK\x05\x06"), Packing::Zip, "an empty zip");
        let mut tar = vec![0u8; 512];
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(sniff(&tar), Packing::Tar);
        assert_eq!(sniff(b"{\"Records\":[]}"), Packing::Plain);
        assert_eq!(sniff(b""), Packing::Plain);
    }

    #[test]
    fn forms_from_content() {
        assert_eq!(detect(b"{\"Records\":[{}]}"), Form::CloudTrail);
        assert_eq!(detect(b"\xEF\xBB\xBF \n{ \"Records\" : []}"), Form::CloudTrail);
        assert_eq!(detect(b"{\"Events\": [{\"EventId\": \"x\"}]}"), Form::LookupEvents);
        assert_eq!(detect(b"{\n    \"Events\": []\n}"), Form::LookupEvents);
        assert_eq!(detect(b"{\"NextToken\":\"t\",\"Events\":[]}"), Form::LookupEvents);
        let line = b"{\"eventVersion\":\"1.08\",\"eventTime\":\"2023-07-10T11:50:00Z\"}\n{\"eventTime\":\"x\"}\n";
        assert_eq!(detect(line), Form::JsonLines);
        let pretty = b"{\n  \"eventVersion\": \"1.08\",\n  \"eventTime\": \"2023-07-10T11:50:00Z\"\n}\n";
        assert_eq!(detect(pretty), Form::JsonObjects);
        assert_eq!(detect(b"[{\"eventTime\":\"x\"}]"), Form::JsonArray);
        assert_eq!(detect(b"[ ]"), Form::JsonArray);
        assert_eq!(detect(b"2023-07-10T11:50:00.000Z {\"eventVersion\":\"1.08\"}\n"), Form::CloudWatchExport);
        assert_eq!(detect(b"2023-07-10T11:50:00Z {}"), Form::CloudWatchExport);
    }

    #[test]
    fn records_anywhere_among_the_keys() {
        assert_eq!(detect(b"{\"foo\":1,\"Records\":[{\"eventVersion\":\"1.08\"}]}"), Form::CloudTrail);
        assert_eq!(detect(b"{\"a\":{\"Records\":1},\"b\":[\"Records\"],\"Records\":[]}"), Form::CloudTrail);
        assert_eq!(detect(b"{\"a\":{\"Records\":[]}}"), Form::Unknown, "nested, not top level");
        // Found by the accounting fuzz target: a document whose `Records`
        // key is damaged is not one JSON Lines record because its records
        // carry record keys deeper down.
        let damaged = b"{\"foo\":[1],\"Record#\":[{\"eventVersion\":\"1.08\"},{\"eventVersion\":\"1.08\"}]}";
        assert_eq!(detect(damaged), Form::Unknown);
        assert_eq!(detect(b"{\"a\":{\"eventTime\":\"x\"}}\n{\"b\":1}\n"), Form::Unknown);
        assert_eq!(detect(b"{\"NextToken\":\"t\",\"Events\":[]}"), Form::LookupEvents);
    }

    #[test]
    fn json_lines_past_a_damaged_or_cut_first_line() {
        let good = "{\"eventVersion\":\"1.08\",\"eventTime\":\"2023-07-10T11:50:00Z\"}";
        assert_eq!(detect(format!("Time\":\"2023-07-10T11:49:00Z\"}}\n{good}\n").as_bytes()), Form::JsonLines);
        assert_eq!(detect(format!("{{\"eventVersion\":\"1.0\n{good}\n").as_bytes()), Form::JsonLines);
        assert_eq!(detect(format!("\u{feff}{good}\n").as_bytes()), Form::JsonLines);
        // Only a cut piece of a line after the first is not enough.
        assert_eq!(detect(format!("garbage\n{}", &good[..20]).as_bytes()), Form::Unknown);
    }

    #[test]
    fn foreign_content_is_named() {
        let r = foreign_reason(b"{\"metricFilters\":[]}");
        assert!(r.contains("describe-metric-filters") && r.contains("--aws-config"), "{r}");
        assert!(foreign_reason(b"{\"MetricAlarms\":[]}").contains("describe-alarms"));
        assert!(foreign_reason(b"{\"fileVersion\":\"1.0\",\"configurationItems\":[]}").contains("Config"));
        assert_eq!(foreign_reason(b"hello"), "content fits no event form (starts with \"hello\")");
    }

    #[test]
    fn things_that_are_not_event_logs() {
        assert_eq!(detect(b""), Form::Unknown);
        assert_eq!(detect(b"   \n"), Form::Unknown);
        assert_eq!(detect(b"{\"awsAccountId\":\"1\",\"digestStartTime\":\"x\",\"logFiles\":[]}"), Form::Unknown);
        assert_eq!(detect(b"[1,2,3]"), Form::Unknown);
        assert_eq!(detect(b"2023-07-10 11:50:00 some text"), Form::Unknown);
        assert_eq!(detect(b"2023-07-10T11:50:00.000Z plain text message"), Form::Unknown);
        assert_eq!(detect(b"<html>"), Form::Unknown);
        assert_eq!(detect(b"\x00\x01\x02"), Form::Unknown);
    }

    #[test]
    fn export_lines() {
        assert_eq!(
            split_export_line(b"2023-07-10T11:50:00.123Z {\"a\":1}"),
            Some((&b"2023-07-10T11:50:00.123Z"[..], &b"{\"a\":1}"[..]))
        );
        assert_eq!(split_export_line(b"2023-07-10T11:50:00.123 {}"), None, "no Z");
        assert_eq!(split_export_line(b"{\"a\":1}"), None);
    }
}
