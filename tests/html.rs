//! `scan --html`: one self-contained page, opened in a real headless
//! browser (Debian's chromium) and checked for its content, for escaping,
//! and for the absence of any network request.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::util;

/// Hosts headless Chromium connects to on its own, whatever the page (its
/// sign-in and Google services); the flags below silence the others.
const CHROMIUM_OWN: [&str; 3] = ["accounts.google.com", "www.google.com", "clients2.google.com"];

/// A proxy that answers nothing and notes the host of every request made
/// through it: every request the browser makes for anything but the file.
fn recording_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hosts = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&hosts);
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let mut buf = [0; 2048];
            let n = c.read(&mut buf).unwrap_or(0);
            // `CONNECT host:443 HTTP/1.1` or `GET http://host/path HTTP/1.1`.
            let line = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string();
            let target = line.split(' ').nth(1).unwrap_or("");
            let target = target.strip_prefix("http://").unwrap_or(target);
            let host = target.split(['/', ':']).next().unwrap_or("").to_string();
            seen.lock().unwrap().push(host);
            let _ = c.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (port, hosts)
}

/// The page's DOM once loaded, and the hosts of the requests made while
/// loading it other than Chromium's own.
fn open(page: &Path) -> (String, Vec<String>) {
    let (port, hosts) = recording_proxy();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-default-apps",
            "--virtual-time-budget=3000",
            // Chromium's own calls home, which are not the page's.
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
            "--disable-client-side-phishing-detection",
            "--disable-domain-reliability",
            "--no-pings",
            "--disable-breakpad",
            "--metrics-recording-only",
            "--safebrowsing-disable-auto-update",
            "--disable-sync",
            "--no-default-browser-check",
            "--disable-search-engine-choice-screen",
            "--disable-extensions",
            "--disable-component-extensions-with-background-pages",
            "--allow-pre-commit-input",
        ])
        .arg(format!("--proxy-server=http://127.0.0.1:{port}"))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
    let hosts = hosts.lock().unwrap().iter().filter(|h| !CHROMIUM_OWN.contains(&h.as_str())).cloned().collect();
    (String::from_utf8(out.stdout).unwrap(), hosts)
}

#[test]
#[cfg_attr(not(chromium), ignore = "skipped: /usr/bin/chromium is absent (apt-get install chromium)")]
fn the_proxy_sees_a_page_that_loads_from_the_network() {
    // The check below means something only if a request would be seen.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("control.html");
    let html = r#"<!DOCTYPE html><html><body><img src="http://trailwatch-control.example/x.png"></body></html>"#;
    std::fs::write(&page, html).unwrap();
    let (_, requests) = open(&page);
    assert_eq!(requests, ["trailwatch-control.example"], "a page with a remote image makes a request");
}

#[test]
#[cfg_attr(not(chromium), ignore = "skipped: /usr/bin/chromium is absent (apt-get install chromium)")]
fn the_report_opens_offline_with_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let mut cmd = util::trailwatch();
    cmd.current_dir(util::root()).args([
        "scan",
        "testdata/archive",
        "--events",
        "episodes",
        "--contributors",
        "3",
        "--html",
    ]);
    cmd.arg(&page);
    let (code, _, err) = util::run(cmd);
    assert_eq!(code, 1, "{err}");
    let (dom, requests) = open(&page);
    assert_eq!(requests, Vec::<String>::new(), "no network request");
    assert!(dom.contains("default-src 'none'"), "and a policy that forbids any");
    assert!(dom.contains("<h1>trailwatch report</h1>"));
    assert!(dom.contains("<svg"), "the timeline is inline");
    // The two ALARM episodes, with 18 and 25 records behind them (the
    // first 20 of each shown).
    assert!(dom.contains(
        "ALARM 2023-07-10T01:21:00Z – 2023-07-10T02:07:00Z</span> · 5 windows (5 breaching) · 18 matching records"
    ));
    assert!(dom.contains(
        "ALARM 2023-07-10T03:01:00Z – 2023-07-10T03:55:00Z</span> · 6 windows (6 breaching) · 25 matching records"
    ));
    assert!(dom.contains("… and 5 more"), "25 records, 20 shown");
    // One location row per record shown: the episodes' first 20, and each
    // breaching window's first 3 (`--samples`).
    let (_, doc, _) = util::scan_json(&[util::testdata("archive").to_str().unwrap()]);
    let windows = doc["alarms"][0]["windows"].as_array().unwrap().iter().filter(|w| w["breaching"] == true);
    let per_window: u64 = windows.map(|w| w["matches"].as_u64().unwrap().min(3)).sum();
    assert_eq!(dom.matches("<tr class=\"where\">").count() as u64, 18 + 20 + per_window);
    // The inputs and the manifest, with every input's digest.
    assert!(dom.contains("<th>Records</th><td class=\"n\">2400</td>"));
    let on_disk = walk(&util::testdata("archive"));
    assert_eq!(dom.matches("<tr><td class=\"mono\">testdata/archive/").count(), on_disk, "one manifest row per file");
}

#[test]
#[cfg_attr(not(chromium), ignore = "skipped: /usr/bin/chromium is absent (apt-get install chromium)")]
fn hostile_values_stay_text_in_the_page() {
    let dir = tempfile::tempdir().unwrap();
    crate::events::hostile_archive(dir.path());
    let page = dir.path().join("report.html");
    let mut cmd = util::trailwatch();
    cmd.arg("scan").arg(dir.path()).args(["--events", "--full", "--group-by", "$.requestParameters.name", "--html"]);
    cmd.arg(&page);
    let (code, _, err) = util::run(cmd);
    assert_eq!(code, 1, "{err}");
    let (dom, requests) = open(&page);
    assert_eq!(requests, Vec::<String>::new());
    assert!(!dom.contains("<script"), "no markup from the logs");
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(dom.contains("=cmd|' /C calc'!A0"));
    assert!(dom.contains(&"A".repeat(100_000)), "the whole record, 100 KB field and all");
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).map(|p| if p.is_dir() { walk(&p) } else { 1 }).sum()
}
