//! `trailwatch-gen`: write a seeded, deterministic CloudTrail archive in the
//! S3 layout, with `manifest.json` holding the known answer.
//!
//! ```text
//! cargo run --release -p trailwatch-synth -- --out testdata/archive --seed 1
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use trailwatch::record::time::{parse_duration, parse_user_time};
use trailwatch_synth::{generate, test_public_keys_json, Config};

/// Generate a synthetic CloudTrail archive.
#[derive(Parser, Debug)]
#[command(name = "trailwatch-gen", version)]
struct Args {
    /// Output directory (created).
    #[arg(long)]
    out: PathBuf,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of records.
    #[arg(long, default_value_t = 2400)]
    records: u64,
    /// First instant (RFC 3339 or YYYY-MM-DD).
    #[arg(long, default_value = "2023-07-10")]
    start: String,
    /// Time covered (e.g. 6h, 7d).
    #[arg(long, default_value = "4h")]
    duration: String,
    /// Accounts.
    #[arg(long, default_value_t = 2)]
    accounts: usize,
    /// Regions.
    #[arg(long, default_value_t = 2)]
    regions: usize,
    /// Share of records matching the CIS unauthorized-API-calls filter.
    #[arg(long, default_value_t = 0.02)]
    match_rate: f64,
    /// Share of near misses.
    #[arg(long, default_value_t = 0.01)]
    near_miss_rate: f64,
    /// Do not write digest files.
    #[arg(long)]
    no_digests: bool,
    /// Do not write the Insights file, the stray file and time-less records.
    #[arg(long)]
    no_oddities: bool,
    /// Also write the public key the digests are signed with, as
    /// `aws cloudtrail list-public-keys` prints it, to this file.
    #[arg(long, value_name = "FILE")]
    public_keys: Option<PathBuf>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let (Some(start), Some(duration_ms)) = (parse_user_time(&a.start), parse_duration(&a.duration)) else {
        eprintln!("trailwatch-gen: invalid --start or --duration");
        return ExitCode::from(2);
    };
    let cfg = Config {
        seed: a.seed,
        records: a.records,
        start,
        duration_ms,
        accounts: a.accounts,
        regions: a.regions,
        match_rate: a.match_rate,
        near_miss_rate: a.near_miss_rate,
        digests: !a.no_digests,
        oddities: !a.no_oddities,
        organization: true,
    };
    if let Some(p) = &a.public_keys {
        if let Err(e) = std::fs::write(p, test_public_keys_json()) {
            eprintln!("trailwatch-gen: {}: {e}", p.display());
            return ExitCode::from(3);
        }
    }
    match generate(&cfg, &a.out) {
        Ok(m) => {
            eprintln!(
                "trailwatch-gen: {} records in {} log files ({} matches, {} near misses) under {}",
                m.records,
                m.log_files,
                m.matches,
                m.near_misses,
                a.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("trailwatch-gen: {}: {e}", a.out.display());
            ExitCode::from(3)
        }
    }
}
