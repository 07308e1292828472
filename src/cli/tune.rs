//! `trailwatch tune`: one scan, then each rule's alarm replayed under a
//! grid of settings.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;

use trailwatch::alarm::{AlarmSettings, TreatMissing};
use trailwatch::exit;
use trailwatch::record::time::{format_rfc3339, parse_duration};
use trailwatch::report::escape::terminal;
use trailwatch::report::text::num;
use trailwatch::scan::{scan, ScanOptions};
use trailwatch::tune::{distribution, evaluate, Distribution, Grid, Outcome};

use super::scan::{rules, threads, time, RuleArgs};
use super::{deliver, Failure, Outcome as CmdOutcome};

/// Output format of `tune`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TuneFormat {
    /// One table per rule.
    Text,
    /// `{"rules":[{"name", "settings":[...]}]}`.
    Json,
}

/// Arguments of `tune`.
#[derive(Args, Debug)]
pub struct TuneArgs {
    /// CloudTrail log files or directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    which: RuleArgs,
    /// Thresholds to try: a list (1,2,5,10) and integer ranges (1..20).
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    threshold: Option<String>,
    /// Periods to try: durations (1m,5m,15m,1h).
    #[arg(long, value_name = "LIST")]
    period: Option<String>,
    /// EvaluationPeriods (N) to try: a list or ranges (1..5).
    #[arg(long, value_name = "LIST")]
    evaluation_periods: Option<String>,
    /// DatapointsToAlarm (M) to try [default: M = N].
    #[arg(long, value_name = "LIST")]
    datapoints_to_alarm: Option<String>,
    /// TreatMissingData values to try (missing,notBreaching,breaching,ignore).
    #[arg(long, value_name = "LIST")]
    treat_missing_data: Option<String>,
    /// Keep the settings that page at most this often (ALARM episodes per
    /// day); the one among them that answers the most matching events is
    /// marked.
    #[arg(long, value_name = "N")]
    max_episodes_per_day: Option<f64>,
    /// Ignore datapoints before this instant.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Ignore datapoints at or after this instant.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TuneFormat::Text)]
    format: TuneFormat,
}

/// Numbers from a list of values and integer ranges (`1,2,5..7`).
fn numbers(flag: &str, text: &str) -> Result<Vec<f64>, Failure> {
    let bad = |part: &str| Failure::Usage(format!("--{flag} {text}: {part:?} is not a number or a range a..b"));
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b): (i64, i64) =
                    (a.trim().parse().map_err(|_| bad(part))?, b.trim().parse().map_err(|_| bad(part))?);
                if b < a || b - a > 10_000 {
                    return Err(bad(part));
                }
                out.extend((a..=b).map(|x| x as f64));
            }
            None => out.push(part.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| bad(part))?),
        }
    }
    Ok(out)
}

fn counts(flag: &str, text: &Option<String>) -> Result<Vec<u32>, Failure> {
    let Some(t) = text else { return Ok(Vec::new()) };
    numbers(flag, t)?
        .into_iter()
        .map(|x| {
            (x.fract() == 0.0 && (1.0..=10_000.0).contains(&x))
                .then_some(x as u32)
                .ok_or_else(|| Failure::Usage(format!("--{flag}: {x} is not a count from 1")))
        })
        .collect()
}

fn grid(a: &TuneArgs) -> Result<Grid, Failure> {
    let mut g = Grid::default();
    if let Some(t) = &a.threshold {
        g.thresholds = numbers("threshold", t)?;
    }
    if let Some(p) = &a.period {
        for d in p.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let ms = parse_duration(d).or_else(|| d.parse::<i64>().ok().map(|s| s * 1000));
            match ms {
                Some(ms) if ms > 0 && ms % 60_000 == 0 && ms <= 7 * 86_400_000 => g.periods_s.push(ms / 1000),
                _ => {
                    return Err(Failure::Usage(format!(
                        "--period {p}: {d:?} is not a whole number of minutes up to a week"
                    )))
                }
            }
        }
    }
    g.evaluation_periods = counts("evaluation-periods", &a.evaluation_periods)?;
    g.datapoints_to_alarm = counts("datapoints-to-alarm", &a.datapoints_to_alarm)?;
    if let Some(t) = &a.treat_missing_data {
        for w in t.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            g.treat_missing
                .push(w.parse::<TreatMissing>().map_err(|e| Failure::Usage(format!("--treat-missing-data: {e}")))?);
        }
    }
    Ok(g)
}

#[derive(Serialize)]
struct RuleRows {
    name: String,
    matches: u64,
    /// The statistic per period, for each period of the grid.
    distributions: Vec<Distribution>,
    settings: Vec<Row>,
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    outcome: Outcome,
    /// Among the settings within --max-episodes-per-day, the one that
    /// answers the most matching events.
    best: bool,
}

