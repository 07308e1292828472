//! `trailwatch tune`: one scan, then each rule's alarm replayed under a
//! grid of settings.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use rayon::prelude::*;

use trailwatch::alarm::{AlarmSettings, TreatMissing};
use trailwatch::record::time::parse_duration;
use trailwatch::report::plot::tune_svg;
use trailwatch::report::tune::{write, TunedRule};
use trailwatch::scan::{scan, ScanOptions};
use trailwatch::tune::{distribution, evaluate, metric, rank, Grid, Outcome};

use super::scan::{rules, RuleArgs};
use super::{deliver, input_status, say_input_failures, Failure, Outcome as CmdOutcome, TableRunArgs};

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
    #[command(flatten)]
    run: TableRunArgs,
    /// Also draw ALARM episodes per day against threshold, one line per
    /// period, to this SVG file (PNG when it ends in `.png`).
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    plot: Option<PathBuf>,
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

/// `tune`.
pub fn run(a: TuneArgs) -> CmdOutcome {
    let grid = grid(&a)?;
    let set = rules(&a.which, AlarmSettings::default())?;
    let opts = ScanOptions { samples: 0, ..a.run.options()? };
    let result = scan(&a.paths, &set.rules, &opts);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(result.threads).build().expect("thread pool");
    let mut out = Vec::new();
    for (i, rule) in set.rules.iter().enumerate() {
        let settings = grid.settings(&rule.alarm);
        if settings.len() > 100_000 {
            return Err(Failure::Usage(format!("the grid has {} settings; at most 100,000", settings.len())));
        }
        // The metric is read once; settings replay over it in parallel.
        let metric = metric(&result, i, rule);
        let outcomes: Vec<Outcome> =
            pool.install(|| settings.par_iter().map(|s| evaluate(&metric, rule, s, &opts)).collect());
        let mut periods: Vec<i64> = settings.iter().map(|s| s.period_s).collect();
        periods.sort_unstable();
        periods.dedup();
        out.push(TunedRule {
            name: rule.name.clone(),
            matches: result.rules[i].matches,
            distributions: periods.into_iter().map(|p| distribution(&metric, rule, p)).collect(),
            rows: rank(outcomes, a.max_episodes_per_day),
        });
    }
    if let Some(path) = &a.plot {
        let svg = tune_svg(&out).map_err(|e| Failure::Usage(e.to_string()))?;
        super::write_plot(path, &svg)?;
    }
    deliver(input_status(&result), || {
        let mut w = io::BufWriter::new(io::stdout().lock());
        write(&mut w, &out, a.run.format.into())?;
        w.flush()?;
        say_input_failures(&result)
    })
}
