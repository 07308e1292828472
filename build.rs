//! Tells the tests what this machine has, so that the tests that need
//! something absent are marked ignored, with the reason: a skipped test
//! shows as skipped, never as passed.
//!
//! - `shared_corpus`: `../shared/corpus` (real CloudTrail records, beside
//!   the repository in the workplace);
//! - `chromium`: Debian's headless browser (`/usr/bin/chromium`), which
//!   opens the HTML report in its test;
//! - `sql_engines`: Python 3 with the `duckdb` and `sqlglot` packages, which
//!   run `trailwatch sql`'s DuckDB query and check the Athena one;
//! - `pyspark`: Python 3 with `pyspark` and a Java runtime, which run the
//!   Spark query and the Spark driver in local mode.

const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether `python3` imports every module named.
fn python_has(modules: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Where `python3` installs packages (watched: installing one reruns this).
fn site_packages() -> Option<String> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_corpus)");
    println!("cargo::rustc-check-cfg=cfg(chromium)");
    println!("cargo::rustc-check-cfg=cfg(sql_engines)");
    println!("cargo::rustc-check-cfg=cfg(pyspark)");
    if let Some(site) = site_packages() {
        println!("cargo::rerun-if-changed={site}");
    }
    if python_has("duckdb, sqlglot") {
        println!("cargo::rustc-cfg=sql_engines");
    }
    let java = std::process::Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success());
    if java && python_has("pyspark") {
        println!("cargo::rustc-cfg=pyspark");
    }
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
