//! Tells the tests what this machine has, so that the tests that need
//! something absent are marked ignored, with the reason: a skipped test
//! shows as skipped, never as passed.
//!
//! - `shared_corpus`: `../shared/corpus` (real CloudTrail records, beside
//!   the repository in the workplace);
//! - `chromium`: Debian's headless browser (`/usr/bin/chromium`), which
//!   opens the HTML report in its test.

const CHROMIUM: &str = "/usr/bin/chromium";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_corpus)");
    println!("cargo::rustc-check-cfg=cfg(chromium)");
    println!("cargo::rerun-if-changed=../shared/corpus/SOURCES.md");
    println!("cargo::rerun-if-changed={CHROMIUM}");
    println!("cargo::rerun-if-changed=build.rs");
    if std::path::Path::new("../shared/corpus/SOURCES.md").exists() {
        println!("cargo::rustc-cfg=shared_corpus");
    }
    if std::path::Path::new(CHROMIUM).exists() {
        println!("cargo::rustc-cfg=chromium");
    }
}
