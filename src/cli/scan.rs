//! `trailwatch scan`: arguments (raw layer) → validated rules and options →
//! library scan → report → exit status.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};

use trailwatch::alarm::{AlarmSettings, AlarmSpec, PeriodSetting};
use trailwatch::exit;
use trailwatch::pattern::FieldSelector;
use trailwatch::record::time::{parse_duration, parse_user_time, RFC3339_MAX, RFC3339_MIN};
use trailwatch::replay::{replay, AlarmReplay};
use trailwatch::report::escape::terminal;
use trailwatch::report::events::{self, EventsFormat};
use trailwatch::report::manifest::Manifest;
use trailwatch::report::{self, model, text::Style, Format};
use trailwatch::rules::select::{self, RuleSet};
use trailwatch::rules::{aws, file, iac};
use trailwatch::scan::{scan, EventsBy, Progress, ScanOptions, TallyBy, RUN_KEPT};
use trailwatch::series::Scanned;
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

/// Alarm settings shared by `scan` and `alarm`. Unset options keep the
/// rule's own setting (for `--pattern` and the default rule: the CIS alarm,
/// Sum over 5 minutes >= 1, 1 of 1 periods, missing data treated as missing).
#[derive(Args, Debug, Clone, Default)]
pub struct AlarmArgs {
    /// Alarm period: seconds or a duration (60, 300, 5m, 1h); a multiple of a minute [default: 5m].
    #[arg(long, value_name = "DURATION")]
    pub period: Option<String>,
    /// Statistic: Sum, SampleCount, Average, Minimum, Maximum or pNN [default: Sum].
    #[arg(long)]
    pub statistic: Option<String>,
    /// Threshold [default: 1].
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// Comparison: >=, >, <, <= or the AWS operator names [default: >=].
    #[arg(long)]
    pub comparison: Option<String>,
    /// EvaluationPeriods (N) [default: 1].
    #[arg(long, value_name = "N")]
    pub evaluation_periods: Option<u32>,
    /// DatapointsToAlarm (M) [default: N].
    #[arg(long, value_name = "M")]
    pub datapoints_to_alarm: Option<u32>,
    /// TreatMissingData: missing, notBreaching, breaching or ignore [default: missing].
    #[arg(long, value_name = "HOW")]
    pub treat_missing_data: Option<String>,
    /// Periods fetched per evaluation [default: N + 2; see the README].
    #[arg(long, value_name = "R")]
    pub evaluation_range: Option<u32>,
    /// Evaluation windows: sliding (every minute) or wall-clock [default: sliding].
    #[arg(long, value_name = "KIND")]
    pub evaluation_window: Option<String>,
    /// State before the first evaluation [default: INSUFFICIENT_DATA].
    #[arg(long, value_name = "STATE")]
    pub initial_state: Option<String>,
}

impl AlarmArgs {
    /// The options given, as settings to apply over a rule's alarm.
    pub fn settings(&self) -> AlarmSettings {
        AlarmSettings {
            period: self.period.clone().map(PeriodSetting::Text),
            statistic: self.statistic.clone(),
            threshold: self.threshold,
            comparison: self.comparison.clone(),
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: self.datapoints_to_alarm,
            treat_missing_data: self.treat_missing_data.clone(),
            evaluation_range: self.evaluation_range,
            evaluation_window: self.evaluation_window.clone(),
            initial_state: self.initial_state.clone(),
        }
    }

    /// The CIS alarm with these options applied.
    pub fn spec(&self) -> Result<AlarmSpec, Failure> {
        self.settings().apply(&AlarmSpec::default()).map_err(|e| Failure::Usage(e.to_string()))
    }
}

