//! The terminal report: a header per alarm, one line per breaching window
//! with its first events, the alarm's state timeline, and the inputs
//! summary. Every log-derived string goes through [`super::escape::terminal`].

use std::io::{self, Write};

use super::escape::terminal;
use super::model::{AlarmReport, Document, EventReport, Settings, WindowReport};
use crate::alarm::AlarmState;
use crate::record::time::format_rfc3339;
use crate::record::{EpochMs, EventSummary};

/// ANSI styling, off unless writing to a terminal without `NO_COLOR`.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Whether to emit colour codes.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub(crate) fn red(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    pub(crate) fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub(crate) fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// Group digits: 1234567 → 1,234,567.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number the way people read it: integers without a fraction.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn duration_words(s: i64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{} day", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// `2023-07-10 11:50`, with the seconds when they are not zero.
fn short(t: EpochMs) -> String {
    let ts = format_rfc3339(t);
    let t = ts.replacen('T', " ", 1);
    let t = t.strip_suffix('Z').unwrap_or(&t);
    t.strip_suffix(":00").unwrap_or(t).to_string()
}

fn window_span(w: &WindowReport) -> String {
    span(w.start, w.end)
}

/// `2023-07-10 11:50 – 11:55`, the second date only when it differs.
fn span(start: EpochMs, end: EpochMs) -> String {
    let (s, e) = (short(start), short(end));
    if s.get(..10) == e.get(..10) {
        format!("{s} – {}", &e[11..])
    } else {
        format!("{s} – {e}")
    }
}

/// Matching records per hour (or per longer bucket, so that a long replay
/// fits a line) as a one-line bar chart, from the first window with data to
/// the last; a window's matches count in the bucket it starts in.
fn sparkline(a: &AlarmReport) -> Option<String> {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    const MAX_BUCKETS: i64 = 96;
    let windows: Vec<(EpochMs, u64)> = a.windows.iter().map(|w| (w.start, w.matches)).collect();
    let (first, last) = (windows.first()?.0, windows.last()?.0);
    let hour = 3_600_000;
    let sizes = [(hour, "hour"), (6 * hour, "6 hours"), (24 * hour, "day"), (7 * 24 * hour, "week")];
    let (size, unit) = sizes
        .into_iter()
        .map(|(s, u)| (s.max(a.period_s * 1000), u))
        .find(|(s, _)| last.div_euclid(*s) - first.div_euclid(*s) < MAX_BUCKETS)
        .unwrap_or((30 * 24 * hour, "30 days"));
    let start = first.div_euclid(size);
    let mut counts = vec![0u64; (last.div_euclid(size) - start + 1) as usize];
    for (t, m) in windows {
        counts[(t.div_euclid(size) - start) as usize] += m;
    }
    let max = *counts.iter().max()?;
    if max == 0 {
        return None;
    }
    let bars: String = counts
        .iter()
        .map(|&c| if c == 0 { '·' } else { BARS[((c * 8).div_ceil(max) as usize).clamp(1, 8) - 1] })
        .collect();
    let from = short(start * size);
    Some(format!("matches per {unit}  {bars}  from {from} UTC, most {}", thousands(max)))
}

fn event_line(e: &EventReport) -> String {
    let ts = format_rfc3339(e.time);
    format!("{}  {}", ts.get(11..19).unwrap_or(&ts), event_fields(&e.summary))
}

/// An event's key fields on one line, escaped for the terminal.
pub(super) fn event_fields(s: &EventSummary) -> String {
    let source = s.event_source.as_deref().unwrap_or("?").trim_end_matches(".amazonaws.com");
    let mut parts = vec![format!("{}:{}", terminal(source), terminal(s.event_name.as_deref().unwrap_or("?")))];
    if let Some(c) = &s.error_code {
        parts.push(terminal(c).into_owned());
    }
    parts.push(terminal(s.principal.as_deref().unwrap_or("-")).into_owned());
    if let Some(ip) = &s.source_ip {
        parts.push(terminal(ip).into_owned());
    }
    parts.join("  ")
}

