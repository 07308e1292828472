//! Progress on standard error while a scan runs: files and bytes read,
//! throughput and time left, once the run has taken more than a moment,
//! only when standard error is a terminal.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use trailwatch::scan::Progress;

/// How long a run goes before progress is shown.
const QUIET_FOR: Duration = Duration::from_millis(800);
/// How often the display is refreshed.
const TICK: Duration = Duration::from_millis(120);

/// A progress display running beside a scan; [`Display::stop`] clears it.
pub struct Display {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Display {
    /// Start showing `progress` on standard error, if it is a terminal and
    /// `quiet` is not set; otherwise show nothing.
    /// The total to expect is measured by a walk of `paths` of its own.
    pub fn start(progress: &Arc<Progress>, paths: &[PathBuf], quiet: bool) -> Display {
        let stop = Arc::new(AtomicBool::new(false));
        if quiet || !std::io::stderr().is_terminal() {
            return Display { stop, thread: None };
        }
        let (p, paths) = (Arc::clone(progress), paths.to_vec());
        std::thread::spawn(move || {
            if let Some((files, bytes)) = trailwatch::source::measure(&paths) {
                p.expect(files, bytes);
            }
        });
        let (progress, flag) = (Arc::clone(progress), Arc::clone(&stop));
        let thread = std::thread::spawn(move || show(&progress, &flag));
        Display { stop, thread: Some(thread) }
    }

    /// Stop and clear the display.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn show(progress: &Progress, stop: &AtomicBool) {
    let mut waited = Duration::ZERO;
    while waited < QUIET_FOR {
        if stop.load(Ordering::Acquire) {
            return;
        }
        std::thread::sleep(TICK);
        waited += TICK;
    }
    // Drawn once placed where the run is, so that the rate starts right.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_position(progress.snapshot().done_bytes);
    bar.reset_eta();
    let counting = ProgressStyle::with_template("{spinner} {bytes} read · {binary_bytes_per_sec} · {wide_msg}")
        .expect("a valid template");
    let sized = ProgressStyle::with_template(
        "{bar:20} {bytes}/{total_bytes} · {binary_bytes_per_sec} · ETA {eta} · {wide_msg}",
    )
    .expect("a valid template");
    bar.set_style(counting);
    bar.set_draw_target(ProgressDrawTarget::stderr());
    let mut sized_yet = false;
    while !stop.load(Ordering::Acquire) {
        let s = progress.snapshot();
        if let (Some((_, bytes)), false) = (s.total, sized_yet) {
            bar.set_length(bytes);
            bar.set_style(sized.clone());
            sized_yet = true;
        }
        bar.set_position(s.done_bytes);
        let of = match s.total {
            Some((files, _)) => format!(" of {files}"),
            None => format!(" ({} found)", s.found_files),
        };
        bar.set_message(format!("{} files{of}", s.done_files));
        std::thread::sleep(TICK);
    }
    bar.finish_and_clear();
}
