//! Series files: what a scan found, per rule and minute, written as lines
//! so that any number of them merge exactly into one replay
//! (`scan --series-out`, `trailwatch replay`).
//!
//! Everything an alarm needs is each minute's statistic set (count, sum,
//! minimum, maximum, and the values for percentiles), and sets merge
//! exactly: counts add, sums add without rounding (the partials of the
//! exact sum are written when one double does not hold it), extremes keep
//! the extreme, values concatenate. A scan's input accounting adds the same
//! way. So logs can be split into shards anywhere, each scanned on its own,
//! and only the replay has to run in one place.
//!
//! Two forms are read:
//!
//! - **NDJSON** (what `scan --series-out` writes): a `header` line (format,
//!   version, the scan's inputs and time settings), one `rule` line per
//!   rule (its definition, as in a rules file, and its counts), its
//!   `minute` lines, `ids` lines (the event IDs of the records that
//!   published, in order, to find events repeated across files), one
//!   `inputs` line (the accounting), and an `end` line with the number of
//!   lines before it, so a cut file is refused.
//! - **CSV** with the columns of a `minute` line (`rule`, `fingerprint`,
//!   `minute`, `count`, `sum`, `min`, `max`, `matches`, optionally
//!   `values`): what a query of `trailwatch sql` returns, with one row per
//!   rule without a minute and with a count of 0 that says the query
//!   covers it. It carries no accounting; the report says so.
//!
//! Parsing and merging are pure; the caller reads the files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::metric::series::{ExactSum, Minute, Series, Stats, MINUTE_MS};
use crate::record::time::{format_rfc3339, parse_user_time};
use crate::record::EpochMs;
use crate::rules::Rule;
use crate::scan::{
    find_repeats, part_of, Assembled, Duplicates, Entry, EventId, FileReport, Location, RuleResult, ScanOptions,
    ScanReport, Totals, Unplaced, ID_BYTES,
};
use crate::source::decode::read_full;
use crate::source::discover::PathProblem;
use crate::source::hash::hex;
use crate::source::SkipKind;
use crate::spill::Runs;

/// The `format` of a series file's header.
pub const FORMAT: &str = "trailwatch-series";

/// The version of the format this build writes and reads.
pub const VERSION: u64 = 1;

/// Event IDs per `ids` line.
const IDS_PER_LINE: usize = 4096;

/// Examples of repeated events a report shows (as a scan keeps them).
const DUPLICATE_EXAMPLES: usize = 5;

/// The columns a CSV of minutes must have, in any order (`values` may
/// follow, and other columns are ignored).
pub const CSV_COLUMNS: [&str; 8] = ["rule", "fingerprint", "minute", "count", "sum", "min", "max", "matches"];

/// What makes a rule's per-minute series what it is: the pattern, the
/// metric value, the default value and the dimensions (not the alarm,
/// which is applied at replay). 16 hex digits of a SHA-256.
pub fn fingerprint(rule: &Rule) -> String {
    let mut h = Sha256::new();
    let default = rule.transform.default_value().map(|d| d.to_string()).unwrap_or_default();
    let mut parts = vec![rule.pattern.source(), rule.transform.value_text(), default.as_str()];
    for (n, v) in rule.transform.dimension_texts() {
        parts.extend([n.as_str(), v.as_str()]);
    }
    parts.push("\u{0}alarm dimensions");
    for (n, v) in &rule.alarm_dimensions {
        parts.extend([n.as_str(), v.as_str()]);
    }
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex(&h.finalize()[..8])
}

/// A rule as a rules file writes it (JSON), alarm settings spelt out.
fn definition(rule: &Rule) -> Value {
    let pairs = |d: &[(String, String)]| -> Map<String, Value> {
        d.iter().map(|(n, v)| (n.clone(), Value::String(v.clone()))).collect()
    };
    let mut def = json!({
        "name": rule.name,
        "pattern": rule.pattern.source(),
        "metric_value": rule.transform.value_text(),
        "dimensions": pairs(rule.transform.dimension_texts()),
        "alarm_dimensions": pairs(&rule.alarm_dimensions),
        "alarm": rule.alarm.settings(),
    });
    if let Some(t) = &rule.title {
        def["title"] = json!(t);
    }
    if let Some(d) = rule.transform.default_value() {
        def["default_value"] = json!(d);
    }
    def
}

/// Where a record is, by path and offset (indices are a scan's own).
fn place(report: &ScanReport, at: Location) -> Value {
    json!({ "path": report.path(at), "offset": at.offset })
}

/// A place as [`place`] wrote it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
struct Place {
    path: String,
    offset: u64,
}

fn instant(t: Option<EpochMs>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format_rfc3339(t)))
}

/// One minute line (also the columns of the CSV form).
fn minute_line(rule: &str, fingerprint: &str, minute: Minute, s: &Stats) -> Value {
    let mut v = json!({
        "kind": "minute",
        "rule": rule,
        "fingerprint": fingerprint,
        "minute": format_rfc3339(minute * MINUTE_MS),
        "count": s.count,
        "sum": s.sum.value(),
        "min": s.min,
        "max": s.max,
        "matches": s.matches,
    });
    if s.sum.partials().len() > 1 {
        v["sum_partials"] = json!(s.sum.partials());
    }
    if let Some(values) = &s.values {
        v["values"] = json!(values.as_slice());
    }
    v
}

/// What a series file says of the scan besides its results.
pub struct Scanned<'a> {
    /// The rules scanned with.
    pub rules: &'a [Rule],
    /// The rules asked for that could not be replayed, and why.
    pub refused: &'a [String],
    /// The options.
    pub opts: &'a ScanOptions,
    /// The input paths as given.
    pub inputs: &'a [String],
}

