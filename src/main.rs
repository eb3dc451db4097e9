//! The `wordwarden` command line: one file per command under `src/cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// Messages are allocated on the consume thread and freed on a worker:
/// glibc's allocator spends more time on that than the matcher does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
