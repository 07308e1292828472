//! The verdict of `verify` for a reader.

use std::io::{self, Write};

use super::escape::terminal;
use super::text::Style;
use crate::verify::{Finding, VerifyReport};

/// Write the verdict for a reader: per trail, coverage, every finding,
/// notes, and the verdict line.
pub fn write_text(
    w: &mut impl Write,
    r: &VerifyReport,
    path_problems: &[(String, String)],
    st: Style,
) -> io::Result<()> {
    for t in &r.trails {
        writeln!(
            w,
            "{}",
            st.bold(&format!("{} {}  trail {:?}", terminal(&t.account), terminal(&t.region), terminal(&t.trail)))
        )?;
        let span = match (&t.from, &t.to) {
            (Some(a), Some(b)) => format!(" from {} to {}", terminal(a), terminal(b)),
            _ => String::new(),
        };
        let backfill =
            if t.backfill_digests > 0 { format!(" (+{} backfill)", t.backfill_digests) } else { String::new() };
        writeln!(w, "  digests     {}{backfill}{span}", t.digests)?;
        writeln!(w, "  log files   {} listed, {} valid", t.listed, t.valid)?;
        writeln!(w, "  signatures  {} valid, {} not checked", t.signatures_valid, t.signatures_unchecked)?;
        for (a, b) in &t.gaps {
            writeln!(w, "  {}", st.red(&format!("no digest from {} to {}", terminal(a), terminal(b))))?;
        }
    }
    if !r.coverage.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", st.bold("COVERAGE (account region: log files, hours with logs, hours with digests)"))?;
        for c in &r.coverage {
            writeln!(
                w,
                "  {} {}: {} log files, {} h with logs, {} h with digests",
                terminal(&c.account),
                terminal(&c.region),
                c.log_files,
                c.hours_with_logs,
                c.hours_with_digests
            )?;
        }
    }
    if !r.problems.is_empty() {
        writeln!(w)?;
        for p in &r.problems {
            let what = format!("{:<28}", p.finding.key().to_uppercase());
            let what = if p.finding.fails() { st.red(&what) } else { st.yellow(&what) };
            writeln!(w, "{what} {}  {}", terminal(&p.path), st.dim(&terminal(&p.detail)))?;
        }
    }
    for (path, reason) in path_problems {
        writeln!(w, "{} {}  {}", st.red("UNREADABLE PATH"), terminal(path), terminal(reason))?;
    }
    for n in &r.notes {
        writeln!(w, "note: {}", terminal(n))?;
    }
    writeln!(w)?;
    let failures: Vec<String> = [
        Finding::Modified,
        Finding::Missing,
        Finding::NotCovered,
        Finding::DigestModified,
        Finding::DigestMissing,
        Finding::BadSignature,
        Finding::KeyNotFound,
        Finding::Moved,
        Finding::Unreadable,
        Finding::NoDigests,
    ]
    .iter()
    .filter_map(|f| match r.count(*f) {
        0 => None,
        n => Some(format!("{n} {}", f.key())),
    })
    .collect();
    if failures.is_empty() && path_problems.is_empty() {
        writeln!(w, "{}", st.green("verified: every listed log file is present and unchanged, the chain is whole"))?;
    } else {
        let mut all = failures;
        if !path_problems.is_empty() {
            all.push(format!("{} unreadable paths", path_problems.len()));
        }
        writeln!(w, "{}", st.red(&format!("NOT VERIFIED: {}", all.join(", "))))?;
    }
    Ok(())
}
