//! `scan --html FILE`: one self-contained page (no scripts, no network
//! resources; a Content-Security-Policy forbids any) with the summary, the
//! timeline picture, each alarm's state changes, breaching windows,
//! episodes and the records behind them, the inputs and the run manifest.
//! Every value goes through the template engine's HTML escaping.

use serde::Serialize;

use super::contributors::Contributors;
use super::manifest::Manifest;
use super::model::{AlarmReport, Document, EpisodeReport, EventReport, Inputs, Timing, TransitionReport, WindowReport};
use super::text::alarm_sentence;
use crate::alarm::AlarmState;
use crate::record::time::format_rfc3339;
use crate::record::EpochMs;

const TEMPLATE: &str = include_str!("templates/report.html");

/// Why the page could not be made.
#[derive(Debug)]
pub struct HtmlError(String);

impl std::fmt::Display for HtmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write the HTML report: {}", self.0)
    }
}

impl std::error::Error for HtmlError {}

#[derive(Serialize)]
struct Page<'d> {
    version: &'static str,
    generated: String,
    alarms: Vec<AlarmView>,
    refused: &'d [String],
    inputs: &'d Inputs,
    timing: &'d Timing,
    plot: &'d str,
    has_gaps: bool,
    manifest: &'d Manifest,
}

#[derive(Serialize)]
struct AlarmView {
    name: String,
    title: Option<String>,
    pattern: String,
    alarm: String,
    matches: u64,
    unplaced: u64,
    breaching_windows: u64,
    alarm_episodes: u64,
    minutes_in_alarm: u64,
    final_state: &'static str,
    state_class: &'static str,
    transitions: Vec<TransitionReport>,
    windows: Vec<WindowView>,
    episodes: Option<Vec<EpisodeView>>,
    contributors: Option<Contributors>,
}

#[derive(Serialize)]
struct WindowView {
    start: String,
    end: String,
    value: f64,
    matches: u64,
    events: Vec<EventView>,
    contributors: Option<Contributors>,
    evidence_gaps: Vec<String>,
}

#[derive(Serialize)]
struct EpisodeView {
    start: String,
    end: Option<String>,
    windows: u64,
    breaching_windows: u64,
    matches: u64,
    events: Vec<EventView>,
    contributors: Option<Contributors>,
}

/// A record as the page shows it.
#[derive(Serialize)]
struct EventView {
    time: String,
    source: String,
    name: String,
    error_code: Option<String>,
    error_message: Option<String>,
    principal: Option<String>,
    identity: Option<String>,
    source_ip: Option<String>,
    user_agent: Option<String>,
    region: Option<String>,
    account: Option<String>,
    event_id: Option<String>,
    path: String,
    offset: u64,
    groups: Vec<(String, Option<String>)>,
    record: Option<String>,
}

impl From<EventReport> for EventView {
    fn from(e: EventReport) -> EventView {
        let s = e.summary;
        let identity = match (s.identity_type, s.access_key_id) {
            (Some(t), Some(k)) => Some(format!("{t}, key {k}")),
            (t, k) => t.or(k.map(|k| format!("key {k}"))),
        };
        let source = s.event_source.unwrap_or_else(|| "?".into());
        EventView {
            time: format_rfc3339(e.time),
            source: source.trim_end_matches(".amazonaws.com").to_string(),
            name: s.event_name.unwrap_or_else(|| "?".into()),
            error_code: s.error_code,
            error_message: s.error_message,
            principal: s.principal,
            identity,
            source_ip: s.source_ip,
            user_agent: s.user_agent,
            region: s.region,
            account: s.account,
            event_id: s.event_id,
            path: e.path,
            offset: e.offset,
            groups: e.groups.into_iter().collect(),
            record: e.record.map(|r| r.get().to_string()),
        }
    }
}

fn window_view(w: WindowReport) -> WindowView {
    WindowView {
        start: format_rfc3339(w.start),
        end: format_rfc3339(w.end),
        value: w.value,
        matches: w.matches,
        events: w.events.into_iter().map(EventView::from).collect(),
        contributors: w.contributors,
        evidence_gaps: w.evidence_gaps,
    }
}

fn episode_view(e: EpisodeReport) -> EpisodeView {
    EpisodeView {
        start: format_rfc3339(e.start),
        end: e.end.map(format_rfc3339),
        windows: e.windows,
        breaching_windows: e.breaching_windows,
        matches: e.matches,
        events: e.events.into_iter().map(EventView::from).collect(),
        contributors: e.contributors,
    }
}

fn alarm_view(a: &AlarmReport<'_>) -> AlarmView {
    let state_class = match a.final_state {
        AlarmState::Alarm => "alarm",
        AlarmState::Ok => "ok",
        AlarmState::InsufficientData => "insufficient",
    };
    AlarmView {
        name: a.name.clone(),
        title: a.title.clone(),
        pattern: a.pattern.clone(),
        alarm: alarm_sentence(a),
        matches: a.matches,
        unplaced: a.unplaced.missing_time + a.unplaced.unparseable_time,
        breaching_windows: a.breaching_windows,
        alarm_episodes: a.alarm_episodes,
        minutes_in_alarm: a.minutes_in_alarm,
        final_state: a.final_state.aws_name(),
        state_class,
        transitions: a.transitions.iter().collect(),
        windows: a.windows.iter().filter(|w| w.breaching).map(window_view).collect(),
        episodes: a.episodes.as_ref().map(|l| l.iter().map(episode_view).collect()),
        contributors: a.contributors.clone(),
    }
}

/// The page for `doc`, with the timeline picture `plot` (SVG markup made
/// by [`super::plot::timeline_svg`], whose text it escapes) and the run's
/// manifest, generated at `now`.
pub fn page(doc: &Document<'_>, plot: &str, manifest: &Manifest, now: EpochMs) -> Result<String, HtmlError> {
    let mut env = minijinja::Environment::new();
    // The name's extension turns HTML escaping on for every value.
    env.add_template("report.html", TEMPLATE).map_err(|e| HtmlError(e.to_string()))?;
    let page = Page {
        version: doc.trailwatch,
        generated: format_rfc3339(now),
        alarms: doc.alarms.iter().map(alarm_view).collect(),
        refused: &doc.refused,
        inputs: &doc.inputs,
        timing: &doc.timing,
        plot,
        has_gaps: !doc.inputs.delivery_gaps.is_empty(),
        manifest,
    };
    let template = env.get_template("report.html").map_err(|e| HtmlError(e.to_string()))?;
    template.render(minijinja::value::Serde(&page)).map_err(|e| HtmlError(e.to_string()))
}