/// `tune`.
pub fn run(a: TuneArgs) -> CmdOutcome {
    let grid = grid(&a)?;
    let set = rules(&a.which, AlarmSettings::default())?;
    let opts = ScanOptions {
        threads: threads(a.threads)?,
        from: time(&a.from, "--from")?,
        to: time(&a.to, "--to")?,
        samples: 0,
        ..ScanOptions::default()
    };
    let result = scan(&a.paths, &set.rules, &opts);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(result.threads).build().expect("thread pool");
    let mut out = Vec::new();
    for (i, rule) in set.rules.iter().enumerate() {
        let settings = grid.settings(&rule.alarm);
        if settings.len() > 100_000 {
            return Err(Failure::Usage(format!("the grid has {} settings; at most 100,000", settings.len())));
        }
        // Settings replay in parallel: each reads the metric on its own.
        let outcomes: Vec<Outcome> =
            pool.install(|| settings.par_iter().map(|s| evaluate(&result, i, rule, s, &opts)).collect());
        let mut rows: Vec<Row> = outcomes
            .into_iter()
            .map(|outcome| Row { outcome, best: false })
            .filter(|r| a.max_episodes_per_day.is_none_or(|m| r.outcome.episodes_per_day <= m))
            .collect();
        rows.sort_by(|x, y| {
            let (x, y) = (&x.outcome, &y.outcome);
            x.episodes_per_day.total_cmp(&y.episodes_per_day).then(y.matches_covered.total_cmp(&x.matches_covered))
        });
        if a.max_episodes_per_day.is_some() {
            let best = rows.iter().enumerate().max_by(|(i, x), (j, y)| {
                x.outcome.matches_covered.total_cmp(&y.outcome.matches_covered).then(j.cmp(i))
            });
            if let Some((k, _)) = best {
                rows[k].best = true;
            }
        }
        let mut periods: Vec<i64> = settings.iter().map(|s| s.period_s).collect();
        periods.sort_unstable();
        periods.dedup();
        let distributions = periods.into_iter().map(|p| distribution(&result, i, rule, p)).collect();
        out.push(RuleRows { name: rule.name.clone(), matches: result.rules[i].matches, distributions, settings: rows });
    }
    let status = if result.has_failures() {
        exit::INPUT
    } else if result.totals.records == 0 {
        exit::NO_RECORDS
    } else {
        exit::OK
    };
    deliver(status, || {
        let mut w = io::BufWriter::new(io::stdout().lock());
        match a.format {
            TuneFormat::Json => {
                serde_json::to_writer_pretty(&mut w, &serde_json::json!({ "rules": out })).map_err(io::Error::from)?;
                writeln!(w)?;
            }
            TuneFormat::Text => text(&mut w, &out)?,
        }
        w.flush()
    })
}

fn text(w: &mut impl Write, rules: &[RuleRows]) -> io::Result<()> {
    for r in rules {
        writeln!(w, "{}  ({} matching records)", terminal(&r.name), r.matches)?;
        writeln!(
            w,
            "  {:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "PERIOD", "PERIODS", "p50", "p90", "p99", "p99.9", "max"
        )?;
        for d in &r.distributions {
            writeln!(
                w,
                "  {:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                format!("{}m", d.period_s / 60),
                d.periods,
                num(d.p50),
                num(d.p90),
                num(d.p99),
                num(d.p99_9),
                num(d.max)
            )?;
        }
        if r.distributions.iter().any(|d| d.negative > 0) {
            writeln!(w, "  (periods below zero count as zero in the percentiles)")?;
        }
        writeln!(w)?;
        writeln!(
            w,
            "  {:>6} {:>9} {:>3} {:>3} {:<12} {:>8} {:>8} {:>9} {:>8} {:>8}  FIRST ALARM",
            "PERIOD", "THRESHOLD", "N", "M", "MISSING", "EPISODES", "PER DAY", "IN ALARM", "LONGEST", "COVERED"
        )?;
        for row in &r.settings {
            let o = &row.outcome;
            let s = &o.setting;
            writeln!(
                w,
                "{} {:>6} {:>9} {:>3} {:>3} {:<12} {:>8} {:>8.2} {:>7}m {:>7}m {:>7.1}%  {}",
                if row.best { "*" } else { " " },
                format!("{}m", s.period_s / 60),
                num(s.threshold),
                s.evaluation_periods,
                s.datapoints_to_alarm,
                s.treat_missing.aws_name(),
                o.episodes,
                o.episodes_per_day,
                o.minutes_in_alarm,
                o.longest_episode_minutes,
                o.matches_covered * 100.0,
                o.first_alarm.map(format_rfc3339).unwrap_or_else(|| "-".into())
            )?;
        }
        writeln!(w)?;
    }
    Ok(())
}
