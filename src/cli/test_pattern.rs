//! `trailwatch test-pattern` and `trailwatch explain`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use clap::{Args, ValueEnum};

use trailwatch::exit;
use trailwatch::pattern::{explain, FilterPattern};
use trailwatch::report::escape;
use trailwatch::testfilter::{self, TestRequest};

use super::{read_input, Failure, Outcome};

/// Output format of `test-pattern`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// Readable lines.
    Text,
    /// The TestMetricFilter response shape.
    Json,
}

/// Arguments of `test-pattern`.
#[derive(Args, Debug)]
pub struct TestPatternArgs {
    /// The filter pattern (omit when using --request).
    #[arg(required_unless_present = "request")]
    pattern: Option<String>,
    /// Log events, one per line ('-' or absent: standard input).
    file: Option<String>,
    /// A TestMetricFilter request as JSON ('-' for standard input):
    /// {"filterPattern": "...", "logEventMessages": [...]}, optionally with
    /// "metricValue", "defaultValue" and "dimensions". Prints the response.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["pattern", "file"])]
    request: Option<String>,
    /// Output format for the quick form.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
    /// Metric value to publish per match (a number, $.selector or $field).
    #[arg(long, value_name = "VALUE")]
    metric_value: Option<String>,
    /// Value published for events that do not match.
    #[arg(long, value_name = "NUMBER", allow_hyphen_values = true)]
    default_value: Option<f64>,
    /// Also print how the pattern is understood, and its lints (on stderr).
    #[arg(long)]
    explain: bool,
}

/// Arguments of `explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The filter pattern.
    pattern: String,
}

fn pattern_error(e: trailwatch::pattern::PatternError) -> Failure {
    Failure::Usage(e.to_string())
}

/// `test-pattern`.
pub fn run(a: TestPatternArgs) -> Outcome {
    let (req, format) = match &a.request {
        Some(path) => {
            let text = read_input(path)?;
            let req: TestRequest = serde_json::from_str(&text)
                .map_err(|e| Failure::Usage(format!("{path}: not a TestMetricFilter request: {e}")))?;
            (req, TestFormat::Json)
        }
        None => {
            let text = read_input(a.file.as_deref().unwrap_or("-"))?;
            let messages = text.lines().map(str::to_string).collect();
            let req = TestRequest {
                filter_pattern: a.pattern.clone().unwrap_or_default(),
                log_event_messages: messages,
                metric_value: a.metric_value.clone(),
                default_value: a.default_value,
                dimensions: BTreeMap::new(),
            };
            (req, a.format)
        }
    };
    if a.explain {
        let p = FilterPattern::parse(&req.filter_pattern).map_err(pattern_error)?;
        write_explanation(&mut io::stderr().lock(), &p)?;
    }
    let resp = testfilter::run(&req).map_err(pattern_error)?;
    let status = if resp.matches.is_empty() { exit::NO_MATCH } else { exit::OK };
    super::deliver(status, || {
        let mut out = io::BufWriter::new(io::stdout().lock());
        match format {
            TestFormat::Json => {
                serde_json::to_writer(&mut out, &resp).map_err(io::Error::from)?;
                writeln!(out)?;
            }
            TestFormat::Text => {
                for m in &resp.matches {
                    write!(out, "{:>6}  {}", m.event_number, escape::terminal(&m.event_message))?;
                    for (k, v) in &m.extracted_values {
                        write!(out, "  {}={}", k, escape::terminal(v))?;
                    }
                    writeln!(out)?;
                }
                if let Some(points) = &resp.datapoints {
                    let sum: f64 = points.iter().map(|d| d.value).sum();
                    writeln!(out, "datapoints: {} (sum {})", points.len(), sum)?;
                }
                writeln!(out, "{} of {} events matched", resp.matches.len(), req.log_event_messages.len())?;
            }
        }
        out.flush()
    })
}

fn write_explanation(w: &mut impl Write, p: &FilterPattern) -> io::Result<()> {
    write!(w, "{}", explain::tree(p))?;
    let lints = explain::lints(p);
    if !lints.is_empty() {
        writeln!(w)?;
        write!(w, "{}", explain::render_lints(p, &lints))?;
    }
    Ok(())
}

/// `explain`.
pub fn explain(a: ExplainArgs) -> Outcome {
    let p = FilterPattern::parse(&a.pattern).map_err(pattern_error)?;
    super::deliver(exit::OK, || {
        let mut out = io::BufWriter::new(io::stdout().lock());
        writeln!(out, "pattern: {}", escape::terminal(p.source()))?;
        writeln!(out, "canonical: {}", escape::terminal(&p.ast().to_string()))?;
        write_explanation(&mut out, &p)?;
        out.flush()
    })
}
