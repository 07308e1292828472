//! `trailwatch rules`: list the built-in CIS pack or a rules file, and run
//! their example events (`--test`).

use std::io::{self, Write};
use std::path::Path;

use clap::{Args, ValueEnum};
use serde::Serialize;

use trailwatch::exit;
use trailwatch::report::escape::terminal;
use trailwatch::rules::{file, pack};

use super::{Failure, Outcome};

/// Output format of `rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// Readable list.
    Text,
    /// JSON array.
    Json,
}

/// Arguments of `rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    /// A rules file to list instead of the built-in CIS pack.
    #[arg(long, value_name = "FILE")]
    rules: Option<String>,
    /// Run the example events and report any that do not behave as declared.
    #[arg(long)]
    test: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    format: RulesFormat,
}

#[derive(Serialize)]
struct Listed {
    name: String,
    control: Option<String>,
    title: Option<String>,
    pattern: String,
    default: bool,
    used_by: Option<String>,
    refused_by_cloudwatch: Option<String>,
}

/// `rules`.
pub fn run(a: RulesArgs) -> Outcome {
    let mut listed = Vec::new();
    let (checked, failures) = match a.rules.as_deref() {
        None | Some("cis") | Some("cis-all") => {
            let p = pack::cis();
            for c in &p.controls {
                for v in &c.variants {
                    listed.push(Listed {
                        name: c.rule_name(v),
                        control: Some(c.id.clone()),
                        title: Some(format!("{} (CIS {})", c.title, c.cis)),
                        pattern: v.pattern.clone(),
                        default: v.name == c.default,
                        used_by: Some(v.used_by.clone()),
                        refused_by_cloudwatch: v.error.as_ref().map(|e| e.kind.to_string()),
                    });
                }
            }
            if a.test {
                p.count_examples()
            } else {
                (0, Vec::new())
            }
        }
        Some(path) => {
            let loaded = file::load(Path::new(path)).map_err(|e| Failure::Usage(e.to_string()))?;
            for r in &loaded.rules {
                listed.push(Listed {
                    name: r.name.clone(),
                    control: None,
                    title: r.title.clone(),
                    pattern: r.pattern.source().to_string(),
                    default: false,
                    used_by: None,
                    refused_by_cloudwatch: None,
                });
            }
            if a.test {
                loaded.count_examples()
            } else {
                (0, Vec::new())
            }
        }
    };
    let status = if failures.is_empty() { exit::OK } else { exit::ALARM };
    super::deliver(status, || {
        let mut w = io::BufWriter::new(io::stdout().lock());
        if a.test && a.format == RulesFormat::Text {
            // With --test, the verdict, not the listing.
            for f in &failures {
                writeln!(w, "FAIL {}", terminal(f))?;
            }
            writeln!(w, "{checked} examples checked, {} failures", failures.len())?;
            return w.flush();
        }
        match a.format {
            RulesFormat::Json => {
                serde_json::to_writer_pretty(&mut w, &listed).map_err(io::Error::from)?;
                writeln!(w)?;
                if a.test {
                    // The listing is the document; the verdict goes beside it.
                    let mut err = io::stderr().lock();
                    for f in &failures {
                        writeln!(err, "FAIL {}", terminal(f))?;
                    }
                    writeln!(err, "{checked} examples checked, {} failures", failures.len())?;
                }
            }
            RulesFormat::Text => {
                let mut last_control = None;
                for l in &listed {
                    if l.control.is_some() && l.control != last_control {
                        writeln!(w)?;
                        writeln!(w, "{}  {}", l.control.as_deref().unwrap_or(""), l.title.as_deref().unwrap_or(""))?;
                        last_control = l.control.clone();
                    }
                    let mark = if l.default { " (default)" } else { "" };
                    writeln!(w, "  {}{}", l.name, mark)?;
                    writeln!(w, "      {}", terminal(&l.pattern))?;
                    if let Some(u) = &l.used_by {
                        writeln!(w, "      used by: {}", terminal(u))?;
                    }
                    if let Some(e) = &l.refused_by_cloudwatch {
                        writeln!(w, "      REFUSED by CloudWatch: {}", terminal(e))?;
                    }
                }
            }
        }
        w.flush()
    })
}
