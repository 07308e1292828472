//! Finding the records of a CloudTrail log document without parsing them.
//!
//! A CloudTrail log file is one JSON document `{"Records":[{...},{...}]}`.
//! [`Splitter`] walks the top level of that document and returns the byte
//! range of each record object, tracking only quotes, escapes and braces
//! inside records. Each record is parsed later, and only if a rule needs it.
//!
//! The splitter is incremental: it works on a buffer that the caller fills
//! and drains, so memory is bounded by the largest record, not by the file.
//! Positions it returns are relative to the start of the buffer; after the
//! caller removes `n` consumed bytes from the front it calls
//! [`Splitter::consumed`].
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use std::fmt;

use super::blocks::{find_object_end_probed, Engine, ScanState};
use super::probes::{Hit, Probes};

/// A record found in the buffer: `buf[start..end]` is one JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSpan {
    /// First byte (the `{`).
    pub start: usize,
    /// One past the closing `}`.
    pub end: usize,
    /// The record contains a backslash: without one it holds no escapes.
    pub backslash: bool,
}

impl RecordSpan {
    /// The span `buf[start..end]`, looking for a backslash in it.
    pub(crate) fn of(buf: &[u8], start: usize, end: usize) -> RecordSpan {
        let bytes = &buf[start..end];
        RecordSpan { start, end, backslash: memchr::memchr(b'\\', bytes).is_some() }
    }
}

/// What is wrong with the document structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitError {
    /// Absolute byte offset (in the decompressed stream) where it went wrong.
    pub(crate) offset: u64,
    /// What.
    pub(crate) kind: SplitErrorKind,
}

/// Kinds of [`SplitError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SplitErrorKind {
    /// The document is not a JSON object.
    NotAnObject,
    /// The top-level object has no `Records` array.
    NoRecords,
    /// `Records` is not an array.
    RecordsNotArray,
    /// An element of `Records` is not an object.
    RecordNotObject,
    /// A byte that cannot appear at this point of the document.
    Unexpected(u8),
    /// The data ended inside the document (truncated file).
    Truncated,
    /// Text after the end of the document.
    TrailingData,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SplitErrorKind::NotAnObject => write!(f, "not a JSON object")?,
            SplitErrorKind::NoRecords => write!(f, "no Records array")?,
            SplitErrorKind::RecordsNotArray => write!(f, "Records is not an array")?,
            SplitErrorKind::RecordNotObject => write!(f, "a Records element is not an object")?,
            SplitErrorKind::Unexpected(b) if b.is_ascii_graphic() => {
                write!(f, "invalid JSON: unexpected '{}'", *b as char)?
            }
            SplitErrorKind::Unexpected(b) => write!(f, "invalid JSON: unexpected byte 0x{b:02x}")?,
            SplitErrorKind::Truncated => write!(f, "truncated: the JSON document ends early")?,
            SplitErrorKind::TrailingData => write!(f, "data after the end of the JSON document")?,
        }
        write!(f, " at byte offset {}", self.offset)
    }
}

impl std::error::Error for SplitError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before a document (or between concatenated documents).
    Start,
    /// Expecting a key or `}` in the top-level object.
    TopKey { first: bool },
    /// Inside a top-level value other than Records, being skipped.
    SkipValue,
    /// After a top-level value: expecting `,` or `}`.
    TopAfterValue,
    /// Inside `Records`, expecting a record or `]`.
    RecordsNext { first: bool },
    /// Inside a record being scanned.
    InRecord,
    /// After a record: expecting `,` or `]`.
    RecordsAfter,
    /// After the document.
    Done,
}

/// How the records are laid out in the JSON text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One object (or several, concatenated) holding the records in the
    /// array under this key: `{"Records":[...]}` for CloudTrail log files,
    /// `{"Events":[...]}` for `aws cloudtrail lookup-events` output.
    Document(&'static str),
    /// A top-level array of record objects (`jq '.Records'` output).
    Array,
    /// Record objects one after another, separated by blanks (pretty-printed
    /// `jq '.Records[]'` output).
    Objects,
}

