//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;
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

/// The shared corpus of real CloudTrail records. The tests that use it are
/// marked ignored, with the reason, when the build did not find it (see
/// `build.rs`), so that they show as skipped rather than passed.
pub fn shared_corpus() -> PathBuf {
    let p = root().join("../shared/corpus");
    assert!(p.join("SOURCES.md").exists(), "../shared/corpus was present at build time and is gone");
    p
}

/// Path of a file under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// Does the path exist?
pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// Write `bytes` to `dir/rel`, making the folders on the way.
pub fn write(dir: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `trailwatch scan --format json ARGS`: (status, document, stderr).
pub fn scan_json(args: &[&str]) -> (i32, Value, String) {
    let mut cmd = trailwatch();
    cmd.arg("scan").arg("--format").arg("json").args(args);
    let (code, stdout, stderr) = run(cmd);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}\n{stderr}"));
    (code, doc, stderr)
}

/// The first ```text block after `heading` in the README.
pub fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let after = &readme[readme.find(heading).unwrap_or_else(|| panic!("README: {heading:?}"))..];
    let start = after.find("```text\n").expect("the example's block") + "```text\n".len();
    after[start..start + after[start..].find("```").unwrap()].to_string()
}

/// Whether the README's section under `heading` shows `command`.
pub fn readme_shows(heading: &str, command: &str) -> bool {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    readme[readme.find(heading).expect("the section")..].contains(command)
}