/// A record on several lines, the fields an analyst reads first: what,
/// who, from where, which account and region, the error, where the record
/// is; with `--full`, the record itself (escaped, on one line).
fn event_block(out: &mut impl Write, e: &EventReport, indent: &str, st: Style) -> io::Result<()> {
    let s = &e.summary;
    let t = |v: &Option<String>| v.as_deref().map(|v| terminal(v).into_owned());
    let ts = format_rfc3339(e.time);
    let mut head = vec![ts.get(11..19).unwrap_or(&ts).to_string()];
    let source = s.event_source.as_deref().unwrap_or("?").trim_end_matches(".amazonaws.com");
    head.push(format!("{}:{}", terminal(source), terminal(s.event_name.as_deref().unwrap_or("?"))));
    head.extend(t(&s.error_code));
    writeln!(out, "{indent}{}", st.bold(&head.join("  ")))?;
    let pad = format!("{indent}  ");
    let mut line = |label: &str, parts: Vec<String>| -> io::Result<()> {
        if parts.is_empty() {
            return Ok(());
        }
        writeln!(out, "{pad}{}  {}", st.dim(&format!("{label:<7}")), parts.join("  ·  "))
    };
    let mut who: Vec<String> = t(&s.principal).into_iter().collect();
    let kind = [t(&s.identity_type), t(&s.access_key_id).map(|k| format!("key {k}"))];
    let kind: Vec<String> = kind.into_iter().flatten().collect();
    if !kind.is_empty() {
        who.push(kind.join(", "));
    }
    line("who", who)?;
    line("from", [t(&s.source_ip), t(&s.user_agent)].into_iter().flatten().collect())?;
    let place = [t(&s.region), t(&s.account).map(|a| format!("account {a}"))];
    line("where", place.into_iter().flatten().collect())?;
    line("error", t(&s.error_message).into_iter().collect())?;
    for (sel, v) in &e.groups {
        let v = v.as_deref().map_or_else(|| "(absent)".into(), |v| terminal(v).into_owned());
        line("group", vec![format!("{} = {v}", terminal(sel))])?;
    }
    let mut at = vec![format!("{} @ byte {}", terminal(&e.path), e.offset)];
    at.extend(t(&s.event_id).map(|id| format!("eventID {id}")));
    line("record", at)?;
    if let Some(r) = &e.record {
        writeln!(out, "{pad}{}  {}", st.dim(&format!("{:<7}", "full")), terminal(r.get()))?;
    }
    Ok(())
}

/// A window's or an episode's records: as blocks (`detailed`) or one line
/// each, then how many more there are.
fn events(out: &mut impl Write, events: &[EventReport], matches: u64, detailed: bool, st: Style) -> io::Result<()> {
    for e in events {
        if detailed {
            event_block(out, e, "      ", st)?;
        } else {
            writeln!(out, "      {}", st.dim(&event_line(e)))?;
        }
    }
    let more = matches.saturating_sub(events.len() as u64);
    if more > 0 && !events.is_empty() {
        writeln!(out, "      {}", st.dim(&format!("… and {} more", thousands(more))))?;
    }
    Ok(())
}

/// Each ALARM episode with its records and who is behind them.
fn episodes(out: &mut impl Write, a: &AlarmReport, st: Style) -> io::Result<()> {
    let Some(list) = &a.episodes else { return Ok(()) };
    let mut list = list.iter().peekable();
    if list.peek().is_none() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "  {}", st.bold("ALARM EPISODES (UTC)"))?;
    for e in list {
        let span = match e.end {
            Some(end) => format!("{} ({} min)", span(e.start, end), (end - e.start) / 60_000),
            None => format!("{} – (still in ALARM at the end)", short(e.start)),
        };
        writeln!(
            out,
            "  {}  {} window{} ({} breaching) · {} matching record{}",
            st.red(&span),
            e.windows,
            plural(e.windows),
            e.breaching_windows,
            thousands(e.matches),
            plural(e.matches)
        )?;
        events(out, &e.events, e.matches, true, st)?;
        if let Some(c) = &e.contributors {
            writeln!(out, "      {}", st.bold("top contributors"))?;
            super::contributors::write_compact(out, c, "        ")?;
        }
    }
    Ok(())
}

/// The alarm's settings in a line: `Sum >= 1 over 5 min, 1 of 1 periods,
/// missing data: missing; metric value 1, no default` (not escaped).
pub(super) fn alarm_sentence(a: &AlarmReport) -> String {
    let default = a.default_value.map_or("no default".to_string(), |d| format!("default {}", num(d)));
    format!(
        "{} {} {} over {}, {} of {} periods, missing data: {}; metric value {}, {}",
        a.statistic,
        a.comparison.symbol(),
        num(a.threshold),
        duration_words(a.period_s),
        a.datapoints_to_alarm,
        a.evaluation_periods,
        a.treat_missing_data.aws_name(),
        a.metric_value,
        default
    )
}

