//! `trailwatch alarm --metric-data FILE`: replay an alarm over metric data a
//! user already has.

use std::io::{self, Write};

use clap::{Args, ValueEnum};
use serde::Serialize;

use trailwatch::alarm::{evaluate_periods, AlarmState};
use trailwatch::exit;
use trailwatch::metric::data as metric_data;
use trailwatch::record::time::{format_rfc3339, parse_user_time};
use trailwatch::report::model::TransitionReport;
use trailwatch::report::text::num;

use super::scan::AlarmArgs;
use super::{read_input, Failure, Outcome};

/// Output format of `alarm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlarmFormat {
    /// Readable table.
    Text,
    /// `{"evaluations":[...],"transitions":[...]}`.
    Json,
}

/// Arguments of `alarm`.
#[derive(Args, Debug)]
pub struct AlarmCmdArgs {
    /// Metric data: JSON of `aws cloudwatch get-metric-statistics` or
    /// `get-metric-data`, or a CSV of timestamp,value ('-' for standard input).
    #[arg(long, value_name = "FILE")]
    metric_data: String,
    #[command(flatten)]
    alarm: AlarmArgs,
    /// First newest-period to evaluate (earlier datapoints still count as history).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Last newest-period to evaluate (inclusive).
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AlarmFormat::Text)]
    format: AlarmFormat,
}

#[derive(Serialize)]
struct Evaluation {
    timestamp: String,
    state: &'static str,
    value: Option<f64>,
}

#[derive(Serialize)]
struct Output {
    evaluations: Vec<Evaluation>,
    transitions: Vec<TransitionReport>,
    alarm_episodes: u64,
}

/// `alarm`.
pub fn run(a: AlarmCmdArgs) -> Outcome {
    let spec = a.alarm.spec()?;
    let text = read_input(&a.metric_data)?;
    let usage = |e: String| Failure::Usage(format!("{}: {e}", a.metric_data));
    let raw = metric_data::parse(&text, spec.statistic).map_err(usage)?;
    let points = metric_data::by_period(&raw, spec.statistic, spec.period_ms()).map_err(usage)?;
    let time = |s: &Option<String>, flag: &str| -> Result<Option<i64>, Failure> {
        s.as_ref()
            .map(|v| parse_user_time(v).ok_or_else(|| Failure::Usage(format!("invalid {flag} {v:?}"))))
            .transpose()
    };
    let (from, to) = (time(&a.from, "--from")?, time(&a.to, "--to")?);
    if points.is_empty() && (from.is_none() || to.is_none()) {
        return Err(Failure::Usage(format!(
            "{}: no datapoints (give --from and --to to evaluate an empty metric)",
            a.metric_data
        )));
    }
    let ev = evaluate_periods(&points, &spec, from, to);
    let pm = spec.period_ms();
    let value_at = |start: i64| points.range(start..start + pm).next().map(|(_, v)| *v);
    let status = if ev.points.iter().any(|p| p.state == AlarmState::Alarm) { exit::ALARM } else { exit::OK };
    let out = Output {
        evaluations: ev
            .points
            .iter()
            .map(|p| Evaluation {
                timestamp: format_rfc3339(p.newest_period),
                state: p.state.aws_name(),
                value: value_at(p.newest_period),
            })
            .collect(),
        transitions: ev.transitions.iter().map(TransitionReport::from).collect(),
        alarm_episodes: ev.alarm_episodes(),
    };
    super::deliver(status, || {
        let mut w = io::BufWriter::new(io::stdout().lock());
        match a.format {
            AlarmFormat::Json => {
                serde_json::to_writer_pretty(&mut w, &out).map_err(io::Error::from)?;
                writeln!(w)?;
            }
            AlarmFormat::Text => {
                writeln!(
                    w,
                    "alarm: {} {} {} over {} s, {} of {} periods, missing data: {}, evaluation range {} periods",
                    spec.statistic,
                    spec.comparison.symbol(),
                    num(spec.threshold),
                    spec.period_s,
                    spec.datapoints_to_alarm,
                    spec.evaluation_periods,
                    spec.treat_missing.aws_name(),
                    spec.range()
                )?;
                writeln!(w, "{:<22} {:>12}  STATE", "NEWEST PERIOD (UTC)", "VALUE")?;
                let mut transitions = ev.transitions.iter().peekable();
                for (p, e) in ev.points.iter().zip(&out.evaluations) {
                    let value = e.value.map_or("-".to_string(), num);
                    write!(w, "{:<22} {:>12}  {}", e.timestamp, value, e.state)?;
                    if let Some(t) = transitions.next_if(|t| t.at == p.at) {
                        write!(w, "  ← {}: {}", t.from, t.reason)?;
                    }
                    writeln!(w)?;
                }
                writeln!(w, "{} transition(s), {} ALARM episode(s)", out.transitions.len(), out.alarm_episodes)?;
            }
        }
        w.flush()
    })
}