/// Write `report`'s series file.
pub fn write(out: &mut dyn Write, report: &ScanReport, scanned: &Scanned<'_>) -> io::Result<()> {
    let Scanned { rules, refused, opts, inputs } = *scanned;
    let lines = std::cell::Cell::new(0u64);
    let put = |out: &mut dyn Write, v: &Value| -> io::Result<()> {
        serde_json::to_writer(&mut *out, v)?;
        out.write_all(b"\n")?;
        lines.set(lines.get() + 1);
        Ok(())
    };
    let header = json!({
        "kind": "header",
        "format": FORMAT,
        "version": VERSION,
        "tool": concat!("trailwatch ", env!("CARGO_PKG_VERSION")),
        "inputs": inputs,
        "refused": refused,
        "lag_ms": opts.lag_ms,
        "from": instant(opts.from),
        "to": instant(opts.to),
        "dedup": opts.dedup,
        "elapsed_s": report.elapsed.as_secs_f64(),
    });
    put(out, &header)?;
    for (i, rule) in rules.iter().enumerate() {
        let r = &report.rules[i];
        let fp = fingerprint(rule);
        let line = json!({
            "kind": "rule",
            "rule": rule.name,
            "fingerprint": fp,
            "definition": definition(rule),
            "values": rule.alarm.statistic.needs_values(),
            "matches": r.matches,
            "datapoints": r.datapoints,
            "unplaced_missing": r.unplaced.missing,
            "unplaced_unparseable": r.unplaced.unparseable,
            "unplaced_datapoints": r.unplaced_datapoints,
            "outside_range": r.outside_range,
            "unplaced_examples": r.unplaced.examples.iter().map(|&at| place(report, at)).collect::<Vec<_>>(),
        });
        put(out, &line)?;
        for (m, s) in report.minutes(i, &rule.alarm_dimensions) {
            put(out, &minute_line(&rule.name, &fp, m, &s))?;
        }
    }
    let ids = &report.event_ids;
    let mut ids_complete = opts.keep_ids && ids.problem.is_none();
    for (part, file) in &ids.parts {
        let mut reader = io::BufReader::new(file);
        let mut chunk = vec![0u8; ID_BYTES * IDS_PER_LINE];
        loop {
            // A temporary file that cannot be read back leaves the IDs
            // incomplete, which replay says, not the series unwritten.
            let Ok(n) = read_full(&mut reader, &mut chunk) else {
                ids_complete = false;
                break;
            };
            if n == 0 {
                break;
            }
            if n % ID_BYTES != 0 {
                ids_complete = false;
                break;
            }
            use base64::Engine as _;
            let text = base64::engine::general_purpose::STANDARD.encode(&chunk[..n]);
            put(out, &json!({ "kind": "ids", "part": part, "ids": text }))?;
        }
    }
    let repeated: Vec<Value> = report
        .duplicates
        .examples
        .iter()
        .map(|(id, a, b)| json!({ "event_id": id, "first": place(report, *a), "again": place(report, *b) }))
        .collect();
    let members: Vec<Value> = report.skipped_members.iter().map(|(k, p, why)| json!([k, p, why])).collect();
    let inputs = json!({
        "kind": "inputs",
        "totals": report.totals,
        "skipped": report.skipped,
        "files": report.files,
        "skipped_members": members,
        "path_problems": report.problems,
        "duplicate_copies": report.duplicates.copies,
        "duplicates_problem": report.duplicates.problem,
        "duplicate_examples": repeated,
        "lost": report.lost(),
        "ids_complete": ids_complete,
        "notes": report.notes(),
    });
    put(out, &inputs)?;
    put(out, &json!({ "kind": "end", "lines": lines.get() }))
}

/// Why a series file is refused, with where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesError {
    /// The file.
    pub file: String,
    /// Its line (1-based; 0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file, self.message),
            n => write!(f, "{}:{n}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for SeriesError {}

/// How a rule's series was scanned, beyond its minutes.
#[derive(Clone, Debug, Default, PartialEq)]
struct Counts {
    matches: u64,
    datapoints: u64,
    unplaced_missing: u64,
    unplaced_unparseable: u64,
    unplaced_datapoints: u64,
    outside_range: u64,
    /// The first matching records without a usable time.
    unplaced_examples: Vec<Place>,
    /// How many examples a scan keeps (the most any file listed).
    examples_kept: usize,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.unplaced_examples.extend(o.unplaced_examples.iter().cloned());
        self.examples_kept = self.examples_kept.max(o.examples_kept);
        self.matches += o.matches;
        self.datapoints += o.datapoints;
        self.unplaced_missing += o.unplaced_missing;
        self.unplaced_unparseable += o.unplaced_unparseable;
        self.unplaced_datapoints += o.unplaced_datapoints;
        self.outside_range += o.outside_range;
    }
}

/// One rule's series from one or more files.
#[derive(Clone, Debug)]
struct RuleSeries {
    fingerprint: String,
    /// Its definition (NDJSON only), with the file it came from.
    definition: Option<(Value, String)>,
    /// Whether every set carries its values (percentiles).
    values: bool,
    counts: Counts,
    minutes: BTreeMap<Minute, Stats>,
}

impl RuleSeries {
    fn new(fingerprint: String, values: bool) -> RuleSeries {
        RuleSeries { fingerprint, definition: None, values, counts: Counts::default(), minutes: BTreeMap::new() }
    }

    fn add_minute(&mut self, minute: Minute, mut s: Stats) {
        if self.values && s.values.is_none() {
            // Values of some sets only would give a wrong percentile: once
            // one set comes without them, none keeps them.
            self.values = false;
            for kept in self.minutes.values_mut() {
                kept.values = None;
            }
        }
        if !self.values {
            s.values = None;
        }
        match self.minutes.get_mut(&minute) {
            Some(x) => x.merge(&s),
            None => {
                self.minutes.insert(minute, s);
            }
        }
    }
}

/// How the logs behind a series file were scanned.
#[derive(Clone, Debug, PartialEq)]
struct Settings {
    lag_ms: i64,
    from: Option<EpochMs>,
    to: Option<EpochMs>,
    dedup: bool,
}

/// The accounting of the inputs behind series files.
#[derive(Clone, Debug, Default)]
struct Accounting {
    totals: Totals,
    skipped: BTreeMap<SkipKind, u64>,
    /// Files reported one by one, with the index of their series file.
    files: Vec<(usize, FileReport)>,
    skipped_members: Vec<(SkipKind, String, String)>,
    problems: Vec<PathProblem>,
    duplicate_copies: u64,
    duplicates_problem: Option<String>,
    /// Event ID, where first seen, where again.
    duplicate_examples: Vec<(String, Place, Place)>,
    lost: Vec<String>,
    notes: Vec<String>,
    elapsed_s: f64,
}

/// One series file, parsed.
#[derive(Clone, Debug)]
pub struct Shard {
    name: String,
    /// NDJSON: how it was scanned, its inputs and accounting.
    scanned: Option<(Settings, Vec<String>, Accounting)>,
    /// Rules its scan refused.
    refused: Vec<String>,
    /// The event IDs of the records that published, by part of the key
    /// space, each list in order (`None`: not in the file).
    ids: Option<Vec<(u8, Vec<EventId>)>>,
    rules: BTreeMap<String, RuleSeries>,
    /// Rule names in file order.
    order: Vec<String>,
}

fn err(file: &str, line: usize, message: impl Into<String>) -> SeriesError {
    SeriesError { file: file.to_string(), line, message: message.into() }
}

/// Parse one series file named `name`: NDJSON as `scan --series-out`
/// writes it, or CSV with [`CSV_COLUMNS`].
pub fn parse(name: &str, text: &str) -> Result<Shard, SeriesError> {
    let first = text.trim_start_matches('\u{feff}').trim_start();
    if first.starts_with('{') {
        parse_ndjson(name, text)
    } else if first.is_empty() {
        Err(err(name, 0, "empty: not a series file"))
    } else {
        parse_csv(name, text)
    }
}

