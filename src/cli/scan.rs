//! `trailwatch scan`: arguments (raw layer) → validated rules and options →
//! library scan → report → exit status.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use trailwatch::alarm::{AlarmSpec, EvaluationWindow};
use trailwatch::exit;
use trailwatch::metric::MetricTransform;
use trailwatch::pattern::FilterPattern;
use trailwatch::record::time::{parse_duration, parse_user_time};
use trailwatch::report::{self, model, text::Style, Format};
use trailwatch::rules::{Rule, CIS_UNAUTHORIZED_API_CALLS};
use trailwatch::scan::{scan, ScanOptions};
use trailwatch::source::Limits;

use super::{Failure, Outcome};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable report.
    Text,
    /// One JSON document.
    Json,
    /// Windows as CSV.
    Csv,
    /// Windows and transitions as JSON lines, then a summary line.
    Ndjson,
}

/// When to colour text output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Alarm settings shared by `scan` and `alarm`.
#[derive(Args, Debug, Clone)]
pub struct AlarmArgs {
    /// Alarm period: seconds or a duration (60, 300, 5m, 1h); a multiple of a minute.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub period: String,
    /// Statistic: Sum, SampleCount, Average, Minimum, Maximum or pNN.
    #[arg(long, default_value = "Sum")]
    pub statistic: String,
    /// Threshold.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub threshold: f64,
    /// Comparison: >=, >, <, <= or the AWS operator names.
    #[arg(long, default_value = ">=")]
    pub comparison: String,
    /// EvaluationPeriods (N).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub evaluation_periods: u32,
    /// DatapointsToAlarm (M); defaults to N.
    #[arg(long, value_name = "M")]
    pub datapoints_to_alarm: Option<u32>,
    /// TreatMissingData: missing, notBreaching, breaching or ignore.
    #[arg(long, value_name = "HOW", default_value = "missing")]
    pub treat_missing_data: String,
    /// Periods fetched per evaluation (default N + 2; see the README).
    #[arg(long, value_name = "R")]
    pub evaluation_range: Option<u32>,
    /// Evaluation windows: sliding (every minute, CloudWatch's default) or wall-clock.
    #[arg(long, value_name = "KIND", default_value = "sliding")]
    pub evaluation_window: String,
    /// State before the first evaluation.
    #[arg(long, value_name = "STATE", default_value = "INSUFFICIENT_DATA")]
    pub initial_state: String,
}

impl AlarmArgs {
    /// Build a validated alarm.
    pub fn spec(&self) -> Result<AlarmSpec, Failure> {
        let usage = |m: String| Failure::Usage(m);
        let period_ms =
            parse_duration(&self.period).ok_or_else(|| usage(format!("invalid --period {:?}", self.period)))?;
        if period_ms % 1000 != 0 {
            return Err(usage(format!("--period {:?} is not a whole number of seconds", self.period)));
        }
        let spec = AlarmSpec {
            period_s: period_ms / 1000,
            statistic: self.statistic.parse().map_err(usage)?,
            threshold: self.threshold,
            comparison: self.comparison.parse().map_err(usage)?,
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: self.datapoints_to_alarm.unwrap_or(self.evaluation_periods),
            treat_missing: self.treat_missing_data.parse().map_err(usage)?,
            evaluation_range: self.evaluation_range,
            window: match self.evaluation_window.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
                "sliding" | "slidingwindow" => EvaluationWindow::Sliding,
                "wallclock" | "wallclockwindow" => EvaluationWindow::WallClock,
                other => return Err(usage(format!("unknown --evaluation-window {other:?} (sliding or wall-clock)"))),
            },
            initial_state: self.initial_state.parse().map_err(usage)?,
        };
        spec.validate().map_err(usage)?;
        Ok(spec)
    }
}