/// Incremental record finder (see the module docs).
#[derive(Clone, Debug)]
pub struct Splitter {
    layout: Layout,
    state: State,
    /// Next byte to look at, relative to the buffer.
    pos: usize,
    /// Absolute offset of buffer position 0.
    base: u64,
    /// Start of the record or skipped value being scanned.
    value_start: usize,
    /// Brace/string state inside the record being scanned.
    scan: ScanState,
    engine: Engine,
    /// Needles looked for in the records, and where they hit.
    probes: Probes,
    hits: Vec<Hit>,
    /// Nesting and string state of a skipped top-level value.
    depth: u32,
    in_string: bool,
    /// Whether a `Records` key was seen in the current document.
    saw_records: bool,
    /// Whether any document was seen at all.
    saw_document: bool,
    /// The record being scanned is too large: its bytes are not kept.
    discarding: bool,
    /// Absolute offset where the current record starts.
    record_offset: u64,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter::new()
    }
}

/// Result of one step of the splitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A complete record.
    Record(RecordSpan),
    /// A record whose bytes were discarded (see `Splitter::discard_pending`).
    Discarded {
        /// Absolute offset of its first byte.
        offset: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// More data is needed (or, at end of input, the document is complete).
    NeedMore,
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Splitter {
    /// A splitter at the start of a CloudTrail log document.
    pub fn new() -> Splitter {
        Splitter::with_layout(Layout::Document("Records"))
    }

    /// A splitter at the start of input laid out as `layout`.
    pub(crate) fn with_layout(layout: Layout) -> Splitter {
        Splitter {
            layout,
            state: State::Start,
            pos: 0,
            base: 0,
            value_start: 0,
            scan: ScanState::default(),
            engine: Engine::detect(),
            probes: Probes::none(),
            hits: Vec::new(),
            depth: 0,
            in_string: false,
            saw_records: false,
            saw_document: false,
            discarding: false,
            record_offset: 0,
        }
    }

    /// Absolute offset of buffer position `pos`.
    pub(crate) fn absolute(&self, pos: usize) -> u64 {
        self.base + pos as u64
    }

    /// Start at byte `n` of the input instead of its first (past a
    /// byte-order mark). Only before the first step.
    pub(crate) fn skip_prefix(&mut self, n: usize) {
        debug_assert!(self.pos == 0 && self.base == 0 && self.state == State::Start);
        self.pos = n;
        self.value_start = n;
    }

    /// How many bytes at the front of the buffer are no longer needed (the
    /// caller may drop them and then call [`Splitter::consumed`]).
    pub(crate) fn reclaimable(&self) -> usize {
        match self.state {
            State::InRecord if self.discarding => self.pos,
            State::InRecord | State::SkipValue => self.value_start,
            _ => self.pos,
        }
    }

    /// Stop keeping the bytes of the record being scanned (it is too large);
    /// the splitter still finds its end and then reports
    /// [`Step::Discarded`].
    pub(crate) fn discard_pending(&mut self) {
        if self.state == State::InRecord {
            self.discarding = true;
        }
    }

    /// The caller removed `n` bytes from the front of the buffer.
    pub(crate) fn consumed(&mut self, n: usize) {
        debug_assert!(n <= self.reclaimable());
        self.pos -= n;
        self.value_start = self.value_start.saturating_sub(n);
        self.base += n as u64;
        self.hits.retain(|h| h.pos >= n);
        for h in &mut self.hits {
            h.pos -= n;
        }
    }

    /// Bytes of the record currently being scanned (0 when between records).
    pub(crate) fn pending_record_len(&self) -> u64 {
        match self.state {
            State::InRecord => self.absolute(self.pos) - self.record_offset,
            _ => 0,
        }
    }

    fn error(&self, at: usize, kind: SplitErrorKind) -> SplitError {
        SplitError { offset: self.absolute(at), kind }
    }

    /// Skip blanks; `None` when the buffer ran out.
    #[inline]
    fn next_non_ws(&mut self, buf: &[u8]) -> Option<u8> {
        while self.pos < buf.len() {
            let b = buf[self.pos];
            if !is_ws(b) {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Advance to the next record. `eof`: no more data will follow `buf`.
    pub fn next(&mut self, buf: &[u8], eof: bool) -> Result<Step, SplitError> {
        loop {
            match self.state {
                State::Start => match self.next_non_ws(buf) {
                    None => {
                        return if !eof || self.saw_document {
                            Ok(Step::NeedMore)
                        } else {
                            Err(self.error(self.pos, SplitErrorKind::Truncated))
                        }
                    }
                    Some(b'{') if self.layout == Layout::Objects => {
                        self.saw_document = true;
                        self.begin_record();
                    }
                    Some(b'{') if matches!(self.layout, Layout::Document(_)) => {
                        self.pos += 1;
                        self.saw_document = true;
                        self.saw_records = false;
                        self.state = State::TopKey { first: true };
                    }
                    Some(b'[') if self.layout == Layout::Array && !self.saw_document => {
                        self.pos += 1;
                        self.saw_document = true;
                        self.state = State::RecordsNext { first: true };
                    }
                    Some(b) if self.saw_document => {
                        return Err(self.error(self.pos, SplitErrorKind::Unexpected(b)));
                    }
                    Some(_) => return Err(self.error(self.pos, SplitErrorKind::NotAnObject)),
                },
                State::TopKey { first } => match self.next_non_ws(buf) {
                    None => return self.more(eof),
                    Some(b'}') if first => {
                        self.pos += 1;
                        return Err(self.error(self.pos - 1, SplitErrorKind::NoRecords));
                    }
                    Some(b'"') => {
                        let key_start = self.pos + 1;
                        let Some(close) = find_string_end(buf, key_start) else {
                            return self.more(eof);
                        };
                        let mut after = close + 1;
                        while after < buf.len() && is_ws(buf[after]) {
                            after += 1;
                        }
                        // Need the ':' and the first byte of the value.
                        let mut value = after + 1;
                        while value < buf.len() && is_ws(buf[value]) {
                            value += 1;
                        }
                        if value >= buf.len() {
                            return self.more(eof);
                        }
                        if buf[after] != b':' {
                            return Err(self.error(after, SplitErrorKind::Unexpected(buf[after])));
                        }
                        let Layout::Document(key) = self.layout else { unreachable!("only documents have keys") };
                        if &buf[key_start..close] == key.as_bytes() {
                            if buf[value] != b'[' {
                                return Err(self.error(value, SplitErrorKind::RecordsNotArray));
                            }
                            self.saw_records = true;
                            self.pos = value + 1;
                            self.state = State::RecordsNext { first: true };
                        } else {
                            self.pos = value;
                            self.value_start = value;
                            self.depth = 0;
                            self.in_string = false;
                            self.state = State::SkipValue;
                        }
                    }
                    Some(b) => return Err(self.error(self.pos, SplitErrorKind::Unexpected(b))),
                },
                State::SkipValue => {
                    if !self.skip_value(buf)? {
                        return self.more(eof);
                    }
                    self.state = State::TopAfterValue;
                }
                State::TopAfterValue => match self.next_non_ws(buf) {
                    None => return self.more(eof),
                    Some(b',') => {
                        self.pos += 1;
                        self.state = State::TopKey { first: false };
                    }
                    Some(b'}') => {
                        self.pos += 1;
                        if !self.saw_records {
                            return Err(self.error(self.pos - 1, SplitErrorKind::NoRecords));
                        }
                        self.state = State::Done;
                    }
                    Some(b) => return Err(self.error(self.pos, SplitErrorKind::Unexpected(b))),
                },
                State::RecordsNext { first } => match self.next_non_ws(buf) {
                    None => return self.more(eof),
                    Some(b']') if first => {
                        self.pos += 1;
                        self.state = self.after_array();
                    }
                    Some(b'{') => self.begin_record(),
                    Some(b) if b == b']' => return Err(self.error(self.pos, SplitErrorKind::Unexpected(b))),
                    Some(_) => return Err(self.error(self.pos, SplitErrorKind::RecordNotObject)),
                },
                State::InRecord => {
                    if !self.scan_record(buf) {
                        return self.more(eof);
                    }
                    self.state = if self.layout == Layout::Objects { State::Start } else { State::RecordsAfter };
                    if self.discarding {
                        self.discarding = false;
                        let offset = self.record_offset;
                        return Ok(Step::Discarded { offset, len: self.absolute(self.pos) - offset });
                    }
                    let (start, end) = (self.value_start, self.pos);
                    let backslash = self.scan.backslash;
                    return Ok(Step::Record(RecordSpan { start, end, backslash }));
                }
                State::RecordsAfter => match self.next_non_ws(buf) {
                    None => return self.more(eof),
                    Some(b',') => {
                        self.pos += 1;
                        self.state = State::RecordsNext { first: false };
                    }
                    Some(b']') => {
                        self.pos += 1;
                        self.state = self.after_array();
                    }
                    Some(b) => return Err(self.error(self.pos, SplitErrorKind::Unexpected(b))),
                },
                State::Done => match self.next_non_ws(buf) {
                    None => return Ok(Step::NeedMore),
                    // Concatenated documents (e.g. one per gzip member).
                    Some(b'{') if matches!(self.layout, Layout::Document(_)) => self.state = State::Start,
                    Some(_) => return Err(self.error(self.pos, SplitErrorKind::TrailingData)),
                },
            }
        }
    }

    /// Look for `probes` in the records found from now on, pushing their
    /// hits (positions in the buffer) to `hits`, which is cleared first. The
    /// hits of a record are complete when the record is found within one
    /// buffer, as when a whole input is split at once.
    pub fn probe(&mut self, probes: Probes, mut hits: Vec<Hit>) {
        hits.clear();
        self.probes = probes;
        self.hits = hits;
    }

    /// The hits found (see [`Splitter::probe`]), in order for each probe.
    pub fn take_hits(&mut self) -> Vec<Hit> {
        std::mem::take(&mut self.hits)
    }

    fn begin_record(&mut self) {
        self.value_start = self.pos;
        self.record_offset = self.absolute(self.pos);
        self.pos += 1;
        self.scan = ScanState::in_object();
        self.discarding = false;
        self.state = State::InRecord;
    }

    fn after_array(&self) -> State {
        match self.layout {
            Layout::Array => State::Done,
            _ => State::TopAfterValue,
        }
    }

    fn more(&self, eof: bool) -> Result<Step, SplitError> {
        if eof {
            let at = match self.state {
                State::InRecord => {
                    return Err(SplitError { offset: self.record_offset, kind: SplitErrorKind::Truncated })
                }
                State::SkipValue => self.value_start,
                _ => self.pos,
            };
            Err(self.error(at, SplitErrorKind::Truncated))
        } else {
            Ok(Step::NeedMore)
        }
    }

    /// Scan the current record to its closing brace. Returns false when the
    /// buffer ran out first (state is kept for the next call).
    #[inline]
    fn scan_record(&mut self, buf: &[u8]) -> bool {
        match find_object_end_probed(self.engine, buf, self.pos, &mut self.scan, &self.probes, &mut self.hits) {
            Some(end) => {
                self.pos = end;
                true
            }
            None => {
                self.pos = buf.len();
                false
            }
        }
    }

    /// Skip a top-level value other than Records (any JSON value). Returns
    /// false when the buffer ran out first.
    fn skip_value(&mut self, buf: &[u8]) -> Result<bool, SplitError> {
        while self.pos < buf.len() {
            let c = buf[self.pos];
            if self.in_string {
                match c {
                    b'\\' => {
                        if self.pos + 1 >= buf.len() {
                            return Ok(false);
                        }
                        self.pos += 2;
                        continue;
                    }
                    b'"' => {
                        self.in_string = false;
                        self.pos += 1;
                        if self.depth == 0 {
                            return Ok(true);
                        }
                        continue;
                    }
                    _ => {}
                }
                self.pos += 1;
                continue;
            }
            match c {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    if self.depth == 0 {
                        // End of the enclosing object: the value was a scalar.
                        return Ok(true);
                    }
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.pos += 1;
                        return Ok(true);
                    }
                }
                b',' if self.depth == 0 => return Ok(true),
                _ => {}
            }
            self.pos += 1;
        }
        Ok(false)
    }
}

/// Index of the closing quote of a string whose body starts at `start`.
fn find_string_end(buf: &[u8], mut start: usize) -> Option<usize> {
    loop {
        let k = memchr::memchr2(b'"', b'\\', buf.get(start..)?)?;
        let at = start + k;
        if buf[at] == b'"' {
            return Some(at);
        }
        start = at + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Split a whole document, feeding it in chunks of `chunk` bytes and
    /// draining consumed bytes as a streaming reader would.
    fn split_chunked(doc: &[u8], chunk: usize) -> Result<Vec<String>, SplitError> {
        split_layout_chunked(doc, chunk, Layout::Document("Records"))
    }

    fn split_layout_chunked(doc: &[u8], chunk: usize, layout: Layout) -> Result<Vec<String>, SplitError> {
        let mut sp = Splitter::with_layout(layout);
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut out = Vec::new();
        loop {
            let eof = fed >= doc.len();
            match sp.next(&buf, eof)? {
                Step::Record(r) => {
                    // The flags the block scan gathered agree with a look at
                    // the whole record, however it was cut.
                    assert_eq!(r, RecordSpan::of(&buf, r.start, r.end), "flags of a record");
                    out.push(String::from_utf8_lossy(&buf[r.start..r.end]).into_owned())
                }
                Step::Discarded { .. } => unreachable!("nothing is discarded here"),
                Step::NeedMore if eof => return Ok(out),
                Step::NeedMore => {
                    let n = sp.reclaimable();
                    buf.drain(..n);
                    sp.consumed(n);
                    let next = (fed + chunk).min(doc.len());
                    buf.extend_from_slice(&doc[fed..next]);
                    fed = next;
                }
            }
        }
    }

    fn split(doc: &str) -> Result<Vec<String>, SplitErrorKind> {
        let whole = split_chunked(doc.as_bytes(), usize::MAX / 2).map_err(|e| e.kind)?;
        for chunk in [1, 2, 3, 7, 64] {
            let got = split_chunked(doc.as_bytes(), chunk).map_err(|e| e.kind)?;
            assert_eq!(got, whole, "chunk size {chunk} changes the result");
        }
        Ok(whole)
    }

    fn split_layout(doc: &str, layout: Layout) -> Result<Vec<String>, SplitErrorKind> {
        let whole = split_layout_chunked(doc.as_bytes(), usize::MAX / 2, layout).map_err(|e| e.kind)?;
        for chunk in [1, 2, 5, 64] {
            let got = split_layout_chunked(doc.as_bytes(), chunk, layout).map_err(|e| e.kind)?;
            assert_eq!(got, whole, "chunk size {chunk} changes the result");
        }
        Ok(whole)
    }

    #[test]
    fn other_layouts() {
        let events = Layout::Document("Events");
        assert_eq!(
            split_layout(r#"{"Events":[{"a":1},{"b":2}],"NextToken":"x"}"#, events).unwrap(),
            [r#"{"a":1}"#, r#"{"b":2}"#]
        );
        assert_eq!(split_layout(r#"{"Records":[{"a":1}]}"#, events).unwrap_err(), SplitErrorKind::NoRecords);
        let array = Layout::Array;
        assert_eq!(split_layout(" [ {\"a\":1} ,\n{\"b\":\"]\"} ]\n", array).unwrap(), [r#"{"a":1}"#, r#"{"b":"]"}"#]);
        assert_eq!(split_layout("[]", array).unwrap(), Vec::<String>::new());
        assert_eq!(split_layout("[1]", array).unwrap_err(), SplitErrorKind::RecordNotObject);
        assert_eq!(split_layout("[{}] [{}]", array).unwrap_err(), SplitErrorKind::TrailingData);
        assert_eq!(split_layout("[{}", array).unwrap_err(), SplitErrorKind::Truncated);
        let objects = Layout::Objects;
        let pretty = "{\n  \"a\": 1,\n  \"b\": {\"c\": \"}\"}\n}\n{\n  \"d\": 2\n}\n";
        assert_eq!(
            split_layout(pretty, objects).unwrap(),
            ["{\n  \"a\": 1,\n  \"b\": {\"c\": \"}\"}\n}", "{\n  \"d\": 2\n}"]
        );
        assert_eq!(split_layout("{}{}", objects).unwrap(), ["{}", "{}"]);
        assert_eq!(split_layout("{} x", objects).unwrap_err(), SplitErrorKind::Unexpected(b'x'));
        assert_eq!(split_layout("{\"a\":1", objects).unwrap_err(), SplitErrorKind::Truncated);
        assert_eq!(split_layout("", objects).unwrap_err(), SplitErrorKind::Truncated);
    }

    #[test]
    fn flags_records_with_a_backslash() {
        let flags = |doc: &[u8]| {
            let mut sp = Splitter::with_layout(Layout::Document("Records"));
            let mut flags = Vec::new();
            while let Step::Record(r) = sp.next(doc, true).unwrap() {
                flags.push(r.backslash);
            }
            flags
        };
        let doc = b"{\"Records\":[{\"a\":\"caf\xc3\xa9\"},{\"b\":\"\\\"\"},{\"c\":\"\xff\"},{\"d\":1}]}";
        assert_eq!(flags(doc), [false, true, false, false]);
        // Longer records cross 64-byte blocks; the flag covers every one.
        let mut long = br#"{"Records":[{"a":""#.to_vec();
        long.extend(std::iter::repeat_n(b'x', 200));
        long.extend_from_slice("é\"},{\"b\":\"".as_bytes());
        long.extend(std::iter::repeat_n(b'y', 200));
        long.extend_from_slice(br#"\n"}]}"#);
        assert_eq!(flags(&long), [false, true]);
        assert_eq!(split_chunked(&long, 7).unwrap().len(), 2);
    }

    #[test]
    fn finds_records() {
        let doc = r#"{"Records":[{"a":1},{"b":{"c":"}"}},{"d":"\"{"}]}"#;
        assert_eq!(split(doc).unwrap(), [r#"{"a":1}"#, r#"{"b":{"c":"}"}}"#, r#"{"d":"\"{"}"#]);
    }

    #[test]
    fn whitespace_and_other_keys() {
        let doc = "\n{ \"x\" : [1, {\"y\": \"]\"}] ,\n \"Records\" : [ {\"a\":1} ,\n {\"a\":2} ] , \"z\": null }\n";
        assert_eq!(split(doc).unwrap(), [r#"{"a":1}"#, r#"{"a":2}"#]);
    }

    #[test]
    fn empty_and_concatenated_documents() {
        assert_eq!(split(r#"{"Records":[]}"#).unwrap(), Vec::<String>::new());
        assert_eq!(split(r#"{"Records":[{"a":1}]}{"Records":[{"a":2}]}"#).unwrap(), [r#"{"a":1}"#, r#"{"a":2}"#]);
    }

    #[test]
    fn structural_errors() {
        assert_eq!(split("[1,2]").unwrap_err(), SplitErrorKind::NotAnObject);
        assert_eq!(split(r#"{"Events":[]}"#).unwrap_err(), SplitErrorKind::NoRecords);
        assert_eq!(split("{}").unwrap_err(), SplitErrorKind::NoRecords);
        assert_eq!(split(r#"{"Records":{}}"#).unwrap_err(), SplitErrorKind::RecordsNotArray);
        assert_eq!(split(r#"{"Records":[1]}"#).unwrap_err(), SplitErrorKind::RecordNotObject);
        assert_eq!(split(r#"{"Records":[{"a":1}"#).unwrap_err(), SplitErrorKind::Truncated);
        assert_eq!(split(r#"{"Records":[{"a":"#).unwrap_err(), SplitErrorKind::Truncated);
        assert_eq!(split(r#"{"Records":[{"a":1}]} x"#).unwrap_err(), SplitErrorKind::TrailingData);
        assert_eq!(split("").unwrap_err(), SplitErrorKind::Truncated);
        assert_eq!(split(r#"{"Records":[{"a":1},]}"#).unwrap_err(), SplitErrorKind::Unexpected(b']'));
    }

    #[test]
    fn oversized_records_are_discarded_with_bounded_memory() {
        let big = format!(r#"{{"x":"{}"}}"#, "y".repeat(10_000));
        let doc = format!(r#"{{"Records":[{{"a":1}},{big},{{"b":2}}]}}"#);
        let mut sp = Splitter::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        let (mut records, mut discarded, mut peak) = (Vec::new(), Vec::new(), 0);
        loop {
            let eof = fed >= doc.len();
            match sp.next(&buf, eof).unwrap() {
                Step::Record(r) => records.push(String::from_utf8(buf[r.start..r.end].to_vec()).unwrap()),
                Step::Discarded { offset, len } => discarded.push((offset, len)),
                Step::NeedMore if eof => break,
                Step::NeedMore => {
                    if sp.pending_record_len() > 1000 {
                        sp.discard_pending();
                    }
                    let n = sp.reclaimable();
                    buf.drain(..n);
                    sp.consumed(n);
                    let next = (fed + 100).min(doc.len());
                    buf.extend_from_slice(&doc.as_bytes()[fed..next]);
                    fed = next;
                    peak = peak.max(buf.len());
                }
            }
        }
        assert_eq!(records, [r#"{"a":1}"#, r#"{"b":2}"#]);
        assert_eq!(discarded, [(20, big.len() as u64)]);
        assert!(peak < 1200, "buffer grew to {peak}");
    }

    #[test]
    fn truncation_keeps_earlier_records() {
        let doc = br#"{"Records":[{"a":1},{"a":2},{"a":"#;
        let mut sp = Splitter::new();
        let mut got = Vec::new();
        let err = loop {
            match sp.next(doc, true) {
                Ok(Step::Record(r)) => got.push(r),
                Ok(Step::Discarded { .. }) => unreachable!(),
                Ok(Step::NeedMore) => panic!("should fail"),
                Err(e) => break e,
            }
        };
        assert_eq!(got.len(), 2);
        assert_eq!(err.kind, SplitErrorKind::Truncated);
        assert_eq!(err.offset, 28, "points at the start of the cut record");
    }
}
