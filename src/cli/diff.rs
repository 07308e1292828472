//! `trailwatch diff`: two rules over the same logs, what one matched and
//! the other did not.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use trailwatch::alarm::AlarmSpec;
use trailwatch::diff::compare;
use trailwatch::report::diff::write;
use trailwatch::report::escape::terminal;
use trailwatch::rules::Rule;
use trailwatch::scan::{scan, ScanOptions, TallyBy};

use super::scan::{rules, AlarmArgs, RuleArgs};
use super::{deliver, input_status, say_input_failures, Failure, Outcome, TableRunArgs};

/// Arguments of `diff`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// CloudTrail log files or directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A rule to compare, by name: from the CIS pack
    /// (`unauthorized-api-calls:cis-1.2`), or from --rules files or
    /// --aws-config. Rules named here come first, in this order.
    #[arg(long, value_name = "NAME")]
    rule: Vec<String>,
    /// A filter pattern to compare (after the --rule rules).
    #[arg(long)]
    pattern: Vec<String>,
    /// Rules files (TOML or JSON) to take --rule names from. Repeatable.
    #[arg(long, value_name = "FILE")]
    rules: Vec<String>,
    /// AWS configuration (describe-metric-filters, describe-alarms) to take
    /// --rule names from. Repeatable.
    #[arg(long, value_name = "FILE")]
    aws_config: Vec<PathBuf>,
    /// CloudFormation templates to take --rule names from. Repeatable.
    #[arg(long, value_name = "FILE")]
    cloudformation: Vec<PathBuf>,
    /// `terraform show -json` output to take --rule names from. Repeatable.
    #[arg(long, value_name = "FILE")]
    terraform_plan: Vec<PathBuf>,
    #[command(flatten)]
    alarm: AlarmArgs,
    /// Values shown per field.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Example records shown per side.
    #[arg(long, value_name = "N", default_value_t = 3)]
    examples: usize,
    #[command(flatten)]
    run: TableRunArgs,
}

/// The two rules: those named, in the order named, then the patterns.
fn sides(a: &DiffArgs) -> Result<Vec<Rule>, Failure> {
    let given = a.rule.len() + a.pattern.len();
    if given != 2 {
        return Err(Failure::Usage(format!(
            "diff compares two rules: give two of --rule NAME and --pattern PATTERN ({given} given)"
        )));
    }
    let settings = a.alarm.settings();
    let mut out = Vec::new();
    // One name at a time: a name picks its rule wherever the sources put it.
    for name in &a.rule {
        let which = RuleArgs {
            pattern: None,
            name: String::new(),
            metric_value: None,
            default_value: None,
            rules: a.rules.clone(),
            rule: vec![name.clone()],
            aws_config: a.aws_config.clone(),
            cloudformation: a.cloudformation.clone(),
            terraform_plan: a.terraform_plan.clone(),
        };
        let set = rules(&which, settings.clone())?;
        let mut err = io::stderr().lock();
        for r in &set.refused {
            writeln!(err, "trailwatch: refused: {}", terminal(r))?;
        }
        match <[Rule; 1]>::try_from(set.rules) {
            Ok([rule]) => out.push(rule),
            Err(rules) => {
                let found: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
                return Err(Failure::Usage(format!(
                    "--rule {name:?} names {} rules ({}); diff compares one with one",
                    found.len(),
                    found.join(", ")
                )));
            }
        }
    }
    if a.rule.len() == 2 && out[0].name == out[1].name {
        return Err(Failure::Usage(format!("--rule {:?} twice: nothing to compare", out[0].name)));
    }
    let alarm = settings.apply(&AlarmSpec::default()).map_err(|e| Failure::Usage(e.to_string()))?;
    for (k, text) in a.pattern.iter().enumerate() {
        let name = if a.pattern.len() == 2 { format!("pattern {}", k + 1) } else { "pattern".to_string() };
        let mut r = Rule::new(&name, text).map_err(|e| Failure::Usage(format!("--pattern: {e}")))?;
        r.alarm = alarm.clone();
        out.push(r);
    }
    Ok(out)
}

/// `diff`.
pub fn run(a: DiffArgs) -> Outcome {
    let rules = sides(&a)?;
    let opts = ScanOptions { samples: a.examples, tally: TallyBy::Contrast(0, 1), ..a.run.options()? };
    let result = scan(&a.paths, &rules, &opts);
    let comparison = compare(&result, &rules, &opts);
    deliver(input_status(&result), || {
        let mut w = io::BufWriter::new(io::stdout().lock());
        write(&mut w, &comparison, a.top, a.run.format.into())?;
        w.flush()?;
        say_input_failures(&result)
    })
}