/// Arguments of `scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    /// CloudTrail log files or directories (walked recursively).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Filter pattern (default: the CIS unauthorized-API-calls filter).
    #[arg(long)]
    pattern: Option<String>,
    /// Name of the rule given with --pattern.
    #[arg(long, default_value = "custom")]
    name: String,
    /// Metric value per matching event: a number, $.selector or $field.
    #[arg(long, value_name = "VALUE", default_value = "1")]
    metric_value: String,
    /// Value published for each non-matching event.
    #[arg(long, value_name = "NUMBER", allow_hyphen_values = true)]
    default_value: Option<f64>,
    #[command(flatten)]
    alarm: AlarmArgs,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Colour for text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Replay from this instant (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Replay up to (not including) this instant.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Add this delay to eventTime, to model CloudTrail's delivery to
    /// CloudWatch Logs (e.g. 3m).
    #[arg(long, value_name = "DURATION", default_value = "0", allow_hyphen_values = true)]
    lag: String,
    /// Matching events shown per window (0: none).
    #[arg(long, value_name = "N", default_value_t = 3)]
    samples: usize,
    /// Records larger than this are not delivered to CloudWatch (CloudTrail's
    /// limit is 256 KiB) and are counted as oversized.
    #[arg(long, value_name = "BYTES", default_value_t = 262_144)]
    max_event_bytes: usize,
    /// Stop decompressing a file after this many bytes (decompression-bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    max_decompressed: u64,
    /// Exit with status 3 before any output if an input cannot be read.
    #[arg(long)]
    strict: bool,
}

/// Build the rules from the arguments.
fn rules(a: &ScanArgs) -> Result<Vec<Rule>, Failure> {
    let alarm = a.alarm.spec()?;
    let (name, title, source) = match &a.pattern {
        Some(p) => (a.name.clone(), None, p.as_str()),
        None => (
            "unauthorized-api-calls".to_string(),
            Some("CIS unauthorized API calls (CloudWatch.2)".to_string()),
            CIS_UNAUTHORIZED_API_CALLS,
        ),
    };
    let pattern = FilterPattern::parse(source).map_err(|e| Failure::Usage(e.to_string()))?;
    let transform = MetricTransform::new(&a.metric_value, a.default_value, &[], &pattern)
        .map_err(|e| Failure::Usage(format!("--metric-value: {}", e.kind)))?;
    Ok(vec![Rule { name, title, pattern, transform, alarm, alarm_dimensions: Vec::new() }])
}

/// Whether to colour stdout.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// `scan`.
pub fn run(a: ScanArgs) -> Outcome {
    let rules = rules(&a)?;
    let time = |s: &Option<String>, flag: &str| -> Result<Option<i64>, Failure> {
        s.as_ref()
            .map(|v| {
                parse_user_time(v)
                    .ok_or_else(|| Failure::Usage(format!("invalid {flag} {v:?} (RFC 3339 or YYYY-MM-DD)")))
            })
            .transpose()
    };
    let opts = ScanOptions {
        threads: a.threads,
        lag_ms: parse_duration(&a.lag).ok_or_else(|| Failure::Usage(format!("invalid --lag {:?}", a.lag)))?,
        from: time(&a.from, "--from")?,
        to: time(&a.to, "--to")?,
        samples: a.samples,
        limits: Limits { max_record: a.max_event_bytes, max_decompressed: a.max_decompressed, ..Limits::default() },
    };
    if let (Some(f), Some(t)) = (opts.from, opts.to) {
        if f >= t {
            return Err(Failure::Usage("--from must be before --to".into()));
        }
    }
    let result = scan(&a.paths, &rules, &opts);
    let doc = model::build(&result, &rules, &opts);
    if a.strict && result.has_failures() {
        let mut err = io::stderr().lock();
        for f in &doc.inputs.failures {
            writeln!(
                err,
                "trailwatch: {}: {}",
                trailwatch::report::escape::terminal(&f.path),
                trailwatch::report::escape::terminal(&f.error)
            )?;
        }
        for p in &doc.inputs.path_problems {
            writeln!(
                err,
                "trailwatch: {}: {}",
                trailwatch::report::escape::terminal(&p.path),
                trailwatch::report::escape::terminal(&p.error)
            )?;
        }
        writeln!(err, "trailwatch: --strict: stopping because some inputs could not be read")?;
        return Ok(exit::INPUT);
    }
    let format = match a.format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
        OutputFormat::Csv => Format::Csv,
        OutputFormat::Ndjson => Format::Ndjson,
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    report::write(&mut out, &doc, format, Style { color: use_color(a.color) })?;
    out.flush()?;
    if format != Format::Text && result.has_failures() {
        let mut err = io::stderr().lock();
        for f in &doc.inputs.failures {
            writeln!(
                err,
                "trailwatch: {}: {}",
                trailwatch::report::escape::terminal(&f.path),
                trailwatch::report::escape::terminal(&f.error)
            )?;
        }
    }
    Ok(if result.has_failures() {
        exit::INPUT
    } else if doc.alarms.iter().any(|al| al.breaching_windows > 0) {
        exit::ALARM
    } else {
        exit::OK
    })
}