fn parse_ndjson(name: &str, text: &str) -> Result<Shard, SeriesError> {
    let mut settings = None;
    let mut inputs = Vec::new();
    let mut accounting = None;
    let mut rules: BTreeMap<String, RuleSeries> = BTreeMap::new();
    let mut ended = false;
    let mut lines = 0u64;
    let mut order = Vec::new();
    let mut refused = Vec::new();
    let mut ids: Option<Vec<(u8, Vec<EventId>)>> = None;
    let mut ids_complete = false;
    let mut accounted = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let bad = |m: String| err(name, n, m);
        if line.trim().is_empty() {
            continue;
        }
        if ended {
            return Err(bad("a line after the end line".into()));
        }
        let v: Value = serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if settings.is_none() && kind != "header" {
            return Err(bad(format!("the first line must be the header (`\"kind\":\"header\"`), not {kind:?}")));
        }
        match kind {
            "header" => {
                if settings.is_some() {
                    return Err(bad("a second header".into()));
                }
                if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
                    return Err(bad(format!("not a {FORMAT} file")));
                }
                let version = v.get("version").and_then(Value::as_u64).unwrap_or(0);
                if version != VERSION {
                    return Err(bad(format!(
                        "format version {version}; this trailwatch reads version {VERSION} (rescan, or use the trailwatch that wrote it)"
                    )));
                }
                let time = |key: &str| -> Result<Option<EpochMs>, SeriesError> {
                    match v.get(key) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => {
                            parse_user_time(s).map(Some).ok_or_else(|| bad(format!("`{key}`: not a time: {s:?}")))
                        }
                        Some(_) => Err(bad(format!("`{key}`: not a time"))),
                    }
                };
                settings = Some(Settings {
                    lag_ms: v.get("lag_ms").and_then(Value::as_i64).ok_or_else(|| bad("no `lag_ms`".into()))?,
                    from: time("from")?,
                    to: time("to")?,
                    dedup: v.get("dedup").and_then(Value::as_bool).unwrap_or(false),
                });
                inputs = strings(v.get("inputs")).ok_or_else(|| bad("`inputs`: not a list of paths".into()))?;
                refused = strings(v.get("refused")).ok_or_else(|| bad("`refused`: not a list".into()))?;
                let elapsed = v.get("elapsed_s").and_then(Value::as_f64).unwrap_or(0.0);
                accounting = Some(Accounting { elapsed_s: elapsed, ..Accounting::default() });
            }
            "rule" => {
                let rule = text_field(&v, "rule").map_err(bad)?;
                let fp = text_field(&v, "fingerprint").map_err(bad)?;
                if rules.contains_key(&rule) {
                    return Err(bad(format!("rule {rule:?} twice")));
                }
                let values = v.get("values").and_then(Value::as_bool).unwrap_or(false);
                let mut r = RuleSeries::new(fp, values);
                let def = v.get("definition").filter(|d| d.is_object()).ok_or_else(|| bad("no `definition`".into()))?;
                r.definition = Some((def.clone(), name.to_string()));
                let count = |k: &str| v.get(k).and_then(Value::as_u64).ok_or_else(|| bad(format!("no count `{k}`")));
                r.counts = Counts {
                    matches: count("matches")?,
                    datapoints: count("datapoints")?,
                    unplaced_missing: count("unplaced_missing")?,
                    unplaced_unparseable: count("unplaced_unparseable")?,
                    unplaced_datapoints: count("unplaced_datapoints")?,
                    outside_range: count("outside_range")?,
                    unplaced_examples: Vec::new(),
                    examples_kept: 0,
                };
                let examples = v.get("unplaced_examples").cloned().unwrap_or(Value::Array(Vec::new()));
                r.counts.unplaced_examples =
                    serde_json::from_value(examples).map_err(|e| bad(format!("`unplaced_examples`: {e}")))?;
                r.counts.examples_kept = r.counts.unplaced_examples.len();
                order.push(rule.clone());
                rules.insert(rule, r);
            }
            "minute" => {
                let rule = text_field(&v, "rule").map_err(bad)?;
                let r = rules
                    .get_mut(&rule)
                    .ok_or_else(|| bad(format!("a minute of rule {rule:?} before its rule line")))?;
                if v.get("fingerprint").and_then(Value::as_str) != Some(r.fingerprint.as_str()) {
                    return Err(bad(format!("a minute of rule {rule:?} with another fingerprint than its rule line")));
                }
                let (minute, stats) = minute_of_line(&v, r.values).map_err(bad)?;
                if r.minutes.contains_key(&minute) {
                    return Err(bad(format!("minute {} of rule {rule:?} twice", format_rfc3339(minute * MINUTE_MS))));
                }
                r.minutes.insert(minute, stats);
            }
            "ids" => {
                let part = v.get("part").and_then(Value::as_u64).filter(|p| *p < 256);
                let part = part.ok_or_else(|| bad("`part`: not a part".into()))? as u8;
                let list = ids.get_or_insert_with(Vec::new);
                read_ids(&v, part, list).map_err(bad)?;
            }
            "inputs" => {
                if accounted {
                    return Err(bad("a second inputs line".into()));
                }
                accounted = true;
                ids_complete = v.get("ids_complete").and_then(Value::as_bool).unwrap_or(false);
                let a = accounting.as_mut().expect("the header came first");
                let field = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
                let parsed = (|| -> Result<(), serde_json::Error> {
                    a.totals = serde_json::from_value(field("totals"))?;
                    a.skipped = serde_json::from_value(field("skipped"))?;
                    let files: Vec<FileReport> = serde_json::from_value(field("files"))?;
                    a.files = files.into_iter().map(|f| (0, f)).collect();
                    a.skipped_members = serde_json::from_value(field("skipped_members"))?;
                    a.problems = serde_json::from_value(field("path_problems"))?;
                    a.duplicate_copies = serde_json::from_value(field("duplicate_copies"))?;
                    a.duplicates_problem = serde_json::from_value(field("duplicates_problem"))?;
                    #[derive(serde::Deserialize)]
                    struct Repeat {
                        event_id: String,
                        first: Place,
                        again: Place,
                    }
                    let repeats: Vec<Repeat> =
                        serde_json::from_value(v.get("duplicate_examples").cloned().unwrap_or(Value::Array(vec![])))?;
                    a.duplicate_examples = repeats.into_iter().map(|r| (r.event_id, r.first, r.again)).collect();
                    let lost: Option<String> = serde_json::from_value(field("lost"))?;
                    a.lost = lost.into_iter().collect();
                    a.notes = serde_json::from_value(field("notes"))?;
                    Ok(())
                })();
                parsed.map_err(|e| bad(format!("the inputs line: {e}")))?;
            }
            "end" => {
                let said = v.get("lines").and_then(Value::as_u64);
                if said != Some(lines) {
                    return Err(bad(format!(
                        "the end line counts {} lines before it, the file has {lines}: lines are missing or added",
                        said.map_or("no".to_string(), |s| s.to_string())
                    )));
                }
                ended = true;
                continue;
            }
            other => return Err(bad(format!("unknown line kind {other:?}"))),
        }
        lines += 1;
    }
    if !ended {
        return Err(err(name, 0, "no end line: the file was cut short (was the scan that wrote it stopped?)"));
    }
    if !accounted {
        return Err(err(name, 0, "no inputs line: the file does not say what was read"));
    }
    let settings = settings.expect("the end line came after the header");
    let accounting = accounting.expect("set with the header");
    if !ids_complete {
        ids = None;
    }
    Ok(Shard { name: name.to_string(), scanned: Some((settings, inputs, accounting)), refused, rules, order, ids })
}

