//! The `trailwatch` command: parse arguments, call the library, print, and
//! pick the exit status. All behaviour lives in the library.

mod cli;

fn main() -> std::process::ExitCode {
    fewer_malloc_arenas();
    cli::main()
}

/// Let glibc's allocator keep one arena per four cores (one on a machine
/// of up to four) instead of up to eight per core.
///
/// By default glibc gives each thread that allocates an arena of its own,
/// and memory freed in one arena is not reused by another. A scan allocates
/// little while it reads (buffers are reused per thread) but hands results
/// from thread to thread, so the extra arenas only add slack: with two
/// threads, one arena instead of the default took about 0.5 MiB off a
/// 7 MiB peak RSS on a 2 GB corpus spread over 40 days, and 0.1 MiB on a
/// 100 MB one. Small allocations still take each thread's cache without a
/// lock, and no slowdown was measurable on the benchmark corpus at two
/// threads; sharing among at most four threads per arena keeps the lock
/// from becoming a queue on machines with many cores, where this was not
/// measured. A `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` set by the user is
/// left to decide.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fewer_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() || std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let arenas = libc::c_int::try_from(cores.div_ceil(4)).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only sets an allocator tunable; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fewer_malloc_arenas() {}
