//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A command for the built `trailwatch` binary.
pub fn trailwatch() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trailwatch"));
    c.env("NO_COLOR", "1");
    c
}

/// Run and return (status code, stdout, stderr).
pub fn run(mut c: Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = c.output().expect("run trailwatch");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The shared corpus of real CloudTrail records, when it is present.
pub fn shared_corpus() -> Option<PathBuf> {
    let p = root().join("../shared/corpus");
    if p.join("SOURCES.md").exists() {
        Some(p)
    } else {
        eprintln!("note: ../shared/corpus is absent; skipping the checks on real CloudTrail records");
        None
    }
}

/// Path of a file under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// Does the path exist?
pub fn exists(p: &Path) -> bool {
    p.exists()
}