/// Append an `ids` line's IDs (of `part`) to `list`, checking they are in
/// order and in their part.
fn read_ids(v: &Value, part: u8, list: &mut Vec<(u8, Vec<EventId>)>) -> Result<(), String> {
    use base64::Engine as _;
    let text = v.get("ids").and_then(Value::as_str).ok_or("no `ids`")?;
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("`ids`: not base64: {e}"))?;
    if bytes.len() % ID_BYTES != 0 {
        return Err(format!("`ids`: not a whole number of {ID_BYTES}-byte IDs"));
    }
    match list.last() {
        Some((p, _)) if *p > part => return Err("`ids`: parts out of order".into()),
        Some((p, _)) if *p == part => {}
        _ => list.push((part, Vec::new())),
    }
    let (_, ids) = list.last_mut().expect("pushed above");
    for chunk in bytes.chunks(ID_BYTES) {
        let id = EventId::from_bytes(chunk).ok_or("`ids`: an ID of no known kind")?;
        if part_of(&id) != part || ids.last().is_some_and(|p| *p >= id) {
            return Err("`ids`: not in order, or in the wrong part".into());
        }
        ids.push(id);
    }
    Ok(())
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?.iter().map(|s| s.as_str().map(str::to_string)).collect()
}

fn text_field(v: &Value, key: &str) -> Result<String, String> {
    v.get(key).and_then(Value::as_str).map(str::to_string).ok_or_else(|| format!("no `{key}`"))
}

/// Parse a minute as written here (RFC 3339) or by a SQL engine
/// (`2024-01-01 00:05:00.000`, UTC), or epoch seconds.
fn parse_minute(s: &str) -> Result<Minute, String> {
    let t = s.trim().trim_end_matches(" UTC");
    let t = match t.split_once('.') {
        Some((whole, frac)) if frac.bytes().all(|b| b == b'0') => whole,
        _ => t,
    };
    let ms = parse_user_time(t).or_else(|| t.parse::<i64>().ok().and_then(|secs| secs.checked_mul(1000)));
    let ms = ms.ok_or_else(|| format!("`minute`: not a time: {s:?}"))?;
    if ms.rem_euclid(MINUTE_MS) != 0 {
        return Err(format!("`minute`: {s:?} is not the start of a minute"));
    }
    Ok(ms / MINUTE_MS)
}

fn number(v: &Value, key: &str) -> Result<f64, String> {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_f64().filter(|x| x.is_finite()).ok_or_else(|| format!("`{key}`: out of range")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("`{key}`: not a number: {s:?}")),
        _ => Err(format!("no number `{key}`")),
    }
}

fn count(v: &Value, key: &str) -> Result<u64, String> {
    let x = number(v, key)?;
    if x < 0.0 || x.fract() != 0.0 || x > 9.0e15 {
        return Err(format!("`{key}`: not a count: {x}"));
    }
    Ok(x as u64)
}

/// A minute's set from a minute line (or a CSV row made into one).
fn minute_of_line(v: &Value, values: bool) -> Result<(Minute, Stats), String> {
    let minute = parse_minute(&text_field(v, "minute").or_else(|_| number(v, "minute").map(|x| x.to_string()))?)?;
    let n = count(v, "count")?;
    if n == 0 {
        return Err("`count` is 0: a minute holds at least one datapoint".into());
    }
    let matches = count(v, "matches")?;
    if matches > n {
        return Err(format!("`matches` {matches} is more than `count` {n}"));
    }
    let (min, max) = (number(v, "min")?, number(v, "max")?);
    if min > max {
        return Err(format!("`min` {min} is more than `max` {max}"));
    }
    let sum_value = number(v, "sum")?;
    let sum = match v.get("sum_partials") {
        Some(Value::Array(p)) => {
            let p: Vec<f64> =
                p.iter().map(Value::as_f64).collect::<Option<_>>().ok_or("`sum_partials`: not numbers")?;
            let s = ExactSum::from_partials(&p);
            if s.value() != sum_value {
                return Err(format!("`sum_partials` add up to {}, not `sum` {sum_value}", s.value()));
            }
            s
        }
        _ => {
            let mut s = ExactSum::default();
            s.add(sum_value);
            s
        }
    };
    let kept = match v.get("values") {
        Some(Value::Array(a)) => {
            let vals: Vec<f64> = a.iter().map(Value::as_f64).collect::<Option<_>>().ok_or("`values`: not numbers")?;
            Some(vals)
        }
        Some(Value::String(s)) if !s.trim().is_empty() => {
            let vals: Vec<f64> = s
                .split([' ', ','])
                .filter(|x| !x.is_empty())
                .map(|x| x.parse::<f64>().map_err(|_| format!("`values`: not a number: {x:?}")))
                .collect::<Result<_, _>>()?;
            Some(vals)
        }
        _ => None,
    };
    if values && kept.as_ref().is_none_or(|k| k.len() as u64 != n) {
        return Err(format!("`values` must list the {n} values of the minute (the rule's statistic is a percentile)"));
    }
    let mut stats = Stats::new(false);
    stats.count = n;
    stats.sum = sum;
    stats.min = min;
    stats.max = max;
    stats.matches = matches;
    stats.values = kept.filter(|_| values).map(Box::new);
    Ok((minute, stats))
}

/// Split one CSV line (RFC 4180 quoting).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => quoted = false,
                _ => cur.push(c),
            }
        } else {
            match c {
                '"' if at_start => quoted = true,
                ',' => {
                    out.push(std::mem::take(&mut cur));
                    at_start = true;
                    continue;
                }
                _ => cur.push(c),
            }
        }
        at_start = false;
    }
    if quoted {
        return Err("a quoted field is not closed (quoted line breaks are not read)".into());
    }
    out.push(cur);
    Ok(out)
}