fn alarm(out: &mut impl Write, a: &AlarmReport, settings: &Settings, st: Style) -> io::Result<()> {
    let title = a.title.as_deref().map(|t| format!("  ({})", terminal(t))).unwrap_or_default();
    writeln!(out, "{}{}", st.bold(&terminal(&a.name)), title)?;
    writeln!(out, "  pattern  {}", terminal(&a.pattern))?;
    writeln!(out, "  alarm    {}", terminal(&alarm_sentence(a)))?;
    writeln!(out)?;
    if a.breaching_windows == 0 {
        writeln!(out, "  {}", st.green("no window breached the threshold"))?;
    } else {
        writeln!(out, "  {}", st.bold(&format!("{:<32} {:>10} {:>9}", "WINDOW (UTC)", "VALUE", "MATCHES")))?;
        for w in a.windows.iter().filter(|w| w.breaching) {
            writeln!(
                out,
                "  {:<32} {:>10} {:>9}  {}",
                window_span(&w),
                num(w.value),
                thousands(w.matches),
                st.red("breaching")
            )?;
            events(out, &w.events, w.matches, settings.events == Some("windows"), st)?;
            // With episodes shown, who is behind them is said per episode.
            if let Some(c) = w.contributors.as_ref().filter(|_| settings.events != Some("episodes")) {
                writeln!(out, "      {}", st.bold("top contributors"))?;
                super::contributors::write_compact(out, c, "        ")?;
            }
            for g in &w.evidence_gaps {
                writeln!(out, "      {}", st.yellow(&format!("evidence gap: {}", terminal(g))))?;
            }
        }
    }
    if settings.events == Some("episodes") {
        episodes(out, a, st)?;
    }
    let mut transitions = a.transitions.iter().peekable();
    if transitions.peek().is_some() {
        writeln!(out)?;
        writeln!(out, "  {}", st.bold("STATE TIMELINE (UTC)"))?;
        for t in transitions {
            let to = match t.to {
                AlarmState::Alarm => st.red(t.to.aws_name()),
                AlarmState::Ok => st.green(t.to.aws_name()),
                AlarmState::InsufficientData => st.yellow(t.to.aws_name()),
            };
            writeln!(out, "  {}  {} → {}  {}", short(t.at), t.from.aws_name(), to, st.dim(&t.reason))?;
        }
    }
    writeln!(
        out,
        "  {} breaching window{} · {} ALARM episode{} ({} min in ALARM) · {} matching record{}",
        a.breaching_windows,
        plural(a.breaching_windows),
        a.alarm_episodes,
        plural(a.alarm_episodes),
        thousands(a.minutes_in_alarm),
        thousands(a.matches),
        plural(a.matches)
    )?;
    if let Some(line) = sparkline(a) {
        writeln!(out, "  {line}")?;
    }
    if let Some(c) = &a.contributors {
        if c.records > 0 {
            writeln!(out, "  {}", st.bold("TOP CONTRIBUTORS (whole run)"))?;
            super::contributors::write_text(out, c, "    ")?;
        }
    }
    let unplaced = a.unplaced.missing_time + a.unplaced.unparseable_time;
    if unplaced > 0 {
        let example = a
            .unplaced
            .examples
            .first()
            .map(|w| format!(", e.g. {} at byte {}", terminal(&w.path), w.offset))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {} matching record{} had no usable eventTime ({} missing, {} unparseable) and are in no window{}",
            st.yellow("warning:"),
            thousands(unplaced),
            plural(unplaced),
            a.unplaced.missing_time,
            a.unplaced.unparseable_time,
            example
        )?;
    }
    if a.outside_range > 0 {
        writeln!(out, "  {} datapoint{} outside --from/--to", thousands(a.outside_range), plural(a.outside_range))?;
    }
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Files skipped for their content that the text report names one by one.
const SKIPPED_SHOWN: usize = 10;