/// Which rules to run, shared by `scan` and `tune`.
#[derive(Args, Debug)]
pub struct RuleArgs {
    /// Filter pattern (default, when no rules are given: the CIS
    /// unauthorized-API-calls filter).
    #[arg(long)]
    pub pattern: Option<String>,
    /// Name of the rule given with --pattern.
    #[arg(long, default_value = "custom")]
    pub name: String,
    /// Metric value per matching event for --pattern: a number, $.selector or $field [default: 1].
    #[arg(long, value_name = "VALUE")]
    pub metric_value: Option<String>,
    /// Value published for each event --pattern does not match.
    #[arg(long, value_name = "NUMBER", allow_hyphen_values = true)]
    pub default_value: Option<f64>,
    /// Rules to run: `cis` (the 15 CIS/Security Hub controls), `cis-all`
    /// (every published variant) or a rules file (TOML or JSON). Repeatable.
    #[arg(long, value_name = "cis|FILE")]
    pub rules: Vec<String>,
    /// Run only this rule: a name from the rules files, or from the CIS pack
    /// (`unauthorized-api-calls`, `root-usage:cis-1.4`, `CloudWatch.3`, ...). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub rule: Vec<String>,
    /// Import metric filters and alarms from the JSON of `aws logs
    /// describe-metric-filters` and `aws cloudwatch describe-alarms`. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub aws_config: Vec<PathBuf>,
    /// Import AWS::Logs::MetricFilter and AWS::CloudWatch::Alarm resources
    /// from a CloudFormation template (JSON or YAML). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub cloudformation: Vec<PathBuf>,
    /// Import aws_cloudwatch_log_metric_filter and
    /// aws_cloudwatch_metric_alarm resources from `terraform show -json`
    /// output (a plan or a state). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub terraform_plan: Vec<PathBuf>,
}

/// Arguments of `scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    /// CloudTrail log files or directories (walked recursively); `-` reads
    /// standard input, and a FIFO or `/dev/stdin` named here is read too.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    which: RuleArgs,
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
    /// Count each rule's matching records by principal, source IP,
    /// eventName, errorCode, account and region, and show the N most
    /// frequent values of each, with first and last seen.
    #[arg(long, value_name = "N")]
    contributors: Option<usize>,
    /// Records larger than this are not delivered to CloudWatch (CloudTrail's
    /// limit is 256 KiB) and are counted as oversized.
    #[arg(long, value_name = "BYTES", default_value_t = 262_144)]
    max_event_bytes: usize,
    /// Stop decompressing a file after this many bytes (decompression-bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    max_decompressed: u64,
    /// Stop decompressing a file whose output exceeds this many times its
    /// compressed size, once past 64 MiB (decompression-bomb guard;
    /// CloudTrail logs compress about 10:1). For an archive, all its
    /// members together against the archive's size.
    #[arg(long, value_name = "RATIO", default_value_t = 1000)]
    max_ratio: u64,
    /// Stop reading an archive (tar.gz, zip) after this many decompressed
    /// bytes, all members together (decompression-bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 30)]
    max_archive_decompressed: u64,
    /// Count each event once: drop repeated copies of the same eventID
    /// (overlapping downloads, account and organization trails side by
    /// side), keeping the first in input order. Without it repeats are
    /// counted and reported, and included in the results.
    #[arg(long)]
    dedup: bool,
    /// Show no progress on standard error (shown by default when it is a
    /// terminal and the run takes more than a moment).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Exit with status 3 before any output if an input cannot be read.
    #[arg(long)]
    strict: bool,
    /// Parse and validate every record instead of skipping those that
    /// cannot match (slower; the reference path).
    #[arg(long)]
    no_prefilter: bool,
    /// Also check the CloudTrail-Digest files beside the logs (as `trailwatch
    /// verify` does): failures exit 3, and windows in hours no digest
    /// covers say so.
    #[arg(long)]
    verify: bool,
    /// With --verify: public keys (`aws cloudtrail list-public-keys`
    /// output) to check digest signatures with.
    #[arg(long, value_name = "FILE", requires = "verify")]
    public_keys: Vec<String>,
    /// With --verify: the signature of a trail's newest digest (NAME=FILE,
    /// FILE the `aws s3api head-object` output).
    #[arg(long, value_name = "NAME=FILE", requires = "verify")]
    digest_signature: Vec<String>,
    /// Write the run's manifest to FILE (JSON): version, command line,
    /// rules and alarm settings, and every input with its size and SHA-256.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Draw each alarm's metric per period over the replay, its threshold,
    /// its ALARM episodes shaded and the hours without log files in grey,
    /// to this SVG file (PNG when it ends in `.png`).
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    plot: Option<PathBuf>,
    /// Show the matching records behind each breaching window (`windows`,
    /// the default) or each ALARM episode (`episodes`), earliest first,
    /// with the fields an analyst reads first.
    #[arg(long, value_enum, value_name = "BY", num_args = 0..=1, default_missing_value = "windows")]
    events: Option<EventsArg>,
    /// With --events: records shown per breaching window or episode; the
    /// rest are counted ("… and N more").
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_events: usize,
    /// With --events, --events-out or --html: each record whole, as it
    /// was read.
    #[arg(long)]
    full: bool,
    /// Also count matching records by this field (a selector such as
    /// `$.userIdentity.sessionContext.sessionIssuer.arn`) and show it with
    /// each record. Repeatable.
    #[arg(long, value_name = "SELECTOR")]
    group_by: Vec<String>,
    /// With --contributors: write every rule's contributors (whole run,
    /// each breaching window, each ALARM episode) to FILE as CSV.
    #[arg(long, value_name = "FILE.csv", requires = "contributors")]
    contributors_out: Option<PathBuf>,
    /// Write one self-contained HTML report to FILE: summary, timeline,
    /// state changes, breaching windows and episodes with their records and
    /// contributors, inputs, and the run manifest (every input hashed).
    #[arg(long, value_name = "FILE.html")]
    html: Option<PathBuf>,
    /// Write every matching record of every rule, tagged with its rule and
    /// window, to FILE: NDJSON, or CSV when FILE ends in `.csv`; `-`
    /// writes NDJSON to standard output instead of the report.
    #[arg(long, value_name = "FILE")]
    events_out: Option<PathBuf>,
    /// Write each rule's per-minute statistic sets and the input
    /// accounting to FILE (NDJSON, see `trailwatch replay`), to merge with
    /// other shards' series; `-` writes them to standard output instead of
    /// the report.
    #[arg(long, value_name = "FILE")]
    series_out: Option<PathBuf>,
}