fn parse_csv(name: &str, text: &str) -> Result<Shard, SeriesError> {
    let mut lines = text.trim_start_matches('\u{feff}').lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, head) = lines.next().expect("parse checked the text is not blank");
    let columns: Vec<String> =
        csv_fields(head).map_err(|e| err(name, 1, e))?.into_iter().map(|c| c.trim().to_ascii_lowercase()).collect();
    for want in CSV_COLUMNS {
        if !columns.iter().any(|c| c == want) {
            return Err(err(
                name,
                1,
                format!(
                    "not a series file: no column `{want}` (a CSV series has the columns {}, as `trailwatch sql` queries return them)",
                    CSV_COLUMNS.join(",")
                ),
            ));
        }
    }
    let mut rules: BTreeMap<String, RuleSeries> = BTreeMap::new();
    let mut order = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        let cells = csv_fields(line).map_err(|e| err(name, n, e))?;
        if cells.len() != columns.len() {
            return Err(err(name, n, format!("{} cells, the header has {}", cells.len(), columns.len())));
        }
        let row: Map<String, Value> =
            columns.iter().cloned().zip(cells.into_iter().map(|c| Value::String(c.trim().to_string()))).collect();
        let row = Value::Object(row);
        let rule = text_field(&row, "rule").map_err(|e| err(name, n, e))?;
        let fp = text_field(&row, "fingerprint").map_err(|e| err(name, n, e))?;
        let has_values = row.get("values").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if !rules.contains_key(&rule) {
            order.push(rule.clone());
        }
        let r = rules.entry(rule.clone()).or_insert_with(|| RuleSeries::new(fp.clone(), true));
        if r.fingerprint != fp {
            return Err(err(name, n, format!("rule {rule:?} with two fingerprints ({} and {fp})", r.fingerprint)));
        }
        if row.get("minute").and_then(Value::as_str) == Some("") {
            // A query's row saying it covers the rule, whatever matched.
            if count(&row, "count").map_err(|e| err(name, n, e))? != 0 {
                return Err(err(
                    name,
                    n,
                    "a row without a minute must have a count of 0 (it names a rule the query covers)",
                ));
            }
            continue;
        }
        let (minute, stats) = minute_of_line(&row, has_values).map_err(|e| err(name, n, e))?;
        r.counts.matches += stats.matches;
        r.counts.datapoints += stats.count;
        r.add_minute(minute, stats);
    }
    Ok(Shard { name: name.to_string(), scanned: None, refused: Vec::new(), rules, order, ids: None })
}

/// Series files merged: what [`Merged::report`] replays.
#[derive(Debug)]
pub struct Merged {
    files: Vec<String>,
    settings: Option<Settings>,
    /// Per scanned (NDJSON) file: its rules.
    scanned_rules: Vec<(String, BTreeSet<String>)>,
    sql_files: usize,
    rules: BTreeMap<String, RuleSeries>,
    accounting: Accounting,
    /// Rules defined differently by two files.
    disagree: Vec<String>,
    /// Rule names in the order they were first met (the order they were
    /// scanned in).
    order: Vec<String>,
    /// Rules the scans refused, and why.
    refused: Vec<String>,
}

/// Two inputs of different files of which one names the other or a
/// folder holding it (indices into `inputs`, the outer one first), if
/// any. Sorted by path components, the paths below a folder follow it, so
/// one pass with the stack of the folders still open finds every such pair
/// (n log n for the inputs of thousands of shards).
fn overlap(inputs: &[(String, usize)]) -> Option<(usize, usize)> {
    let path = |i: usize| Path::new(inputs[i].0.trim_end_matches('/'));
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by(|&a, &b| path(a).cmp(path(b)));
    let mut open: Vec<usize> = Vec::new();
    for i in order {
        while open.last().is_some_and(|&o| !path(i).starts_with(path(o))) {
            open.pop();
        }
        if let Some(&o) = open.iter().find(|&&o| inputs[o].1 != inputs[i].1) {
            return Some((o, i));
        }
        open.push(i);
    }
    None
}

/// Merge parsed series files (in any order and grouping: the result is
/// the same). Refused: files scanned with different time settings, files
/// whose inputs overlap (their records would be counted twice), a rule
/// whose series were made with different patterns or metrics.
pub fn merge(shards: Vec<Shard>) -> Result<Merged, SeriesError> {
    let mut merger = Merger::new();
    for shard in shards {
        merger.add(shard)?;
    }
    merger.finish()
}

/// Series files merged one at a time (so that only one file's event IDs
/// are in memory; the others are in temporary runs).
pub struct Merger {
    m: Merged,
    /// Every input of the scanned files, with the index of its file.
    seen_inputs: Vec<(String, usize)>,
    /// The files' event IDs, one sorted run per file and part, to find
    /// events repeated across files.
    ids: Runs<u8>,
    /// Those that could not be written out.
    ids_held: Vec<Entry>,
    /// Files without event IDs (SQL results, or IDs not kept), with why.
    unchecked: Vec<String>,
}

impl Default for Merger {
    fn default() -> Merger {
        Merger::new()
    }
}

impl Merger {
    /// Nothing merged yet.
    pub fn new() -> Merger {
        let m = Merged {
            files: Vec::new(),
            settings: None,
            scanned_rules: Vec::new(),
            sql_files: 0,
            rules: BTreeMap::new(),
            accounting: Accounting::default(),
            disagree: Vec::new(),
            order: Vec::new(),
            refused: Vec::new(),
        };
        Merger {
            m,
            seen_inputs: Vec::new(),
            ids: Runs::new("event IDs of the series files"),
            ids_held: Vec::new(),
            unchecked: Vec::new(),
        }
    }

    /// Merge one more file.
    pub fn add(&mut self, shard: Shard) -> Result<(), SeriesError> {
        let Merger { m, seen_inputs, .. } = self;
        let index = m.files.len();
        let name = shard.name.clone();
        m.files.push(name.clone());
        match shard.scanned {
            Some((settings, inputs, acc)) => {
                match &m.settings {
                    Some(s) if *s != settings => {
                        return Err(err(
                            &name,
                            0,
                            format!(
                                "scanned with other settings than {} ({}; every shard must use the same --lag, --from, --to and --dedup)",
                                m.files[0],
                                describe(&settings)
                            ),
                        ));
                    }
                    _ => m.settings = Some(settings),
                }
                seen_inputs.extend(inputs.into_iter().map(|i| (i, index)));
                let a = &mut m.accounting;
                a.totals.merge(&acc.totals);
                for (k, n) in acc.skipped {
                    *a.skipped.entry(k).or_default() += n;
                }
                a.files.extend(acc.files.into_iter().map(|(_, f)| (index, f)));
                a.skipped_members.extend(acc.skipped_members);
                a.problems.extend(acc.problems);
                a.duplicate_copies += acc.duplicate_copies;
                a.duplicate_examples.extend(acc.duplicate_examples);
                if a.duplicates_problem.is_none() {
                    a.duplicates_problem = acc.duplicates_problem;
                }
                a.lost.extend(acc.lost.into_iter().map(|l| format!("{name}: {l}")));
                a.notes.extend(acc.notes);
                a.elapsed_s += acc.elapsed_s;
                m.scanned_rules.push((name.clone(), shard.rules.keys().cloned().collect()));
            }
            None => m.sql_files += 1,
        }
        for r in shard.refused {
            if !m.refused.contains(&r) {
                m.refused.push(r);
            }
        }
        for rule in shard.order {
            if !m.order.contains(&rule) {
                m.order.push(rule);
            }
        }
        for (rule, series) in shard.rules {
            match m.rules.get_mut(&rule) {
                None => {
                    m.rules.insert(rule, series);
                }
                Some(have) => {
                    if have.fingerprint != series.fingerprint {
                        return Err(err(
                            &name,
                            0,
                            format!(
                                "rule {rule:?} has fingerprint {} here and {} in another file: its pattern, metric value, default or dimensions differ",
                                series.fingerprint, have.fingerprint
                            ),
                        ));
                    }
                    match (&have.definition, &series.definition) {
                        (Some((a, from)), Some((b, _))) if a != b => {
                            m.disagree.push(format!("rule {rule:?} is defined differently in {from} and {name}"))
                        }
                        (None, Some(_)) => have.definition = series.definition,
                        _ => {}
                    }
                    have.counts.add(&series.counts);
                    have.values &= series.values;
                    for (minute, s) in series.minutes {
                        have.add_minute(minute, s);
                    }
                }
            }
        }
        self.add_ids(index, &name, shard.ids);
        Ok(())
    }

