//! Command-line interface: clap definitions (the raw layer) and one runner
//! per subcommand. Runners build validated configurations, call the
//! library, and map outcomes to exit statuses (see `trailwatch::exit`).

mod alarm;
mod diff;
mod progress;
mod replay;
mod rules;
mod scan;
mod sql;
mod test_pattern;
mod tune;
mod verify;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use trailwatch::exit;
use trailwatch::report::escape;

/// Replay CloudWatch metric filters and alarms offline over downloaded
/// CloudTrail logs.
#[derive(Parser, Debug)]
#[command(name = "trailwatch", version, about, long_about = None, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Replay metric filters and alarms over CloudTrail log files.
    Scan(Box<scan::ScanArgs>),
    /// Replay an alarm over metric data you already have (get-metric-statistics JSON or CSV).
    Alarm(alarm::AlarmCmdArgs),
    /// List the built-in CIS rule pack (or a rules file) and test its example events.
    Rules(rules::RulesArgs),
    /// Test a filter pattern against log events, like `aws logs test-metric-filter`.
    TestPattern(test_pattern::TestPatternArgs),
    /// Show how a filter pattern is understood, and lint it.
    Explain(test_pattern::ExplainArgs),
    /// Check the CloudTrail digest files of a copy against its log files, offline.
    Verify(verify::VerifyArgs),
    /// Replay each rule's alarm under a grid of settings after one scan.
    Tune(Box<tune::TuneArgs>),
    /// Compare two rules over the same logs: what one matched and the other did not.
    Diff(Box<diff::DiffArgs>),
    /// Merge series files (`scan --series-out`, `trailwatch sql` results) and replay the alarms over them.
    Replay(Box<replay::ReplayArgs>),
    /// Print a SQL query (Athena, Spark, DuckDB) that returns the rules' per-minute series.
    Sql(Box<sql::SqlArgs>),
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => scan::run(*a),
        Command::Alarm(a) => alarm::run(a),
        Command::Rules(a) => rules::run(a),
        Command::TestPattern(a) => test_pattern::run(a),
        Command::Explain(a) => test_pattern::explain(a),
        Command::Verify(a) => verify::run(a),
        Command::Tune(a) => tune::run(*a),
        Command::Diff(a) => diff::run(*a),
        Command::Replay(a) => replay::run(*a),
        Command::Sql(a) => sql::run(*a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure::BrokenPipe) => ExitCode::from(exit::OK),
        Err(Failure::Usage(msg)) => {
            let _ = writeln!(io::stderr(), "trailwatch: {msg}");
            ExitCode::from(exit::USAGE)
        }
        Err(Failure::Io(e)) => {
            let _ = writeln!(io::stderr(), "trailwatch: {e}");
            ExitCode::from(exit::INPUT)
        }
    }
}

/// Why a command stopped early.
#[derive(Debug)]
pub enum Failure {
    /// Usage, configuration or pattern error (exit 2).
    Usage(String),
    /// Reading input or writing output failed (exit 3).
    Io(io::Error),
    /// The reader of our output went away: not an error.
    BrokenPipe,
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Io(e)
        }
    }
}

/// Result of a command: the exit status to use.
pub type Outcome = Result<u8, Failure>;

/// Write a command's output, then give its verdict, `status`. A reader
/// that goes away early (`trailwatch scan ... | head`) stops the writing,
/// not the verdict: the status is the whole run's either way.
pub fn deliver(status: u8, write: impl FnOnce() -> io::Result<()>) -> Outcome {
    match write() {
        Ok(()) => Ok(status),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(status),
        Err(e) => Err(Failure::Io(e)),
    }
}

/// Read a text file, or standard input for `-`.
pub fn read_input(path: &str) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    if path == "-" {
        io::Read::read_to_end(&mut io::stdin().lock(), &mut bytes)
            .map_err(|e| Failure::Usage(format!("reading standard input: {e}")))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| Failure::Usage(format!("{path}: {e}")))?;
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(Failure::Usage(format!(
            "{path} is gzip-compressed; this command reads text (one log event per line). To run a pattern over CloudTrail log files, use `trailwatch scan --pattern PATTERN {path}`"
        )));
    }
    String::from_utf8(bytes).map_err(|e| Failure::Usage(format!("{path}: not UTF-8 text: {e}")))
}

/// Output format of `tune` and `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormatArg {
    /// For people.
    Text,
    /// One JSON document.
    Json,
    /// One line per row.
    Csv,
}

impl From<TableFormatArg> for trailwatch::report::TableFormat {
    fn from(f: TableFormatArg) -> Self {
        match f {
            TableFormatArg::Text => Self::Text,
            TableFormatArg::Json => Self::Json,
            TableFormatArg::Csv => Self::Csv,
        }
    }
}

/// The options `tune` and `diff` share.
#[derive(clap::Args, Debug)]
pub struct TableRunArgs {
    /// Replay only datapoints from this instant (RFC 3339 or YYYY-MM-DD,
    /// UTC); matches are counted over the whole input.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Replay only datapoints before this instant.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormatArg::Text)]
    pub format: TableFormatArg,
}

impl TableRunArgs {
    /// The scan options these give.
    pub fn options(&self) -> Result<trailwatch::scan::ScanOptions, Failure> {
        Ok(trailwatch::scan::ScanOptions {
            threads: scan::threads(self.threads)?,
            from: scan::time(&self.from, "--from")?,
            to: scan::time(&self.to, "--to")?,
            ..trailwatch::scan::ScanOptions::default()
        })
    }
}

/// The exit status of a command that judges no alarm (`tune`, `diff`): 3
/// if an input could not be read, 4 if no record was read, else 0.
pub fn input_status(r: &trailwatch::scan::ScanReport) -> u8 {
    if r.has_failures() {
        exit::INPUT
    } else if r.totals.records == 0 {
        exit::NO_RECORDS
    } else {
        exit::OK
    }
}

/// Say on standard error which inputs could not be read, and why.
pub fn say_input_failures(r: &trailwatch::scan::ScanReport) -> io::Result<()> {
    let mut err = io::stderr().lock();
    for f in r.files.iter().filter(|f| f.failed()) {
        let why = f.error.as_deref().unwrap_or("failed");
        writeln!(err, "trailwatch: {}: {}", escape::terminal(&f.path), escape::terminal(why))?;
    }
    for p in &r.problems {
        writeln!(err, "trailwatch: {}: {}", escape::terminal(&p.path), escape::terminal(&p.reason))?;
    }
    Ok(())
}

/// Write a plot (SVG markup) to `path`: as it is, or rasterised to PNG
/// with the system's fonts when the name ends in `.png`.
pub fn write_plot(path: &std::path::Path, svg: &str) -> Result<(), Failure> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        let mut fonts = resvg::usvg::fontdb::Database::new();
        fonts.load_system_fonts();
        // The plots ask for `sans-serif`; fontdb takes that to be Arial,
        // which Linux systems seldom have.
        let present = |name: &str| fonts.faces().any(|f| f.families.iter().any(|(n, _)| n == name));
        if let Some(name) = ["Arial", "Liberation Sans", "DejaVu Sans", "Helvetica"].into_iter().find(|n| present(n)) {
            fonts.set_sans_serif_family(name);
        }
        let png = trailwatch::report::plot::png(svg, std::sync::Arc::new(fonts))
            .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        return write_file(path, &png);
    }
    write_file(path, svg.as_bytes())
}

/// Write an output file the user named (a plot, a table), whole.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::Io(io::Error::new(e.kind(), format!("{}: cannot write: {e}", path.display()))))
}
