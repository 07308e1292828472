//! `trailwatch sql`: rules compiled to a query that returns their
//! per-minute series over a table an engine already has.

use std::io::{self, Write};

use clap::{Args, ValueEnum};

use trailwatch::report::escape::terminal;
use trailwatch::sql::{translate, Dialect, Source};

use super::scan::{self as scan_cli, RuleArgs};
use super::{Failure, Outcome};

/// SQL dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// Amazon Athena (Trino) over the CloudTrail table AWS documents.
    Athena,
    /// Spark SQL (4.0 or later) over a view of whole log files.
    Spark,
    /// DuckDB over the log files.
    Duckdb,
}

/// Arguments of `sql`.
#[derive(Args, Debug)]
pub struct SqlArgs {
    /// The engine the query is for.
    #[arg(long, value_enum)]
    dialect: DialectArg,
    #[command(flatten)]
    which: RuleArgs,
    /// Where the records are: for duckdb the log files (a glob, default
    /// `AWSLogs/**/*.json.gz`), for spark the view of whole files (default
    /// `cloudtrail_files`), for athena the CloudTrail table (default
    /// `cloudtrail_logs`).
    #[arg(long, value_name = "FILES|TABLE")]
    source: Option<String>,
    /// Add this delay to eventTime, as `scan --lag` does.
    #[arg(long, value_name = "DURATION", default_value = "0", allow_hyphen_values = true)]
    lag: String,
}

/// `sql`.
pub fn run(a: SqlArgs) -> Outcome {
    let dialect = match a.dialect {
        DialectArg::Athena => Dialect::Athena,
        DialectArg::Spark => Dialect::Spark,
        DialectArg::Duckdb => Dialect::DuckDb,
    };
    let set = scan_cli::rules(&a.which, Default::default())?;
    let source = a.source.map(|from| Source { from }).unwrap_or_else(|| Source::default_for(dialect));
    let lag_ms = scan_cli::lag(&a.lag)?;
    let t = translate(&set.rules, dialect, &source, lag_ms);
    let mut err = io::stderr().lock();
    for r in set.refused.iter().cloned().chain(t.refused.iter().map(ToString::to_string)) {
        writeln!(err, "trailwatch: refused: {}", terminal(&r))?;
    }
    let Some(query) = t.query else {
        return Err(Failure::Usage(format!("no rule translates exactly to {dialect}")));
    };
    super::deliver(trailwatch::exit::OK, || {
        let mut out = io::stdout().lock();
        out.write_all(query.as_bytes())?;
        out.flush()
    })
}