    /// Write one file's event IDs out as runs (`None`: it has none).
    fn add_ids(&mut self, index: usize, name: &str, ids: Option<Vec<(u8, Vec<EventId>)>>) {
        let Some(parts) = ids else {
            self.unchecked.push(name.to_string());
            return;
        };
        for (part, list) in parts {
            let entries: Vec<Entry> = list
                .into_iter()
                .enumerate()
                .map(|(k, id)| (id, Location { file: index as u32, member: 0, offset: k as u64 }))
                .collect();
            if self.ids.write(&part, &entries).is_err() {
                self.ids_held.extend(entries);
            }
        }
    }

    /// The merge, once every file is in.
    pub fn finish(self) -> Result<Merged, SeriesError> {
        let Merger { mut m, seen_inputs, mut ids, ids_held, unchecked } = self;
        if let Some((a, b)) = overlap(&seen_inputs) {
            let (pa, fa) = (&seen_inputs[a].0, &m.files[seen_inputs[a].1]);
            let (pb, fb) = (&seen_inputs[b].0, &m.files[seen_inputs[b].1]);
            let why = "the records in both would be counted twice (shards must read disjoint files)";
            return Err(err(fb, 0, format!("its input {pb:?} overlaps {pa:?} of {fa}: {why}")));
        }
        let shifted = m.settings.as_ref().is_some_and(|s| s.lag_ms != 0 || s.from.is_some() || s.to.is_some());
        if m.sql_files > 0 && shifted {
            let why = "CSV series (SQL results) carry no such settings: merge them apart";
            return Err(err(&m.files[0], 0, format!("scanned with --lag, --from or --to, and {why}")));
        }
        if m.files.len() > 1 {
            count_repeats(&mut m, &mut ids, ids_held, &unchecked);
        }
        Ok(m)
    }
}

/// Count the events repeated across the merged files by their IDs (in
/// `ids` and `held`), unless some file carried none (`unchecked`).
fn count_repeats(m: &mut Merged, ids: &mut Runs<u8>, held: Vec<Entry>, unchecked: &[String]) {
    if !unchecked.is_empty() {
        let (list, verb) = (unchecked.join(", "), if unchecked.len() == 1 { "carries" } else { "carry" });
        let why = "SQL results, or a scan that could not keep them";
        let note =
            format!("events repeated across the series files are not checked: {list} {verb} no event IDs ({why})");
        m.accounting.notes.push(note);
        return;
    }
    let found = find_repeats(ids, held, 3, false);
    if let Some(e) = found.lost {
        m.accounting.notes.push(format!("events repeated across the series files not fully counted: {e}"));
    }
    if found.copies == 0 {
        return;
    }
    m.accounting.duplicate_copies += found.copies;
    let files = &m.files;
    let eg: Vec<String> = found
        .examples
        .iter()
        .map(|(id, a, b)| format!("{id} in {} and {}", files[a.file as usize], files[b.file as usize]))
        .collect();
    let what = format!(
        "{} event(s) appear in more than one series file's logs (by eventID; e.g. {}): each file counted its copy",
        found.copies,
        eg.join("; ")
    );
    if m.settings.as_ref().is_some_and(|s| s.dedup) {
        m.accounting.duplicates_problem =
            Some(format!("{what}, and --dedup could not drop them: scan those logs in one run"));
    } else {
        m.accounting.notes.push(what);
    }
}

fn describe(s: &Settings) -> String {
    let t = |x: Option<EpochMs>| x.map_or("none".to_string(), format_rfc3339);
    format!("lag {} ms, from {}, to {}, dedup {}", s.lag_ms, t(s.from), t(s.to), s.dedup)
}

impl Merged {
    /// The rules the files were scanned with, as a rules file (JSON), in
    /// the order they were scanned in. Refused when two files define one rule's alarm
    /// differently (give the rules, or the alarm options, to replay).
    pub fn rules_file(&self) -> Result<String, SeriesError> {
        if let Some(d) = self.disagree.first() {
            return Err(err(
                &self.files[0],
                0,
                format!("{d}: give the rules to replay with (--rules, --pattern, --aws-config ...)"),
            ));
        }
        let mut defs = Vec::new();
        for name in &self.order {
            let r = &self.rules[name];
            let Some((def, _)) = &r.definition else {
                return Err(err(
                    &self.files[0],
                    0,
                    format!("rule {name:?} comes from a CSV series, which carries no definition: give the rules (--rules, --pattern, --aws-config ...)"),
                ));
            };
            defs.push(def.clone());
        }
        Ok(json!({ "rule": defs }).to_string())
    }

    /// The rules the scans were asked for and refused, with why.
    pub fn refused(&self) -> &[String] {
        &self.refused
    }

    /// The time settings the logs were scanned with: lag (ms), from, to,
    /// dedup.
    pub fn scanned_with(&self) -> (i64, Option<EpochMs>, Option<EpochMs>, bool) {
        self.settings.as_ref().map_or((0, None, None, false), |s| (s.lag_ms, s.from, s.to, s.dedup))
    }

    /// Whether any file carried no accounting (a CSV series).
    pub fn has_unaccounted(&self) -> bool {
        self.sql_files > 0
    }