/// What `--events` shows records for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EventsArg {
    /// Each breaching window.
    Windows,
    /// Each ALARM episode.
    Episodes,
}

/// Build the rules from the arguments: the files read here, the choice
/// made by [`select::select`].
pub fn rules(a: &RuleArgs, overrides: AlarmSettings) -> Result<RuleSet, Failure> {
    let usage = Failure::Usage;
    let mut from = Vec::new();
    for spec in &a.rules {
        match spec.as_str() {
            "cis" | "cis-all" => from.push(select::From::Pack(spec.clone())),
            path => {
                let p = std::path::Path::new(path);
                if !p.exists() && !path.contains(['/', '.']) {
                    let near = if path.len() > 4 { "cis-all" } else { "cis" };
                    return Err(usage(format!(
                        "--rules {path}: not `cis`, `cis-all` or an existing rules file; did you mean `{near}`?"
                    )));
                }
                let loaded = file::load(p).map_err(|e| usage(e.to_string()))?;
                from.push(select::From::Rules(loaded.rules));
            }
        }
    }
    let mut imported = None;
    if !(a.aws_config.is_empty() && a.cloudformation.is_empty() && a.terraform_plan.is_empty()) {
        let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| usage(format!("{}: {e}", p.display())));
        let mut docs = Vec::new();
        for p in &a.aws_config {
            let doc: serde_json::Value =
                serde_json::from_str(&read(p)?).map_err(|e| usage(format!("{}: invalid JSON: {e}", p.display())))?;
            docs.push((p.display().to_string(), doc));
        }
        type Reader = fn(&str, &str) -> Result<iac::Declared, iac::IacError>;
        let cfn = a.cloudformation.iter().map(|p| (p, iac::cloudformation as Reader));
        let tf = a.terraform_plan.iter().map(|p| (p, iac::terraform as Reader));
        let mut declared = Vec::new();
        for (p, read_as) in cfn.chain(tf) {
            let name = p.display().to_string();
            declared.push((name.clone(), read_as(&name, &read(p)?).map_err(|e| usage(e.to_string()))?));
        }
        imported = Some(aws::import_declared(docs, declared).map_err(|e| usage(e.to_string()))?);
    }
    let request = select::Request {
        from,
        names: &a.rule,
        imported,
        pattern: a.pattern.as_deref(),
        name: &a.name,
        metric_value: a.metric_value.as_deref(),
        default_value: a.default_value,
        overrides,
    };
    select::select(request).map_err(|e| usage(e.to_string()))
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
    let set = rules(&a.which, a.alarm.settings())?;
    {
        let mut err = io::stderr().lock();
        for r in &set.refused {
            writeln!(err, "trailwatch: refused: {}", trailwatch::report::escape::terminal(r))?;
        }
        for n in &set.notes {
            writeln!(err, "trailwatch: note: {}", trailwatch::report::escape::terminal(n))?;
        }
    }
    if a.strict && !set.refused.is_empty() {
        return Err(Failure::Usage("--strict: some rules or alarms cannot be replayed".into()));
    }
    let rules = set.rules;
    if a.full && a.events.is_none() && a.events_out.is_none() && a.html.is_none() {
        return Err(Failure::Usage("--full shows whole records: use it with --events, --events-out or --html".into()));
    }
    let group_by = a
        .group_by
        .iter()
        .map(|g| FieldSelector::parse(g).map_err(|e| Failure::Usage(format!("--group-by {g}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let contributors = a.contributors.unwrap_or(0);
    let events_out = a.events_out.as_deref();
    let mut opts = ScanOptions {
        threads: threads(a.threads)?,
        lag_ms: lag(&a.lag)?,
        from: time(&a.from, "--from")?,
        to: time(&a.to, "--to")?,
        samples: a.samples,
        limits: Limits {
            max_record: max_event_bytes(a.max_event_bytes)?,
            max_decompressed: a.max_decompressed,
            max_ratio: a.max_ratio,
            max_archive_decompressed: a.max_archive_decompressed,
            ..Limits::default()
        },
        prefilter: !a.no_prefilter,
        dedup: a.dedup,
        tally: if contributors > 0 { TallyBy::Rules } else { TallyBy::Off },
        contributors,
        keep_all: events_out.is_some() || contributors > 0,
        keep_ids: a.series_out.is_some(),
        events: a.events.map(|e| match e {
            EventsArg::Windows => EventsBy::Windows,
            EventsArg::Episodes => EventsBy::Episodes,
        }),
        max_events: a.max_events,
        full: a.full,
        group_by,
        progress: Some(Arc::new(Progress::default())),
        ..ScanOptions::default()
    };
    if opts.keep_all {
        opts.samples_held = RUN_KEPT;
    }
    if let (Some(f), Some(t)) = (opts.from, opts.to) {
        if f >= t {
            return Err(Failure::Usage("--from must be before --to".into()));
        }
    }
    let display = super::progress::Display::start(opts.progress.as_ref().expect("set above"), &a.paths, a.quiet);
    let result = scan(&a.paths, &rules, &opts);
    display.stop();
    let evidence = if a.verify {
        let (keys, newest) = super::verify::evidence_options(&a.public_keys, &a.digest_signature)?;
        // The walk's problems are the scan's, reported once.
        Some(trailwatch::verify::verify(&a.paths, &keys, &newest, result.threads).0)
    } else {
        None
    };
    let unverified = evidence.as_ref().is_some_and(|v| v.failed());
    let wants_manifest = a.manifest.is_some() || a.html.is_some();
    let hashed = wants_manifest.then(|| trailwatch::source::hash::hash_files(&a.paths, result.threads));
    let replays = replay(&result, &rules, &opts);
    let mut doc = model::build_with_evidence(&result, &replays, &opts, evidence);
    doc.refused = set.refused;
    // Drawn once, for the plot file and the HTML page both.
    let timeline = match a.plot.as_ref().or(a.html.as_ref()) {
        Some(path) => {
            let svg = report::plot::timeline_svg(&doc);
            Some(svg.map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?)
        }
        None => None,
    };
    if let (Some(path), Some(svg)) = (&a.plot, &timeline) {
        super::write_plot(path, svg)?;
    }
    if let Some((files, pipes, _)) = hashed {
        let command = std::env::args_os().map(|s| s.to_string_lossy().into_owned()).collect();
        let now = chrono::Utc::now().timestamp_millis();
        let manifest = Manifest::new(&doc, command, files, pipes, now);
        if let Some(path) = &a.manifest {
            let mut bytes = Vec::new();
            manifest.write(&mut bytes)?;
            super::write_file(path, &bytes)?;
        }
        if let (Some(path), Some(svg)) = (&a.html, &timeline) {
            let page = report::html::page(&doc, svg, &manifest, now)
                .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
            super::write_file(path, page.as_bytes())?;
        }
    }
    let failed = result.has_failures() || unverified;
    let no_records = result.totals.records == 0;
    let status = status(failed, no_records, &doc);
    let format = Format::from(a.format);
    let strict_stop = a.strict && failed;
    if let (Some(path), false) = (&a.contributors_out, strict_stop) {
        let mut bytes = Vec::new();
        report::contributors::write_csv(&mut bytes, &doc)?;
        super::write_file(path, &bytes)?;
    }
    let stdout = Path::new("-");
    let to_stdout = events_out.is_some_and(|p| p == stdout) || a.series_out.as_deref().is_some_and(|p| p == stdout);
    if to_stdout && events_out.is_some() && a.series_out.is_some() {
        return Err(Failure::Usage("--events-out and --series-out cannot both write to standard output".into()));
    }
    if let (Some(path), false) = (events_out, strict_stop) {
        write_events(path, &replays, &opts)?;
    }
    if let (Some(path), false) = (&a.series_out, strict_stop) {
        let inputs: Vec<String> = a.paths.iter().map(|p| p.display().to_string()).collect();
        let scanned = Scanned { rules: &rules, refused: &doc.refused, opts: &opts, inputs: &inputs };
        write_output(path, |out| trailwatch::series::write(out, &result, &scanned))?;
    }
    let report_out = !strict_stop && !to_stdout;
    super::deliver(status, || {
        if report_out {
            let mut out = io::BufWriter::new(io::stdout().lock());
            report::write(&mut out, &doc, format, Style { color: use_color(a.color) })?;
            out.flush()?;
        }
        let mut err = io::stderr().lock();
        // The text report lists the failures itself.
        if !report_out || format != Format::Text {
            for f in &doc.inputs.failures {
                writeln!(err, "trailwatch: {}: {}", terminal(&f.path), terminal(&f.error))?;
            }
        }
        if strict_stop {
            for p in &doc.inputs.path_problems {
                writeln!(err, "trailwatch: {}: {}", terminal(&p.path), terminal(&p.error))?;
            }
            writeln!(err, "trailwatch: --strict: stopping because some inputs could not be read")?;
        }
        if no_records {
            writeln!(err, "trailwatch: {}", no_records_message(&doc.inputs))?;
        }
        Ok(())
    })
}

/// The exit status of a replay: 3 if an input could not be read, 4 if no
/// record was read, 1 if a window breached, else 0.
pub fn status(failed: bool, no_records: bool, doc: &model::Document<'_>) -> u8 {
    if failed {
        exit::INPUT
    } else if no_records {
        exit::NO_RECORDS
    } else if doc.alarms.iter().any(|al| al.breaching_windows > 0) {
        exit::ALARM
    } else {
        exit::OK
    }
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Format {
        match f {
            OutputFormat::Text => Format::Text,
            OutputFormat::Json => Format::Json,
            OutputFormat::Csv => Format::Csv,
            OutputFormat::Ndjson => Format::Ndjson,
        }
    }
}

/// `--events-out`: every kept record, as NDJSON or (for a `.csv` file) CSV.
fn write_events(path: &Path, replays: &[AlarmReplay<'_>], opts: &ScanOptions) -> Result<(), Failure> {
    let csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let format = if csv { EventsFormat::Csv } else { EventsFormat::Ndjson };
    let group_by: Vec<String> = opts.group_by.iter().map(|g| g.to_string()).collect();
    write_output(path, |mut out| events::write(&mut out, replays, &group_by, opts.full, format).map(|_| ()))
}

/// Write an output file streamed by `write`, or standard output for `-`
/// (where a reader that goes away early is not an error).
fn write_output(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
    if path == Path::new("-") {
        let mut out = io::BufWriter::new(io::stdout().lock());
        return match write(&mut out).and_then(|_| out.flush()) {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Failure::Io(e)),
            _ => Ok(()),
        };
    }
    let cannot = |e: io::Error| Failure::Io(io::Error::new(e.kind(), format!("{}: cannot write: {e}", path.display())));
    let mut out = io::BufWriter::new(std::fs::File::create(path).map_err(cannot)?);
    write(&mut out).map_err(cannot)?;
    out.flush().map_err(cannot)
}

/// Most worker threads: more only add contention (each reads one file at a
/// time, bound by decompression on its core).
pub const MAX_THREADS: usize = 1024;

pub fn threads(n: usize) -> Result<usize, Failure> {
    if n > MAX_THREADS {
        return Err(Failure::Usage(format!("--threads {n}: at most {MAX_THREADS} (0: one per core)")));
    }
    Ok(n)
}

/// Smallest `--max-event-bytes`: every CloudTrail record is larger.
const MIN_EVENT_BYTES: usize = 64;

fn max_event_bytes(n: usize) -> Result<usize, Failure> {
    if n < MIN_EVENT_BYTES {
        return Err(Failure::Usage(format!(
            "--max-event-bytes {n}: at least {MIN_EVENT_BYTES} (a smaller limit would make every record oversized)"
        )));
    }
    Ok(n)
}

/// Largest `--lag`, either way: a delivery delay, not a calendar shift.
const MAX_LAG_DAYS: i64 = 366;

pub fn lag(text: &str) -> Result<i64, Failure> {
    let ms = parse_duration(text).ok_or_else(|| Failure::Usage(format!("invalid --lag {text:?}")))?;
    if ms.abs() > MAX_LAG_DAYS * 86_400_000 {
        return Err(Failure::Usage(format!("--lag {text}: at most {MAX_LAG_DAYS} days either way")));
    }
    Ok(ms)
}

pub fn time(s: &Option<String>, flag: &str) -> Result<Option<i64>, Failure> {
    let Some(v) = s else { return Ok(None) };
    let t = parse_user_time(v)
        .ok_or_else(|| Failure::Usage(format!("invalid {flag} {v:?} (RFC 3339 or YYYY-MM-DD, UTC)")))?;
    if !(RFC3339_MIN..=RFC3339_MAX).contains(&t) {
        return Err(Failure::Usage(format!("{flag} {v:?}: outside the years 0000 to 9999 that RFC 3339 can write")));
    }
    Ok(Some(t))
}

/// What to say when no record was read at all.
fn no_records_message(i: &model::Inputs) -> String {
    let skipped: u64 = i.skipped.values().sum();
    let problems = i.path_problems.len();
    format!(
        "no log record was read ({} file{} opened, {skipped} skipped, {problems} path problem{}): the result says nothing about these logs; check the paths",
        i.files,
        if i.files == 1 { "" } else { "s" },
        if problems == 1 { "" } else { "s" }
    )
}
