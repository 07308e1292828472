//! Tells the tests whether `../shared/corpus` (real CloudTrail records,
//! beside the repository in the workplace) is present, so that the tests
//! that need it are marked ignored, with the reason, when it is not: a
//! skipped test shows as skipped, never as passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_corpus)");
    println!("cargo::rerun-if-changed=../shared/corpus/SOURCES.md");
    println!("cargo::rerun-if-changed=build.rs");
    if std::path::Path::new("../shared/corpus/SOURCES.md").exists() {
        println!("cargo::rustc-cfg=shared_corpus");
    }
}
