//! The `trailwatch` command: parse arguments, call the library, print, and
//! pick the exit status. All behaviour lives in the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
