//! Command-line interface: clap definitions (the raw layer) and one runner
//! per subcommand. Runners build validated configurations, call the
//! library, and map outcomes to exit statuses (see `trailwatch::exit`).

mod alarm;
mod rules;
mod scan;
mod test_pattern;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use trailwatch::exit;

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

/// Read a file, or standard input for `-`.
pub fn read_input(path: &str) -> Result<String, Failure> {
    let mut s = String::new();
    if path == "-" {
        io::Read::read_to_string(&mut io::stdin().lock(), &mut s)
            .map_err(|e| Failure::Usage(format!("reading standard input: {e}")))?;
    } else {
        s = std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("{path}: {e}")))?;
    }
    Ok(s)
}