    /// The report of a scan with `rules` that read every shard's logs.
    pub fn report(self, rules: &[Rule]) -> Result<ScanReport, SeriesError> {
        let first = self.files.first().cloned().unwrap_or_default();
        let a = self.accounting;
        // Inputs are numbered anew, in path order as a scan lists them
        // (an archive's members stay with it, in archive order); the files
        // examples point to come after them.
        let mut groups: BTreeMap<(usize, u32), Vec<FileReport>> = BTreeMap::new();
        for (i, f) in a.files {
            groups.entry((i, f.input)).or_default().push(f);
        }
        let mut groups: Vec<Vec<FileReport>> = groups.into_values().collect();
        for g in &mut groups {
            g.sort_by_key(|f| f.member);
        }
        groups.sort_by(|x, y| Path::new(&x[0].path).cmp(Path::new(&y[0].path)));
        let mut renumbered = Vec::new();
        for (n, g) in groups.into_iter().enumerate() {
            renumbered.extend(g.into_iter().map(|f| FileReport { input: n as u32, ..f }));
        }
        // Examples are kept in the order a scan keeps them: by input path
        // (components, as discovery orders them), then archive member,
        // then offset.
        let archives: HashMap<u32, &str> =
            renumbered.iter().filter(|f| f.member == 0).map(|f| (f.input, f.path.as_str())).collect();
        let members: HashMap<&str, (&str, u32)> = renumbered
            .iter()
            .filter(|f| f.member > 0)
            .filter_map(|f| Some((f.path.as_str(), (*archives.get(&f.input)?, f.member))))
            .collect();
        let scan_order = |p: &Place| {
            let (input, member) = members.get(p.path.as_str()).copied().unwrap_or((p.path.as_str(), 0));
            (PathBuf::from(input), member, p.offset)
        };
        let next = renumbered.len() as u32;
        let mut paths: BTreeMap<String, u32> = BTreeMap::new();
        let base = next + 1;
        let mut locate = |p: &Place| -> Location {
            let n = paths.len() as u32;
            let file = *paths.entry(p.path.clone()).or_insert(base + n);
            Location { file, member: 0, offset: p.offset }
        };
        let mut results = Vec::new();
        let mut rules_left = self.rules;
        for rule in rules {
            let fp = fingerprint(rule);
            let Some(r) = rules_left.remove(&rule.name) else {
                return Err(err(
                    &first,
                    0,
                    format!("no series for rule {:?} in the {} file(s) given", rule.name, self.files.len()),
                ));
            };
            if r.fingerprint != fp {
                return Err(err(
                    &first,
                    0,
                    format!(
                        "rule {:?}: the series were made with another pattern, metric value, default or dimensions (fingerprint {}, the rule's is {fp})",
                        rule.name, r.fingerprint
                    ),
                ));
            }
            if let Some((file, _)) = self.scanned_rules.iter().find(|(_, names)| !names.contains(&rule.name)) {
                return Err(err(
                    file,
                    0,
                    format!("no series for rule {:?}: it was scanned with other rules", rule.name),
                ));
            }
            let needs_values = rule.alarm.statistic.needs_values();
            if needs_values && !r.values && !r.minutes.is_empty() {
                return Err(err(
                    &first,
                    0,
                    format!(
                        "rule {:?}: the statistic {} needs every value of each minute, and the series were scanned without them (scan with the percentile statistic)",
                        rule.name, rule.alarm.statistic
                    ),
                ));
            }
            let mut series = Series::new(needs_values);
            for (minute, mut s) in r.minutes {
                if !needs_values {
                    s.values = None;
                }
                series.insert(rule.alarm_dimensions.clone(), minute, s);
            }
            let c = r.counts;
            let mut examples = c.unplaced_examples;
            examples.sort_by_cached_key(scan_order);
            let examples = examples.iter().take(c.examples_kept).map(&mut locate).collect();
            results.push(RuleResult {
                series,
                matches: c.matches,
                datapoints: c.datapoints,
                unplaced: Unplaced { missing: c.unplaced_missing, unparseable: c.unplaced_unparseable, examples },
                unplaced_datapoints: c.unplaced_datapoints,
                outside_range: c.outside_range,
                samples: Default::default(),
            });
        }
        let mut repeated = a.duplicate_examples;
        repeated.sort();
        repeated.truncate(DUPLICATE_EXAMPLES);
        let repeated = repeated.iter().map(|(id, x, y)| (id.clone(), locate(x), locate(y))).collect();
        let mut notes = a.notes;
        notes.sort();
        notes.dedup();
        if self.sql_files > 0 {
            notes.push(format!(
                "{} of the series files are SQL results (CSV): the inputs behind them are not counted here, nor their matches without a time",
                self.sql_files
            ));
        }
        let mut problems = a.problems;
        problems.sort_by(|x, y| x.path.cmp(&y.path));
        let mut skipped_members = a.skipped_members;
        skipped_members.sort();
        let lost = (!a.lost.is_empty()).then(|| a.lost.join("; "));
        let dedup = self.settings.as_ref().is_some_and(|s| s.dedup);
        Ok(ScanReport::assembled(Assembled {
            files: renumbered,
            skipped: a.skipped,
            skipped_members,
            problems,
            totals: a.totals,
            rules: results,
            duplicates: Duplicates {
                copies: a.duplicate_copies,
                dropped: dedup,
                examples: repeated,
                problem: a.duplicates_problem,
            },
            lost,
            notes,
            elapsed: Duration::from_secs_f64(a.elapsed_s.max(0.0)),
            paths: paths.into_iter().map(|(p, i)| (i, p)).collect::<BTreeMap<u32, String>>().into_iter().collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(values: &[f64], keep: bool) -> Stats {
        let mut s = Stats::new(keep);
        for &v in values {
            s.add(v, true);
        }
        s
    }

    #[test]
    fn a_minute_line_reads_back_exactly_with_the_partials_of_its_sum() {
        let s = stats(&[0.1, 1e17, 0.2, -1e17, 0.3, 1e-9], true);
        assert!(s.sum.partials().len() > 1, "the test needs a sum one double does not hold");
        let line = minute_line("r", "fp", 28_000_000, &s);
        let text = line.to_string();
        let back: Value = serde_json::from_str(&text).unwrap();
        let (minute, got) = minute_of_line(&back, true).unwrap();
        assert_eq!(minute, 28_000_000);
        assert_eq!(got.sum.partials(), s.sum.partials());
        assert_eq!(
            (got.count, got.min, got.max, got.matches, &got.values),
            (s.count, s.min, s.max, s.matches, &s.values)
        );
        // Merged from halves, the sum is the one of all values at once.
        let (a, b) = (stats(&[0.1, 1e17, 0.2], true), stats(&[-1e17, 0.3, 1e-9], true));
        let mut m = RuleSeries::new("fp".into(), true);
        m.add_minute(1, b);
        m.add_minute(1, a);
        assert_eq!(m.minutes[&1].sum.value(), s.sum.value());
        assert_eq!(m.minutes[&1].count, 6);
    }

    #[test]
    fn minutes_are_read_as_sql_engines_print_them() {
        let want = Ok(1_690_588_860 / 60);
        for text in [
            "2023-07-29T00:01:00Z",
            "2023-07-29 00:01:00",
            "2023-07-29 00:01:00.000",
            "2023-07-29 00:01:00.000 UTC",
            "2023-07-29T00:01:00+00:00",
            "1690588860",
        ] {
            assert_eq!(parse_minute(text), want, "{text}");
        }
        assert!(parse_minute("2023-07-29 00:01:30").unwrap_err().contains("not the start of a minute"));
        assert!(parse_minute("yesterday").unwrap_err().contains("not a time"));
    }

    #[test]
    fn csv_cells_follow_rfc_4180_quoting() {
        assert_eq!(csv_fields(r#"a,"b,c","d""e",,"#).unwrap(), ["a", "b,c", "d\"e", "", ""]);
        assert!(csv_fields(r#"a,"b"#).is_err());
    }

    #[test]
    fn rows_that_cannot_be_a_minute_are_refused_with_their_line() {
        let head = "rule,fingerprint,minute,count,sum,min,max,matches\n";
        for (row, why) in [
            ("r,f,2023-07-29 00:01:00,0,0,0,0,0", "`count` is 0"),
            ("r,f,2023-07-29 00:01:00,2,2,1,1,3", "more than `count`"),
            ("r,f,2023-07-29 00:01:00,2,2,3,1,2", "more than `max`"),
            ("r,f,2023-07-29 00:01:00,2,x,1,1,2", "`sum`: not a number"),
            ("r,f,2023-07-29 00:01:00,2,2,1,1", "7 cells"),
        ] {
            let e = parse("s.csv", &format!("{head}{row}\n")).unwrap_err();
            assert_eq!(e.line, 2, "{row}");
            assert!(e.message.contains(why), "{row}: {e}");
        }
        let e =
            parse("s.csv", &format!("{head}r,f,2023-07-29 00:01:00,1,1,1,1,1\nr,g,2023-07-29 00:02:00,1,1,1,1,1\n"))
                .unwrap_err();
        assert!(e.message.contains("two fingerprints"), "{e}");
    }

    #[test]
    fn a_percentile_keeps_values_only_if_every_minute_has_them() {
        let mut r = RuleSeries::new("fp".into(), true);
        r.add_minute(1, stats(&[1.0, 2.0], true));
        assert!(r.values);
        r.add_minute(2, stats(&[3.0], false));
        assert!(!r.values);
        assert!(r.minutes.values().all(|s| s.values.is_none()));
        r.add_minute(3, stats(&[4.0], true));
        r.add_minute(1, stats(&[5.0], true));
        assert!(r.minutes.values().all(|s| s.values.is_none()), "nor any set added later");
        assert_eq!(r.minutes[&1].count, 3);
    }

    #[test]
    fn inputs_of_two_files_overlap_when_one_holds_the_other() {
        let at = |list: &[(&str, usize)]| {
            let v: Vec<(String, usize)> = list.iter().map(|(p, f)| (p.to_string(), *f)).collect();
            overlap(&v).map(|(a, b)| (v[a].0.clone(), v[b].0.clone()))
        };
        assert_eq!(at(&[("logs/a", 0), ("logs/b", 1), ("logs/ab", 2)]), None);
        assert_eq!(at(&[("logs/a/x.gz", 0), ("logs/a/y.gz", 1)]), None);
        // A folder and a file in it, however far apart in the list.
        let found = at(&[("logs/a", 0), ("logs/a/x.gz", 0), ("logs/a-b", 1), ("logs/a/y/z.gz", 1)]);
        assert_eq!(found, Some(("logs/a".into(), "logs/a/y/z.gz".into())));
        assert_eq!(at(&[("logs/", 1), ("logs/q", 0)]), Some(("logs/".into(), "logs/q".into())));
        assert_eq!(at(&[("x.gz", 0), ("x.gz", 1)]), Some(("x.gz".into(), "x.gz".into())));
        // Within one file's own inputs, scan counts each file once.
        assert_eq!(at(&[("logs", 0), ("logs/a", 0)]), None);
    }

    #[test]
    fn event_ids_must_come_in_order_and_in_their_part() {
        use base64::Engine as _;
        let line = |ids: &[&str]| {
            let bytes: Vec<u8> = ids.iter().flat_map(|i| EventId::of(i).to_bytes()).collect();
            json!({ "kind": "ids", "ids": base64::engine::general_purpose::STANDARD.encode(bytes) })
        };
        let (a, b) = ("10000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002");
        let part = part_of(&EventId::of(a));
        let mut list = Vec::new();
        read_ids(&line(&[a, b]), part, &mut list).unwrap();
        assert_eq!(list, [(part, vec![EventId::of(a), EventId::of(b)])]);
        assert!(read_ids(&line(&[a]), part, &mut list).unwrap_err().contains("not in order"));
        assert!(read_ids(&line(&[a]), part + 1, &mut Vec::new()).unwrap_err().contains("wrong part"));
        assert!(read_ids(&line(&[a]), part - 1, &mut list).unwrap_err().contains("parts out of order"));
        let cut = json!({ "kind": "ids", "ids": "AAAA" });
        assert!(read_ids(&cut, part, &mut Vec::new()).unwrap_err().contains("whole number"));
    }

    #[test]
    fn ndjson_needs_its_header_first_and_its_end_last() {
        let e = parse("a.series", "{\"kind\":\"minute\"}\n").unwrap_err();
        assert!(e.message.contains("first line must be the header"), "{e}");
        let header = format!(
            r#"{{"kind":"header","format":"{FORMAT}","version":{VERSION},"inputs":[],"refused":[],"lag_ms":0}}"#
        );
        let e = parse("a.series", &format!("{header}\n")).unwrap_err();
        assert!(e.message.contains("cut short"), "{e}");
        let e = parse("a.series", &format!("{header}\n{{\"kind\":\"end\",\"lines\":2}}\n")).unwrap_err();
        assert!(e.message.contains("lines are missing"), "{e}");
        let e = parse("a.series", &format!("{header}\n{{\"kind\":\"end\",\"lines\":1}}\n")).unwrap_err();
        assert!(e.message.contains("no inputs line"), "{e}");
        let inputs = r#"{"kind":"inputs","totals":{"archives":0,"forms":{},"files_read":0,"files_failed":0,"records":0,"records_invalid":0,"records_parsed":0,"records_oversized":0,"bytes_compressed":0,"bytes_decompressed":0,"delivery_hours":[]},"skipped":{},"files":[],"skipped_members":[],"path_problems":[],"duplicate_copies":0,"duplicates_problem":null,"duplicate_examples":[],"lost":null,"ids_complete":true,"notes":[]}"#;
        assert!(parse("a.series", &format!("{header}\n{inputs}\n{{\"kind\":\"end\",\"lines\":2}}\n")).is_ok());
        let old = header.replace(&format!("\"version\":{VERSION}"), "\"version\":99");
        let e = parse("a.series", &format!("{old}\n")).unwrap_err();
        assert!(e.message.contains("format version 99"), "{e}");
    }
}