/// Write the whole report.
pub(crate) fn write(out: &mut impl Write, doc: &Document, st: Style) -> io::Result<()> {
    for a in &doc.alarms {
        alarm(out, a, &doc.settings, st)?;
        writeln!(out)?;
    }
    let i = &doc.inputs;
    let mut skipped: Vec<String> =
        i.skipped.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{n} {}", k.replace('_', " "))).collect();
    if skipped.is_empty() {
        skipped.push("none".into());
    }
    // The forms read, unless everything was a CloudTrail log file.
    let forms: Vec<String> = i
        .forms
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{} {}", thousands(*n), k.replace('_', " ")))
        .collect();
    let only_cloudtrail =
        forms.len() <= 1 && i.forms.get("cloudtrail").copied().unwrap_or(0) == i.files_read + i.files_failed;
    let mut read = format!("{} file{} read", thousands(i.files_read), plural(i.files_read));
    if i.archives > 0 {
        read.push_str(&format!(" (members of {} archive{} included)", thousands(i.archives), plural(i.archives)));
    }
    // Forms cover the failed files too (their good records count).
    let forms = if only_cloudtrail || forms.is_empty() { String::new() } else { format!(" ({})", forms.join(", ")) };
    writeln!(
        out,
        "{}  {read}, {} failed{forms} · skipped: {}",
        st.bold("inputs "),
        if i.files_failed > 0 { st.red(&i.files_failed.to_string()) } else { "0".into() },
        skipped.join(", ")
    )?;
    writeln!(
        out,
        "{}  {} ({} parsed, {} invalid, {} oversized) · {:.1} MB compressed, {:.1} MB decoded",
        st.bold("records"),
        thousands(i.records),
        thousands(i.records_parsed),
        thousands(i.records_invalid),
        thousands(i.records_oversized),
        i.bytes_compressed as f64 / 1e6,
        i.bytes_decompressed as f64 / 1e6
    )?;
    writeln!(
        out,
        "{}  {:.2} s · {:.1} MB/s compressed, {:.1} MB/s decoded, {} records/s · {} thread{}",
        st.bold("time   "),
        doc.timing.elapsed_s,
        doc.timing.mb_per_s,
        doc.timing.decoded_mb_per_s,
        thousands(doc.timing.records_per_s as u64),
        doc.settings.threads,
        plural(doc.settings.threads as u64)
    )?;
    if let Some(first) = i.delivery_gaps.first() {
        let hours: i64 = i.delivery_gaps.iter().map(|g| (g.end - g.start) / 3_600_000).sum();
        writeln!(
            out,
            "{}  {} hour{} without any log file between the first and the last delivered, from {} (all in --format json, inputs.delivery_gaps)",
            st.yellow("gaps   "),
            hours,
            plural(hours as u64),
            span(first.start, first.end)
        )?;
    }
    let d = &i.duplicates;
    if d.copies > 0 {
        let what = if d.dropped { "dropped (--dedup)" } else { "counted; --dedup drops them" };
        writeln!(
            out,
            "{}  {} repeated event{} (same eventID), {what}",
            st.bold("repeats"),
            thousands(d.copies),
            plural(d.copies)
        )?;
        for e in &d.examples {
            writeln!(
                out,
                "         {}: {} @{} and {} @{}",
                terminal(&e.event_id),
                terminal(&e.first.path),
                e.first.offset,
                terminal(&e.again.path),
                e.again.offset
            )?;
        }
    }
    if let Some(p) = &d.problem {
        writeln!(out, "{}  {}", st.bold("repeats"), terminal(p))?;
    }
    if let Some(v) = &doc.evidence {
        let verdict = if v.failed() {
            let kinds: std::collections::BTreeSet<&str> =
                v.problems.iter().filter(|p| p.finding.fails()).map(|p| p.finding.key()).collect();
            st.red(&format!(
                "NOT VERIFIED: {} finding{} ({}); `trailwatch verify` lists them",
                v.problems.iter().filter(|p| p.finding.fails()).count(),
                plural(v.problems.iter().filter(|p| p.finding.fails()).count() as u64),
                kinds.into_iter().collect::<Vec<_>>().join(", ")
            ))
        } else {
            let valid: u64 = v.trails.iter().map(|t| t.valid).sum();
            st.green(&format!(
                "verified: {} log files against {} digests",
                thousands(valid),
                v.trails.iter().map(|t| t.digests).sum::<u64>()
            ))
        };
        writeln!(out, "{}  {verdict}", st.bold("digests"))?;
    }
    for n in &i.notes {
        writeln!(out, "{}  {}", st.bold("note   "), terminal(n))?;
    }
    for f in &i.failures {
        writeln!(out, "{} {}: {}", st.red("failed:"), terminal(&f.path), terminal(&f.error))?;
    }
    for p in &i.path_problems {
        writeln!(out, "{} {}: {}", st.red("failed:"), terminal(&p.path), terminal(&p.error))?;
    }
    for f in i.skipped_files.iter().take(SKIPPED_SHOWN) {
        writeln!(out, "{} {}: {}", st.yellow("skipped:"), terminal(&f.path), terminal(&f.reason))?;
    }
    if i.skipped_files.len() > SKIPPED_SHOWN {
        let more = (i.skipped_files.len() - SKIPPED_SHOWN) as u64;
        writeln!(
            out,
            "{} … and {} more (all in --format json, inputs.skipped_files)",
            st.yellow("skipped:"),
            thousands(more)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formatting() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(num(32.0), "32");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(duration_words(300), "5 min");
        assert_eq!(duration_words(3600), "1 h");
        let day = 1_688_947_200_000; // 2023-07-10T00:00:00Z
        assert_eq!(short(day + 42_600_000), "2023-07-10 11:50");
        assert_eq!(short(day), "2023-07-10 00:00");
        assert_eq!(short(day + 42_630_000), "2023-07-10 11:50:30");
    }
}
